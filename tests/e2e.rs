//! End-to-end tests against real OpenClaw gateways (2026.7.35 and 2026.9.6).
//!
//! Off by default: without `SESSIONCTL_E2E=1` this prints one SKIPPED line and passes.
//! With it, it runs `tests/e2e/run.py` (Python 3 stdlib), which installs Node 24 and the
//! pinned OpenClaw releases into a reusable cache (`$SESSIONCTL_E2E_CACHE`, default
//! `target/e2e-cache`), runs every scenario on both versions against this crate's binary,
//! and fails when any scenario fails. When the npm registry cannot be reached for a needed
//! install, the harness prints `SKIPPED: e2e (reason)` and this test passes.
//! `SESSIONCTL_E2E_ONLY=crash` (comma-separated) runs only those scenarios,
//! `SESSIONCTL_E2E_VERSIONS=2026.9.6` only those versions; see tests/e2e/README.md.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The harness's exit status for "skipped: npm registry unreachable".
const SKIP_EXIT: i32 = 3;

/// Written to the real stderr, not through the test's captured output, so the line is
/// seen in a plain `cargo test` run.
fn loud(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn e2e() {
    if std::env::var("SESSIONCTL_E2E").as_deref() != Ok("1") {
        loud("SKIPPED: e2e (set SESSIONCTL_E2E=1)");
        return;
    }
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/run.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let status = Command::new(&python)
        .arg(&harness)
        .arg("--sessionctl")
        .arg(env!("CARGO_BIN_EXE_sessionctl"))
        .status()
        .unwrap_or_else(|e| panic!("could not run {python} {}: {e}", harness.display()));
    match status.code() {
        Some(0) => {}
        // The harness printed its own `SKIPPED: e2e (reason)` line.
        Some(SKIP_EXIT) => {}
        Some(code) => panic!("e2e harness failed (exit {code}); see its output above"),
        None => panic!("e2e harness was killed by a signal"),
    }
}
