//! The processes the xtask starts, and stopping them when the xtask itself is told to stop.
//!
//! Every child (nested cargo, the gateway, the mock, the benchmark, Python, curl) is started
//! through [`Running::spawn`], which registers it. On SIGTERM, SIGINT or SIGHUP the thread of
//! [`stop_on_signals`] asks each registered child to terminate (SIGTERM, so that the benchmark
//! in turn stops the services it started), kills those still there after [`GRACE`], and exits
//! with 128 + the signal's number. A Ctrl-C in a terminal reaches the children anyway (they are
//! in the same process group); a `kill PID` of `cargo xtask demo` (cargo `exec`s the xtask, so
//! that is this process) reaches only the xtask, which is why it passes the signal on.

use std::io;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long a child may take to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(5);
/// How often waits look at their child.
const POLL: Duration = Duration::from_millis(20);

type Shared = Arc<Mutex<Child>>;

/// Every child not yet dropped.
static RUNNING: Mutex<Vec<Shared>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the thread that stops every child and exits when a termination signal arrives.
pub(crate) fn stop_on_signals() -> Result<()> {
    let mut signals =
        Signals::new([SIGTERM, SIGINT, SIGHUP]).context("installing the signal handlers")?;
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                stop_all();
                std::process::exit(128 + signal);
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// SIGTERM to every child, then SIGKILL to those still running after [`GRACE`]. The registry
/// stays locked until the process exits, so that no new child starts meanwhile.
fn stop_all() {
    let running = lock(&RUNNING);
    for child in running.iter() {
        let pid = lock(child).id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
    }
    let deadline = Instant::now() + GRACE;
    for child in running.iter() {
        while matches!(lock(child).try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        let mut child = lock(child);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A started child: killed when dropped, stopped when the xtask gets a termination signal.
#[derive(Debug)]
pub(crate) struct Running(Shared);

impl Running {
    /// Spawns `command` and registers the child.
    pub(crate) fn spawn(command: &mut Command) -> io::Result<Self> {
        let mut running = lock(&RUNNING);
        let child = Arc::new(Mutex::new(command.spawn()?));
        running.push(Arc::clone(&child));
        Ok(Self(child))
    }

    /// Runs `command` to its end (stopped like any child on a signal) and returns its status.
    pub(crate) fn status(command: &mut Command) -> io::Result<ExitStatus> {
        Self::spawn(command)?.wait()
    }

    /// The child's piped stdout, once.
    pub(crate) fn take_stdout(&self) -> Option<ChildStdout> {
        lock(&self.0).stdout.take()
    }

    /// Waits until the child exits. Polls, so that the signal thread can stop it meanwhile.
    pub(crate) fn wait(&self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = lock(&self.0).try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        lock(&RUNNING).retain(|child| !Arc::ptr_eq(child, &self.0));
        let mut child = lock(&self.0);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
