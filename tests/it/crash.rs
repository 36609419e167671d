//! Crash safety: `close` aborted at each step (test-only fail points), and a real `close`
//! SIGKILLed at random points across many runs. After re-runs every orphan is closed,
//! every claude-mem row and OpenClaw entry was written once, and each target holds exactly
//! one delivery per session (by its idempotency key; a crash between a delivery and its
//! journal line can repeat that one delivery, under the same key). The sessions with a key
//! include the finished e2e-1 and e2e-2 of the killed gateway, which are owed a
//! session_end: delivered once each, their store entries never written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use std::time::{Duration, Instant};

use crate::common::*;

struct Host {
    fx: Fixture,
    http: HttpStub,
    /// sessions.json as copied, before any run.
    sessions_before: serde_json::Value,
}

/// The session keys each target must get exactly one delivery for: the running orphan
/// e2e-slow, claude-mem's telegram row, and the finished e2e-1 and e2e-2 that the killed
/// gateway 7288 owes a session_end.
const KEYS: [&str; 4] = [
    "agent:main:e2e-1",
    "agent:main:e2e-2",
    "agent:main:e2e-slow",
    "agent:main:telegram:direct:4242",
];

/// 2026.7.35 after-kill + claude-mem 13.25.3 with its orphan rows; an http target and a
/// command target that records its delivery id with each payload.
fn host(cmd_delay: &str) -> Host {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let cm = fx.root().join("cm");
    drop(build_claude_mem_db(&cm, "13.25.3", None));
    let http = HttpStub::ok_receiver();
    let log = fx.root().join("cmd.log");
    let config = format!(
        r#"[[targets]]
name = "hook"
type = "http"
url = "{}"
timeout = "2s"
retries = 0

[[targets]]
name = "rec"
type = "command"
argv = ["/bin/sh", "-c", "sleep {cmd_delay}; line=\"$SESSIONCTL_DELIVERY_ID $(cat)\"; printf '%s\\n' \"$line\" >> \"$0\"", "{}"]
timeout = "5s"
"#,
        http.url("/session_end"),
        log.display()
    );
    fs::write(fx.root().join("config.toml"), config).unwrap();
    let sessions_before = read_json(&fx.state().join("agents/main/sessions/sessions.json"));
    Host {
        fx,
        http,
        sessions_before,
    }
}

impl Host {
    fn args(&self) -> Vec<String> {
        let r = self.fx.root();
        vec![
            "close".into(),
            "--yes".into(),
            "--openclaw-state-dir".into(),
            self.fx.state().to_string_lossy().into_owned(),
            "--claude-mem-dir".into(),
            r.join("cm").to_string_lossy().into_owned(),
            "--config".into(),
            r.join("config.toml").to_string_lossy().into_owned(),
            "--journal".into(),
            r.join("state-home/journal.ndjson")
                .to_string_lossy()
                .into_owned(),
        ]
    }

    /// Delivery ids seen by the command target, with how often each arrived.
    fn command_ids(&self) -> BTreeMap<String, usize> {
        let text = fs::read_to_string(self.fx.root().join("cmd.log")).unwrap_or_default();
        let mut m = BTreeMap::new();
        // A line without a payload is a command whose sender died before writing its
        // stdin (the abort closed the pipe): nothing was delivered.
        for line in text
            .lines()
            .filter(|l| l.split_once(' ').is_some_and(|(_, p)| !p.trim().is_empty()))
        {
            let id = line.split(' ').next().unwrap().to_string();
            assert!(id.starts_with("sessionctl-"), "no delivery id: {line}");
            *m.entry(id).or_default() += 1;
        }
        m
    }

    /// Session key -> the delivery ids the command target got for it.
    fn command_keys(&self) -> BTreeMap<String, BTreeSet<String>> {
        let text = fs::read_to_string(self.fx.root().join("cmd.log")).unwrap_or_default();
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in text.lines() {
            let (id, payload) = line.split_once(' ').unwrap();
            if payload.trim().is_empty() {
                continue; // its sender died before writing the payload (see command_ids)
            }
            let v: serde_json::Value = serde_json::from_str(payload).unwrap();
            let key = v["event"]["sessionKey"].as_str().unwrap().to_string();
            m.entry(key).or_default().insert(id.to_string());
        }
        m
    }

    /// Session key -> the Idempotency-Keys the http target got for it.
    fn http_keys(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in self.http.received() {
            let id = r.header("idempotency-key").expect("Idempotency-Key header");
            let key = r.json()["event"]["sessionKey"]
                .as_str()
                .unwrap()
                .to_string();
            m.entry(key).or_default().insert(id.to_string());
        }
        m
    }

    fn http_ids(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.http.received() {
            let key = r
                .headers
                .iter()
                .find(|(k, _)| k == "idempotency-key")
                .map(|(_, v)| v.clone())
                .expect("Idempotency-Key header");
            *m.entry(key).or_default() += 1;
        }
        m
    }

    /// Everything a finished job must show.
    fn assert_all_closed(&self, context: &str) {
        let conn = rusqlite::Connection::open(self.fx.root().join("cm/claude-mem.db")).unwrap();
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> = conn
            .prepare(
                "SELECT id, status, completed_at, completed_at_epoch FROM sdk_sessions ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (id, status, at, epoch) in &rows {
            match id {
                3..=5 => {
                    if status != "completed" {
                        let j =
                            fs::read_to_string(self.fx.root().join("state-home/journal.ndjson"))
                                .unwrap_or_default();
                        panic!("row {id} is {status} ({context}); journal:\n{j}");
                    }
                    assert_eq!(
                        parse_iso_ms(at.as_deref().unwrap()),
                        epoch.unwrap(),
                        "row {id} ({context})"
                    );
                }
                6 | 7 => assert_eq!(
                    status, "active",
                    "row {id} must never be touched ({context})"
                ),
                _ => {}
            }
        }
        let doc = read_json(&self.fx.state().join("agents/main/sessions/sessions.json"));
        let e = &doc["agent:main:e2e-slow"];
        assert_eq!(e["status"], "failed", "{context}");
        assert_eq!(e["endedAt"], e["updatedAt"], "{context}");
        // The owed finished entries were never written.
        for key in ["agent:main:e2e-1", "agent:main:e2e-2"] {
            assert_eq!(
                doc[key], self.sessions_before[key],
                "{key}: a finished entry was written ({context})"
            );
        }
        // Exactly one delivery per session with a key (KEYS), per target.
        let cmd = self.command_ids();
        let http = self.http_ids();
        assert_eq!(
            cmd.len(),
            KEYS.len(),
            "command target ids ({context}): {cmd:?}"
        );
        assert_eq!(
            http.len(),
            KEYS.len(),
            "http target ids ({context}): {http:?}"
        );
        for (target, by_key) in [("command", self.command_keys()), ("http", self.http_keys())] {
            let keys: Vec<&str> = by_key.keys().map(String::as_str).collect();
            assert_eq!(keys, KEYS, "{target} target session keys ({context})");
            assert!(
                by_key.values().all(|ids| ids.len() == 1),
                "{target} target: one delivery id per session ({context}): {by_key:?}"
            );
        }
        // The journal has nothing left pending.
        let j = fs::read_to_string(self.fx.root().join("state-home/journal.ndjson")).unwrap();
        let mut intents = BTreeSet::new();
        let mut outcomes = BTreeSet::new();
        for line in j.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let key = (
                v["run"].as_str().unwrap_or("").to_string(),
                v["action"].as_str().unwrap_or("").to_string(),
            );
            match v["type"].as_str() {
                Some("intent") => {
                    intents.insert(key);
                }
                Some("outcome") => {
                    outcomes.insert(key);
                }
                _ => {}
            }
        }
        // No store write was applied twice: at most one successful, non-skipped outcome per
        // claude-mem row, OpenClaw entry or lock; likewise per owed session's `end-owed`
        // (which writes no store).
        let mut applied: BTreeMap<String, usize> = BTreeMap::new();
        for line in j.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let action = v["action"].as_str().unwrap_or("");
            if v["type"] == "outcome"
                && v["ok"] == true
                && v["skipped"] == false
                && !action.starts_with("deliver:")
            {
                *applied.entry(action.to_string()).or_default() += 1;
            }
        }
        assert!(
            applied.values().all(|n| *n == 1),
            "a store write recorded twice ({context}): {applied:?}"
        );
        let (owed, writes): (Vec<&String>, Vec<&String>) =
            applied.keys().partition(|a| a.starts_with("end-owed:"));
        assert_eq!(
            writes.len(),
            5,
            "3 rows, 1 entry, 1 lock ({context}): {applied:?}"
        );
        assert_eq!(
            owed.len(),
            2,
            "end-owed for e2e-1 and e2e-2 ({context}): {applied:?}"
        );
        let pending: Vec<_> = intents.difference(&outcomes).collect();
        assert!(
            pending.is_empty(),
            "pending intents after the re-run ({context}): {pending:?}"
        );
    }
}

fn killed_by_signal(out: &Out) -> bool {
    out.code == -1
}

#[test]
fn each_fail_point_then_a_rerun_finishes_the_job() {
    for point in [
        "after-intent",
        "mid-transaction",
        "after-store-writes",
        "after-delivery",
    ] {
        let h = host("0");
        let out = h.fx.run(h.args(), &[("SESSIONCTL_FAILPOINT", point)]);
        assert!(
            killed_by_signal(&out),
            "{point}: expected an abort:\n{out:?}"
        );
        assert!(
            out.stderr.contains(&format!("failpoint {point}")),
            "{out:?}"
        );
        if point == "mid-transaction" {
            // The aborted transaction left no row half-written.
            let conn = rusqlite::Connection::open(h.fx.root().join("cm/claude-mem.db")).unwrap();
            let n: i64 = conn
                .query_row("SELECT count(*) FROM sdk_sessions WHERE status = 'completed' AND id IN (3,4,5)", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "rows committed by an aborted transaction");
        }
        let out = h.fx.run(h.args(), &[]);
        assert_eq!(out.code, 0, "{point}: re-run:\n{out:?}");
        h.assert_all_closed(point);
        let raw_http: usize = h.http_ids().values().sum();
        let raw_cmd: usize = h.command_ids().values().sum();
        if point == "after-delivery" {
            // Deliveries that landed but were not journaled before the abort (at most those
            // in flight) come once more, under the same key a receiver can deduplicate.
            let twice = |m: BTreeMap<String, usize>| m.values().all(|n| *n <= 2);
            assert!(
                twice(h.http_ids()) && twice(h.command_ids()),
                "{point}: http {:?}, command {:?}",
                h.http_ids(),
                h.command_ids()
            );
        } else {
            assert_eq!(
                (raw_http, raw_cmd),
                (KEYS.len(), KEYS.len()),
                "{point}: each payload exactly once"
            );
        }
        // A third run has nothing to do and sends nothing.
        let out = h.fx.run(h.args(), &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("No orphans to close."), "{out:?}");
        assert_eq!(h.http_ids().values().sum::<usize>(), raw_http);
    }
}

#[test]
fn sigkill_at_random_points_loses_nothing() {
    // A slow command target widens the window; kill delays sweep across the whole run.
    let runs = 24;
    let mut extra_deliveries = 0;
    let mut kills_landed = 0;
    for i in 0..runs {
        let h = host("0.2");
        let delay = Duration::from_millis(15 * (i as u64 % 12) + 5);
        let mut child = h.fx.sandbox.command(h.args(), &[]).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.code().is_none() {
            kills_landed += 1;
        }
        // Re-run until the job is done (a second kill-free run always finishes it).
        let start = Instant::now();
        let out = h.fx.run(h.args(), &[]);
        assert!(matches!(out.code, 0 | 1), "run {i}: {out:?}");
        if out.code == 1 {
            let out = h.fx.run(h.args(), &[]);
            assert_eq!(out.code, 0, "run {i}: {out:?}");
        }
        assert!(start.elapsed() < Duration::from_secs(20));
        h.assert_all_closed(&format!("run {i}, killed after {delay:?}"));
        extra_deliveries += h.http_ids().values().sum::<usize>() - KEYS.len();
        extra_deliveries += h.command_ids().values().sum::<usize>() - KEYS.len();
    }
    eprintln!("sigkill: {runs} runs, {kills_landed} kills landed mid-run, {extra_deliveries} repeated deliveries (same idempotency key), 0 sessions lost");
    assert!(
        kills_landed >= runs / 3,
        "too few kills landed mid-run ({kills_landed}); widen the window"
    );
}

/// A re-run whose id equals the crashed run's (forced with the test-only
/// `SESSIONCTL_RUN_ID`; two runs in one second could once get the same id) still finishes
/// the crashed run: the deliveries it owed are made, once each, and nothing stays pending.
#[test]
fn a_resume_finishes_a_crashed_run_even_with_the_same_run_id() {
    let id = "20261125T212747.123Z-00000000000000aa";
    for point in ["after-intent", "after-store-writes"] {
        let h = host("0");
        let out = h.fx.run(
            h.args(),
            &[("SESSIONCTL_FAILPOINT", point), ("SESSIONCTL_RUN_ID", id)],
        );
        assert!(
            killed_by_signal(&out),
            "{point}: expected an abort:\n{out:?}"
        );
        assert_eq!(
            h.http.count(),
            0,
            "{point}: nothing delivered before the crash"
        );
        let out = h.fx.run(h.args(), &[("SESSIONCTL_RUN_ID", id)]);
        assert_eq!(out.code, 0, "{point}: re-run with the same id:\n{out:?}");
        h.assert_all_closed(&format!("{point}, same run id"));
        assert_eq!(
            (
                h.http_ids().values().sum::<usize>(),
                h.command_ids().values().sum::<usize>()
            ),
            (KEYS.len(), KEYS.len()),
            "{point}: each payload exactly once\n{out:?}"
        );
    }
}
