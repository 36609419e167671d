//! claude-mem fixtures (`shared/fixtures/claude-mem`): a DB built from each version's real
//! schema plus the shared orphan rows, classified with no worker running.
//!
//! Rows (see the header of `orphans-<v>.sql`): 3, 4, 5 are OpenClaw orphans; 6 is an
//! `observer-sessions` row (unknown/observer-session); 7 has a non-OpenClaw content id
//! (unknown/not-openclaw); 1, 2 are completed and 8 failed, so never listed.
//! Row 5's content id is `openclaw-default-<ms>` (hook had no session key): we assert that
//! sessionctl reports its `session_key` as the string `"default"`, not null.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

const VERSIONS: [&str; 3] = ["10.6.3", "12.5.0", "13.25.3"];

/// Build `<sandbox>/cm/claude-mem.db` from `schema-<v>.sql` then `orphans-<v>.sql`, in WAL
/// mode like the worker's. Returns the data dir.
fn build_db(sb: &Sandbox, version: &str) -> PathBuf {
    let cm = sb.root().join("cm");
    {
        let conn = build_claude_mem_db(&cm, version, Some("wal"));
        // The fixture is what its header says: active rows 3..=7.
        let mut st = conn
            .prepare("SELECT id FROM sdk_sessions WHERE status = 'active' ORDER BY id")
            .unwrap();
        let active: Vec<i64> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(active, vec![3, 4, 5, 6, 7], "fixture rows of {version}");
    }
    cm
}

fn check(sb: &Sandbox, cm: &Path) -> (Out, Value) {
    sb.json(
        [
            "check",
            "--backend",
            "claude-mem",
            "--claude-mem-dir",
            &cm.to_string_lossy(),
        ],
        &[],
    )
}

/// The shared assertions for rows 1..=8; returns the three orphan sessions (ids 3, 4, 5).
fn assert_rows<'a>(version: &str, out: &Out, report: &'a Value) -> Vec<&'a Value> {
    assert!(
        problems(report).is_empty(),
        "problems for {version}:\n{out:?}"
    );
    assert_eq!(out.code, 1, "check exit code for {version}:\n{out:?}");
    let list = sessions(report);
    let ids: BTreeSet<&str> = list.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["3", "4", "5", "6", "7"]),
        "listed rows for {version} (1, 2, 8 are not active):\n{out:?}"
    );
    let orphans: BTreeSet<&str> = list
        .iter()
        .filter(|s| s["verdict"] == "orphan")
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(
        orphans,
        BTreeSet::from(["3", "4", "5"]),
        "orphans for {version}:\n{out:?}"
    );
    assert_summary_consistent(report);

    let row = |id: &str| by_id(report, id).unwrap();
    for s in list {
        assert_eq!(s["backend"], "claude-mem", "{s:#}");
        assert_eq!(s["status"], "active", "{s:#}");
        assert_eq!(s["store_kind"], "claude-mem-db", "{s:#}");
    }
    let expect = [
        (
            "3",
            "openclaw-agent:main:e2e-slow-1764100000000",
            Value::from("agent:main:e2e-slow"),
        ),
        (
            "4",
            "openclaw-agent:main:telegram:direct:4242-1764100300000",
            Value::from("agent:main:telegram:direct:4242"),
        ),
        (
            "5",
            "openclaw-default-1764100600000",
            Value::from("default"),
        ),
    ];
    for (id, content, key) in &expect {
        let s = row(id);
        assert_eq!(s["content_session_id"], *content, "row {id}: {s:#}");
        assert_eq!(s["session_key"], *key, "row {id} session_key: {s:#}");
        assert!(
            !s["evidence"].as_array().expect("evidence").is_empty(),
            "orphan row {id} without evidence: {s:#}"
        );
    }

    let observer = row("6");
    assert_eq!(observer["verdict"], "unknown", "{observer:#}");
    assert_eq!(observer["reason"], "observer-session", "{observer:#}");
    let manual = row("7");
    assert_eq!(manual["verdict"], "unknown", "{manual:#}");
    assert_eq!(manual["reason"], "not-openclaw", "{manual:#}");
    assert_eq!(manual["content_session_id"], "manual-debug-2025-11-25");

    ["3", "4", "5"].iter().map(|id| row(id)).collect()
}

/// The DB is byte-identical after the run, and no `-wal`/`-shm` was created beside it:
/// files sessionctl created would be owned by it, not by the worker's user.
fn assert_db_untouched(cm: &Path, before: &[u8], out: &Out) {
    let after = fs::read(cm.join("claude-mem.db")).unwrap();
    assert!(
        after == before,
        "claude-mem.db changed (sessionctl must open it read-only):\n{out:?}"
    );
    for side in ["claude-mem.db-wal", "claude-mem.db-shm"] {
        assert!(
            !cm.join(side).exists(),
            "sessionctl created {side} beside a database nobody had open:\n{out:?}"
        );
    }
}

/// DESIGN §4 orphan reasons.
const ORPHAN_REASONS: [&str; 8] = [
    "owner-dead",
    "pid-reused",
    "gateway-restarted",
    "gateway-gone",
    "rebooted",
    "worker-dead",
    "worker-restarted",
    "upstream-ended",
];

fn no_worker(version: &str) {
    let sb = Sandbox::new();
    let cm = build_db(&sb, version);
    let before = fs::read(cm.join("claude-mem.db")).unwrap();
    let (out, report) = check(&sb, &cm);
    assert_db_untouched(&cm, &before, &out);
    for s in assert_rows(version, &out, &report) {
        let reason = s["reason"].as_str().unwrap_or_default();
        assert!(
            ORPHAN_REASONS.contains(&reason),
            "not an orphan reason: {s:#}"
        );
    }
}

/// `worker.pid` in the data dir naming a pid that just exited: written after this boot, so
/// the orphans are `worker-dead` (not `rebooted`), with that pid in their evidence.
fn dead_worker(version: &str) {
    let sb = Sandbox::new();
    let cm = build_db(&sb, version);
    let (pid, starttime) = dead_pid();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let started_at = iso_ms(now_ms());
    assert!(parse_iso_ms(&started_at) > host_btime_ms());
    fs::write(
        cm.join("worker.pid"),
        format!(
            r#"{{"pid":{pid},"port":{port},"startedAt":"{started_at}","startToken":"{starttime}"}}"#
        ),
    )
    .unwrap();
    let before = fs::read(cm.join("claude-mem.db")).unwrap();
    let (out, report) = check(&sb, &cm);
    assert_db_untouched(&cm, &before, &out);
    for s in assert_rows(version, &out, &report) {
        assert_eq!(
            s["reason"], "worker-dead",
            "{version} row {}:\n{out:?}",
            s["id"]
        );
        assert!(
            evidence_has_pid(s, pid),
            "{version} row {} evidence lacks worker pid {pid}:\n{out:?}",
            s["id"]
        );
    }
}

#[test]
fn claude_mem_10_6_3_orphans() {
    no_worker(VERSIONS[0]);
}

#[test]
fn claude_mem_12_5_0_orphans() {
    no_worker(VERSIONS[1]);
}

#[test]
fn claude_mem_13_25_3_orphans() {
    no_worker(VERSIONS[2]);
}

#[test]
fn claude_mem_10_6_3_dead_worker() {
    dead_worker(VERSIONS[0]);
}

#[test]
fn claude_mem_12_5_0_dead_worker() {
    dead_worker(VERSIONS[1]);
}

#[test]
fn claude_mem_13_25_3_dead_worker() {
    dead_worker(VERSIONS[2]);
}
