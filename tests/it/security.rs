//! The security suite (issue 11; DESIGN.md section 8): sessionctl runs as root over state
//! dirs and databases that belong to an unprivileged user, on hosts where gateways run in
//! containers and where other writers use the same stores. Every test is named after the
//! attack it stages and asserts only what can be seen from outside: files, owners, modes,
//! store bytes, verdicts in `--format json`, and requests a loopback receiver got.
//!
//! The attacker is a throwaway user U (`useradd`, removed on drop) who owns the state dir
//! or data dir and plants links as itself (`setpriv`). Victims are root-owned 0600 files
//! outside anything U owns. Needs root, useradd, setpriv (or su) and unshare: without them
//! each test prints one `SKIPPED:` line; `.ci/run` runs as root. (The umask test needs
//! none of that and runs everywhere.)
//!
//! Debug-build hook used (sessionctl must honour it, ignored otherwise):
//! `SESSIONCTL_TEST_PAUSE=before-rename:<ms>` — sleep that long right before renaming a
//! rewritten sessions.json into place (tests 12 and 13 widen their race windows with it).
//! `helper_store_writer_process` is not a case: it is test 12's writer, re-executed as U.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::close::{open_ro, query_rows, Base, Host};
use crate::common::*;
use crate::security_support::*;

const SLOW_KEY: &str = "agent:main:e2e-slow";
const SLOW_ID_735: &str = "ae3ade86-9fb7-4837-a009-6fcc1c41c22b";
/// A session of the captures that finished before the kill (never an orphan).
const E2E1_KEY: &str = "agent:main:e2e-1";

// ---------------------------------------------------------------------------------------
// Helpers

/// The throwaway user, or None after a `SKIPPED:` line.
fn user_or_skip(test: &str, pid_namespace: bool) -> Option<ThrowawayUser> {
    let mut needs = vec![Need::User];
    if pid_namespace {
        needs.push(Need::PidNamespace);
    }
    prerequisites(test, &needs).flatten()
}

/// A copy of `<version>/after-kill` whose state dir belongs to `user`; the sandbox root
/// (root's, 0755) lets the user reach it.
fn user_fixture(user: &ThrowawayUser, version: &str) -> Fixture {
    let fx = Fixture::openclaw(version, "after-kill");
    open_sandbox_root(&fx.sandbox);
    user.chown_tree(&fx.state());
    fx
}

fn sessions_dir(fx: &Fixture) -> PathBuf {
    fx.state().join("agents/main/sessions")
}

fn sessions_json(fx: &Fixture) -> PathBuf {
    sessions_dir(fx).join("sessions.json")
}

fn slow_lock(fx: &Fixture) -> PathBuf {
    sessions_dir(fx).join(format!("{SLOW_ID_735}.jsonl.lock"))
}

fn agent_db(fx: &Fixture) -> PathBuf {
    fx.state().join("agents/main/agent/openclaw-agent.sqlite")
}

/// Root's own journal (as cron's root would keep it), in a root-owned dir of the sandbox.
fn root_journal(fx: &Fixture) -> PathBuf {
    fx.root().join("root-state/sessionctl/journal.ndjson")
}

/// `--openclaw-state-dir <state> --backend openclaw --journal <root journal>` + `args`.
fn oc_args(fx: &Fixture, state: &Path, args: &[&str]) -> Vec<String> {
    let mut a = vec![
        "--openclaw-state-dir".to_string(),
        s(state),
        "--backend".into(),
        "openclaw".into(),
        "--journal".into(),
        s(&root_journal(fx)),
    ];
    a.extend(args.iter().map(|x| x.to_string()));
    a
}

/// The verdict of `key` in a `list --format json` report, or None when not listed.
fn verdict_of(report: &Value, key: &str) -> Option<String> {
    sessions(report)
        .iter()
        .find(|x| x["session_key"] == key)
        .map(|x| x["verdict"].as_str().unwrap_or_default().to_string())
}

/// Panic listing every failure (so one run shows all that is wrong).
fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A tree snapshot of `root` without the subtrees `skip` (relative paths).
fn snapshot_except(root: &Path, skip: &[&str]) -> BTreeMap<PathBuf, Entry> {
    tree_snapshot(root)
        .into_iter()
        .filter(|(p, _)| !skip.iter().any(|s| p.starts_with(s)))
        .collect()
}

fn tree_diff(before: &BTreeMap<PathBuf, Entry>, after: &BTreeMap<PathBuf, Entry>) -> Vec<String> {
    let mut d = Vec::new();
    for (p, e) in before {
        match after.get(p) {
            None => d.push(format!("removed: {}", p.display())),
            Some(a) if a != e => d.push(format!("changed: {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        d.push(format!("added: {}", p.display()));
    }
    d
}

/// Rewrite a sessions.json through `f` (pretty, with a final newline, as OpenClaw writes).
fn edit_store(store: &Path, f: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let mut doc: Value = serde_json::from_slice(&fs::read(store).unwrap()).unwrap();
    f(doc.as_object_mut().unwrap());
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap();
    bytes.push(b'\n');
    fs::write(store, bytes).unwrap();
}

/// `n` finished entries `agent:main:bulk-<i>` of ~300 bytes each.
fn add_finished_entries(map: &mut serde_json::Map<String, Value>, n: i64) {
    for i in 0..n {
        map.insert(
            format!("agent:main:bulk-{i}"),
            json!({"sessionId": format!("14000000-0000-4000-8000-{i:012}"), "status": "done",
                   "updatedAt": 1_795_638_000_000i64 - i, "endedAt": 1_795_638_000_000i64 - i,
                   "abortedLastRun": false, "note": "x".repeat(200)}),
        );
    }
}

/// A moment after a gateway was started: the session's last activity
/// is then after the gateway's start (the gateway owned it while it ran).
fn activity_after_start() -> i64 {
    std::thread::sleep(Duration::from_millis(30));
    now_ms()
}

// ---------------------------------------------------------------------------------------
// 1. SQLite sidecars planted as links

/// U owns a claude-mem data dir (orphan `active` rows, a dead worker's pid file) and puts a
/// link to a root-only file where a SQLite sidecar goes: `-shm` / `-wal` of a database in
/// rollback-journal mode (SQLite never opens them there, so only a chown or chmod by path
/// can reach the link), and `-shm` / `-journal` of a WAL database. Root's `close` must not
/// chown, chmod or write the file behind the link, whatever happens to the close.
#[test]
fn sidecar_symlink_does_not_chown_its_target() {
    let test = "sidecar_symlink_does_not_chown_its_target";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let sb = Sandbox::new();
    open_sandbox_root(&sb);
    let victims = sb.root().join("victims");
    let mut failures = Vec::new();
    for (mode, sidecar) in [
        ("delete", "claude-mem.db-shm"),
        ("delete", "claude-mem.db-wal"),
        ("wal", "claude-mem.db-shm"),
        ("wal", "claude-mem.db-journal"),
    ] {
        let case = format!("{mode}{}", &sidecar[sidecar.len() - 4..]);
        let cm = sb.root().join(format!("cm-{case}"));
        build_claude_mem_db(&cm, "13.25.3", Some(mode))
            .close()
            .unwrap();
        let (pid, starttime) = dead_pid();
        fs::write(
            cm.join("worker.pid"),
            json!({"pid": pid, "port": 37777, "startedAt": iso_ms(now_ms() - 3_600_000),
                   "startToken": starttime})
            .to_string(),
        )
        .unwrap();
        user.chown_tree(&cm);
        let cm_args = |cmd: &str| -> Vec<String> {
            vec![
                cmd.into(),
                "--backend".into(),
                "claude-mem".into(),
                "--claude-mem-dir".into(),
                s(&cm),
                "--journal".into(),
                s(&sb.root().join(format!("root-state-{case}/journal.ndjson"))),
            ]
        };
        // Precondition: there is something to close, so the database gets written.
        let (out, report) = sb.json(cm_args("list"), &[]);
        assert!(
            sessions(&report).iter().any(|x| x["verdict"] == "orphan"),
            "precondition: orphan rows in the {mode} database\n{out:?}"
        );

        let victim = Victim::new(&victims, &format!("victim-of-{sidecar}"));
        user.symlink(&victim.path, &cm.join(sidecar));
        let mut args = cm_args("close");
        args.push("--yes".into());
        let out = sb.run(&args, &[]);
        if let Some(d) = victim.damage() {
            failures.push(format!(
                "{mode} database, {sidecar} -> victim: {d}\n{out:?}"
            ));
        }
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 2. The store rewrite's temp file, guessed and planted

/// U owns a 2026.7 state dir with an orphan; sessionctl runs as pid 1 of a fresh pid
/// namespace, so a temp name with the pid in it is predictable: U plants
/// `.sessions.json.sessionctl-{1..5}.tmp` as links to a root-only file. The victim must stay
/// as it was, sessions.json must stay a regular file, and the close either ended the
/// entry or failed leaving the store as it was; nothing outside the state dir changes.
#[test]
fn predictable_temp_file_link_does_not_redirect_the_rewrite() {
    let test = "predictable_temp_file_link_does_not_redirect_the_rewrite";
    let Some(user) = user_or_skip(test, true) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let store = sessions_json(&fx);
    let victim = Victim::new(&fx.root().join("victims"), "victim");
    for pid in 1..=5 {
        user.symlink(
            &victim.path,
            &sessions_dir(&fx).join(format!(".sessions.json.sessionctl-{pid}.tmp")),
        );
    }
    let store_before = fs::read(&store).unwrap();
    let outside_before = snapshot_except(fx.root(), &["state", "root-state"]);

    let args = oc_args(&fx, &fx.state(), &["close", "--yes"]);
    let out = run_wrapped(&fx.sandbox, &in_pid_namespace(), &args, &[]);

    let mut failures = Vec::new();
    if let Some(d) = victim.damage() {
        failures.push(format!("victim: {d}"));
    }
    match fs::symlink_metadata(&store) {
        Ok(m) if m.is_file() => {
            let bytes = fs::read(&store).unwrap();
            let ended = serde_json::from_slice::<Value>(&bytes)
                .is_ok_and(|d| d[SLOW_KEY]["status"] == "failed");
            let clean_failure = out.code != 0 && bytes == store_before;
            if !ended && !clean_failure {
                failures.push(format!(
                    "neither ended the orphan nor failed cleanly (exit {}, store {})",
                    out.code,
                    if bytes == store_before {
                        "unchanged"
                    } else {
                        "changed"
                    }
                ));
            }
        }
        Ok(m) => failures.push(format!(
            "sessions.json is no longer a regular file ({:?})",
            m.file_type()
        )),
        Err(e) => failures.push(format!("sessions.json is gone: {e}")),
    }
    let diff = tree_diff(
        &outside_before,
        &snapshot_except(fx.root(), &["state", "root-state"]),
    );
    if !diff.is_empty() {
        failures.push(format!(
            "files outside the state dir changed:\n  {}",
            diff.join("\n  ")
        ));
    }
    if !failures.is_empty() {
        failures.push(format!("{out:?}"));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 3. A dangling link where undo puts a lock back

/// After root's close removed a dead owner's `<sessionId>.jsonl.lock`, U puts a dangling
/// link there naming a path only root can create. Root's `journal undo` must not create
/// that file.
#[test]
fn undo_does_not_create_a_file_through_a_dangling_lock_link() {
    let test = "undo_does_not_create_a_file_through_a_dangling_lock_link";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let lock = slow_lock(&fx);
    let (out, doc) = fx.json(oc_args(&fx, &fx.state(), &["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "precondition: the close worked\n{out:?}");
    let run = doc["run"].as_str().expect("run id").to_string();
    assert!(
        fs::symlink_metadata(&lock).is_err(),
        "precondition: the close removed the dead owner's lock\n{out:?}"
    );

    let forbidden = root_dir(&fx.root().join("root-only"));
    let target = forbidden.join("created-through-the-lock-link");
    user.symlink(&target, &lock);
    let out = fx.run(
        oc_args(&fx, &fx.state(), &["journal", "undo", &run, "--yes"]),
        &[],
    );
    assert!(
        fs::symlink_metadata(&target).is_err(),
        "undo created {} (root-only) through U's link at {}\n{out:?}",
        target.display(),
        lock.display()
    );
}

// ---------------------------------------------------------------------------------------
// 4. The metrics textfile's temp file

/// `check --prometheus-textfile` into a directory U owns; sessionctl runs as pid 1 of a
/// fresh pid namespace and U planted links at the temp names that pid gives
/// (`.sessionctl.prom.{1..5}.tmp`). The victim stays as it was; the textfile, when
/// written, is a regular file.
#[test]
fn metrics_temp_file_link_is_not_followed() {
    let test = "metrics_temp_file_link_is_not_followed";
    let Some(user) = user_or_skip(test, true) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let dir = user_dir(&user, &fx.root().join("metrics"));
    let prom = dir.join("sessionctl.prom");
    let victim = Victim::new(&fx.root().join("victims"), "victim");
    for pid in 1..=5 {
        user.symlink(
            &victim.path,
            &dir.join(format!(".sessionctl.prom.{pid}.tmp")),
        );
    }
    let args = oc_args(
        &fx,
        &fx.state(),
        &["check", "--prometheus-textfile", &s(&prom)],
    );
    let out = run_wrapped(&fx.sandbox, &in_pid_namespace(), &args, &[]);
    let mut failures = Vec::new();
    if let Some(d) = victim.damage() {
        failures.push(format!("victim: {d}"));
    }
    if let Ok(m) = fs::symlink_metadata(&prom) {
        if !m.is_file() {
            failures.push(format!(
                "{} is not a regular file ({:?})",
                prom.display(),
                m.file_type()
            ));
        }
    }
    if !failures.is_empty() {
        failures.push(format!("{out:?}"));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 5. The journal dir in another user's home

/// Root runs with HOME pointing into U's home (sudo keeping HOME): the journal dir
/// `~/.local/state/sessionctl` is U's, and U planted its journal, its lock file or its
/// backups dir as a link to something of root's. `close --yes` must not write there; it
/// refuses with exit 2, naming the journal dir.
#[test]
fn journal_dir_writable_by_another_user_is_refused() {
    let test = "journal_dir_writable_by_another_user_is_refused";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let mut failures = Vec::new();
    for planted in ["journal.ndjson", "close.lock", "backups"] {
        let fx = user_fixture(&user, "2026.7.35");
        let home = user_dir(&user, &fx.root().join("uhome"));
        let jdir = home.join(".local/state/sessionctl");
        user.mkdir_p(&jdir);
        let victims = fx.root().join("victims");
        let victim = Victim::new(&victims, "victim");
        let target = if planted == "backups" {
            victims.clone()
        } else {
            victim.path.clone()
        };
        user.symlink(&target, &jdir.join(planted));
        let victims_before = tree_snapshot(&victims);

        let args = strings(&[
            "--openclaw-state-dir",
            &s(&fx.state()),
            "--backend",
            "openclaw",
            "close",
            "--yes",
        ]);
        let out = fx.run(&args, &[("HOME", &s(&home))]);
        let mut what = Vec::new();
        if let Some(d) = victim.damage() {
            what.push(format!("victim: {d}"));
        }
        let diff = tree_diff(&victims_before, &tree_snapshot(&victims));
        if !diff.is_empty() {
            what.push(format!("root's dir changed: {}", diff.join(", ")));
        }
        if out.code != 2 || !out.stderr.contains(&s(&jdir)) {
            what.push(format!(
                "expected a refusal (exit 2) naming {}; got exit {}",
                jdir.display(),
                out.code
            ));
        }
        if !what.is_empty() {
            failures.push(format!(
                "{planted} planted as a link: {}\n{out:?}",
                what.join("; ")
            ));
        }
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 6. umask 000

/// Every mode of `dir`'s tree that is not 0700 (dirs) / 0600 (files).
fn loose_modes(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let (_, _, m) = owner_mode(dir);
    if m != 0o700 {
        out.push(format!("{}: dir mode {m:o}, want 700", dir.display()));
    }
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let meta = fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            out.extend(loose_modes(&p));
        } else {
            let m = meta.mode() & 0o7777;
            if m != 0o600 {
                out.push(format!("{}: file mode {m:o}, want 600", p.display()));
            }
        }
    }
    out
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// With umask 000, what sessionctl creates — its journal dir, journal, lock file, backups
/// of a 0600 store — is still private (dirs 0700, files 0600); the Prometheus textfile
/// may be readable by node_exporter but never world-writable.
#[test]
fn created_files_are_private_whatever_the_umask() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let store = sessions_json(&fx);
    fs::set_permissions(&store, fs::Permissions::from_mode(0o600)).unwrap();
    let xdg = fx.root().join("xdg-state");
    fs::create_dir_all(&xdg).unwrap();
    let xdg_os = xdg.clone().into_os_string();
    let env: [(&str, &OsStr); 1] = [("XDG_STATE_HOME", &xdg_os)];
    let args = strings(&[
        "--openclaw-state-dir",
        &s(&fx.state()),
        "--backend",
        "openclaw",
        "close",
        "--yes",
    ]);
    let out = run_wrapped(&fx.sandbox, &with_umask_000(), &args, &env);
    assert_eq!(out.code, 0, "precondition: the close worked\n{out:?}");
    let sdir = xdg.join("sessionctl");
    assert!(
        sdir.join("journal.ndjson").is_file(),
        "precondition: journal written under $XDG_STATE_HOME/sessionctl\n{out:?}"
    );
    let mut failures = loose_modes(&sdir);
    let backups = count_files(&sdir.join("backups"));
    eprintln!(
        "created_files_are_private_whatever_the_umask: checked {} file(s), {backups} of them backups",
        count_files(&sdir)
    );
    let (_, _, m) = owner_mode(&store);
    if m != 0o600 {
        failures.push(format!(
            "sessions.json mode {m:o} after the rewrite, want 600"
        ));
    }

    let pdir = fx.root().join("prom");
    fs::create_dir_all(&pdir).unwrap();
    let prom = pdir.join("sessionctl.prom");
    let args = strings(&[
        "--openclaw-state-dir",
        &s(&fx.state()),
        "--backend",
        "openclaw",
        "check",
        "--prometheus-textfile",
        &s(&prom),
    ]);
    let pout = run_wrapped(&fx.sandbox, &with_umask_000(), &args, &env);
    match fs::symlink_metadata(&prom) {
        Ok(meta) => {
            let m = meta.mode() & 0o7777;
            if m & 0o002 != 0 {
                failures.push(format!("{}: mode {m:o} is world-writable", prom.display()));
            }
        }
        Err(e) => failures.push(format!("{} not written: {e}\n{pout:?}", prom.display())),
    }
    if !failures.is_empty() {
        failures.push(format!("{out:?}"));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 7. A gateway in a container: pids of another namespace

/// U's 2026.7 state dir is served by a gateway in its own pid namespace (pid 1 or 2
/// there), which wrote the in-flight session's lock and its gateway lock with its
/// namespace pid and its real start time. That pid means something else on the host: the
/// session is not an orphan (`live` or `unknown`), and `close` changes nothing.
#[test]
fn gateway_in_another_pid_namespace_keeps_its_session_live() {
    let test = "gateway_in_another_pid_namespace_keeps_its_session_live";
    let Some(user) = user_or_skip(test, true) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let state = fx.state();
    let tmp = fx.tmp();
    let gw = NsGateway::spawn(&[("OPENCLAW_STATE_DIR", &state), ("TMPDIR", &tmp)], None);
    claim_session_lock(&slow_lock(&fx), gw.ns_pid, gw.starttime);
    claim_gateway_locks(&fx.tmp_lock_dir(), gw.ns_pid, gw.starttime);
    set_file_activity(&sessions_json(&fx), SLOW_KEY, activity_after_start());
    assert_ne!(
        try_proc_starttime(gw.ns_pid),
        Some(gw.starttime),
        "the namespace pid {} must not be the same process on the host",
        gw.ns_pid
    );
    let before = tree_snapshot(fx.root());
    assert_owned_and_untouched(
        &fx,
        &state,
        &before,
        &format!(
            "lock of namespace pid {} = host pid {}",
            gw.ns_pid, gw.host_pid
        ),
    );
}

/// The in-flight session is `live` or `unknown`, never `orphan`, and `close --yes`
/// changes nothing in the fixture (root's own journal aside).
fn assert_owned_and_untouched(
    fx: &Fixture,
    state: &Path,
    before: &BTreeMap<PathBuf, Entry>,
    why: &str,
) {
    let mut failures = Vec::new();
    let (out, report) = fx.json(oc_args(fx, state, &["list"]), &[]);
    match verdict_of(&report, SLOW_KEY).as_deref() {
        Some("live") | Some("unknown") => {}
        v => failures.push(format!(
            "{SLOW_KEY} ({why}): verdict {v:?}, want live or unknown\n{out:?}"
        )),
    }
    let out = fx.run(oc_args(fx, state, &["close", "--yes"]), &[]);
    let diff = tree_diff(before, &snapshot_except(fx.root(), &["root-state"]));
    if !diff.is_empty() {
        failures.push(format!(
            "close changed the live gateway's state:\n  {}\n{out:?}",
            diff.join("\n  ")
        ));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 8. A gateway in a container: the state dir under another path

/// The gateway runs in its own mount and pid namespaces, with U's state dir bind-mounted
/// at another path (`OPENCLAW_STATE_DIR=<volume>`, which is an empty dir on the host), and
/// no lock files at all. Its session is not an orphan, and `close` changes nothing.
#[test]
fn gateway_seeing_the_state_dir_by_another_path_keeps_it_owned() {
    let test = "gateway_seeing_the_state_dir_by_another_path_keeps_it_owned";
    let Some(user) = user_or_skip(test, true) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let state = fx.state();
    fs::remove_file(slow_lock(&fx)).unwrap();
    for l in gateway_locks(&fx.tmp_lock_dir()) {
        fs::remove_file(l).unwrap();
    }
    let volume = root_dir(&fx.root().join("volume"));
    let tmp = fx.tmp();
    let gw = NsGateway::spawn(
        &[("OPENCLAW_STATE_DIR", &volume), ("TMPDIR", &tmp)],
        Some((&state, &volume)),
    );
    assert!(
        fs::read_dir(&volume).unwrap().next().is_none(),
        "the bind mount must not be visible on the host"
    );
    assert!(
        fs::read(format!(
            "/proc/{}/root{}/openclaw.json",
            gw.host_pid,
            volume.display()
        ))
        .is_ok(),
        "the gateway sees the state dir at {}",
        volume.display()
    );
    set_file_activity(&sessions_json(&fx), SLOW_KEY, activity_after_start());
    let before = tree_snapshot(fx.root());
    assert_owned_and_untouched(
        &fx,
        &state,
        &before,
        &format!(
            "gateway host pid {} serves it as {}",
            gw.host_pid,
            volume.display()
        ),
    );
}

// ---------------------------------------------------------------------------------------
// 9. Another host's lease

/// A 2026.9 state dir (on shared storage) whose gateway-owner lease in
/// `state/openclaw.sqlite` names another host, and a pid that is dead here; there are no
/// gateway locks. What another host holds cannot be checked from here: the session is
/// `unknown`, not `orphan`, and `close` changes nothing. (2026.7's locks — the session's
/// `.jsonl.lock` and the gateway lock — carry no host at all, so the lease is the only
/// evidence with a host; there is no 2026.7 variant.)
#[test]
fn lock_from_another_host_is_not_a_licence() {
    let test = "lock_from_another_host_is_not_a_licence";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let fx = Fixture::openclaw("2026.9.6", "after-kill");
    open_sandbox_root(&fx.sandbox);
    for l in gateway_locks(&fx.state_lock_dir()) {
        fs::remove_file(l).unwrap();
    }
    let now = now_ms();
    set_sqlite_activity(&agent_db(&fx), SLOW_KEY, now);
    let other_host = "gw-host-b.example";
    assert_ne!(
        fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim(),
        other_host
    );
    let (dead, starttime) = dead_pid();
    let global = fx.state().join("state/openclaw.sqlite");
    let conn = rusqlite::Connection::open(&global).unwrap();
    // The schema of the 2026.9.6 capture (openclaw.sqlite.tables.json).
    conn.execute_batch(
        "CREATE TABLE state_leases (
           scope TEXT NOT NULL, lease_key TEXT NOT NULL, owner TEXT NOT NULL,
           expires_at INTEGER, heartbeat_at INTEGER, payload_json TEXT,
           created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
           PRIMARY KEY (scope, lease_key)) STRICT;",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO state_leases VALUES ('gateway-owner', 'global', '11ed4084-dda1-477f-8d51-3af0b41623ba', ?1, ?2, ?3, ?4, ?2)",
        rusqlite::params![
            now + 300_000,
            now,
            json!({"owner": {"pid": dead, "host": other_host, "startedAt": starttime},
                   "port": 18801, "mode": "foreground", "supervisor": null})
            .to_string(),
            now - 60_000
        ],
    )
    .unwrap();
    conn.close().unwrap();
    user.chown_tree(&fx.state());
    let before = tree_snapshot(fx.root());

    let mut failures = Vec::new();
    let (out, report) = fx.json(oc_args(&fx, &fx.state(), &["list"]), &[]);
    let v = verdict_of(&report, SLOW_KEY);
    if v.as_deref() != Some("unknown") {
        failures.push(format!(
            "{SLOW_KEY} (leased by pid {dead} on {other_host}): verdict {v:?}, want unknown\n{out:?}"
        ));
    }
    let out = fx.run(oc_args(&fx, &fx.state(), &["close", "--yes"]), &[]);
    let diff = tree_diff(&before, &snapshot_except(fx.root(), &["root-state"]));
    if !diff.is_empty() {
        failures.push(format!(
            "close changed a store another host leases:\n  {}\n{out:?}",
            diff.join("\n  ")
        ));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 10. A store linked out of its state dir

/// State dir B (root's) with a live gateway (process, locks) and an in-flight session;
/// U's state dir A whose store (`rel`) is a link to B's. `sessionctl --openclaw-state-dir
/// A close --yes`: B's store is unchanged, B's session is not reported `orphan` under A,
/// and a problem names the linked file.
fn store_linked_out(test: &str, version: &str, rel: &str) {
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let b = Fixture::openclaw(version, "after-kill");
    open_sandbox_root(&b.sandbox);
    let b_state = b.state();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &b_state)]);
    let st = gw.starttime();
    if version == "2026.7.35" {
        claim_session_lock(&slow_lock(&b), gw.pid, st);
        claim_gateway_locks(&b.tmp_lock_dir(), gw.pid, st);
        set_file_activity(&sessions_json(&b), SLOW_KEY, activity_after_start());
    } else {
        claim_gateway_locks(&b.state_lock_dir(), gw.pid, st);
        set_sqlite_activity(&agent_db(&b), SLOW_KEY, activity_after_start());
    }
    // Precondition: under its own state dir, B's session is live.
    let (out, report) = b.json(oc_args(&b, &b_state, &["list"]), &[]);
    assert_eq!(
        verdict_of(&report, SLOW_KEY).as_deref(),
        Some("live"),
        "precondition: B's gateway owns its session\n{out:?}"
    );

    let a = user_dir(&user, &b.root().join("state-a"));
    let link = a.join(rel);
    user.mkdir_p(link.parent().unwrap());
    user.symlink(&b_state.join(rel), &link);
    let b_before = store_bytes(&b_state);

    let mut failures = Vec::new();
    let (out, report) = b.json(oc_args(&b, &a, &["list"]), &[]);
    if verdict_of(&report, SLOW_KEY).as_deref() == Some("orphan") {
        failures.push(format!(
            "B's live session is reported orphan under A (through {})\n{out:?}",
            link.display()
        ));
    }
    let name = Path::new(rel).file_name().unwrap().to_string_lossy();
    let named = problems(&report).iter().any(|p| {
        p["path"].as_str().is_some_and(|x| x.contains(&*name))
            || p["message"].as_str().is_some_and(|x| x.contains(&*name))
    });
    if !named {
        failures.push(format!("no problem names the linked {name} of A\n{out:?}"));
    }
    let out = b.run(oc_args(&b, &a, &["close", "--yes"]), &[]);
    let diff: Vec<String> = {
        let after = store_bytes(&b_state);
        let keys: BTreeSet<&PathBuf> = b_before.keys().chain(after.keys()).collect();
        keys.into_iter()
            .filter(|k| b_before.get(*k) != after.get(*k))
            .map(|k| k.display().to_string())
            .collect()
    };
    if !diff.is_empty() {
        failures.push(format!(
            "close under A changed B's files: {}\n{out:?}",
            diff.join(", ")
        ));
    }
    drop(gw);
    assert_no_failures(&failures);
}

#[test]
fn store_file_linked_out_of_the_state_dir_is_refused() {
    store_linked_out(
        "store_file_linked_out_of_the_state_dir_is_refused",
        "2026.7.35",
        "agents/main/sessions/sessions.json",
    );
}

#[test]
fn store_database_linked_out_of_the_state_dir_is_refused() {
    store_linked_out(
        "store_database_linked_out_of_the_state_dir_is_refused",
        "2026.9.6",
        "agents/main/agent/openclaw-agent.sqlite",
    );
}

// ---------------------------------------------------------------------------------------
// 11. Undo after a gateway came back

fn undo_args(fx: &Fixture, run: &str, last: &str) -> Vec<String> {
    oc_args(fx, &fx.state(), &["journal", "undo", run, last])
}

/// A 2026.7 close (dead owner), then a gateway starts for that state dir; `journal undo`
/// of the close must leave sessions.json (the gateway's now) byte for byte and re-create
/// no lock, and its `--dry-run` must not say it would restore them.
#[test]
fn undo_into_a_live_gateways_store_is_refused() {
    let test = "undo_into_a_live_gateways_store_is_refused";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let fx = user_fixture(&user, "2026.7.35");
    let store = sessions_json(&fx);
    let lock = slow_lock(&fx);
    let (out, doc) = fx.json(oc_args(&fx, &fx.state(), &["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "precondition: the close worked\n{out:?}");
    let run = doc["run"].as_str().expect("run id").to_string();
    assert_eq!(read_json(&store)[SLOW_KEY]["status"], "failed", "{out:?}");
    assert!(!lock.exists(), "precondition: lock removed\n{out:?}");

    let state = fx.state();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &state)]);
    claim_gateway_locks(&fx.tmp_lock_dir(), gw.pid, gw.starttime());
    let store_before = fs::read(&store).unwrap();

    let mut failures = Vec::new();
    let dry = fx.run(undo_args(&fx, &run, "--dry-run"), &[]);
    if dry.stdout.contains("would restore") {
        failures.push(format!(
            "the dry run offers to restore into the live gateway's store\n{dry:?}"
        ));
    }
    let out = fx.run(undo_args(&fx, &run, "--yes"), &[]);
    if fs::read(&store).unwrap() != store_before {
        failures.push(format!(
            "undo rewrote sessions.json under gateway pid {}\n{out:?}",
            gw.pid
        ));
    }
    if fs::symlink_metadata(&lock).is_ok() {
        failures.push(format!(
            "undo re-created {} under gateway pid {}\n{out:?}",
            lock.display(),
            gw.pid
        ));
    }
    assert_no_failures(&failures);
}

/// The same with a 2026.9 SQLite store: after the gateway started, undo leaves
/// `session_nodes` and `session_windows` as they are.
#[test]
fn undo_into_a_live_gateways_database_is_refused() {
    let test = "undo_into_a_live_gateways_database_is_refused";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let fx = user_fixture(&user, "2026.9.6");
    let db = agent_db(&fx);
    let rows = || {
        let c = open_ro(&db);
        (
            query_rows(&c, "SELECT * FROM session_nodes ORDER BY session_key"),
            query_rows(&c, "SELECT * FROM session_windows ORDER BY session_id"),
        )
    };
    let original = rows();
    let (out, doc) = fx.json(oc_args(&fx, &fx.state(), &["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "precondition: the close worked\n{out:?}");
    let run = doc["run"].as_str().expect("run id").to_string();
    let closed = rows();
    assert_ne!(
        closed, original,
        "precondition: the close ended a row\n{out:?}"
    );

    let state = fx.state();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &state)]);
    claim_gateway_locks(&fx.state_lock_dir(), gw.pid, gw.starttime());

    let mut failures = Vec::new();
    let dry = fx.run(undo_args(&fx, &run, "--dry-run"), &[]);
    if dry.stdout.contains("would restore") {
        failures.push(format!(
            "the dry run offers to restore into the live gateway's database\n{dry:?}"
        ));
    }
    let out = fx.run(undo_args(&fx, &run, "--yes"), &[]);
    if rows() != closed {
        failures.push(format!(
            "undo rewrote rows of the database of gateway pid {}\n{out:?}",
            gw.pid
        ));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 12. Another writer of sessions.json

const WRITER_ENV: &str = "SESSIONCTL_IT_STORE_WRITER";
/// How long the writer runs at most, from its start.
const WRITER_MAX: Duration = Duration::from_secs(3);
/// How long it keeps writing once it saw another writer's file appear: shorter than the
/// pause below, so a sessionctl that re-reads and retries once after losing its
/// compare-and-swap finds the store quiet.
const WRITER_AFTER_SIGHTING: Duration = Duration::from_millis(250);
/// sessionctl's pause right before its rename (debug-build hook), in ms.
const PAUSE_BEFORE_RENAME_MS: u64 = 400;

/// Not a test of its own: the body of the concurrent writer of
/// `concurrent_store_writer_loses_nothing`, run as U by re-executing this test binary with
/// `SESSIONCTL_IT_STORE_WRITER=<store>\n<log>\n<stop file>`. Without that variable it does
/// nothing.
#[test]
fn helper_store_writer_process() {
    let Ok(spec) = std::env::var(WRITER_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('\n').collect();
    let (store, log, stop) = (
        Path::new(parts[0]),
        Path::new(parts[1]),
        Path::new(parts[2]),
    );
    store_writer(store, log, stop);
}

/// Names in `dir`.
fn dir_names(dir: &Path) -> BTreeSet<OsString> {
    fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// Write like OpenClaw does — read the store, change it, write a temp file, rename it over
/// the store — in rounds: each adds an entry `agent:main:writer-<n>` and sets the e2e-1
/// entry's `writerSeq` to `n` (a fixed-width string, edited in place: a round takes a few
/// ms even on a large store). A round commits only when the store is still the file it
/// read, so this writer never undoes anyone's write; each committed n goes to `log`, and
/// `end` when it stops. While a file it did not start with is in the directory (another
/// writer's temp or lock file) it writes round after round, into that writer's window;
/// otherwise every 20 ms. It stops at the `stop` file,
/// [`WRITER_MAX`] after its start, or [`WRITER_AFTER_SIGHTING`] after it first saw another
/// writer's temp file (so that a writer which retries gets a quiet store in the end).
fn store_writer(store: &Path, log: &Path, stop: &Path) {
    use std::io::Write;
    let dir = store.parent().unwrap();
    let tmp_name = OsString::from(format!(".sessions.json.writer-{}.tmp", std::process::id()));
    let tmp = dir.join(&tmp_name);
    let mut logf = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let id = |m: &fs::Metadata| (m.dev(), m.ino(), m.len(), m.mtime(), m.mtime_nsec());
    let start = Instant::now();
    let initial = dir_names(dir);
    let mut sighted: Option<Instant> = None;
    let mut n: u64 = 0;
    while !stop.exists()
        && start.elapsed() < WRITER_MAX
        && sighted.is_none_or(|t| t.elapsed() < WRITER_AFTER_SIGHTING)
    {
        let busy = dir_names(dir)
            .iter()
            .any(|n| *n != tmp_name && !initial.contains(n));
        if busy && sighted.is_none() {
            sighted = Some(Instant::now());
        }
        if let Some(new) = fs::metadata(store).ok().and_then(|m0| {
            let bytes = fs::read(store).ok()?;
            let seq = find(&bytes, b"\"writerSeq\": \"")? + 14;
            let open = bytes.iter().position(|b| *b == b'{')? + 1;
            let mut out = Vec::with_capacity(bytes.len() + 200);
            out.extend_from_slice(&bytes[..open]);
            out.extend_from_slice(
                format!(
                    "\n  \"agent:main:writer-{n}\": {{\"sessionId\": \"15000000-0000-4000-8000-{n:012}\", \"status\": \"done\", \"updatedAt\": {}}},",
                    now_ms()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&bytes[open..]);
            let seq = seq + out.len() - bytes.len();
            out[seq..seq + 10].copy_from_slice(format!("{n:010}").as_bytes());
            Some((m0, out))
        }) {
            let (m0, out) = new;
            fs::write(&tmp, &out).unwrap();
            let unchanged = fs::metadata(store).is_ok_and(|m1| id(&m1) == id(&m0));
            if unchanged && fs::rename(&tmp, store).is_ok() {
                writeln!(logf, "{n}").unwrap();
                n += 1;
            } else {
                let _ = fs::remove_file(&tmp);
            }
        }
        if !busy {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    writeln!(logf, "end").unwrap();
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// While root's `close --yes` rewrites a large sessions.json of U's, U's own writer keeps
/// adding entries and updating another entry (as OpenClaw does). Afterwards every update
/// the writer made is in the file, and the orphan is ended. A debug build that honours
/// `SESSIONCTL_TEST_PAUSE=before-rename:<ms>` (sleep right before renaming its temp file
/// over the store) gives the writer a sure window; without it the writer still writes
/// round after round while sessionctl's temp file is visible.
#[test]
fn concurrent_store_writer_loses_nothing() {
    let test = "concurrent_store_writer_loses_nothing";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    open_sandbox_root(&fx.sandbox);
    let store = sessions_json(&fx);
    // Thousands of finished entries: a rewrite takes long enough to be overtaken.
    edit_store(&store, |map| {
        map[E2E1_KEY]
            .as_object_mut()
            .unwrap()
            .insert("writerSeq".into(), json!("0000000000"));
        add_finished_entries(map, 4000);
    });
    user.chown_tree(&fx.state());

    let mut exe = std::env::current_exe().unwrap();
    if !user.can_execute(&exe) {
        let copy = fx.root().join("it-writer");
        fs::copy(&exe, &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        exe = copy;
    }
    let wdir = user_dir(&user, &fx.root().join("writer"));
    let (log, stop) = (wdir.join("log"), wdir.join("stop"));
    let mut cmd = user.command(&exe);
    cmd.args([
        "--exact",
        "security::helper_store_writer_process",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(
        WRITER_ENV,
        format!("{}\n{}\n{}", s(&store), s(&log), s(&stop)),
    );
    let mut writer = ChildGuard::spawn(&mut cmd);
    let lines = || -> Vec<String> {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    };
    wait_until("the writer's first write", Duration::from_secs(10), || {
        !lines().is_empty()
    });

    let pause = format!("before-rename:{PAUSE_BEFORE_RENAME_MS}");
    let out = fx.run(
        oc_args(&fx, &fx.state(), &["close", "--yes"]),
        &[("SESSIONCTL_TEST_PAUSE", &pause)],
    );
    fs::write(&stop, "").unwrap();
    wait_until("the writer to stop", Duration::from_secs(10), || {
        lines().last().is_some_and(|l| l == "end")
    });
    writer.kill_and_wait();

    let committed: Vec<u64> = lines().iter().filter_map(|l| l.parse().ok()).collect();
    let last = *committed.last().expect("the writer committed something");
    let fin: Value = serde_json::from_slice(&fs::read(&store).unwrap())
        .unwrap_or_else(|e| panic!("sessions.json is not JSON afterwards: {e}\n{out:?}"));
    let mut failures = Vec::new();
    let lost: Vec<u64> = committed
        .iter()
        .copied()
        .filter(|n| fin.get(format!("agent:main:writer-{n}")).is_none())
        .collect();
    if !lost.is_empty() {
        failures.push(format!(
            "{} of the writer's {} committed entries are gone: writer-{lost:?}",
            lost.len(),
            committed.len()
        ));
    }
    if fin[E2E1_KEY]["writerSeq"] != json!(format!("{last:010}")) {
        failures.push(format!(
            "{E2E1_KEY}.writerSeq is {}, the writer's last committed value {last}",
            fin[E2E1_KEY]["writerSeq"]
        ));
    }
    if fin[SLOW_KEY]["status"] != "failed" {
        failures.push(format!(
            "the orphan {SLOW_KEY} is not ended: status {}",
            fin[SLOW_KEY]["status"]
        ));
    }
    if !failures.is_empty() {
        failures.push(format!("{out:?}"));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// 13. Two closes at once

/// Root's cron and U's timer start `close --yes` at the same moment on the same stores
/// (2026.7 file store + claude-mem), each with its own journal, hook target a loopback
/// receiver. Every store write happens once (exactly one `done` outcome per write action
/// across both journals) and every session's payload arrives once, or twice with the same
/// `Idempotency-Key`.
#[test]
fn overlapping_closes_with_different_journals_end_and_deliver_once() {
    let test = "overlapping_closes_with_different_journals_end_and_deliver_once";
    let Some(user) = user_or_skip(test, false) else {
        return;
    };
    if !user.can_execute(Path::new(BIN)) {
        eprintln!("SKIPPED: {test}: the throwaway user cannot execute {BIN}");
        return;
    }
    let h = Host::new(Base::File735);
    open_sandbox_root(&h.fx.sandbox);
    // A large store: each run's rewrite takes a while, as on a busy host.
    edit_store(&h.sessions_json(), |map| add_finished_entries(map, 4000));
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.hook(&stub.url("/hook"), "5s", 0)]);
    user.chown_tree(&h.state());
    user.chown_tree(&h.cm);
    let ustate = user_dir(&user, &h.root().join("ustate"));
    let ujournal = ustate.join("sessionctl/journal.ndjson");

    let root_args = h.args(&["close", "--yes", "--format", "json"]);
    let mut user_args = root_args.clone();
    let j = user_args.iter().position(|a| a == "--journal").unwrap();
    user_args[j + 1] = s(&ujournal);
    let token = OsString::from(crate::close::HOOK_TOKEN);
    // With the debug-build hook, both runs linger before their rename.
    let pause = OsString::from(format!("before-rename:{PAUSE_BEFORE_RENAME_MS}"));
    let env: [(&str, &OsStr); 2] = [("HOOK_TOKEN", &token), ("SESSIONCTL_TEST_PAUSE", &pause)];
    let root_cmd = wrapped_command(&h.fx.sandbox, &[], &root_args, &env);
    let user_cmd = wrapped_command(&h.fx.sandbox, &user.wrapper(), &user_args, &env);
    let (root_out, user_out) = std::thread::scope(|sc| {
        let a = sc.spawn(|| output_of(root_cmd, &root_args));
        let b = sc.spawn(|| output_of(user_cmd, &user_args));
        (a.join().unwrap(), b.join().unwrap())
    });

    let read_lines = |p: &Path| -> Vec<Value> {
        fs::read(p)
            .map(|b| {
                b.split(|c| *c == b'\n')
                    .filter_map(|l| serde_json::from_slice(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let journals = [read_lines(&h.journal), read_lines(&ujournal)];
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    let mut planned = [0usize; 2];
    for (i, lines) in journals.iter().enumerate() {
        for l in lines.iter().filter(|l| l["type"] == "intent") {
            kinds.insert(
                l["action"].as_str().unwrap_or_default().to_string(),
                l["kind"].as_str().unwrap_or_default().to_string(),
            );
            planned[i] += 1;
        }
    }
    eprintln!(
        "{test}: root's run planned {} action(s), U's run {}",
        planned[0], planned[1]
    );
    let mut failures = Vec::new();
    let mut done: BTreeMap<&str, usize> = BTreeMap::new();
    for lines in &journals {
        for l in lines.iter().filter(|l| l["type"] == "outcome") {
            if l["ok"] == true && l["skipped"] != true && l["detail"] == "done" {
                *done
                    .entry(l["action"].as_str().unwrap_or_default())
                    .or_default() += 1;
            }
        }
    }
    // Store writes: `end-owed` and `left-to-gateway` are records that write nothing, and
    // a run that comes second may well record its own (its deliveries then carry the first
    // run's Idempotency-Key, checked below).
    let writes: Vec<&String> = kinds
        .iter()
        .filter(|(_, k)| !matches!(k.as_str(), "deliver" | "end-owed" | "left-to-gateway"))
        .map(|(a, _)| a)
        .collect();
    if writes.is_empty() {
        failures.push("neither run planned a store write".to_string());
    }
    for a in writes {
        let n = done.get(a.as_str()).copied().unwrap_or(0);
        if n != 1 {
            failures.push(format!(
                "{a}: {n} `done` outcomes across both journals, want 1"
            ));
        }
    }
    let mut by_key: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for r in stub.received() {
        let key = r.json()["event"]["sessionKey"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_key
            .entry(key)
            .or_default()
            .push(r.header("idempotency-key").map(String::from));
    }
    if by_key.is_empty() {
        failures.push("the receiver got nothing".to_string());
    }
    for (key, ids) in &by_key {
        if ids.len() > 1 && (ids[0].is_none() || ids.iter().any(|i| *i != ids[0])) {
            failures.push(format!(
                "{key}: delivered {} times with Idempotency-Key {ids:?}",
                ids.len()
            ));
        }
    }
    if !failures.is_empty() {
        failures.push(format!("root's run: {root_out:?}\nU's run: {user_out:?}"));
    }
    assert_no_failures(&failures);
}

// ---------------------------------------------------------------------------------------
// sessionctl itself in a container

/// Run in a pid namespace of its own, sessionctl cannot see the processes of the others:
/// a lock naming a pid that is not running there proves nothing (`unknown`). Told with
/// `--trust-pid-namespace` that every owner runs beside it (a container running both),
/// the dead pid is proof again (`orphan`).
#[test]
fn sessionctl_in_its_own_pid_namespace_does_not_trust_a_dead_pid() {
    let test = "sessionctl_in_its_own_pid_namespace_does_not_trust_a_dead_pid";
    if current_uid() != 0 {
        eprintln!("SKIPPED: {test}: needs root for unshare --pid");
        return;
    }
    let unshare = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .status();
    if !unshare.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: {test}: unshare --pid --fork --mount-proc does not work here");
        return;
    }
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let state = fx.state().to_string_lossy().into_owned();
    // The in-flight session's lock, written this boot by a process that is gone now.
    let (pid, st) = dead_pid();
    rewrite_lock(
        &slow_lock(&fx),
        &[
            ("pid", pid.to_string()),
            ("starttime", st.to_string()),
            ("createdAt", format!("\"{}\"", iso_ms(now_ms() - 60_000))),
        ],
    );
    let verdict = |extra: &[&str]| -> (String, String) {
        let mut cmd = std::process::Command::new("unshare");
        cmd.args([
            "--pid",
            "--fork",
            "--mount-proc",
            env!("CARGO_BIN_EXE_sessionctl"),
        ])
        .args(["list", "--format", "json", "--backend", "openclaw"])
        .args(["--openclaw-state-dir", &state])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", fx.sandbox.home())
        .env("TMPDIR", fx.tmp());
        let out = cmd.output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let s = by_key(&doc, SLOW_KEY);
        (
            s["verdict"].as_str().unwrap_or_default().to_string(),
            s["summary"].as_str().unwrap_or_default().to_string(),
        )
    };
    // Outside a namespace that dead pid makes e2e-slow an orphan (owner-dead); inside one,
    // it cannot be told.
    let (v, why) = verdict(&[]);
    assert_eq!(v, "unknown", "{why}");
    assert!(why.contains("pid namespace"), "{why}");
    let (v, why) = verdict(&["--trust-pid-namespace"]);
    assert_eq!(v, "orphan", "{why}");
}
