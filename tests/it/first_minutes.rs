//! What a newcomer meets first (issue 13): durations that say what is wrong with them.

use std::fs;

use crate::close::{Base, Host};
use crate::common::*;

// ---------------------------------------------------------------------------------------
// Durations

#[test]
fn idle_takes_compound_and_day_durations() {
    let h = Host::new(Base::File735);
    for idle in ["1h30m", "90s", "2d", "6h", "1h 30m", "500ms"] {
        let out = h.run(&["list", "--idle", idle, "--format", "json"]);
        assert_eq!(out.code, 0, "--idle {idle}: {out:?}");
    }
}

#[test]
fn idle_without_a_unit_is_refused_with_a_unit_suggested() {
    let sb = Sandbox::new();
    let out = sb.run(["list", "--idle", "6"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("`6` has no unit; did you mean 6h? (units: ms, s, m, h, d)"),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn negative_idle_is_called_negative() {
    let sb = Sandbox::new();
    for args in [
        &["list", "--idle", "-5m"][..],
        &["list", "--idle=-5m"],
        &["--idle", "-5m", "check"],
    ] {
        let out = sb.run(args, &[]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains("`-5m` is negative"),
            "{args:?}: {out:?}"
        );
        assert!(!out.stderr.contains("unexpected argument"), "{out:?}");
    }
    // An option where the value was due is named as such, not as a negative duration.
    let out = sb.run(["list", "--idle", "--verbose"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("`--verbose` is not a duration"),
        "{out:?}"
    );
}

/// The config file's durations go through the same parser: `timeout`, `[journal] keep`
/// and `idle` take `1m30s`, `1d12h`, and refuse a number without a unit.
#[test]
fn config_durations_share_the_flag_parser() {
    let h = Host::new(Base::File735);
    let target = "[[targets]]\nname = \"t\"\ntype = \"command\"\nargv = [\"/bin/true\"]\n";
    let good =
        format!("idle = \"1h30m\"\n{target}timeout = \"1m30s\"\n[journal]\nkeep = \"1d12h\"\n");
    fs::write(&h.config, good).unwrap();
    let out = h.run(&["close", "--dry-run"]);
    assert_ne!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains("duration"), "{out:?}");

    for (text, want) in [
        (
            format!("{target}timeout = \"5\"\n"),
            "timeout: `5` has no unit; did you mean 5s?",
        ),
        (
            "[journal]\nkeep = \"30\"\n".to_string(),
            "journal.keep: `30` has no unit; did you mean 30d?",
        ),
        (
            "idle = \"6\"\n".to_string(),
            "idle: `6` has no unit; did you mean 6h?",
        ),
    ] {
        fs::write(&h.config, &text).unwrap();
        let out = h.run(&["close", "--dry-run"]);
        assert_eq!(out.code, 2, "{text}: {out:?}");
        assert!(out.stderr.contains(want), "{text}: {out:?}");
    }
}
