//! What a newcomer meets first (issue 13): durations that say what is wrong with them, help
//! that puts a subcommand's own options first, and `show` ids as the help describes them.

use std::fs;

use crate::close::{Base, Host, SLOW_ID_735};
use crate::common::*;

/// The global options, as `--help` spells them.
const GLOBALS: &[&str] = &[
    "--openclaw-state-dir",
    "--claude-mem-dir",
    "--backend",
    "--format",
    "--idle",
    "--config",
    "--journal",
    "--color",
    "--no-color",
    "--verbose",
    "--quiet",
];

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

// ---------------------------------------------------------------------------------------
// Help

/// Where `needle` starts in `help`, as a whole option name (`--color` is not `--color <WHEN>`'s
/// prefix of `--no-color`).
fn option_at(help: &str, needle: &str) -> Option<usize> {
    help.match_indices(needle)
        .find(|(i, _)| {
            let before = help[..*i].chars().last();
            let after = help[i + needle.len()..].chars().next();
            before.is_none_or(|c| c == ' ' || c == ',')
                && after.is_none_or(|c| c == ' ' || c == '\n')
        })
        .map(|(i, _)| i)
}

#[test]
fn subcommand_help_lists_its_own_options_before_the_global_ones() {
    let sb = Sandbox::new();
    for (sub, own) in [
        (
            &["close"][..],
            &["--dry-run", "--yes", "--include-stale", "--reason"][..],
        ),
        (&["check"], &["--prometheus-textfile"]),
        (&["journal", "undo"], &["--dry-run", "--yes"]),
        (&["list"], &[]),
        (&[], &[]),
    ] {
        let mut args = sub.to_vec();
        args.push("-h");
        let out = sb.run(&args, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        let help = &out.stdout;
        let heading = help
            .find("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{sub:?}: no Global options heading\n{help}"));
        for o in own {
            let at = option_at(help, o).unwrap_or_else(|| panic!("{sub:?}: no {o}\n{help}"));
            assert!(
                at < heading,
                "{sub:?}: {o} is not before the globals\n{help}"
            );
        }
        for g in GLOBALS {
            let at = option_at(help, g).unwrap_or_else(|| panic!("{sub:?}: no {g}\n{help}"));
            assert!(
                at > heading,
                "{sub:?}: {g} is not under Global options\n{help}"
            );
        }
    }
}

#[test]
fn completions_and_man_help_show_only_what_applies() {
    let sb = Sandbox::new();
    for sub in ["completions", "man"] {
        let out = sb.run([sub, "-h"], &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.stdout.contains("Global options"), "{out:?}");
        for g in GLOBALS {
            assert!(
                option_at(&out.stdout, g).is_none(),
                "{sub} -h shows {g}: {out:?}"
            );
        }
        assert!(out.stdout.contains("--help"), "{out:?}");
    }
    // Still accepted there (scripts may pass them), and still ignored.
    let out = sb.run(["completions", "bash", "--format", "json"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("complete -F"), "{out:?}");
}

#[test]
fn show_help_documents_the_ids_tables_use() {
    let sb = Sandbox::new();
    let out = sb.run(["show", "-h"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    for want in [
        "cm:42",
        "claude-mem:42",
        "at least 6",
        "characters",
        "too short",
        "session key",
        "content session id",
    ] {
        assert!(
            out.stdout.contains(want),
            "show -h lacks {want:?}\n{}",
            out.stdout
        );
    }
}

#[test]
fn show_refuses_a_too_short_prefix_as_too_short() {
    let h = Host::new(Base::File735);
    let out = h.run(&["show", &SLOW_ID_735[..6]]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(SLOW_ID_735), "{out:?}");

    let out = h.run(&["show", &SLOW_ID_735[..4]]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("is too short for a sessionId prefix: give at least 6 characters"),
        "{out:?}"
    );
    // A short hex id nothing starts with still names the rule; a word does not.
    let out = h.run(&["show", "fffe"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("no active session matches `fffe`"),
        "{out:?}"
    );
    assert!(out.stderr.contains("at least 6 characters"), "{out:?}");
    let out = h.run(&["show", "nope"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "sessionctl: no active session matches `nope`\n");
}
