//! A newcomer's first ten minutes (issue 13): nothing silent, nothing misleading. An empty
//! host says where it looked; gateways of other dirs are named with the flag that reads
//! them; `close` without hook targets says that nothing was delivered; tables, errors and
//! labels are the same everywhere; `close --dry-run` shows the retries the real run makes.

use std::fs;

use crate::close::{Base, Host};
use crate::common::*;

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// stderr lines that start with `sessionctl: <backend>: `.
fn notes<'a>(out: &'a Out, backend: &str) -> Vec<&'a str> {
    let prefix = format!("sessionctl: {backend}: ");
    out.stderr
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Silent success on an empty host

/// No ~/.openclaw, no ~/.claude-mem: `list` and `check` still succeed, and stderr says
/// where each backend was looked for; stdout is only the answer, and `-q` silences the notes.
#[test]
fn empty_host_says_where_it_looked() {
    let sb = Sandbox::new();
    let home = sb.home();
    for args in [&["list"][..], &["check"], &["list", "--format", "json"]] {
        let out = sb.run(args, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let oc = notes(&out, "openclaw");
        assert!(
            oc.contains(
                &format!(
                    "sessionctl: openclaw: no state dir at {} (OPENCLAW_STATE_DIR unset)",
                    home.join(".openclaw").display()
                )
                .as_str()
            ),
            "{out:?}"
        );
        let cm = notes(&out, "claude-mem");
        assert!(
            cm.contains(
                &format!(
                    "sessionctl: claude-mem: no data dir at {} (CLAUDE_MEM_DATA_DIR unset)",
                    home.join(".claude-mem").display()
                )
                .as_str()
            ),
            "{out:?}"
        );
        assert!(
            !out.stdout.contains("no state dir"),
            "stdout stays clean: {out:?}"
        );
    }
    let (out, v) = sb.json(["list"], &[]);
    assert!(sessions(&v).is_empty(), "{out:?}");
    let out = sb.run(["-q", "list"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "", "-q: no notes\n{out:?}");
    assert_eq!(out.stdout, "No active sessions found.\n", "{out:?}");
}

/// A gateway runs for another state dir: the empty host's note names that dir and the flag
/// that reads it, for `list` and for `gateways`.
#[test]
fn empty_host_names_the_dirs_gateways_run_for() {
    let sb = Sandbox::new();
    let other = sb.root().join("elsewhere/state");
    fs::create_dir_all(&other).unwrap();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &other)]);
    for cmd in ["list", "gateways"] {
        let out = sb.run([cmd], &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let want = format!(
            "sessionctl: openclaw: a gateway (pid {}) runs for {}; read it with --openclaw-state-dir {}",
            gw.pid,
            other.display(),
            other.display()
        );
        assert!(
            out.stderr.lines().any(|l| l == want),
            "`{cmd}`: expected {want:?}\n{out:?}"
        );
    }
}

/// `doctor` that read nothing does not call the host healthy: it says where it looked, names
/// the gateway's dir with the flag, and exits 1.
#[test]
fn doctor_that_read_nothing_is_not_healthy() {
    let sb = Sandbox::new();
    let other = sb.root().join("elsewhere/state");
    fs::create_dir_all(&other).unwrap();
    let _gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &other)]);
    let out = sb.run(["doctor"], &[]);
    assert!(!out.stdout.contains("Healthy"), "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("nothing to diagnose"), "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "no state dir at {}",
            sb.home().join(".openclaw").display()
        )),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("--openclaw-state-dir {}", other.display())),
        "{out:?}"
    );
    let (out, v) = sb.json(["doctor"], &[]);
    assert_eq!(v["healthy"], false, "{out:?}");
}

/// A backend that cannot be read exits 2, and stdout does not claim that nothing is active.
#[test]
fn unreadable_backend_does_not_say_no_sessions() {
    let sb = Sandbox::new();
    let cm = sb.root().join("cm");
    fs::create_dir_all(&cm).unwrap();
    fs::write(
        cm.join("claude-mem.db"),
        b"this is not a database at all, not even close",
    )
    .unwrap();
    let out = sb.run(["list", "--claude-mem-dir", &s(&cm)], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stdout.contains("No active sessions found"), "{out:?}");
    assert!(
        out.stderr.contains(&s(&cm.join("claude-mem.db"))),
        "the error names the database\n{out:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 2. No hook target, no word

const NO_TARGETS: &str = "no hook targets configured";

/// A config file without `[[targets]]`: the dry run and the real run each say once, on
/// stderr, that no session_end goes anywhere, naming the config file; stdout is unchanged.
#[test]
fn close_without_hook_targets_says_nothing_was_delivered() {
    let h = Host::new(Base::File735); // its config file has no targets
    let out = h.run(&["close", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr.matches(NO_TARGETS).count(), 1, "{out:?}");
    let line = out.stderr.lines().find(|l| l.contains(NO_TARGETS)).unwrap();
    assert_eq!(
        line,
        format!(
            "sessionctl: no hook targets configured (config file {} has no [[targets]]): no session_end would be delivered; see README \"Hook targets\"",
            h.config.display()
        )
    );
    assert!(!out.stdout.contains(NO_TARGETS), "{out:?}");

    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Closed 3 of 3"), "{out:?}");
    assert_eq!(out.stderr.matches(NO_TARGETS).count(), 1, "{out:?}");
    assert!(
        out.stderr.contains("no session_end was delivered"),
        "{out:?}"
    );
}

/// No config file at all: the note names where it was looked for. With a target, no note.
#[test]
fn close_without_a_config_file_names_where_it_looked() {
    let h = Host::new(Base::Sqlite96);
    // The default config file, $XDG_CONFIG_HOME/sessionctl/config.toml, does not exist.
    let xdg = h.root().join("xdg-config");
    let args: Vec<String> = h
        .args(&["close", "--yes"])
        .into_iter()
        .filter(|a| a != "--config" && *a != s(&h.config))
        .collect();
    let out = h.fx.run(&args, &[("XDG_CONFIG_HOME", &s(&xdg))]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "sessionctl: no hook targets configured (no config file at {}): no session_end was delivered",
            xdg.join("sessionctl/config.toml").display()
        )),
        "{out:?}"
    );

    let h = Host::new(Base::Sqlite96);
    h.configure(&[h.rec()]);
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains(NO_TARGETS), "{out:?}");
    assert!(!h.cmd_lines().is_empty(), "delivered to rec\n{out:?}");
}
