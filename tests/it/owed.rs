//! Every session_end a clean stop would have sent (issue 12, part 1): for each captured
//! state, the keys `close` would deliver to equal the sessions whose `session_start`
//! fired and whose `session_end` never did, by the recorder plugin's hook log of that
//! moment — no more, no fewer. Replayed here, every gateway of a capture is dead.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// sessionIds with a `session_start` and no `session_end` in a hook log, by session key.
fn owed_by_hook_log(log: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(log).unwrap();
    let mut started = BTreeSet::new();
    let mut ended = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let key = v["event"]["sessionKey"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let sid = v["event"]["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match v["hook"].as_str() {
            Some("session_start") => {
                started.insert((key, sid));
            }
            Some("session_end") => {
                ended.insert((key, sid));
            }
            _ => {}
        }
    }
    started.difference(&ended).map(|(k, _)| k.clone()).collect()
}

/// A 2026.9 capture ships its global database withheld (it holds key material): give the
/// copy the gateway lifetimes that database had, from the capture's table export.
fn restore_lifecycle_table(fx: &Fixture) {
    let export = fx.source.join("state/state/openclaw.sqlite.tables.json");
    let db = fx.state().join("state/openclaw.sqlite");
    if db.exists() || !export.exists() {
        return;
    }
    let v: Value = serde_json::from_str(&fs::read_to_string(&export).unwrap()).unwrap();
    let t = &v["gateway_boot_lifecycle"];
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(t["schema"].as_str().unwrap()).unwrap();
    for r in t["rows"].as_array().unwrap() {
        conn.execute(
            "INSERT INTO gateway_boot_lifecycle (boot_id, pid, started_at_ms, completed_at_ms, outcome, startup_reason, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                r["boot_id"].as_str(),
                r["pid"].as_i64(),
                r["started_at_ms"].as_i64(),
                r["completed_at_ms"].as_i64(),
                r["outcome"].as_str(),
                r["startup_reason"].as_str(),
                r["reason"].as_str(),
            ],
        )
        .unwrap();
    }
}

/// The session keys `close --dry-run` would send a session_end for.
fn planned_keys(fx: &Fixture) -> (BTreeSet<String>, Value) {
    let state = fx.state().to_string_lossy().into_owned();
    let journal = fx
        .root()
        .join("j/journal.ndjson")
        .to_string_lossy()
        .into_owned();
    // A target, so that the plan holds what would be delivered (a dry run sends nothing).
    let config = fx.root().join("targets.toml");
    fs::write(
        &config,
        "[[targets]]\nname = \"sink\"\ntype = \"command\"\nargv = [\"/bin/true\"]\n",
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let (out, doc) = fx.json(
        [
            "close",
            "--config",
            &config,
            "--dry-run",
            "--backend",
            "openclaw",
            "--openclaw-state-dir",
            &state,
            "--journal",
            &journal,
        ],
        &[],
    );
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let keys = doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{out:?}"))
        .iter()
        .filter_map(|i| i["payload"]["event"]["sessionKey"].as_str())
        .map(String::from)
        .collect();
    (keys, doc)
}

fn check(version: &str, snapshot: &str) {
    let fx = Fixture::openclaw(version, snapshot);
    restore_lifecycle_table(&fx);
    let want = owed_by_hook_log(&fx.source.join("hook-log.jsonl"));
    let (got, doc) = planned_keys(&fx);
    eprintln!(
        "SUMMARY {version} {snapshot}: session_end owed by the hook log {want:?}, planned {got:?}"
    );
    assert_eq!(got, want, "{version} {snapshot}: {doc:#}");
}

#[test]
fn owed_735_after_kill() {
    check("2026.7.35", "after-kill");
}

#[test]
fn owed_735_after_restart() {
    check("2026.7.35", "after-restart");
}

#[test]
fn owed_735_after_sigterm() {
    check("2026.7.35", "after-sigterm");
}

/// The drain sent both session_ends; the store still says `running` for the slow one,
/// which is repaired but gets nothing again.
#[test]
fn owed_735_graceful() {
    check("2026.7.35", "graceful/after-sigterm");
}

#[test]
fn owed_96_after_kill() {
    check("2026.9.6", "after-kill");
}

#[test]
fn owed_96_after_restart() {
    check("2026.9.6", "after-restart");
}

#[test]
fn owed_96_after_sigterm() {
    check("2026.9.6", "after-sigterm");
}

#[test]
fn owed_96_graceful() {
    check("2026.9.6", "graceful/after-sigterm");
}

/// `close --yes --owed` after a crash: one session_end per session the dead gateway had
/// started, finished ones included (with their transcript, as the drain names it); only
/// the running entry is written; afterwards nothing is owed, and a second run sends
/// nothing.
#[test]
fn close_delivers_every_owed_session_end_once() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let out_file = fx.root().join("rec.jsonl");
    let config = fx.root().join("config.toml");
    fs::write(
        &config,
        format!(
            "[[targets]]\nname = \"rec\"\ntype = \"command\"\nargv = [\"/bin/sh\", \"-c\", \"cat >> \\\"$0\\\"; echo >> \\\"$0\\\"\", \"{}\"]\n",
            out_file.display()
        ),
    )
    .unwrap();
    let sessions = fx.state().join("agents/main/sessions/sessions.json");
    let before: Value = read_json(&sessions);
    let cfg = config.to_string_lossy().into_owned();
    let args = |cmd: &[&str]| args_for(&fx, cmd, &["--config", &cfg]);
    let (out, doc) = fx.json(args(&["check"]), &[]);
    assert_eq!(out.code, 1, "owed session_ends make check exit 1: {out:?}");
    assert_eq!(summary_count(&doc, "owed"), 2, "{out:?}");
    assert_eq!(summary_count(&doc, "orphan"), 1, "{out:?}");
    let e1 = by_key(&doc, "agent:main:e2e-1");
    assert_eq!(e1["verdict"], "owed", "{e1}");
    assert_eq!(e1["reason"], "end-owed", "{e1}");
    assert_eq!(e1["detail"]["owed"]["pid"], 7288, "{e1}");

    let out = fx.run(args(&["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let sent: Vec<Value> = fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys: BTreeSet<&str> = sent
        .iter()
        .filter_map(|p| p["event"]["sessionKey"].as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "agent:main:e2e-1",
            "agent:main:e2e-2",
            "agent:main:e2e-slow"
        ]),
        "{out:?}"
    );
    assert_eq!(sent.len(), 3, "one each: {sent:?}");
    for p in &sent {
        assert_eq!(p["event"]["reason"], "shutdown", "{p}");
        let key = p["event"]["sessionKey"].as_str().unwrap();
        if key != "agent:main:e2e-slow" {
            // A finished session's transcript exists, and the drain names it.
            assert_eq!(p["event"]["transcriptArchived"], false, "{p}");
            assert!(p["event"]["sessionFile"].is_string(), "{p}");
        }
    }
    let after: Value = read_json(&sessions);
    for k in ["agent:main:e2e-1", "agent:main:e2e-2"] {
        assert_eq!(after[k], before[k], "{k}: a finished entry was written");
    }
    assert_eq!(after["agent:main:e2e-slow"]["status"], "failed");

    let (out, doc) = fx.json(args(&["check"]), &[]);
    assert_eq!(out.code, 0, "nothing owed after one close: {out:?}");
    assert_eq!(summary_count(&doc, "owed"), 0, "{out:?}");
    let out = fx.run(args(&["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("No orphans to close."), "{out:?}");
    let again = fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(again, 3, "a second close sent again");
}

/// Delivering is all `close` can do for an owed session_end: without a hook target it is
/// neither recorded as done nor dropped, and stays owed until a run has a target.
#[test]
fn without_a_target_an_owed_session_end_stays_owed() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let missing = fx
        .root()
        .join("no-such-config.toml")
        .to_string_lossy()
        .into_owned();
    let args = |cmd: &[&str]| args_for(&fx, cmd, &[]);
    let out = fx.run(args(&["close", "--yes"]), &[("XDG_CONFIG_HOME", &missing)]);
    assert_eq!(out.code, 0, "{out:?}");
    let (out, doc) = fx.json(args(&["check"]), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(summary_count(&doc, "owed"), 2, "still owed: {out:?}");
    assert_eq!(
        summary_count(&doc, "orphan"),
        0,
        "the orphan was ended: {out:?}"
    );
}

/// `cmd` on the copy's state dir alone, with a journal of its own and `extra` options.
fn args_for(fx: &Fixture, cmd: &[&str], extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    let state = fx.state().to_string_lossy().into_owned();
    let journal = fx
        .root()
        .join("j/journal.ndjson")
        .to_string_lossy()
        .into_owned();
    v.extend(
        [
            "--backend",
            "openclaw",
            "--openclaw-state-dir",
            &state,
            "--journal",
            &journal,
        ]
        .map(String::from),
    );
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}
