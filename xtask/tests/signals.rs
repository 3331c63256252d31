//! `cargo xtask demo` stops the gateway and the mock it started when it gets SIGTERM, SIGINT or
//! SIGHUP, and exits with 128 + the signal's number.
//!
//! The signal goes to the xtask alone (`kill -SIG PID`, as a supervisor or `timeout` sends it),
//! not to its process group as a terminal's Ctrl-C does. The demo listens on a free port, so the
//! test passes while a demo runs on 3000. It builds the debug gateway and mock if they are not
//! built yet (`cargo xtask ci` has built them by then). Linux only: children are found in /proc.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_termination_signal_stops_the_demo_services() {
    for (signal, number) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let log =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-{signal}.log"));
        let mut xtask = start_demo(&log);
        let services = children_of(xtask.id());
        assert_eq!(
            services.len(),
            2,
            "the demo runs the mock and the gateway: {services:?}; see {}",
            log.display()
        );
        let status = Command::new("kill")
            .args([format!("-{signal}"), xtask.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = wait_exit(&mut xtask, Duration::from_secs(15))
            .unwrap_or_else(|| panic!("the xtask is still running 15 s after SIG{signal}"));
        assert_eq!(
            exit.code(),
            Some(128 + number),
            "exit status after SIG{signal}"
        );
        for pid in services {
            assert!(
                gone(pid, Duration::from_secs(5)),
                "process {pid} survived SIG{signal} to the xtask"
            );
        }
    }
}

/// `xtask demo` on a free port, once it says it is ready; its stderr (cargo's and the
/// services') goes to `log`.
fn start_demo(log: &std::path::Path) -> Child {
    let mut xtask = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("the log file opens"))
        .spawn()
        .expect("the xtask starts");
    let stdout = BufReader::new(xtask.stdout.take().expect("piped"));
    for line in stdout.lines() {
        if line
            .expect("the xtask's output reads")
            .contains("Press Ctrl-C")
        {
            return xtask;
        }
    }
    let _ = xtask.kill();
    panic!(
        "the demo ended before it was ready ({:?}); see {}",
        xtask.wait(),
        log.display()
    );
}

/// `(pid, ppid, state)` of a process, from `/proc/PID/stat`.
fn stat(pid: &str) -> Option<(u32, u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let (head, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((head.split_whitespace().next()?.parse().ok()?, ppid, state))
}

/// The processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let entries = std::fs::read_dir("/proc").expect("/proc lists");
    entries
        .filter_map(|entry| stat(entry.ok()?.file_name().to_str()?))
        .filter(|&(_, ppid, _)| ppid == parent)
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Whether `pid` is gone (or a zombie waiting for its new parent) within `limit`.
fn gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match stat(&pid.to_string()) {
            None | Some((_, _, 'Z')) => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}
