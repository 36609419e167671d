//! `journal undo` is held to what `close` is held to: it never writes into an OpenClaw
//! state dir a gateway now owns (scanned as `close` scans, and checked again right before
//! writing), it restores a session's lock only with its entry, and `--dry-run` says exactly
//! what the real undo then does, because both run the same decisions.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::close::*;
use crate::common::*;

/// `close --yes` with the `rec` target: returns the run id.
fn closed(h: &Host) -> String {
    h.configure(&[h.rec()]);
    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    doc["run"].as_str().unwrap().to_string()
}

/// The bytes of every file of the OpenClaw store (sessions.json and the lock, or the
/// SQLite database and its WAL), by path.
fn store_bytes(h: &Host) -> BTreeMap<PathBuf, Vec<u8>> {
    let dir = match h.base {
        Base::File735 => h.sessions_dir(),
        Base::Sqlite96 => h.agent_db().parent().unwrap().to_path_buf(),
    };
    fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .filter(|p| p.is_file())
        .map(|p| {
            let b = fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn undo_json(h: &Host, run: &str, dry: bool) -> (Out, Value) {
    let mut a = vec!["journal", "undo", run];
    a.push(if dry { "--dry-run" } else { "--yes" });
    a.extend_from_slice(&["--format", "json"]);
    let out = h.run(&a);
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out:?}"));
    (out, v)
}

fn steps<'a>(doc: &'a Value, key: &str) -> &'a Vec<Value> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {doc:#}"))
}

/// A gateway runs for the state dir again when the undo comes: every restore into that
/// state dir is skipped with the reason (the dry run says so first), the store's bytes
/// stay as they are, no lock is re-created; the claude-mem rows (no gateway's) are
/// restored.
fn undo_under_a_live_gateway(base: Base) {
    let h = Host::new(base);
    let cm_before = h.cm_rows();
    let run = closed(&h);
    let store = store_bytes(&h);
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &h.state())]);
    let why = format!(
        "a gateway (pid {}) now runs for {}; left to it",
        gw.pid,
        h.state().display()
    );

    let out = h.run(&["journal", "undo", &run, "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    let oc_kinds: &[&str] = match base {
        Base::File735 => &["openclaw-entry-end", "lock-remove"],
        Base::Sqlite96 => &["openclaw-row-end"],
    };
    for k in oc_kinds {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&format!("would skip: {k} (")) && l.ends_with(&why)),
            "dry run: {k} not said skipped because of the gateway:\n{out:?}"
        );
    }
    assert!(!out.stdout.contains("would restore openclaw"), "{out:?}");

    let (out, doc) = undo_json(&h, &run, false);
    assert_eq!(out.code, 1, "something was left alone: {out:?}");
    let results = steps(&doc, "results");
    let mut seen = 0;
    for r in results {
        if r["kind"].as_str().unwrap().starts_with("claude-mem") {
            assert_eq!(
                (&r["ok"], &r["skipped"]),
                (&Value::Bool(true), &Value::Bool(false)),
                "{r:#}"
            );
        } else {
            seen += 1;
            assert_eq!(r["skipped"], true, "{r:#}");
            assert_eq!(r["detail"], why.as_str(), "{r:#}");
        }
    }
    assert_eq!(seen, oc_kinds.len(), "{doc:#}");
    assert_eq!(
        store_bytes(&h),
        store,
        "the live gateway's store was written"
    );
    if base == Base::File735 {
        assert!(
            !h.slow_lock().exists(),
            "a lock naming a dead pid was re-created"
        );
    }
    assert_eq!(h.cm_rows(), cm_before, "claude-mem rows restored");

    // Once the gateway is gone, the same undo restores what is left.
    drop(gw);
    let (out, _) = undo_json(&h, &run, false);
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(store_bytes(&h), store, "{out:?}");
    if base == Base::File735 {
        assert!(h.slow_lock().exists(), "{out:?}");
        assert_eq!(
            read_json(&h.sessions_json())[SLOW_KEY]["status"],
            "running",
            "{out:?}"
        );
    }
}

#[test]
fn undo_under_a_live_gateway_file_store_735() {
    undo_under_a_live_gateway(Base::File735);
}

#[test]
fn undo_under_a_live_gateway_sqlite_store_96() {
    undo_under_a_live_gateway(Base::Sqlite96);
}

/// Rewrite e2e-slow's entry as a gateway that touched it would (a newer updatedAt).
fn gateway_touched_entry(h: &Host) {
    let mut doc = read_json(&h.sessions_json());
    let u = doc[SLOW_KEY]["updatedAt"].as_i64().unwrap();
    doc[SLOW_KEY]["updatedAt"] = (u + 1000).into();
    fs::write(h.sessions_json(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

/// The entry changed after the close (a gateway wrote it): the undo skips the entry, and
/// with it the session's lock, which would otherwise name a dead pid beside an entry the
/// gateway holds.
#[test]
fn undo_skips_the_lock_of_an_entry_it_skips() {
    let h = Host::new(Base::File735);
    let run = closed(&h);
    gateway_touched_entry(&h);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let (out, doc) = undo_json(&h, &run, false);
    assert_eq!(out.code, 1, "{out:?}");
    let r = steps(&doc, "results");
    let get = |kind: &str| {
        r.iter()
            .find(|x| x["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {doc:#}"))
    };
    let entry = get("openclaw-entry-end");
    assert_eq!(entry["skipped"], true, "{entry:#}");
    let lock = get("lock-remove");
    assert_eq!(lock["skipped"], true, "{lock:#}");
    assert!(
        lock["detail"]
            .as_str()
            .unwrap()
            .contains("entry was not restored"),
        "{lock:#}"
    );
    assert!(!h.slow_lock().exists(), "stale lock restored\n{out:?}");
    assert_eq!(fs::read(h.sessions_json()).unwrap(), sessions);
}

/// `--dry-run` and the real undo agree step by step, on a run some of whose changes were
/// overtaken since (a claude-mem row changed, the entry touched by a gateway) and some not.
#[test]
fn undo_dry_run_says_what_the_undo_does() {
    let h = Host::new(Base::File735);
    let run = closed(&h);
    gateway_touched_entry(&h);
    let conn = rusqlite::Connection::open(h.cm_db()).unwrap();
    conn.execute(
        "UPDATE sdk_sessions SET completed_at_epoch = completed_at_epoch + 1 WHERE id = 4",
        [],
    )
    .unwrap();
    drop(conn);

    let table = h.run(&["journal", "undo", &run, "--dry-run"]);
    assert_eq!(table.code, 0, "{table:?}");
    let (out, dry) = undo_json(&h, &run, true);
    assert_eq!(out.code, 0, "{out:?}");
    let (out, real) = undo_json(&h, &run, false);
    assert_eq!(out.code, 1, "{out:?}");

    type Step = (String, String, bool, bool, String);
    let key = |v: &Value, dry: bool| -> Step {
        let d = v["detail"].as_str().unwrap().to_string();
        let d = match (dry, d.as_str()) {
            (true, "would restore") | (false, "restored") => "restore".into(),
            _ => d,
        };
        (
            v["action"].as_str().unwrap().into(),
            v["target"].as_str().unwrap_or_default().into(),
            v["ok"].as_bool().unwrap(),
            v["skipped"].as_bool().unwrap(),
            d,
        )
    };
    let mut said: Vec<Step> = steps(&dry, "steps").iter().map(|v| key(v, true)).collect();
    let mut did: Vec<Step> = steps(&real, "results")
        .iter()
        .map(|v| key(v, false))
        .collect();
    said.sort();
    did.sort();
    assert_eq!(said, did, "dry run vs undo");
    let skipped: Vec<&Step> = did.iter().filter(|s| s.3).collect();
    let restored: Vec<&Step> = did.iter().filter(|s| !s.3 && s.2).collect();
    assert_eq!(skipped.len(), 3, "row 4, the entry and its lock: {did:#?}");
    assert_eq!(restored.len(), 2, "rows 3 and 5: {did:#?}");
    // The table says the same, one line per step.
    for s in &skipped {
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.starts_with("would skip: ") && l.ends_with(&s.4)),
            "{s:?} not in:\n{table:?}"
        );
    }
    assert_eq!(
        table.stdout.matches("would restore ").count(),
        restored.len(),
        "{table:?}"
    );
}
