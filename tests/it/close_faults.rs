//! `close` under faults: hook targets that refuse, hang, fail or never end; a locked or
//! read-only store; a store that changes under a run; a corrupt journal; a crash (a
//! journal cut after its intents, and a real SIGKILL); two runs at once. Every test checks
//! that nothing is lost (a re-run finishes the job) and nothing is done twice (no second
//! payload to a target that confirmed one).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::close::*;
use crate::common::*;

/// The other finished session the crashed gateway (pid 7288) started besides
/// [`E2E1_KEY`]: both are owed their session_end.
const E2E2_KEY: &str = "agent:main:e2e-2";

/// [`one_each`] plus one payload for each finished session the crashed gateway owes a
/// session_end (e2e-1, e2e-2): everything a default `close` of the 7.35 capture delivers.
fn one_each_with_owed() -> BTreeMap<String, usize> {
    let mut m = one_each();
    m.extend([(E2E1_KEY.to_string(), 1), (E2E2_KEY.to_string(), 1)]);
    m
}

/// The owed groups of a run whose targets all worked: an `end-owed` action and their
/// deliveries, all ok, no store write, closed.
fn assert_owed_delivered(doc: &Value) {
    for g in [E2E1_KEY, E2E2_KEY] {
        let it = item(doc, g);
        assert_eq!(it["closed"], true, "{it:#}");
        let end = action(it, "end-owed", None);
        assert_eq!(end["ok"], true, "{end:#}");
        for a in it["actions"].as_array().unwrap() {
            assert!(
                a["kind"] == "end-owed" || a["kind"] == "deliver",
                "an owed session gets no store write: {a:#}"
            );
            assert_eq!(a["ok"], true, "{a:#}");
        }
    }
}

/// Every action of the run's items, flattened: (group, action).
fn all_actions(doc: &Value) -> Vec<(String, Value)> {
    doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {doc:#}"))
        .iter()
        .flat_map(|i| {
            let g = i["group"].as_str().unwrap().to_string();
            i["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |a| (g.clone(), a.clone()))
        })
        .collect()
}

/// The first run against a failing `hook` target: every store write done, `rec` got one
/// payload per group, each `hook` delivery failed with a detail containing `detail`; the
/// groups with a payload are not closed, the default group is; exit 1.
fn assert_hook_failed(
    h: &Host,
    out: &Out,
    doc: &Value,
    detail: &str,
    cm: (&BTreeMap<i64, Row>, i64, i64),
) {
    assert_eq!(out.code, 1, "{out:?}");
    let (cm_before, t0, t1) = cm;
    assert_cm_closed(cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(
        read_json(&h.sessions_json())[SLOW_KEY]["status"],
        "failed",
        "{out:?}"
    );
    assert!(!h.slow_lock().exists(), "{out:?}");
    assert_eq!(per_key(&h.cmd_lines()), one_each(), "{out:?}");
    for g in [SLOW_KEY, TG_KEY] {
        let it = item(doc, g);
        assert_eq!(it["closed"], false, "{it:#}");
        let a = action(it, "deliver", Some("hook"));
        assert_eq!(a["ok"], false, "{a:#}");
        assert!(
            a["detail"].as_str().unwrap().contains(detail),
            "expected {detail:?} in {a:#}"
        );
        assert_eq!(action(it, "deliver", Some("rec"))["ok"], true, "{it:#}");
        for a in it["actions"].as_array().unwrap() {
            if a["kind"] != "deliver" {
                assert_eq!(a["ok"], true, "store writes happen anyway: {a:#}");
            }
        }
    }
    assert_eq!(item(doc, DEFAULT_GROUP)["closed"], true, "{doc:#}");
    assert!(!h.journal_lines().is_empty());
}

fn first_run_with_hook(
    h: &Host,
    url: &str,
    timeout: &str,
    retries: u32,
) -> (Out, Value, BTreeMap<i64, Row>, i64, i64) {
    h.configure(&[h.rec(), h.hook(url, timeout, retries)]);
    let cm_before = h.cm_rows();
    let t0 = now_ms();
    // --no-owed: the owed e2e-1/e2e-2 would make four payloads, and the failing target's
    // fourth is then "not attempted" (the 3-in-a-row give-up, tested on its own below).
    let (out, doc) = h.close_json(&["--yes", "--no-owed"]);
    let t1 = now_ms();
    (out, doc, cm_before, t0, t1)
}

// ---------------------------------------------------------------------------------------
// HTTP targets that fail

#[test]
fn http_target_refusing() {
    let h = Host::new(Base::File735);
    let url = format!("http://127.0.0.1:{}/hook", closed_port());
    let (out, doc, cm, t0, t1) = first_run_with_hook(&h, &url, "1s", 1);
    assert_hook_failed(
        &h,
        &out,
        &doc,
        "connection refused after 2 attempts",
        (&cm, t0, t1),
    );
}

#[test]
fn http_target_hanging() {
    let h = Host::new(Base::File735);
    let stub = HttpStub::receiver(&[], Reply::Hang);
    let start = Instant::now();
    let (out, doc, cm, t0, t1) = first_run_with_hook(&h, &stub.url("/hook"), "1s", 0);
    let took = start.elapsed();
    assert_hook_failed(&h, &out, &doc, "timed out after 1s", (&cm, t0, t1));
    assert!(took < Duration::from_secs(6), "took {took:?}\n{out:?}");
    assert_eq!(stub.count(), 2, "one attempt per payload (retries 0)");
}

#[test]
fn http_target_answering_500() {
    let h = Host::new(Base::File735);
    let stub = HttpStub::receiver(&[], Reply::Status(500));
    let (out, doc, cm, t0, t1) = first_run_with_hook(&h, &stub.url("/hook"), "2s", 1);
    assert_hook_failed(&h, &out, &doc, "HTTP 500 after 2 attempts", (&cm, t0, t1));
    assert_eq!(
        per_key(&stub.bodies()),
        BTreeMap::from([(SLOW_KEY.to_string(), 2), (TG_KEY.to_string(), 2)]),
        "retries 1: two attempts per payload"
    );
}

/// After deliveries failed (the stores already ended), a re-run with working receivers
/// delivers exactly the missing payloads, and nothing again to the targets that had
/// confirmed theirs.
#[test]
fn failed_deliveries_are_retried_by_a_rerun() {
    let h = Host::new(Base::File735);
    let flaky_out = h.root().join("flaky.jsonl");
    let flaky = |argv: &[&str]| T::Cmd {
        name: "flaky".into(),
        argv: argv
            .iter()
            .map(|s| s.to_string())
            .chain([flaky_out.to_string_lossy().into_owned()])
            .collect(),
        timeout: "5s".into(),
    };
    let url = format!("http://127.0.0.1:{}/hook", closed_port());
    h.configure(&[
        h.rec(),
        h.hook(&url, "1s", 0),
        flaky(&["/bin/sh", "-c", "echo down >&2; exit 1"]),
    ]);
    let (out, _) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed());

    let stub = HttpStub::ok_receiver();
    h.configure(&[
        h.rec(),
        h.hook(&stub.url("/hook"), "2s", 1),
        flaky(&["/bin/sh", "-c", "cat >> \"$0\""]),
    ]);
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        per_key(&stub.bodies()),
        one_each_with_owed(),
        "hook: the missing payloads, once\n{out:?}"
    );
    let flaky_lines: Vec<Value> = fs::read_to_string(&flaky_out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        per_key(&flaky_lines),
        one_each_with_owed(),
        "flaky: the missing payloads, once\n{out:?}"
    );
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "rec had them: nothing again\n{out:?}"
    );

    // And a third run has nothing left to do.
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(stub.count(), 4);
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed());
}

/// Add `n` running entries without a lock (no gateway runs: orphans, gateway-gone) to the
/// 2026.7.35 sessions.json; returns their keys.
fn add_running_entries(h: &Host, n: usize) -> Vec<String> {
    let mut store = read_json(&h.sessions_json());
    let slow = store[SLOW_KEY].clone();
    let keys: Vec<String> = (0..n).map(|i| format!("agent:main:bulk-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        let mut e = slow.clone();
        e["sessionId"] = format!("14000000-0000-4000-8000-{i:012}").into();
        e.as_object_mut().unwrap().remove("sessionFile");
        store[key.as_str()] = e;
    }
    fs::write(
        h.sessions_json(),
        serde_json::to_vec_pretty(&store).unwrap(),
    )
    .unwrap();
    keys
}

fn http(name: &str, url: &str, timeout: &str, retries: u32) -> T {
    T::Http {
        name: name.into(),
        url: url.into(),
        timeout: timeout.into(),
        retries,
    }
}

/// A target that never answers costs a run three deliveries (side by side), not one per
/// orphan: the rest of its deliveries are left failed for the next run, and the healthy
/// target gets every payload meanwhile.
#[test]
fn dead_target_is_given_up_after_three_failures_in_a_row() {
    let h = Host::new(Base::File735);
    let bulk = add_running_entries(&h, 40);
    let healthy = HttpStub::ok_receiver();
    let dead = HttpStub::receiver(&[], Reply::Hang);
    h.configure(&[
        http("dead", &dead.url("/hook"), "500ms", 1),
        http("ok", &healthy.url("/hook"), "5s", 0),
    ]);
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 1, "{out:?}");

    // Every orphan with a session key (the 40 added ones, e2e-slow and telegram) and the
    // two owed finished sessions, e2e-1 and e2e-2.
    let mut want: BTreeMap<String, usize> = bulk.iter().map(|k| (k.clone(), 1)).collect();
    want.extend(one_each_with_owed());
    assert_eq!(per_key(&healthy.bodies()), want, "{out:?}");

    // Three deliveries of two attempts each reached the dead target, no more.
    assert_eq!(dead.count(), 3 * 2, "{out:?}");
    let to_dead: Vec<Value> = all_actions(&doc)
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| a["target"] == "dead")
        .collect();
    assert_eq!(to_dead.len(), 44, "{doc:#}");
    assert!(to_dead.iter().all(|a| a["ok"] == false), "{doc:#}");
    let details: BTreeMap<String, usize> = to_dead.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a["detail"].as_str().unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert_eq!(
        details,
        BTreeMap::from([
            ("timed out after 500ms (2 attempts)".to_string(), 3),
            (
                "not attempted: target dead failed 3 times in a row this run; left for the next run"
                    .to_string(),
                41
            ),
        ]),
        "{doc:#}"
    );
    // Journaled as failures, so that the next run tries them again.
    let failed = h
        .outcomes("deliver:dead:")
        .into_iter()
        .filter(|o| o["ok"] == false && o["skipped"] == false)
        .count();
    assert_eq!(failed, 44);

    // The target is back: the next run delivers every payload it is missing, once, and
    // nothing again to the healthy one.
    let back = HttpStub::ok_receiver();
    h.configure(&[
        http("dead", &back.url("/hook"), "5s", 0),
        http("ok", &healthy.url("/hook"), "5s", 0),
    ]);
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(per_key(&back.bodies()), want, "{out:?}");
    assert_eq!(healthy.count(), 44, "{out:?}");
}

// ---------------------------------------------------------------------------------------
// Command targets that fail

#[test]
fn command_targets_missing_failing_and_never_ending() {
    let h = Host::new(Base::File735);
    h.configure(&[
        h.rec(),
        T::Cmd {
            name: "missing".into(),
            argv: vec!["/nonexistent/sessionctl-hook".into()],
            timeout: "5s".into(),
        },
        T::Cmd {
            name: "fails".into(),
            argv: vec![
                "/bin/sh".into(),
                "-c".into(),
                "echo hook says no >&2; exit 1".into(),
            ],
            timeout: "5s".into(),
        },
        T::Cmd {
            name: "endless".into(),
            argv: vec!["sleep".into(), "30".into()],
            timeout: "1s".into(),
        },
    ]);
    let cm_before = h.cm_rows();
    let start = Instant::now();
    let t0 = now_ms();
    // --no-owed: with the owed e2e-1/e2e-2, "missing" and "endless" would be given up on
    // after three payloads (tested on its own above) and the fourth not attempted.
    let (out, doc) = h.close_json(&["--yes", "--no-owed"]);
    let t1 = now_ms();
    let took = start.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        took < Duration::from_secs(6),
        "took {took:?}: a hook that never ends must be cut at its timeout\n{out:?}"
    );
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(per_key(&h.cmd_lines()), one_each());
    for g in [SLOW_KEY, TG_KEY] {
        let it = item(&doc, g);
        assert_eq!(it["closed"], false, "{it:#}");
        assert_eq!(action(it, "deliver", Some("rec"))["ok"], true);
        for (t, want) in [
            ("missing", "cannot run /nonexistent/sessionctl-hook"),
            ("fails", "exited with status 1: hook says no"),
            ("endless", "timed out after 1s"),
        ] {
            let a = action(it, "deliver", Some(t));
            assert_eq!(a["ok"], false, "{a:#}");
            assert!(
                a["detail"].as_str().unwrap().contains(want),
                "{t}: expected {want:?} in {a:#}"
            );
        }
    }
    // Each failure is in the journal, per session and target.
    let failed: Vec<Value> = h
        .outcomes("deliver:")
        .into_iter()
        .filter(|o| o["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 6, "{failed:#?}");
}

// ---------------------------------------------------------------------------------------
// A locked claude-mem database

/// Another process holds the write lock (rollback journal, `BEGIN IMMEDIATE`: readers may
/// still read, writers wait) for longer than close's 5 s write busy timeout. `BEGIN
/// EXCLUSIVE` would also lock out the read, so close would not even see the rows; that
/// case is `claude_mem_unreadable_is_not_success`.
#[test]
fn claude_mem_locked_by_a_writer() {
    let h = Host::with_cm_journal_mode(Base::File735, "delete");
    h.configure(&[h.rec()]);
    let cm_before = h.cm_rows();
    let writer = rusqlite::Connection::open(h.cm_db()).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let start = Instant::now();
    let (out, doc) = h.close_json(&["--yes"]);
    let took = start.elapsed();
    writer.execute_batch("ROLLBACK").unwrap();
    drop(writer);

    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        took >= Duration::from_secs(4),
        "gave up before the busy timeout: {took:?}"
    );
    assert_eq!(
        h.cm_rows(),
        cm_before,
        "no row changed (the whole batch)\n{out:?}"
    );
    let cm_actions: Vec<Value> = all_actions(&doc)
        .into_iter()
        .filter(|(_, a)| a["kind"] == "claude-mem-end")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(cm_actions.len(), 3, "{doc:#}");
    for a in &cm_actions {
        assert_eq!(a["ok"], false, "{a:#}");
        assert!(a["detail"].as_str().unwrap().contains("locked"), "{a:#}");
    }
    // The OpenClaw part and the deliveries are done.
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
    assert!(!h.slow_lock().exists());
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed());
    for g in [SLOW_KEY, TG_KEY, DEFAULT_GROUP] {
        assert_eq!(item(&doc, g)["closed"], false, "{doc:#}");
    }
    // The owed groups have no claude-mem part: done.
    assert_owed_delivered(&doc);

    // Released: a re-run ends the rows and sends nothing twice.
    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "no second payload\n{out:?}"
    );
    for (_, a) in all_actions(&doc) {
        if a["kind"] == "deliver" {
            assert_eq!(a["skipped"], true, "{a:#}");
        }
    }
}

/// The claude-mem database cannot even be read (a writer holds it EXCLUSIVE in rollback
/// mode): close ends what it can, says why on stderr, and does not report success.
#[test]
fn claude_mem_unreadable_is_not_success() {
    let h = Host::with_cm_journal_mode(Base::File735, "delete");
    h.configure(&[h.rec()]);
    let cm_before = h.cm_rows();
    let writer = rusqlite::Connection::open(h.cm_db()).unwrap();
    writer.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = h.run(&["close", "--yes"]);
    writer.execute_batch("ROLLBACK").unwrap();
    drop(writer);
    assert!(
        out.stderr.contains("claude-mem") && out.stderr.contains("locked"),
        "{out:?}"
    );
    assert_eq!(h.cm_rows(), cm_before);
    assert_eq!(
        read_json(&h.sessions_json())[SLOW_KEY]["status"],
        "failed",
        "{out:?}"
    );
    assert_ne!(
        out.code, 0,
        "a backend could not be read: the orphans of claude-mem are still there\n{out:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Read-only stores

/// Undoes `chattr +i` when dropped (also on panic), so the temp dir can be removed.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(p: &Path) -> Option<Immutable> {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(p)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(p.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// Set the database header's write version (byte 18) to 3: SQLite then opens it for
/// reading only, for every user including root.
fn sqlite_write_version(db: &Path, v: u8) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start(18)).unwrap();
    f.write_all(&[v]).unwrap();
}

/// claude-mem.db cannot be written: the OpenClaw side and the deliveries still happen, the
/// rows stay as they were, and a re-run once it is writable ends them without sending
/// anything twice. As root, permission bits do not stop writes; the database header's
/// write version does (SQLite treats such a file as read-only), and that runs everywhere.
#[test]
fn claude_mem_read_only() {
    let h = Host::with_cm_journal_mode(Base::File735, "delete");
    h.configure(&[h.rec()]);
    let cm_before = h.cm_rows();
    let as_root = current_uid() == 0;
    if as_root {
        eprintln!("claude_mem_read_only: running as root, chmod 0444/0555 would not stop writes; using the SQLite header's write version instead");
        sqlite_write_version(&h.cm_db(), 3);
    } else {
        fs::set_permissions(h.cm_db(), fs::Permissions::from_mode(0o444)).unwrap();
        fs::set_permissions(&h.cm, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let (out, doc) = h.close_json(&["--yes"]);
    if as_root {
        sqlite_write_version(&h.cm_db(), 1);
    } else {
        fs::set_permissions(&h.cm, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(h.cm_db(), fs::Permissions::from_mode(0o644)).unwrap();
    }
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(h.cm_rows(), cm_before, "{out:?}");
    for (_, a) in all_actions(&doc)
        .into_iter()
        .filter(|(_, a)| a["kind"] == "claude-mem-end")
    {
        assert_eq!(a["ok"], false, "{a:#}");
        let d = a["detail"].as_str().unwrap();
        assert!(
            d.contains("read-only") || d.contains("readonly") || d.contains("cannot open"),
            "{a:#}"
        );
    }
    assert_eq!(
        read_json(&h.sessions_json())[SLOW_KEY]["status"],
        "failed",
        "{out:?}"
    );
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed());
    assert_owed_delivered(&doc);

    let t0 = now_ms();
    let out = h.run(&["close", "--yes"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "nothing sent twice\n{out:?}"
    );
}

/// The sessions directory cannot be written (no temp file, no rename, no unlink): the
/// entry and the lock stay byte for byte, claude-mem and the deliveries still happen, and a
/// re-run once it is writable finishes. As root: `chattr +i` on the directory (skipped,
/// loudly, where chattr is not permitted).
#[test]
fn sessions_dir_read_only() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();
    let dir = h.sessions_dir();
    let guard;
    if current_uid() == 0 {
        guard = Immutable::set(&dir);
        if guard.is_none() {
            eprintln!("SKIPPED sessions_dir_read_only: running as root and `chattr +i` is not permitted here (no CAP_LINUX_IMMUTABLE or no support in this file system); permission bits do not stop root");
            return;
        }
    } else {
        guard = None;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes"]);
    let t1 = now_ms();
    drop(guard);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();

    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(fs::read(h.sessions_json()).unwrap(), sessions, "{out:?}");
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock, "{out:?}");
    let leftovers: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("sessionctl"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let it = item(&doc, SLOW_KEY);
    assert_eq!(it["closed"], false);
    let entry = action(it, "openclaw-entry-end", None);
    assert_eq!(entry["ok"], false, "{entry:#}");
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("permission denied")
            || entry["detail"].as_str().unwrap().contains("not permitted"),
        "{entry:#}"
    );
    // The lock was not even tried: it stays with the entry that could not be ended.
    let lock_action = action(it, "lock-remove", None);
    assert_eq!(lock_action["skipped"], true, "{it:#}");
    assert!(
        lock_action["detail"].as_str().unwrap().starts_with("kept"),
        "{it:#}"
    );
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed());
    // An owed session_end needs no write to the sessions dir.
    assert_owed_delivered(&doc);

    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        read_json(&h.sessions_json())[SLOW_KEY]["status"],
        "failed",
        "{out:?}"
    );
    assert!(!h.slow_lock().exists(), "{out:?}");
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "nothing sent twice\n{out:?}"
    );
}

/// All or nothing per session: when the sessions.json write fails (a full disk, injected
/// with the test-only fail point; and, where `chattr +i` is permitted, a real EPERM on the
/// file while its directory stays writable), the dead owner's lock stays with the entry
/// that was not ended, byte for byte, and a re-run ends and removes both.
#[test]
fn failed_entry_write_keeps_the_sessions_lock() {
    for fault in ["injected ENOSPC", "immutable sessions.json"] {
        let h = Host::new(Base::File735);
        h.configure(&[h.rec()]);
        let sessions = fs::read(h.sessions_json()).unwrap();
        let lock = fs::read(h.slow_lock()).unwrap();
        let mut env = vec![];
        let guard = if fault == "injected ENOSPC" {
            env.push(("SESSIONCTL_FAILPOINT", "openclaw-file-write"));
            None
        } else {
            match Immutable::set(&h.sessions_json()) {
                Some(g) => Some(g),
                None => {
                    eprintln!("failed_entry_write_keeps_the_sessions_lock: `chattr +i` not permitted here; only the injected fault ran");
                    continue;
                }
            }
        };
        let out = h.run_env(&["close", "--yes", "--format", "json"], &env);
        drop(guard);
        let doc: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{fault}: {e}\n{out:?}"));
        assert_eq!(out.code, 1, "{fault}: {out:?}");
        assert_eq!(fs::read(h.sessions_json()).unwrap(), sessions, "{fault}");
        assert_eq!(
            fs::read(h.slow_lock()).ok().as_deref(),
            Some(&lock[..]),
            "{fault}: the lock of an entry that was not ended was removed\n{out:?}"
        );
        let it = item(&doc, SLOW_KEY);
        assert_eq!(it["closed"], false, "{fault}: {it:#}");
        let entry = action(it, "openclaw-entry-end", None);
        assert_eq!(entry["ok"], false, "{fault}: {entry:#}");
        let l = action(it, "lock-remove", None);
        assert_eq!(l["skipped"], true, "{fault}: {l:#}");
        assert!(
            l["detail"]
                .as_str()
                .unwrap()
                .contains("entry could not be ended"),
            "{fault}: {l:#}"
        );

        let out = h.run(&["close", "--yes"]);
        assert_eq!(out.code, 0, "{fault}: {out:?}");
        assert_eq!(
            read_json(&h.sessions_json())[SLOW_KEY]["status"],
            "failed",
            "{fault}: {out:?}"
        );
        assert!(!h.slow_lock().exists(), "{fault}: {out:?}");
    }
}

// ---------------------------------------------------------------------------------------
// The store changes under a run

/// Set e2e-slow's updatedAt in sessions.json (text edit, layout kept).
fn bump_updated_at(h: &Host, to: i64) {
    let text = fs::read_to_string(h.sessions_json()).unwrap();
    let old = read_json(&h.sessions_json())[SLOW_KEY]["updatedAt"]
        .as_i64()
        .unwrap();
    let needle = format!("\"updatedAt\": {old},");
    let at = text.find(&format!("\"{SLOW_KEY}\": {{")).unwrap();
    let pos = at + text[at..].find(&needle).unwrap();
    let mut new = text.clone();
    new.replace_range(pos..pos + needle.len(), &format!("\"updatedAt\": {to},"));
    fs::write(h.sessions_json(), new).unwrap();
}

/// The entry is updated while the interactive picker waits (between the plan and the
/// write): the re-check right before acting leaves it alone; the next run ends it with
/// what it then holds, and its payload is delivered exactly once.
#[test]
fn entry_changed_while_the_prompt_waits_is_left_alone() {
    if !Pty::available() {
        eprintln!("SKIPPED entry_changed_while_the_prompt_waits_is_left_alone: util-linux `script` is not installed");
        return;
    }
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let lock = fs::read(h.slow_lock()).unwrap();
    let mut pty = Pty::spawn(
        &h.fx.sandbox,
        &h.args(&["close"]),
        &[("HOOK_TOKEN", HOOK_TOKEN)],
    );
    pty.wait_for("Orphans to close", Duration::from_secs(15));
    let bumped = now_ms() - 1000;
    bump_updated_at(&h, bumped);
    let changed = fs::read(h.sessions_json()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    pty.send(b"\r");
    // e2e-1, e2e-2 (owed), e2e-slow, telegram, the default group.
    pty.wait_for("Close 5 session group(s)?", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(150));
    pty.send(b"y");
    let (code, screen) = pty.wait(Duration::from_secs(20));
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("changed since it was listed"), "{screen}");
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        changed,
        "the changed entry is not written\n{screen}"
    );
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock, "{screen}");
    let sent_slow = |h: &Host| per_key(&h.cmd_lines()).get(SLOW_KEY).copied().unwrap_or(0);
    assert!(sent_slow(&h) <= 1);

    let (out, _) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let e = &read_json(&h.sessions_json())[SLOW_KEY];
    assert_eq!(e["status"], "failed", "{out:?}");
    assert!(e["updatedAt"].as_i64().unwrap() > bumped);
    assert!(!h.slow_lock().exists());
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "each payload once, none lost\n{out:?}"
    );
    assert!(h
        .cm_rows()
        .values()
        .filter(|r| [3, 4, 5].contains(&r.int("id").unwrap()))
        .all(|r| r.text("status") == "completed"));
}

/// A plan is never reused across runs: an entry that changed after a dry run listed it is
/// ended from a fresh read (its new updatedAt is what the journal records as prior).
#[test]
fn entry_changed_after_a_dry_run_is_closed_from_a_fresh_read() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let out = h.run(&["close", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    let bumped = now_ms() - 1000;
    bump_updated_at(&h, bumped);
    let before = read_json(&h.sessions_json())[SLOW_KEY].clone();
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        action(item(&doc, SLOW_KEY), "openclaw-entry-end", None)["ok"],
        true
    );
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
    let done = h.outcomes("openclaw-entry-end:");
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(
        done[0]["prior"], before,
        "the prior values are the ones just read"
    );
}

// ---------------------------------------------------------------------------------------
// A corrupt journal

/// Run A closes only telegram:direct:4242; then the journal is damaged by `damage`; then
/// `journal`, `close` (run B) and `journal undo A` must all still work.
fn with_damaged_journal(damage: impl FnOnce(&Path)) {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let cm_before = h.cm_rows();
    let (out, doc) = h.close_json(&["--yes", TG_KEY]);
    assert_eq!(out.code, 0, "{out:?}");
    let run_a = doc["run"].as_str().unwrap().to_string();
    let after_a = h.cm_rows();
    assert_eq!(status(&after_a, 4), "completed");

    damage(&h.journal);

    let (out, list) = h.fx.json(h.args(&["journal"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("ignored"),
        "the damage is mentioned: {out:?}"
    );
    let runs: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap())
        .collect();
    assert_eq!(runs, [run_a.as_str()], "{out:?}");

    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("ignored"), "{out:?}");
    let run_b = doc["run"].as_str().unwrap().to_string();
    assert_cm_closed(&after_a, &h.cm_rows(), &[3, 5], t0, t1);
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed(), "{out:?}");

    let (out, list) = h.fx.json(h.args(&["journal"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let runs: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run"].as_str().unwrap())
        .collect();
    assert_eq!(runs, [run_a.as_str(), run_b.as_str()], "{out:?}");

    let out = h.run(&["journal", "undo", &run_a, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let rows = h.cm_rows();
    assert_eq!(
        rows[&4], cm_before[&4],
        "run A undone: row 4 as before\n{out:?}"
    );
    assert_eq!(status(&rows, 3), "completed", "run B's work stays");
    assert_eq!(status(&rows, 5), "completed", "run B's work stays");
}

#[test]
fn journal_with_a_truncated_last_line() {
    with_damaged_journal(|j| {
        let mut f = fs::OpenOptions::new().append(true).open(j).unwrap();
        use std::io::Write;
        f.write_all(br#"{"type":"outcome","run":"2026","action":"deliver:rec:agent:ma"#)
            .unwrap();
    });
}

#[test]
fn journal_with_garbage_in_the_middle() {
    with_damaged_journal(|j| {
        let text = fs::read(j).unwrap();
        let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
        assert!(
            lines.len() >= 4,
            "run A wrote a header, intents and outcomes"
        );
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            out.extend_from_slice(l);
            if i == 1 {
                out.extend_from_slice(
                    b"\xff\xfe not json at all\n{\"type\":\"nope\"}\n{\"type\":\"intent\"\n",
                );
            }
        }
        fs::write(j, out).unwrap();
    });
}

// ---------------------------------------------------------------------------------------
// Crash and resume

/// Keep only the journal lines for which `keep` holds.
fn filter_journal(h: &Host, keep: impl Fn(&Value) -> bool) {
    let text = fs::read_to_string(&h.journal).unwrap();
    let mut out = String::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        if keep(&v) {
            out.push_str(l);
            out.push('\n');
        }
    }
    fs::write(&h.journal, out).unwrap();
}

fn is_outcome_of(v: &Value, prefix: &str) -> bool {
    v["type"] == "outcome" && v["action"].as_str().is_some_and(|a| a.starts_with(prefix))
}

/// A crash after the store writes and `rec`'s deliveries, before `hook` was sent to: the
/// journal keeps every intent and only `rec`'s outcomes. The re-run records the store
/// writes as applied (with what undo needs), delivers to `hook` exactly once, and sends
/// nothing again to `rec`.
#[test]
fn resume_after_a_crash_between_stores_and_deliveries() {
    let h = Host::new(Base::File735);
    let first = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&first.url("/hook"), "2s", 1)]);
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = doc["run"].as_str().unwrap().to_string();
    let cm_closed = h.cm_rows();
    // The crash: no outcome for the store writes nor for hook; hook never got anything.
    filter_journal(&h, |v| {
        v["type"] != "outcome" || is_outcome_of(v, "deliver:rec:")
    });
    let hook = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&hook.url("/hook"), "2s", 1)]);

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        doc["items"].as_array().unwrap().is_empty(),
        "everything was ended already: {doc:#}"
    );
    assert_eq!(
        per_key(&hook.bodies()),
        one_each_with_owed(),
        "hook: the missing payloads, once\n{out:?}"
    );
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "rec: nothing again\n{out:?}"
    );
    assert_eq!(h.cm_rows(), cm_closed, "nothing written twice");
    let resumed = doc["resumed"].as_array().unwrap();
    let stores: Vec<&Value> = resumed.iter().filter(|r| r["kind"] != "deliver").collect();
    assert_eq!(
        stores.len(),
        7,
        "3 claude-mem rows, the entry, the lock, end-owed of e2e-1 and e2e-2: {doc:#}"
    );
    for r in &stores {
        assert_eq!(r["ok"], true, "{r:#}");
        assert!(r["detail"].as_str().unwrap().contains("applied"), "{r:#}");
    }
    let delivered: Vec<&Value> = resumed.iter().filter(|r| r["kind"] == "deliver").collect();
    assert_eq!(delivered.len(), 4, "{doc:#}");
    assert!(
        delivered
            .iter()
            .all(|r| r["ok"] == true && r["target"] == "hook"),
        "{doc:#}"
    );

    // Nothing is pending any more; a third run does nothing.
    let (out, list) = h.fx.json(h.args(&["journal"]), &[]);
    let r = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run"] == run.as_str())
        .unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(r["actions"]["pending"], 0, "{out:?}");
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.count(), 4);
    assert_eq!(first.count(), 4);
}

/// After such a resume, `journal undo` of the crashed run still restores everything it
/// changed: sessions.json and the lock byte for byte, the claude-mem rows row for row.
#[test]
fn undo_after_a_resumed_crash() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = doc["run"].as_str().unwrap().to_string();
    filter_journal(&h, |v| {
        v["type"] != "outcome" || is_outcome_of(v, "deliver:")
    });
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");

    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(h.cm_rows(), cm_before, "{out:?}");
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock, "{out:?}");
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "sessions.json byte for byte\n{out:?}"
    );
}

/// A crash right after the intents, before any write: the journal holds only the header
/// and the intents; the stores are as before. The re-run finds the writes not applied,
/// plans them again and makes them, and delivers every payload exactly once.
#[test]
fn resume_after_a_crash_before_any_write() {
    let h = Host::new(Base::File735);
    let first = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&first.url("/hook"), "2s", 1)]);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();
    let (out, _) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    // Undo the world: the stores as before, no payload arrived anywhere, no outcome line.
    filter_journal(&h, |v| v["type"] != "outcome");
    fs::write(h.sessions_json(), &sessions).unwrap();
    fs::write(h.slow_lock(), &lock).unwrap();
    let conn = rusqlite::Connection::open(h.cm_db()).unwrap();
    conn.execute("UPDATE sdk_sessions SET status = 'active', completed_at = NULL, completed_at_epoch = NULL WHERE id IN (3, 4, 5)", []).unwrap();
    drop(conn);
    assert_eq!(h.cm_rows(), cm_before);
    fs::remove_file(&h.cmd_out).unwrap();
    let hook = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&hook.url("/hook"), "2s", 1)]);

    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(
        read_json(&h.sessions_json())[SLOW_KEY]["status"],
        "failed",
        "{out:?}"
    );
    assert!(!h.slow_lock().exists());
    assert_eq!(per_key(&hook.bodies()), one_each_with_owed(), "{out:?}");
    assert_eq!(per_key(&h.cmd_lines()), one_each_with_owed(), "{out:?}");
    // The owed e2e-1 and e2e-2 were finished by the resume (their intents were journaled),
    // so the new plan does not list them again.
    assert_eq!(groups(&doc).len(), 3, "{doc:#}");
    for r in doc["resumed"].as_array().unwrap() {
        if r["kind"] == "end-owed" {
            // It writes nothing, so there is nothing not to have applied: its deliveries are
            // what the resume still owed (once each, checked above).
            assert_eq!(
                (&r["ok"], &r["skipped"]),
                (&Value::Bool(true), &Value::Bool(false)),
                "{r:#}"
            );
        } else if r["kind"] != "deliver" {
            // The lock too: its entry was not ended, so the lock is not finished on its own
            // (all or nothing per session); the new plan ends the entry and removes the lock.
            assert_eq!(r["skipped"], true, "not applied: {r:#}");
        }
    }
    let it = item(&doc, SLOW_KEY);
    for kind in ["openclaw-entry-end", "lock-remove"] {
        let a = action(it, kind, None);
        assert_eq!(
            (&a["ok"], &a["skipped"]),
            (&Value::Bool(true), &Value::Bool(false)),
            "done by the new plan: {a:#}"
        );
    }
}

/// The pids of processes whose command line mentions `needle` (a path unique to one test).
fn pids_mentioning(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(c) = fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&c).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// SIGKILL a real run while its slow command target still sleeps, after the HTTP target
/// confirmed both payloads. The re-run ends every group and sends nothing twice to the
/// HTTP target; the command target, which never confirmed, gets its payloads (at least once).
#[test]
fn sigkill_mid_delivery_then_resume() {
    let h = Host::new(Base::File735);
    let hook = HttpStub::ok_receiver();
    h.configure(&[
        h.cmd_target("rec", &["/bin/sh", "-c", "sleep 3; cat >> \"$0\""], "10s"),
        h.hook(&hook.url("/hook"), "2s", 1),
    ]);
    let cm_before = h.cm_rows();
    let t0 = now_ms();
    let mut child = h
        .command(&["close", "--yes"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(
            "hook's four outcomes in the journal (e2e-1, e2e-2 owed)",
            Duration::from_secs(8),
            || {
                h.outcomes("deliver:hook:")
                    .iter()
                    .filter(|o| o["ok"] == true)
                    .count()
                    == 4
            },
        )
    }));
    let _ = child.kill();
    let _ = child.wait();
    // The command target runs in its own process group: end what this test started.
    let needle = h.cmd_out.to_string_lossy().into_owned();
    for pid in pids_mentioning(&needle) {
        // SAFETY: kill(2) on pids this test's own sessionctl started; no memory involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
    }
    if let Err(e) = res {
        std::panic::resume_unwind(e);
    }
    let t1 = now_ms();
    assert!(
        !h.outcomes("deliver:rec:").iter().any(|o| o["ok"] == true),
        "rec was still sleeping"
    );
    assert_eq!(hook.count(), 4);

    h.configure(&[h.rec(), h.hook(&hook.url("/hook"), "2s", 1)]);
    let (out, _) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
    assert!(!h.slow_lock().exists());
    assert_eq!(
        per_key(&hook.bodies()),
        one_each_with_owed(),
        "hook confirmed: never again\n{out:?}"
    );
    let rec = per_key(&h.cmd_lines());
    for k in [SLOW_KEY, TG_KEY, E2E1_KEY, E2E2_KEY] {
        let n = rec.get(k).copied().unwrap_or(0);
        assert!((1..=2).contains(&n), "rec: {k} arrived {n} times\n{out:?}");
    }
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.count(), 4);
}

// ---------------------------------------------------------------------------------------
// Two runs at once

#[test]
fn second_concurrent_close_is_refused() {
    let h = Host::new(Base::File735);
    h.configure(&[h.cmd_target("rec", &["/bin/sh", "-c", "sleep 5; cat >> \"$0\""], "10s")]);
    let mut first = h
        .command(&["close", "--yes"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("the first run's intents", Duration::from_secs(8), || {
            h.journal_lines().iter().any(|l| l["type"] == "intent")
        });
        let start = Instant::now();
        let out = h.run(&["close", "--yes"]);
        let took = start.elapsed();
        (out, took)
    }));
    let (out, took) = match res {
        Ok(x) => x,
        Err(e) => {
            let _ = first.kill();
            let _ = first.wait();
            std::panic::resume_unwind(e);
        }
    };
    assert_eq!(out.code, 2, "{out:?}");
    assert!(took < Duration::from_millis(4500), "took {took:?}");
    assert!(
        out.stderr.contains("close.lock") && out.stderr.contains("another"),
        "{out:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = first.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the first run did not finish");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        per_key(&h.cmd_lines()),
        one_each_with_owed(),
        "the first run finished its work"
    );
    let runs = h
        .journal_lines()
        .into_iter()
        .filter(|l| l["type"] == "run")
        .count();
    assert_eq!(runs, 1, "the refused run wrote nothing");
}
