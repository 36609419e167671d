//! Replays of the real OpenClaw captures (`shared/fixtures/openclaw`): every snapshot of both
//! store eras, checked against the README's orphan table. The gateways that wrote these
//! snapshots are not running on this host, so in a replay every session the store still
//! calls `running` is an orphan (README: after-restart 9.6 = {e2e-slow} "if that pid is
//! treated as dead"; graceful/before-sigterm likewise).
//!
//! Finished sessions whose turns ran in a gateway that died without a clean stop are
//! listed as `owed` (README "Every session_end a clean stop would have sent"); each
//! replay names that set, and holds it against the snapshot's hook log (`session_start`
//! without `session_end`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;

const V735: &str = "2026.7.35";
const V96: &str = "2026.9.6";

const SLOW_735: (&str, &str) = (
    "agent:main:e2e-slow",
    "ae3ade86-9fb7-4837-a009-6fcc1c41c22b",
);
const GRACEFUL_SLOW_735: (&str, &str) = (
    "agent:main:e2e-graceful-slow",
    "30b4b031-ffb7-4e6f-ba79-a128fb99d508",
);
const SLOW_96: (&str, &str) = (
    "agent:main:e2e-slow",
    "b56abc17-9f9c-4e50-ab34-f5a9769de19c",
);
const GRACEFUL_SLOW_96: (&str, &str) = (
    "agent:main:e2e-graceful-slow",
    "fab0a089-782f-4894-aa5a-9e03251d6bb6",
);

/// README "Finished sessions (never orphans)".
const FINISHED_735: &[(&str, &str)] = &[
    ("agent:main:e2e-1", "585fb36c-7dbd-4f4f-ba32-cb269ac5e837"),
    ("agent:main:e2e-2", "25e06c1d-b1e8-4c34-b699-5f2a6f363915"),
    (
        "agent:main:e2e-graceful",
        "3b98e0e2-215c-48d7-b229-3bb81f242f07",
    ),
];
const FINISHED_96: &[(&str, &str)] = &[
    ("agent:main:e2e-1", "e4e13683-30f8-4078-a2a2-4c97f3180534"),
    ("agent:main:e2e-2", "f840368b-0b26-47a3-b571-af417743b490"),
    (
        "agent:main:e2e-graceful",
        "eae7e94e-137a-401d-9074-00c5309b73ce",
    ),
];

// ---------------------------------------------------------------------------------------
// What the captured store says (read from the fixture files, never from sessionctl)

/// One session as the captured store records it.
#[derive(Debug)]
struct StoreSession {
    key: String,
    id: String,
    status: String,
    /// max(updatedAt, lastInteractionAt, startedAt) of the store entry, epoch ms.
    last_activity_ms: i64,
}

fn entry_last_activity(entry: &Value) -> i64 {
    ["updatedAt", "lastInteractionAt", "startedAt"]
        .iter()
        .filter_map(|k| entry[*k].as_i64())
        .max()
        .unwrap_or_else(|| panic!("entry without timestamps: {entry}"))
}

/// 2026.7: `sessions.json`; 2026.9: `session_nodes` of the `*.tables.json` dump beside the DB
/// (the DB itself is not opened here: opening a WAL copy would checkpoint it).
fn store_sessions(fx: &Fixture, version: &str) -> Vec<StoreSession> {
    let agent = fx.state().join("agents/main");
    if version == V735 {
        let map = read_json(&agent.join("sessions/sessions.json"));
        map.as_object()
            .expect("sessions.json is an object")
            .iter()
            .map(|(key, e)| StoreSession {
                key: key.clone(),
                id: e["sessionId"].as_str().unwrap().to_string(),
                status: e["status"].as_str().unwrap().to_string(),
                last_activity_ms: entry_last_activity(e),
            })
            .collect()
    } else {
        let dump = read_json(&agent.join("agent/openclaw-agent.sqlite.tables.json"));
        dump["session_nodes"]["rows"]
            .as_array()
            .expect("session_nodes rows")
            .iter()
            .map(|r| {
                let entry = match &r["entry_json"] {
                    Value::String(s) => serde_json::from_str(s).unwrap(),
                    v => v.clone(),
                };
                StoreSession {
                    key: r["session_key"].as_str().unwrap().to_string(),
                    id: r["current_session_id"].as_str().unwrap().to_string(),
                    status: r["status"].as_str().unwrap().to_string(),
                    last_activity_ms: entry_last_activity(&entry),
                }
            })
            .collect()
    }
}

/// A lock file found in the copy.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
    pid: i64,
    created_at_ms: i64,
    starttime: u64,
}

fn read_lock(path: PathBuf) -> Lock {
    let v = read_json(&path);
    let starttime = v["starttime"]
        .as_u64()
        .or_else(|| v["startTime"].as_u64())
        .unwrap_or_else(|| panic!("no start time in {}", path.display()));
    Lock {
        pid: v["pid"].as_i64().unwrap(),
        created_at_ms: parse_iso_ms(v["createdAt"].as_str().unwrap()),
        starttime,
        path,
    }
}

/// 2026.7 transcript lock `<sessionId>.jsonl.lock`, if present.
fn session_lock(fx: &Fixture, session_id: &str) -> Option<Lock> {
    let p = fx
        .state()
        .join(format!("agents/main/sessions/{session_id}.jsonl.lock"));
    p.exists().then(|| read_lock(p))
}

/// Gateway locks `gateway.*.lock` in `$TMPDIR/openclaw-<uid>` (2026.7) and
/// `<state>/tmp/openclaw-<uid>` (2026.9); the 0-byte `*.lock.sqlite` files are not locks.
fn gateway_locks(fx: &Fixture) -> Vec<Lock> {
    let mut out = Vec::new();
    for dir in [fx.tmp_lock_dir(), fx.state_lock_dir()] {
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("gateway.") && name.ends_with(".lock") {
                out.push(read_lock(p));
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The reason sessionctl must give an orphan of a replayed snapshot on *this* host, computed
/// from the fixture and host facts only (the captures are from 2026-11-25 ≈20:2x–21:0x UTC on
/// another machine, and this host may have booted later). The lead's rules, in order:
///
/// 1. `rebooted` — the host booted after the session's last store activity
///    (max of updatedAt/lastInteractionAt/startedAt), or an owning lock was created before
///    this boot;
/// 2. `owner-dead` — the owning lock's pid does not run here;
///    `pid-reused` — it runs, but with another /proc start time than the lock recorded;
/// 3. `gateway-gone` — no lock names an owner at all.
///
/// The owning locks are the session's transcript lock when there is one (2026.7), else the
/// gateway lock files of the state dir.
fn expected_replay_reason(s: &StoreSession, owners: &[Lock], btime_ms: i64) -> &'static str {
    if btime_ms > s.last_activity_ms || owners.iter().any(|l| l.created_at_ms < btime_ms) {
        return "rebooted";
    }
    let Some(lock) = owners.first() else {
        return "gateway-gone";
    };
    match try_proc_starttime(lock.pid) {
        None => "owner-dead",
        Some(st) if st != lock.starttime => "pid-reused",
        Some(_) => panic!(
            "pid {} runs here with the captured start time {}; this host cannot replay the fixture",
            lock.pid, lock.starttime
        ),
    }
}

fn owning_locks(fx: &Fixture, session_id: &str) -> Vec<Lock> {
    match session_lock(fx, session_id) {
        Some(l) => vec![l],
        None => gateway_locks(fx),
    }
}

/// The snapshot's hook log: every `session_start` without a `session_end`, as
/// (key, id) -> pid of the gateway the `session_start` fired in.
fn hook_log_unended(fx: &Fixture) -> BTreeMap<(String, String), i64> {
    let text = fs::read_to_string(fx.source.join("hook-log.jsonl")).unwrap();
    let mut started = BTreeMap::new();
    let mut ended = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let pair = || {
            (
                v["event"]["sessionKey"].as_str().unwrap().to_string(),
                v["event"]["sessionId"].as_str().unwrap().to_string(),
            )
        };
        match v["hook"].as_str() {
            Some("session_start") => {
                started.insert(pair(), v["pid"].as_i64().unwrap());
            }
            Some("session_end") => {
                ended.insert(pair());
            }
            _ => {}
        }
    }
    started.retain(|k, _| !ended.contains(k));
    started
}

// ---------------------------------------------------------------------------------------
// The replay check

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(k, i)| (k.to_string(), i.to_string()))
        .collect()
}

fn key_id(s: &Value) -> (String, String) {
    (
        s["session_key"].as_str().unwrap_or("<null>").to_string(),
        s["id"].as_str().unwrap_or("<none>").to_string(),
    )
}

fn check_args(fx: &Fixture) -> Vec<String> {
    vec![
        "check".into(),
        "--openclaw-state-dir".into(),
        fx.state().to_string_lossy().into_owned(),
        "--backend".into(),
        "openclaw".into(),
    ]
}

/// Copy a snapshot, run `check --format json`, and hold the result against the README table
/// (`expected_orphans`), the finished sessions owed a session_end (`expected_owed`), and the
/// hook log. `unclaimed`: sessions the hook log owes but for whose dead gateway no evidence
/// is left in the shipped snapshot (README: "nothing is claimed for it").
fn replay(
    version: &str,
    snapshot: &str,
    expected_orphans: &[(&str, &str)],
    expected_owed: &[(&str, &str)],
    unclaimed: &[(&str, &str)],
) {
    let fx = Fixture::openclaw(version, snapshot);
    let expected = pairs(expected_orphans);
    let expected_owed = pairs(expected_owed);

    // The owed set agrees with the hook log of that moment: every owed session had a
    // session_start and no session_end, and every session the hook log owes is owed,
    // an orphan (whose session_end `close` plans, see owed.rs), or named unclaimed.
    let unended = hook_log_unended(&fx);
    let unended_keys: BTreeSet<(String, String)> = unended.keys().cloned().collect();
    assert!(
        expected_owed.is_subset(&unended_keys),
        "owed {expected_owed:?} vs hook log {unended_keys:?} of {version}/{snapshot}"
    );
    let accounted: BTreeSet<(String, String)> = expected_owed
        .union(&expected)
        .cloned()
        .chain(pairs(unclaimed))
        .collect();
    assert!(
        unended_keys.is_subset(&accounted),
        "hook log {unended_keys:?} of {version}/{snapshot} not accounted for by {accounted:?}"
    );
    let finished = if version == V735 {
        FINISHED_735
    } else {
        FINISHED_96
    };

    // The table we test against must agree with the captured store itself.
    let store = store_sessions(&fx, version);
    let running: BTreeSet<(String, String)> = store
        .iter()
        .filter(|s| s.status == "running")
        .map(|s| (s.key.clone(), s.id.clone()))
        .collect();
    assert_eq!(
        running, expected,
        "README table vs {version}/{snapshot} store"
    );

    let before = tree_snapshot(fx.root());
    let (out, report) = fx.json(check_args(&fx), &[]);
    let after = tree_snapshot(fx.root());
    assert_tree_unchanged(&before, &after, &format!("{version}/{snapshot}"));

    assert!(
        problems(&report).is_empty(),
        "problems reported for {version}/{snapshot}:\n{out:?}"
    );
    let want_code = if expected.is_empty() && expected_owed.is_empty() {
        0
    } else {
        1
    };
    assert_eq!(
        out.code, want_code,
        "exit code for {version}/{snapshot}:\n{out:?}"
    );

    let list = sessions(&report);
    let orphans: BTreeSet<(String, String)> = list
        .iter()
        .filter(|s| s["verdict"] == "orphan")
        .map(key_id)
        .collect();
    assert_eq!(
        orphans, expected,
        "orphans of {version}/{snapshot}:\n{out:?}"
    );
    let owed: BTreeSet<(String, String)> = list
        .iter()
        .filter(|s| s["verdict"] == "owed")
        .map(key_id)
        .collect();
    assert_eq!(
        owed, expected_owed,
        "owed of {version}/{snapshot}:\n{out:?}"
    );
    // In a replay every running session is an orphan, every finished session of a gateway
    // that died without a clean stop is owed, and nothing else is listed.
    let listed: BTreeSet<(String, String)> = list.iter().map(key_id).collect();
    let orphans_and_owed: BTreeSet<(String, String)> =
        expected.union(&expected_owed).cloned().collect();
    assert_eq!(
        listed, orphans_and_owed,
        "sessions listed for {version}/{snapshot}:\n{out:?}"
    );
    for (key, id) in finished {
        if expected_owed.contains(&(key.to_string(), id.to_string())) {
            continue;
        }
        assert!(
            !list
                .iter()
                .any(|s| s["session_key"] == *key || s["id"] == *id),
            "finished session {key} ({id}) listed for {version}/{snapshot}:\n{out:?}"
        );
    }
    assert_summary_consistent(&report);
    assert_eq!(summary_count(&report, "orphan"), expected.len() as u64);
    assert_eq!(summary_count(&report, "owed"), expected_owed.len() as u64);

    // An owed session is finished in the store, and names the dead gateway its
    // session_start fired in (by the hook log), and whether a later gateway took over.
    let lifetimes = read_json(&fx.state().join("state/openclaw.sqlite.tables.json"));
    let n_lifetimes = lifetimes["gateway_boot_lifecycle"]["rows"]
        .as_array()
        .map_or(0, Vec::len);
    for (key, id) in &expected_owed {
        let s = by_key(&report, key);
        assert_eq!(s["reason"], "end-owed", "{s:#}");
        assert_eq!(s["backend"], "openclaw", "{s:#}");
        let rec = store.iter().find(|r| &r.id == id).unwrap();
        assert_ne!(
            rec.status, "running",
            "owed but running in the store: {s:#}"
        );
        assert_ne!(s["status"], "running", "{s:#}");
        assert_eq!(
            s["detail"]["owed"]["pid"],
            unended[&(key.clone(), id.clone())],
            "{s:#}"
        );
        assert_eq!(
            s["detail"]["owed"]["successor"],
            n_lifetimes > 1,
            "a later gateway took over iff the lifecycle table has a later row: {s:#}"
        );
    }

    let btime = host_btime_ms();
    let state = fx.state().to_string_lossy().into_owned();
    for (key, id) in &expected {
        let s = by_key(&report, key);
        let rec = store.iter().find(|r| &r.id == id).unwrap();
        let owners = owning_locks(&fx, id);
        let want = expected_replay_reason(rec, &owners, btime);
        assert_eq!(
            s["reason"], want,
            "reason for {key} in {version}/{snapshot} (btime {}, last activity {}, locks {owners:?}):\n{out:?}",
            iso_ms(btime),
            iso_ms(rec.last_activity_ms)
        );
        assert_eq!(s["backend"], "openclaw");
        assert_eq!(s["status"], "running");
        assert_eq!(
            s["store_kind"],
            if version == V735 { "file" } else { "sqlite" },
            "{s:#}"
        );
        let store_path = s["store"].as_str().unwrap_or_default();
        assert!(
            store_path.starts_with(&state),
            "store {store_path} is not inside {state}"
        );
        assert!(
            s["summary"].as_str().is_some_and(|t| !t.is_empty()),
            "empty summary: {s:#}"
        );
        let last = s["last_activity_at"]
            .as_str()
            .unwrap_or_else(|| panic!("no last_activity_at: {s:#}"));
        let last = parse_iso_ms(last);
        assert!(
            last >= parse_iso_ms("2026-11-25T20:00:00Z") && last <= now_ms(),
            "last_activity_at out of range: {s:#}"
        );
        // Every owning lock found on disk is part of the evidence, with its pid.
        let ev = s["evidence"].as_array().expect("evidence array");
        assert!(!ev.is_empty(), "orphan without evidence: {s:#}");
        for l in &owners {
            assert!(
                evidence_has_pid(s, l.pid),
                "evidence lacks lock pid {} ({}): {s:#}",
                l.pid,
                l.path.display()
            );
        }
    }
}

/// e2e-1, e2e-2 of the 2026.7.35 orphan scenario (`FINISHED_735` without the graceful one).
const E2E_735: &[(&str, &str)] = &[FINISHED_735[0], FINISHED_735[1]];
const E2E_96: &[(&str, &str)] = &[FINISHED_96[0], FINISHED_96[1]];

/// Gateway 7288 was killed: its finished e2e-1 and e2e-2 are owed (no later gateway yet).
#[test]
fn openclaw_7_35_after_kill() {
    replay(V735, "after-kill", &[SLOW_735], E2E_735, &[]);
}

/// The new gateway 9396 ended e2e-slow in the store without a session_end, so all three
/// sessions of the killed 7288 are owed (lifecycle row of 7288: outcome NULL).
#[test]
fn openclaw_7_35_after_restart() {
    replay(
        V735,
        "after-restart",
        &[],
        &[E2E_735[0], E2E_735[1], SLOW_735],
        &[],
    );
}

/// 9396's clean stop sent nothing for sessions started by 7288: still all three owed.
#[test]
fn openclaw_7_35_after_sigterm() {
    replay(
        V735,
        "after-sigterm",
        &[],
        &[E2E_735[0], E2E_735[1], SLOW_735],
        &[],
    );
}

/// Captured while gateway 11569 still ran; its lifecycle row has no `completed_at_ms` and
/// `outcome` NULL, exactly what a crash leaves. Replayed, that gateway is dead and nothing
/// records a clean stop, so the finished e2e-graceful is owed — as the hook log of that
/// moment says (session_start, no session_end; its session_end only came with the later
/// SIGTERM, see graceful/after-sigterm, where nothing is owed).
#[test]
fn openclaw_7_35_graceful_before_sigterm() {
    replay(
        V735,
        "graceful/before-sigterm",
        &[GRACEFUL_SLOW_735],
        &[FINISHED_735[2]],
        &[],
    );
}

/// The clean stop's drain sent both session_ends: nothing owed; the running entry is
/// still an orphan to repair.
#[test]
fn openclaw_7_35_graceful_after_sigterm() {
    replay(
        V735,
        "graceful/after-sigterm",
        &[GRACEFUL_SLOW_735],
        &[],
        &[],
    );
}

/// The global DB is withheld in 2026.9.6 captures; the dead gateway 6908's locks are the
/// lifetime evidence: e2e-1 and e2e-2 are owed.
#[test]
fn openclaw_9_6_after_kill() {
    replay(V96, "after-kill", &[SLOW_96], E2E_96, &[]);
}

/// Gateway 8910 replaced 6908's locks and the lifecycle table is withheld, so no evidence
/// of 6908's lifetime ships with this snapshot: nothing is claimed for e2e-1/e2e-2 here
/// (owed.rs restores the table from the export and checks they are owed then).
#[test]
fn openclaw_9_6_after_restart() {
    replay(V96, "after-restart", &[SLOW_96], &[], E2E_96);
}

/// As after-restart, and 8910 (stopped cleanly) left no lock: no lifetime evidence, nothing
/// claimed (owed.rs checks the owed set with the lifecycle table restored).
#[test]
fn openclaw_9_6_after_sigterm() {
    replay(
        V96,
        "after-sigterm",
        &[],
        &[],
        &[E2E_96[0], E2E_96[1], SLOW_96],
    );
}

/// Captured while gateway 6919 still ran (lifecycle export: outcome NULL, no completion);
/// replayed, its locks name a dead pid and nothing records a clean stop, so the finished
/// e2e-graceful is owed, as the hook log of that moment says.
#[test]
fn openclaw_9_6_graceful_before_sigterm() {
    replay(
        V96,
        "graceful/before-sigterm",
        &[GRACEFUL_SLOW_96],
        &[FINISHED_96[2]],
        &[],
    );
}

/// The clean stop's drain sent both session_ends: nothing owed, nothing running.
#[test]
fn openclaw_9_6_graceful_after_sigterm() {
    replay(V96, "graceful/after-sigterm", &[], &[], &[]);
}

// ---------------------------------------------------------------------------------------
// Other output formats

#[test]
fn check_table_prints_one_summary_line() {
    // (version, snapshot, exit code, orphans, owed): 7.35 after-restart has no orphan but
    // owes the killed gateway's three session_ends; 9.6 graceful/after-sigterm has nothing.
    for (version, snapshot, want_code, n_orphan, n_owed) in [
        (V735, "after-kill", 1, 1, 2),
        (V735, "after-restart", 1, 0, 3),
        (V96, "graceful/after-sigterm", 0, 0, 0),
    ] {
        let fx = Fixture::openclaw(version, snapshot);
        let out = fx.run(check_args(&fx), &[]);
        assert_eq!(out.code, want_code, "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "check must print one summary line:\n{out:?}"
        );
        assert!(!lines[0].trim().is_empty(), "{out:?}");
        assert!(
            !out.stdout.contains('\x1b'),
            "color escape with NO_COLOR=1:\n{out:?}"
        );
        if want_code == 1 {
            assert!(
                lines[0].contains(&format!("{n_orphan} orphan")),
                "summary line does not report the orphans:\n{out:?}"
            );
            assert!(
                lines[0].contains(&format!("{n_owed} owed")),
                "summary line does not report the owed session_ends:\n{out:?}"
            );
        }
    }
}

#[test]
fn list_ndjson_is_one_object_per_line() {
    let fx = Fixture::openclaw(V96, "after-kill");
    let base = [
        "list".to_string(),
        "--openclaw-state-dir".into(),
        fx.state().to_string_lossy().into_owned(),
        "--backend".into(),
        "openclaw".into(),
    ];
    let mut nd_args = base.to_vec();
    nd_args.extend(["--format".into(), "ndjson".into()]);
    let nd = fx.run(&nd_args, &[]);
    // The contract fixes check's exit codes only; list must at least not fail.
    assert!(nd.code == 0 || nd.code == 1, "{nd:?}");
    let mut ids = BTreeSet::new();
    let mut n_lines = 0;
    for line in nd.stdout.lines() {
        n_lines += 1;
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("ndjson line is not JSON ({e}): {line:?}\n{nd:?}"));
        assert!(v.is_object(), "ndjson line is not an object: {line}");
        if v.get("backend").is_some() && v.get("verdict").is_some() {
            ids.insert(v["id"].as_str().unwrap().to_string());
        }
    }
    assert!(n_lines >= 1, "{nd:?}");

    let (js, report) = fx.json(&base, &[]);
    assert_eq!(js.code, nd.code, "{js:?}");
    let json_ids: BTreeSet<String> = sessions(&report)
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, json_ids, "ndjson vs json sessions:\n{nd:?}\n{js:?}");
    assert!(ids.contains(SLOW_96.1), "{nd:?}");
}

/// `expected_replay_reason` itself, on synthetic inputs: on a host booted after the captures
/// only its `rebooted` branch runs in the replays above, so the others are pinned here.
#[test]
fn replay_reason_rules() {
    let btime = host_btime_ms();
    let session = |last: i64| StoreSession {
        key: "agent:main:x".into(),
        id: "x".into(),
        status: "running".into(),
        last_activity_ms: last,
    };
    let lock = |pid: i64, created: i64, starttime: u64| Lock {
        path: PathBuf::from("x.lock"),
        pid,
        created_at_ms: created,
        starttime,
    };
    let (dead, dead_st) = dead_pid();
    let me = std::process::id() as i64;
    let my_st = proc_starttime(me);
    let after = btime + 1_000;

    // Activity or lock before this boot -> rebooted, whatever the pid does.
    assert_eq!(
        expected_replay_reason(&session(btime - 1), &[], btime),
        "rebooted"
    );
    assert_eq!(
        expected_replay_reason(&session(after), &[lock(dead, btime - 1, dead_st)], btime),
        "rebooted"
    );
    // After the boot: the lock's pid decides.
    assert_eq!(
        expected_replay_reason(&session(after), &[lock(dead, after, dead_st)], btime),
        "owner-dead"
    );
    assert_eq!(
        expected_replay_reason(&session(after), &[lock(me, after, my_st + 7)], btime),
        "pid-reused"
    );
    assert_eq!(
        expected_replay_reason(&session(after), &[], btime),
        "gateway-gone"
    );
}
