//! `sessionctl install systemd` (the drop-in for OpenClaw's gateway unit) and the repair it
//! runs, `close --after-stop`, with the variables systemd gives `ExecStopPost=` after a
//! clean stop and after a crash, on the 2026.7.35 and 2026.9.6 after-kill captures.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::close::*;
use crate::common::*;

const MARKER: &str = "# Written by `sessionctl install systemd`.";
const UNIT: &str = "openclaw-gateway.service";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sessionctl")
}

/// `install systemd --unit-dir <root>/units <args…>` in a fresh sandbox.
struct Units {
    sb: Sandbox,
}

impl Units {
    fn new() -> Units {
        Units { sb: Sandbox::new() }
    }

    fn dir(&self) -> PathBuf {
        self.sb.root().join("units")
    }

    fn drop_in(&self, unit: &str) -> PathBuf {
        self.dir().join(format!("{unit}.d")).join("sessionctl.conf")
    }

    fn install(&self, args: &[&str]) -> Out {
        let dir = self.dir();
        let mut a = vec!["install", "systemd", "--unit-dir", dir.to_str().unwrap()];
        a.extend_from_slice(args);
        self.sb.run(&a, &[])
    }

    fn read(&self, unit: &str) -> String {
        fs::read_to_string(self.drop_in(unit)).unwrap()
    }
}

/// The value of the one `ExecStopPost=` line of a drop-in.
fn exec_stop_post(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("ExecStopPost="))
        .collect();
    assert_eq!(lines.len(), 1, "one ExecStopPost= line:\n{text}");
    lines[0].to_string()
}

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn drop_in_for_the_default_unit() {
    let u = Units::new();
    // The unit file OpenClaw installed: never touched.
    fs::create_dir_all(u.dir()).unwrap();
    let unit_text = "[Service]\nExecStart=/bin/true\nRestart=always\n";
    fs::write(u.dir().join(UNIT), unit_text).unwrap();

    let out = u.install(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let path = u.drop_in(UNIT);
    assert!(
        out.stdout.contains(&format!("wrote {}", path.display())),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("systemctl --user daemon-reload"),
        "says what to run next: {out:?}"
    );
    assert!(
        !out.stdout.contains("note: no openclaw-gateway.service"),
        "the unit is there: {out:?}"
    );
    let text = u.read(UNIT);
    assert_eq!(text.lines().next(), Some(MARKER), "{text}");
    assert!(
        text.contains("sessionctl install systemd --uninstall"),
        "says how to remove it:\n{text}"
    );
    assert!(
        text.contains("\n[Unit]\n") && text.contains("\n[Service]\n"),
        "{text}"
    );
    // Nothing passed on that was not given; the binary by its absolute path.
    assert_eq!(
        exec_stop_post(&text),
        format!("-{} close --yes --after-stop", bin())
    );
    assert_eq!(mode_of(&path), 0o644);
    assert_eq!(fs::read_to_string(u.dir().join(UNIT)).unwrap(), unit_text);
    // Nothing else in the .d dir (no temp file left).
    let names: Vec<String> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sessionctl.conf"]);
}

#[test]
fn drop_in_for_a_profile_and_bad_profiles() {
    let u = Units::new();
    let out = u.install(&["--profile", "work"]);
    assert_eq!(out.code, 0, "{out:?}");
    let text = u.read("openclaw-gateway-work.service");
    assert!(text.contains("openclaw-gateway-work.service"), "{text}");
    assert!(
        text.contains("sessionctl install systemd --uninstall --profile work"),
        "{text}"
    );
    assert!(!u.drop_in(UNIT).exists(), "the default unit is left alone");
    assert!(
        out.stdout
            .contains("note: no openclaw-gateway-work.service"),
        "{out:?}"
    );
    assert!(out.stdout.contains("--openclaw-state-dir"), "{out:?}");

    for bad in ["../x", "a b", "-x", ""] {
        let out = u.install(&[&format!("--profile={bad}")]);
        assert_eq!(out.code, 2, "{bad:?}: {out:?}");
        assert!(out.stderr.contains("--profile"), "{out:?}");
    }
    let made: Vec<String> = fs::read_dir(u.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made, ["openclaw-gateway-work.service.d"]);
}

#[test]
fn default_unit_dir_is_under_xdg_config_home() {
    let sb = Sandbox::new();
    let out = sb.run(["install", "systemd"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(sb
        .home()
        .join(".config/systemd/user/openclaw-gateway.service.d/sessionctl.conf")
        .is_file());

    let xdg = sb.root().join("xdg");
    let out = sb.run(
        ["install", "systemd", "--profile", "p"],
        &[("XDG_CONFIG_HOME", xdg.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(xdg
        .join("systemd/user/openclaw-gateway-p.service.d/sessionctl.conf")
        .is_file());
}

#[test]
fn options_given_to_install_are_passed_on_as_absolute_paths() {
    let u = Units::new();
    let out = u.install(&[
        "--journal",
        "j/journal.ndjson",
        "--config",
        "/etc/sessionctl.toml",
        "--openclaw-state-dir",
        "/srv/oc one",
        "--openclaw-state-dir",
        "/srv/oc2",
        "--idle",
        "2h",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let line = exec_stop_post(&u.read(UNIT));
    // Sandbox::run runs in the sandbox root: the relative journal is resolved there.
    let journal = u.sb.root().join("j/journal.ndjson");
    assert_eq!(
        line,
        format!(
            "-{} close --yes --after-stop --config /etc/sessionctl.toml --journal {} --openclaw-state-dir \"/srv/oc one\" --openclaw-state-dir /srv/oc2",
            bin(),
            journal.display()
        )
    );
    assert!(!line.contains("--idle"), "{line}");
}

#[test]
fn reinstall_is_idempotent_and_updates_its_own_file() {
    let u = Units::new();
    assert_eq!(u.install(&[]).code, 0);
    let path = u.drop_in(UNIT);
    let first = fs::read(&path).unwrap();
    let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap());

    let out = u.install(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("unchanged "), "{out:?}");
    assert_eq!(fs::read(&path).unwrap(), first);
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(&path).unwrap()),
        ino,
        "not even rewritten"
    );

    let out = u.install(&["--journal", "/var/lib/sessionctl/journal.ndjson"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("updated "), "{out:?}");
    assert!(
        exec_stop_post(&u.read(UNIT)).ends_with(" --journal /var/lib/sessionctl/journal.ndjson")
    );
}

#[test]
fn a_drop_in_sessionctl_did_not_write_is_left_alone() {
    let u = Units::new();
    let path = u.drop_in(UNIT);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let theirs = "[Service]\nExecStopPost=/usr/local/bin/my-own-cleanup\n";
    fs::write(&path, theirs).unwrap();

    let out = u.install(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("not written by sessionctl") && out.stderr.contains("--force"),
        "{out:?}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), theirs);

    let out = u.install(&["--uninstall"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(fs::read_to_string(&path).unwrap(), theirs, "never removed");

    // A link is not followed, nor replaced, nor removed.
    let target = u.sb.root().join("elsewhere.conf");
    fs::write(&target, theirs).unwrap();
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let out = u.install(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("symbolic link"), "{out:?}");
    let out = u.install(&["--uninstall"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), theirs);

    // --force replaces the link itself, never what it points to.
    let out = u.install(&["--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("replaced "), "{out:?}");
    assert!(fs::symlink_metadata(&path).unwrap().is_file());
    assert_eq!(u.read(UNIT).lines().next(), Some(MARKER));
    assert_eq!(fs::read_to_string(&target).unwrap(), theirs);
}

#[test]
fn uninstall_removes_only_its_own_file() {
    let u = Units::new();
    // Nothing installed: nothing to do.
    let out = u.install(&["--uninstall"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("nothing to remove"), "{out:?}");

    // Beside the user's own drop-in: only ours goes, the .d dir stays.
    assert_eq!(u.install(&[]).code, 0);
    let d = u.drop_in(UNIT).parent().unwrap().to_path_buf();
    fs::write(d.join("override.conf"), "[Service]\nNice=5\n").unwrap();
    let out = u.install(&["--uninstall"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!u.drop_in(UNIT).exists());
    assert_eq!(
        fs::read_to_string(d.join("override.conf")).unwrap(),
        "[Service]\nNice=5\n"
    );
    assert!(out.stdout.contains("daemon-reload"), "{out:?}");

    // Alone: the .d dir goes with it.
    fs::remove_file(d.join("override.conf")).unwrap();
    assert_eq!(u.install(&[]).code, 0);
    let out = u.install(&["--uninstall"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!d.exists(), "{out:?}");
    assert!(u.dir().is_dir(), "the unit dir itself stays");
}

#[test]
fn dry_run_prints_the_file_and_writes_nothing() {
    let u = Units::new();
    fs::create_dir_all(u.dir()).unwrap();
    let before = tree_snapshot(u.sb.root());
    let out = u.install(&["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("would write {}:", u.drop_in(UNIT).display())),
        "{out:?}"
    );
    assert!(out.stdout.contains(MARKER), "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("ExecStopPost=-{} close --yes --after-stop", bin())),
        "{out:?}"
    );
    assert_tree_unchanged(&before, &tree_snapshot(u.sb.root()), "install --dry-run");

    assert_eq!(u.install(&[]).code, 0);
    let before = tree_snapshot(u.sb.root());
    let out = u.install(&["--uninstall", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("would remove "), "{out:?}");
    assert_tree_unchanged(
        &before,
        &tree_snapshot(u.sb.root()),
        "install --uninstall --dry-run",
    );
}

#[test]
fn reload_runs_systemctl_daemon_reload() {
    let u = Units::new();
    let fake = u.sb.root().join("fakebin");
    fs::create_dir_all(&fake).unwrap();
    let log = u.sb.root().join("systemctl.log");
    let script = fake.join("systemctl");
    fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let dir = u.dir();
    let path = format!("{}:/usr/bin:/bin", fake.display());
    let out = u.sb.run(
        [
            "install",
            "systemd",
            "--reload",
            "--unit-dir",
            dir.to_str().unwrap(),
        ],
        &[("PATH", &path)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fs::read_to_string(&log).unwrap(), "--user daemon-reload\n");
    assert!(
        out.stdout.contains("ran: systemctl --user daemon-reload"),
        "{out:?}"
    );

    // Without systemctl on PATH: the command to run, and no failure.
    let out = u.sb.run(
        [
            "install",
            "systemd",
            "--reload",
            "--uninstall",
            "--unit-dir",
            dir.to_str().unwrap(),
        ],
        &[("PATH", u.sb.root().join("nothing").to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("now run: systemctl --user daemon-reload"),
        "{out:?}"
    );
    assert!(!u.drop_in(UNIT).exists());
}

// ---------------------------------------------------------------------------------------
// close --after-stop

const CLEAN: [[(&str, &str); 3]; 3] = [
    [
        ("SERVICE_RESULT", "success"),
        ("EXIT_CODE", "exited"),
        ("EXIT_STATUS", "0"),
    ],
    [
        ("SERVICE_RESULT", "success"),
        ("EXIT_CODE", "exited"),
        ("EXIT_STATUS", "143"),
    ],
    [
        ("SERVICE_RESULT", "success"),
        ("EXIT_CODE", "killed"),
        ("EXIT_STATUS", "TERM"),
    ],
];

const KILLED: [(&str, &str); 3] = [
    ("SERVICE_RESULT", "signal"),
    ("EXIT_CODE", "killed"),
    ("EXIT_STATUS", "KILL"),
];

fn after_stop_clean_stop_does_nothing(base: Base) {
    let h = Host::new(base);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&stub.url("/hook"), "2s", 1)]);
    let before = tree_snapshot(h.root());
    for env in CLEAN {
        let out = h.run_env(&["close", "--yes", "--after-stop"], &env);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert!(
            out.stderr.contains("stopped cleanly") && out.stderr.contains("nothing to do"),
            "{out:?}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "one line: {out:?}");
    }
    assert_tree_unchanged(
        &before,
        &tree_snapshot(h.root()),
        "close --after-stop after a clean stop",
    );
    assert!(h.cmd_lines().is_empty());
    assert_eq!(stub.count(), 0, "nothing delivered");
}

#[test]
fn after_stop_clean_stop_does_nothing_735() {
    after_stop_clean_stop_does_nothing(Base::File735);
}

#[test]
fn after_stop_clean_stop_does_nothing_96() {
    after_stop_clean_stop_does_nothing(Base::Sqlite96);
}

/// `close --after-stop --format json` with these variables, parsed.
fn after_stop_json(h: &Host, env: &[(&str, &str)]) -> (Out, Value) {
    let out = h.run_env(&["close", "--yes", "--after-stop", "--format", "json"], env);
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out:?}"));
    (out, v)
}

#[test]
fn after_stop_crash_closes_the_file_store_orphan_735() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    h.link_row3_to_current_slow();
    assert!(h.slow_lock().exists(), "fixture precondition");

    let (out, doc) = after_stop_json(&h, &KILLED);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("did not stop cleanly")
            && out.stderr.contains("SERVICE_RESULT=signal")
            && out.stderr.contains("killed by SIGKILL"),
        "says how the gateway ended: {out:?}"
    );
    assert!(!out.stderr.contains("left "), "nothing held back: {out:?}");
    let slow = item(&doc, SLOW_KEY);
    assert_eq!(slow["closed"], true, "{doc:#}");

    let entry = &read_json(&h.sessions_json())[SLOW_KEY];
    assert_eq!(entry["status"], "failed", "{entry:#}");
    assert_eq!(entry["abortedLastRun"], true, "{entry:#}");
    assert!(!h.slow_lock().exists(), "the dead owner's lock removed");
    assert_eq!(status(&h.cm_rows(), 3), "completed");
    let delivered = per_key(&h.cmd_lines());
    assert_eq!(delivered.get(SLOW_KEY), Some(&1), "{delivered:?}");
    let p = h
        .cmd_lines()
        .into_iter()
        .find(|p| p["event"]["sessionKey"] == SLOW_KEY)
        .unwrap();
    assert_payload(&p, SLOW_KEY, Some(SLOW_ID_735), "shutdown");
}

#[test]
fn after_stop_crash_leaves_the_running_sqlite_session_to_recovery_96() {
    let h = Host::new(Base::Sqlite96);
    h.configure(&[h.rec()]);
    h.link_row3_to_current_slow();
    let (nodes, windows, cm) = (h.nodes(), h.windows(), h.cm_rows());
    assert_eq!(
        nodes[SLOW_KEY].text("status"),
        "running",
        "fixture precondition"
    );

    let (out, doc) = after_stop_json(&h, &KILLED);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("did not stop cleanly"), "{out:?}");
    let held: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("to the restarted gateway"))
        .collect();
    assert_eq!(
        held.len(),
        1,
        "one line says what was left and why: {out:?}"
    );
    assert!(
        held[0].contains(SLOW_KEY) && held[0].contains("SQLite") && held[0].contains("re-runs"),
        "{out:?}"
    );

    // e2e-slow and its claude-mem row: untouched, nothing delivered for it.
    assert!(!groups(&doc).contains(SLOW_KEY), "{doc:#}");
    assert_eq!(h.nodes()[SLOW_KEY], nodes[SLOW_KEY]);
    assert_eq!(h.windows(), windows);
    let rows = h.cm_rows();
    assert_eq!(
        rows[&3], cm[&3],
        "row 3 belongs to the session recovery re-runs"
    );
    assert!(
        h.cmd_lines()
            .iter()
            .all(|p| p["event"]["sessionKey"] != SLOW_KEY),
        "{:?}",
        h.cmd_lines()
    );
    // The other orphans (claude-mem rows of other sessions) are closed now, and the
    // finished e2e-1 and e2e-2 of the crashed gateway, which recovery does not re-run, get
    // the session_end it owed them (once each), their store rows unwritten.
    const OWED: [&str; 2] = ["agent:main:e2e-1", "agent:main:e2e-2"];
    assert_eq!(
        groups(&doc),
        [
            OWED[0].to_string(),
            OWED[1].to_string(),
            TG_KEY.to_string(),
            DEFAULT_GROUP.to_string()
        ]
        .into(),
        "{doc:#}"
    );
    assert_eq!(status(&rows, 4), "completed");
    assert_eq!(status(&rows, 5), "completed");
    assert_eq!(
        per_key(&h.cmd_lines()),
        BTreeMap::from([
            (OWED[0].to_string(), 1),
            (OWED[1].to_string(), 1),
            (TG_KEY.to_string(), 1)
        ])
    );
    for key in OWED {
        assert_eq!(
            h.nodes()[key],
            nodes[key],
            "{key}: a finished row was written"
        );
        let p = h
            .cmd_lines()
            .into_iter()
            .find(|p| p["event"]["sessionKey"] == key)
            .unwrap();
        assert_eq!(p["event"]["reason"], "shutdown", "{p}");
    }

    // Plain `close --yes` (the timer, `watch`) is not held back: it closes e2e-slow.
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(item(&doc, SLOW_KEY)["closed"], true, "{doc:#}");
    assert_eq!(h.nodes()[SLOW_KEY].text("status"), "failed");
}

#[test]
fn after_stop_without_systemds_variables_says_so_and_still_holds_back() {
    let h = Host::new(Base::Sqlite96);
    h.configure(&[h.rec()]);
    let nodes = h.nodes();
    let (out, doc) = after_stop_json(&h, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("SERVICE_RESULT, EXIT_CODE and EXIT_STATUS are not set"),
        "{out:?}"
    );
    assert!(out.stderr.contains("to the restarted gateway"), "{out:?}");
    assert!(!groups(&doc).contains(SLOW_KEY), "{doc:#}");
    assert_eq!(h.nodes()[SLOW_KEY], nodes[SLOW_KEY]);
    assert!(groups(&doc).contains(TG_KEY), "{doc:#}");

    // --after-stop is a whole-host repair: no ids.
    let out = h.run_env(&["close", "--after-stop", SLOW_KEY], &[]);
    assert_eq!(out.code, 2, "{out:?}");
}
