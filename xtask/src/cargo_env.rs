//! The variables cargo sets for the programs it runs, which a nested cargo must not inherit.
//! Shared by the xtask (`util.rs`) and the e2e harness (`tests/src/lib.rs`, through
//! `#[path]`), so that both clear the same list.

use std::ffi::OsStr;

/// Whether `name` is one of the variables cargo sets for a program it runs (`cargo run`, a
/// test) or a build script, as opposed to the user's own configuration (`CARGO_HOME`,
/// `CARGO_TARGET_DIR`, `CARGO_BUILD_*`, `CARGO_PROFILE_*`, ...), which is kept.
///
/// They must not reach a nested cargo: build scripts declare some of them with
/// `rerun-if-env-changed` (ring's declares `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`), and cargo
/// compares those with its own environment, so a nested cargo that sees
/// `CARGO_MANIFEST_DIR=…/xtask` reruns ring's build script and rebuilds ring, rustls and the
/// gateway, and so does the next one from a shell or from the e2e tests. The e2e harness
/// (`tests/src/lib.rs`) clears the same list for its own nested cargo.
pub(crate) fn set_by_cargo(name: &OsStr) -> bool {
    const PREFIXES: [&str; 6] = [
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
        "CARGO_MANIFEST_",
        "__CARGO",
    ];
    const NAMES: [&str; 8] = [
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "CARGO_SBOM_PATH",
        "OUT_DIR",
    ];
    let name = name.to_string_lossy();
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name.as_ref())
}
