//! A newcomer's first ten minutes (issue 13): nothing silent, nothing misleading. An empty
//! host says where it looked; gateways of other dirs are named with the flag that reads
//! them; `close` without hook targets says that nothing was delivered; tables, errors and
//! labels are the same everywhere; `close --dry-run` shows the retries the real run makes.

use std::fs;

use serde_json::Value;

use crate::close::{Base, Host, SLOW_ID_735, SLOW_KEY, TG_KEY};
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

// ---------------------------------------------------------------------------------------
// 3. Output hygiene

/// Every line of stdout, checked for padding at its end.
fn assert_no_trailing_spaces(out: &Out) {
    for (n, l) in out.stdout.lines().enumerate() {
        assert_eq!(
            l,
            l.trim_end(),
            "line {} ends in whitespace: {l:?}\n{out:?}",
            n + 1
        );
    }
}

/// Piped tables (`list`, `show`, `gateways`, `journal`, `journal <run>`) and `doctor` end no
/// line in padding.
#[test]
fn piped_tables_have_no_trailing_spaces() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    for args in [&["list"][..], &["show", "cm:4"], &["gateways"], &["doctor"]] {
        let out = h.run(args);
        assert!(out.stdout.lines().count() > 1, "{out:?}");
        assert_no_trailing_spaces(&out);
    }
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = h.run(&["journal"]);
    assert_no_trailing_spaces(&out);
    let run = h.journal_lines()[0]["run"].as_str().unwrap().to_string();
    let out = h.run(&["journal", &run]);
    assert!(out.stdout.lines().count() > 3, "{out:?}");
    assert_no_trailing_spaces(&out);
}

/// `doctor` starts with what it found, never with an empty line.
#[test]
fn doctor_does_not_start_with_an_empty_line() {
    let sb = Sandbox::new();
    let out = sb.run(["doctor"], &[]);
    assert!(!out.stdout.is_empty(), "{out:?}");
    assert!(!out.stdout.starts_with('\n'), "{out:?}");
    assert_no_trailing_spaces(&out);
}

/// One error style everywhere: `sessionctl: <what>: <path>: <why>`, the config file called
/// the config file.
#[test]
fn errors_name_what_then_the_path_then_why() {
    let h = Host::new(Base::File735);
    // A config file that cannot be used.
    fs::write(&h.config, "concurrency = 0\n").unwrap();
    let out = h.run(&["close", "--dry-run"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "sessionctl: config file: {}: concurrency must be between 1 and 64, not 0\n",
            h.config.display()
        ),
        "{out:?}"
    );
    h.configure(&[]);

    // A journal that cannot be read (a directory where the file should be).
    fs::create_dir_all(&h.journal).unwrap();
    let out = h.run(&["journal"]);
    assert_eq!(out.code, 2, "{out:?}");
    let prefix = format!(
        "sessionctl: journal: {}: cannot read: ",
        h.journal.display()
    );
    assert!(out.stderr.starts_with(&prefix), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    fs::remove_dir(&h.journal).unwrap();

    // A run the journal does not hold.
    let out = h.run(&["journal", "nope"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "sessionctl: journal: {}: no run `nope`\n",
            h.journal.display()
        ),
        "{out:?}"
    );

    // A store that cannot be read.
    fs::write(
        h.cm_db(),
        b"not a database, not at all, no header here either",
    )
    .unwrap();
    let out = h.run(&["list"]);
    assert_eq!(out.code, 2, "{out:?}");
    let prefix = format!("sessionctl: claude-mem: {}: ", h.cm_db().display());
    assert!(
        out.stderr.lines().any(|l| l.starts_with(&prefix)),
        "{out:?}"
    );
}

/// A running session of a state dir where no gateway runs and no lock names one: the
/// `gateway-gone` verdict names the state dir it looked at, in JSON and in `show`.
#[test]
fn gateway_gone_carries_its_evidence() {
    let sb = Sandbox::new();
    let state = sb.root().join("state");
    let sessions_dir = state.join("agents/main/sessions");
    fs::create_dir_all(&sessions_dir).unwrap();
    // Active a minute ago: this boot, so not `rebooted`.
    let t = now_ms() - 60_000;
    fs::write(
        sessions_dir.join("sessions.json"),
        format!(
            r#"{{"agent:main:gone": {{"sessionId": "0badc0de-1111-4a4a-8b8b-000000000001", "status": "running", "updatedAt": {t}, "sessionStartedAt": {t}, "lastInteractionAt": {t}}}}}"#
        ),
    )
    .unwrap();
    let (out, v) = sb.json(["list", "--openclaw-state-dir", &s(&state)], &[]);
    let sess = by_key(&v, "agent:main:gone");
    assert_eq!(sess["reason"], "gateway-gone", "{out:?}");
    let ev = sess["evidence"].as_array().unwrap();
    let e = ev
        .iter()
        .find(|e| e["kind"] == "gateway-process")
        .unwrap_or_else(|| panic!("no gateway-process evidence: {sess:#}"));
    assert_eq!(e["path"], s(&state), "{sess:#}");
    assert!(
        e["note"]
            .as_str()
            .unwrap()
            .contains("no gateway process runs for this state dir"),
        "{sess:#}"
    );
    let out = sb.run(
        [
            "show",
            "agent:main:gone",
            "--openclaw-state-dir",
            &s(&state),
        ],
        &[],
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("evidence (gateway-process)") && l.contains(&s(&state))),
        "{out:?}"
    );
}

/// One claude-mem row, one label: `cm:4` in `list`, `show`, `close`, the journal and undo;
/// JSON keeps `"id": "4"` and adds `"label": "cm:4"`. `show` spells store kinds as the JSON
/// does.
#[test]
fn one_label_per_claude_mem_row_everywhere() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let out = h.run(&["show", "cm:4"]);
    assert_eq!(out.code, 0, "{out:?}");
    let field = |out: &Out, name: &str| -> Vec<String> {
        out.stdout
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                l.strip_prefix(name)
                    .filter(|r| r.starts_with(' '))
                    .map(|r| r.trim().to_string())
            })
            .collect()
    };
    assert_eq!(field(&out, "id"), vec!["cm:4".to_string()], "{out:?}");
    assert!(
        field(&out, "store")[0].ends_with("(claude-mem-db)"),
        "{out:?}"
    );
    let (out, v) = h.fx.json(h.args(&["list"]), &[]);
    let row4: Vec<&Value> = sessions(&v)
        .iter()
        .filter(|s| s["backend"] == "claude-mem" && s["id"] == "4")
        .collect();
    assert_eq!(row4.len(), 1, "{out:?}");
    assert_eq!(row4[0]["label"], "cm:4", "{out:?}");
    assert_eq!(row4[0]["store_kind"], "claude-mem-db", "{out:?}");
    let oc = by_id(&v, crate::close::SLOW_ID_735).expect("e2e-slow listed");
    assert_eq!(oc["label"], crate::close::SLOW_ID_735, "{out:?}");

    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("closed {TG_KEY} (claude-mem cm:4)")),
        "{out:?}"
    );
    let run = h.journal_lines()[0]["run"].as_str().unwrap().to_string();
    let out = h.run(&["journal", &run]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("claude-mem-end") && l.contains(" cm:4 ")),
        "{out:?}"
    );
    let (out, v) = h.fx.json(h.args(&["journal", &run]), &[]);
    let ends: Vec<&Value> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "claude-mem-end" && a["session"]["id"] == "4")
        .collect();
    assert_eq!(ends.len(), 1, "{out:?}");
    assert_eq!(ends[0]["session"]["label"], "cm:4", "{out:?}");
    let out = h.run(&["journal", "undo", &run, "--dry-run"]);
    assert!(
        out.stdout
            .contains(&format!("would restore claude-mem-end ({TG_KEY} (cm:4))")),
        "{out:?}"
    );
    assert!(!out.stdout.contains("claude-mem row"), "{out:?}");
}

// ---------------------------------------------------------------------------------------
// 4. close details

/// A delivery a target refused is retried by the next `close`: its dry run shows that
/// retry (text and JSON), and the real run then makes it.
#[test]
fn dry_run_shows_the_retries_the_real_run_makes() {
    let h = Host::new(Base::File735);
    // A command target that refuses every payload (exit 1): the target is up, each
    // delivery fails and stays owed.
    h.configure(&[h.cmd_target("nope", &["/bin/sh", "-c", "cat > /dev/null; exit 1"], "5s")]);
    let out = h.run(&["close", "--yes", TG_KEY]);
    assert_eq!(out.code, 1, "the delivery failed\n{out:?}");

    // Now the target accepts; nothing new is orphaned for this key.
    h.configure(&[h.cmd_target("nope", &["/bin/sh", "-c", "cat >> \"$0\""], "5s")]);
    let out = h.run(&["close", "--dry-run", TG_KEY]);
    let want =
        format!("would retry delivery to nope for {TG_KEY} (claude-mem cm:4), owed since run ");
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&want)),
        "expected a line starting {want:?}\n{out:?}"
    );
    assert!(h.cmd_lines().is_empty(), "a dry run sends nothing");
    let (out, v) = h.close_json(&["--dry-run", TG_KEY]);
    let retries = v["retries"].as_array().unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(retries.len(), 1, "{out:?}");
    assert_eq!(retries[0]["target"], "nope");
    assert_eq!(retries[0]["will"], "retry");
    assert_eq!(retries[0]["session"]["label"], "cm:4");

    let out = h.run(&["close", "--yes"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("resumed deliver:nope:")),
        "{out:?}"
    );
    let tg: Vec<Value> = h
        .cmd_lines()
        .into_iter()
        .filter(|l| l["event"]["sessionKey"] == TG_KEY)
        .collect();
    assert_eq!(tg.len(), 1, "the retry was made, once\n{out:?}");
    let out = h.run(&["close", "--dry-run"]);
    assert!(
        !out.stdout.contains("would retry"),
        "nothing owed now\n{out:?}"
    );
}

/// A key that names sessions in two state dirs: one is closed, the other (its gateway just
/// started: unknown) is refused, and the refusal names its state dir and id.
#[test]
fn a_refusal_names_the_state_dir_and_id() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let other = Fixture::openclaw("2026.9.6", "after-kill");
    let _gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &other.state())]);
    let mut args = vec!["--openclaw-state-dir".to_string(), s(&other.state())];
    args.extend(h.args(&["close", "--yes", SLOW_KEY]));
    let out = h.fx.run(&args, &[("HOOK_TOKEN", crate::close::HOOK_TOKEN)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("closed {SLOW_KEY} (openclaw {SLOW_ID_735}")),
        "the 2026.7 session is closed\n{out:?}"
    );
    let want = format!(
        "not closed {SLOW_KEY}: openclaw {} in {}: ",
        crate::close::SLOW_ID_96,
        other.state().display()
    );
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&want)),
        "expected a line starting {want:?}\n{out:?}"
    );
    // JSON: the same, as fields.
    let mut args = vec!["--openclaw-state-dir".to_string(), s(&other.state())];
    args.extend(h.args(&["close", "--dry-run", SLOW_KEY, "--format", "json"]));
    let out = h.fx.run(&args, &[]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let refused = v["refused"].as_array().unwrap();
    assert!(
        refused
            .iter()
            .any(|r| r["session_id"] == crate::close::SLOW_ID_96
                && r["dir"] == s(&other.state())
                && r["backend"] == "openclaw"),
        "{out:?}"
    );
}

/// `journal undo <run>` without a terminal and without --yes refuses before it prints what
/// it "will restore": stdout stays empty and nothing is restored.
#[test]
fn undo_without_a_terminal_refuses_before_its_preview() {
    let h = Host::new(Base::File735);
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = h.journal_lines()[0]["run"].as_str().unwrap().to_string();
    let rows = h.cm_rows();
    let out = h.run(&["journal", "undo", &run]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "", "no \"will restore\" preview\n{out:?}");
    assert!(out.stderr.contains("needs a terminal"), "{out:?}");
    assert_eq!(h.cm_rows(), rows, "nothing restored");
    // --dry-run still previews without a terminal.
    let out = h.run(&["journal", "undo", &run, "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("would restore"), "{out:?}");
}
