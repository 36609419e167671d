//! Issue 12: the gateway lifetimes `watch` recorded in `lifetimes.ndjson` are evidence for
//! every command. On the 2026.7.35 after-kill capture with its own evidence gone (no
//! `gateway_boot_lifecycle` table, as before OpenClaw recorded one; the dead gateway's lock
//! removed, as a restarted 2026.7 gateway overwrites it), nothing says how gateway 7288
//! ended, and its finished sessions are owed nothing. The records `watch` wrote when it saw
//! that gateway start and die decide: a crash owes e2e-1 and e2e-2 their session_end (and
//! `close` delivers them), a clean stop owes nothing, and a gateway running now makes the
//! payloads say `restart`.

use std::fs;

use serde_json::{json, Value};

use crate::common::*;

const DEAD_PID: i64 = 7288;
/// The capture's `gateway_boot_lifecycle.started_at_ms` for pid 7288.
const STARTED_AT: &str = "2026-11-25T20:21:07.276Z";

/// The capture without the gateway's own evidence of its lifetime.
fn without_own_evidence() -> Fixture {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let conn = rusqlite::Connection::open(fx.state().join("state/openclaw.sqlite")).unwrap();
    conn.execute_batch("DROP TABLE gateway_boot_lifecycle")
        .unwrap();
    drop(conn);
    for e in fs::read_dir(fx.tmp_lock_dir()).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    fs::create_dir_all(fx.root().join("j")).unwrap();
    fx
}

/// What `watch` writes for a gateway it saw run and exit (`outcome` as it found it).
fn record_lifetime(fx: &Fixture, outcome: &str) {
    let base = json!({
        "kind": "gateway", "pid": DEAD_PID, "ns_pid": null, "starttime": 57697,
        "started_at": STARTED_AT, "dir": fx.state(), "boot_id": "an-earlier-boot",
    });
    let mut start = base.clone();
    start["type"] = json!("start");
    start["at"] = json!(STARTED_AT);
    start["seen_start"] = json!(true);
    let mut end = base;
    end["type"] = json!("end");
    end["at"] = json!("2026-11-25T20:22:00.000Z");
    end["seen_exit"] = json!(true);
    end["outcome"] = json!(outcome);
    end["outcome_from"] = json!("gateway-lock");
    end["reason"] = Value::Null;
    let text = format!("{start}\n{end}\n");
    fs::write(fx.root().join("j/lifetimes.ndjson"), text).unwrap();
}

fn args(fx: &Fixture, cmd: &[&str], extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    let journal = fx.root().join("j/journal.ndjson");
    v.extend(
        [
            "--backend",
            "openclaw",
            "--openclaw-state-dir",
            &fx.state().to_string_lossy(),
            "--journal",
            &journal.to_string_lossy(),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn verdicts(doc: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = sessions(doc)
        .iter()
        .map(|s| {
            (
                s["session_key"].as_str().unwrap_or_default().to_string(),
                s["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn watched_crash_makes_the_finished_sessions_owed_and_close_delivers_them() {
    let fx = without_own_evidence();
    let (_, before) = fx.json(args(&fx, &["list"], &[]), &[]);
    assert_eq!(
        verdicts(&before),
        vec![("agent:main:e2e-slow".into(), "orphan".into())],
        "without any record of the lifetime nothing is claimed for it: {before:#}"
    );

    record_lifetime(&fx, "crash");
    let (out, doc) = fx.json(args(&fx, &["check"], &[]), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        verdicts(&doc),
        vec![
            ("agent:main:e2e-1".into(), "owed".into()),
            ("agent:main:e2e-2".into(), "owed".into()),
            ("agent:main:e2e-slow".into(), "orphan".into()),
        ],
        "{doc:#}"
    );
    let e1 = by_key(&doc, "agent:main:e2e-1");
    assert_eq!(e1["detail"]["owed"]["pid"], DEAD_PID, "{e1}");
    let lifetimes = fx.root().join("j/lifetimes.ndjson");
    assert!(
        e1["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "gateway-lifetime"
                && e["path"].as_str() == Some(&*lifetimes.to_string_lossy())),
        "the evidence names lifetimes.ndjson: {e1:#}"
    );

    // close delivers the three session_ends, once, `shutdown` (no gateway runs).
    let rec = fx.root().join("rec.jsonl");
    let config = fx.root().join("config.toml");
    fs::write(
        &config,
        format!(
            "[[targets]]\nname = \"rec\"\ntype = \"command\"\nargv = [\"/bin/sh\", \"-c\", \"cat >> \\\"$0\\\"; echo >> \\\"$0\\\"\", \"{}\"]\n",
            rec.display()
        ),
    )
    .unwrap();
    let cfg = config.to_string_lossy().into_owned();
    let mut a = args(&fx, &["close", "--yes"], &["--config", &cfg]);
    a.extend(["--format".to_string(), "json".to_string()]);
    let out = fx.run(a, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let sent: Vec<Value> = fs::read_to_string(&rec)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut keys: Vec<(&str, &str)> = sent
        .iter()
        .map(|p| {
            (
                p["event"]["sessionKey"].as_str().unwrap(),
                p["event"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("agent:main:e2e-1", "shutdown"),
            ("agent:main:e2e-2", "shutdown"),
            ("agent:main:e2e-slow", "shutdown"),
        ]
    );
    let (out, doc) = fx.json(args(&fx, &["check"], &[]), &[]);
    assert_eq!(out.code, 0, "nothing owed after the close: {doc:#}");
}

#[test]
fn watched_clean_stop_owes_nothing() {
    let fx = without_own_evidence();
    record_lifetime(&fx, "clean_stop");
    let (_, doc) = fx.json(args(&fx, &["list"], &[]), &[]);
    assert_eq!(
        verdicts(&doc),
        vec![("agent:main:e2e-slow".into(), "orphan".into())],
        "{doc:#}"
    );
    let slow = by_key(&doc, "agent:main:e2e-slow");
    assert_eq!(
        slow["detail"]["drained_by"], DEAD_PID,
        "its drain sent the running one's session_end: {slow:#}"
    );
}

#[test]
fn watched_unknown_outcome_claims_nothing() {
    let fx = without_own_evidence();
    record_lifetime(&fx, "unknown");
    let (_, doc) = fx.json(args(&fx, &["list"], &[]), &[]);
    assert_eq!(
        verdicts(&doc),
        vec![("agent:main:e2e-slow".into(), "orphan".into())],
        "{doc:#}"
    );
}

/// A gateway runs now (a real process of the state dir): the dead one's session_ends go
/// out as `restart`, and the running entry is left to the live gateway's recovery.
#[test]
fn watched_crash_under_a_live_gateway_owes_restart() {
    let fx = without_own_evidence();
    record_lifetime(&fx, "crash");
    let _gw = spawn_retitled("openclaw-gateway", &[("OPENCLAW_STATE_DIR", &fx.state())]);
    let config = fx.root().join("config.toml");
    fs::write(
        &config,
        "[[targets]]\nname = \"sink\"\ntype = \"command\"\nargv = [\"/bin/true\"]\n",
    )
    .unwrap();
    let cfg = config.to_string_lossy().into_owned();
    let (out, doc) = fx.json(args(&fx, &["close", "--dry-run"], &["--config", &cfg]), &[]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let mut planned: Vec<(&str, &str)> = doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{out:?}"))
        .iter()
        .filter_map(|i| {
            Some((
                i["payload"]["event"]["sessionKey"].as_str()?,
                i["payload"]["event"]["reason"].as_str()?,
            ))
        })
        .collect();
    planned.sort();
    assert_eq!(
        planned,
        vec![
            ("agent:main:e2e-1", "restart"),
            ("agent:main:e2e-2", "restart"),
        ],
        "{doc:#}"
    );
}
