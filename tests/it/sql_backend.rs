//! The `sql` backend, declared in the config file alone, on real SQLite files next to the
//! real 2026.7.35 after-kill capture (no gateway runs; e2e-slow is left `running`, e2e-1
//! and e2e-2 finished before the kill). See [`crate::close::Host`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::close::*;
use crate::common::*;

/// A session key no OpenClaw store holds.
const NOBODY_KEY: &str = "agent:main:nobody";

/// `agent_runs(run_id, session_key, state, touched_s, ended_at)` at `<root>/app/runs.db`:
/// 1 e2e-slow (running), 2 e2e-1 (running; its session is done), 3 a key no store holds
/// (running), 4 e2e-2 (already ended), 5 no key (running).
fn runs_db(h: &Host) -> PathBuf {
    let dir = h.root().join("app");
    fs::create_dir_all(&dir).unwrap();
    let db = dir.join("runs.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let t = now_ms() / 1000 - 30;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=wal;
         CREATE TABLE agent_runs (run_id INTEGER PRIMARY KEY, session_key TEXT, state TEXT NOT NULL,
                                  touched_s INTEGER, ended_at INTEGER);
         INSERT INTO agent_runs VALUES
           (1, '{SLOW_KEY}', 'running', {t}, NULL),
           (2, '{E2E1_KEY}', 'running', {t}, NULL),
           (3, '{NOBODY_KEY}', 'running', {t}, NULL),
           (4, '{E2E2_KEY}', 'ended', {t}, {t}),
           (5, NULL, 'running', {t}, NULL);"
    ))
    .unwrap();
    db
}

fn runs_entry(db: &Path) -> String {
    format!(
        r#"
[[backend.sql]]
name = "runs"
database = "{}"
table = "agent_runs"
id_column = "run_id"
key_column = "session_key"
last_activity_column = "touched_s"
last_activity_unit = "s"
active = {{ state = "running" }}
end = {{ state = "ended", ended_at = "now_s" }}
"#,
        db.display()
    )
}

/// The config file: the `rec` target plus `extra` (sql entries).
fn configure(h: &Host, extra: &str) {
    h.configure(&[h.rec()]);
    let mut text = fs::read_to_string(&h.config).unwrap();
    text.push_str(extra);
    fs::write(&h.config, text).unwrap();
}

fn runs(db: &Path) -> BTreeMap<i64, Row> {
    let conn = open_ro(db);
    query_rows(&conn, "SELECT * FROM agent_runs ORDER BY run_id")
        .into_iter()
        .map(|r| (r.int("run_id").unwrap(), r))
        .collect()
}

/// Point e2e-slow's transcript lock at a running child, created now: e2e-slow is live.
fn own_slow_lock(h: &Host, child: &ChildGuard) {
    rewrite_lock(
        &h.slow_lock(),
        &[
            ("pid", child.pid.to_string()),
            ("createdAt", format!("\"{}\"", iso_ms(now_ms()))),
            ("starttime", child.starttime().to_string()),
        ],
    );
}

fn list(h: &Host, extra: &[&str]) -> (Out, Value) {
    let mut a = vec!["list", "--idle", "3650d"];
    a.extend_from_slice(extra);
    h.fx.json(h.args(&a), &[])
}

fn verdict(doc: &Value, label: &str) -> (String, String) {
    let s = sessions(doc)
        .iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no {label} in {doc:#}"));
    (
        s["verdict"].as_str().unwrap().to_string(),
        s["reason"].as_str().unwrap().to_string(),
    )
}

fn v(verdict: &str, reason: &str) -> (String, String) {
    (verdict.into(), reason.into())
}

/// (a) A consumer's own table: each row follows its OpenClaw session — live, ended,
/// orphaned, or unknown without one — never its age; close ends only the orphans, in one
/// transaction, journaled; a dry run writes nothing; a second close finds nothing; undo
/// puts every row back.
#[test]
fn a_consumer_table_follows_its_openclaw_sessions() {
    let child = ChildGuard::sleep();
    let h = Host::new(Base::File735);
    let db = runs_db(&h);
    configure(&h, &runs_entry(&db));

    // e2e-slow is live: its run is live too, however long untouched.
    own_slow_lock(&h, &child);
    let (out, doc) = list(&h, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_summary_consistent(&doc);
    assert_eq!(
        verdict(&doc, "runs:1"),
        v("live", "upstream-live"),
        "{doc:#}"
    );
    assert_eq!(verdict(&doc, "runs:2"), v("orphan", "upstream-ended"));
    assert_eq!(verdict(&doc, "runs:3"), v("unknown", "unverifiable"));
    assert_eq!(verdict(&doc, "runs:5"), v("unknown", "not-openclaw"));
    assert!(
        sessions(&doc).iter().all(|s| s["label"] != "runs:4"),
        "ended rows are not listed"
    );
    let r2 = sessions(&doc)
        .iter()
        .find(|s| s["label"] == "runs:2")
        .unwrap();
    assert_eq!(r2["backend"], "sql");
    assert_eq!(r2["id"], "runs:2");
    assert_eq!(r2["session_key"], E2E1_KEY);
    assert_eq!(r2["store_kind"], "sql");
    assert_eq!(r2["detail"]["name"], "runs");
    assert_eq!(r2["detail"]["table"], "agent_runs");
    assert_eq!(r2["detail"]["row_id"], 2);
    // Seconds read as seconds.
    let la = parse_iso_ms(r2["last_activity_at"].as_str().unwrap());
    assert!((now_ms() - la).abs() < 600_000, "{r2:#}");
    let table = h.run(&["list", "--idle", "3650d"]);
    assert!(table.stdout.contains("runs:2"), "{table:?}");
    // check counts sql orphans and says so in its metrics.
    let prom = h.root().join("sessionctl.prom");
    let out = h.run(&[
        "check",
        "--idle",
        "3650d",
        "--prometheus-textfile",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("sql: 1"), "{out:?}");
    let text = fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("sessionctl_orphans{backend=\"sql\",reason=\"upstream-ended\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sessionctl_errors{backend=\"sql\"} 0"),
        "{text}"
    );
    let list_schema = crate::json_schema::schema("list");
    list_schema
        .validate(&doc)
        .unwrap_or_else(|e| panic!("{e:#?}"));

    // A dry run names the UPDATE and writes nothing.
    let before = runs(&db);
    let tree = tree_snapshot(h.root());
    let out = h.run(&["close", "--dry-run", "--idle", "3650d"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(r#"UPDATE "agent_runs" SET "ended_at" = "#)
            && out
                .stdout
                .contains(r#"WHERE "run_id" = 2 AND "state" = 'running'"#),
        "{out:?}"
    );
    assert_tree_unchanged(&tree, &tree_snapshot(h.root()), "dry run");

    // Close: run 2 only (with its group's session_end), in the journal before and after.
    let t0 = now_ms() / 1000;
    let (out, doc) = h.close_json(&["--yes", "--idle", "3650d"]);
    let t1 = now_ms() / 1000;
    assert_eq!(out.code, 0, "{out:?}");
    let it = item(&doc, E2E1_KEY);
    assert_eq!(action(it, "sql-end", None)["ok"], true, "{it:#}");
    crate::json_schema::schema("close")
        .validate(&doc)
        .unwrap_or_else(|e| panic!("{e:#?}"));
    let after = runs(&db);
    for id in [1, 3, 4, 5] {
        assert_eq!(after[&id], before[&id], "run {id} untouched");
    }
    assert_eq!(after[&2].text("state"), "ended");
    let ended = after[&2].int("ended_at").unwrap();
    assert!((t0..=t1).contains(&ended), "{ended} not in [{t0}, {t1}]");
    assert_eq!(
        after[&2].without(&["state", "ended_at"]),
        before[&2].without(&["state", "ended_at"])
    );
    let intent = h
        .journal_lines()
        .into_iter()
        .find(|l| l["type"] == "intent" && l["kind"] == "sql-end")
        .expect("an sql-end intent");
    assert_eq!(intent["row"]["table"], "agent_runs", "{intent:#}");
    assert_eq!(intent["row"]["id_column"], "run_id");
    assert_eq!(intent["row"]["id"], 2);
    assert_eq!(intent["prior"]["state"], "running");
    assert_eq!(h.outcomes("sql-end:").len(), 1);
    assert!(per_key(&h.cmd_lines()).contains_key(E2E1_KEY));
    let run = doc["run"].as_str().unwrap().to_string();

    // Re-check: run 2 is gone from the active rows; a second close has nothing for runs.
    let (_, doc) = list(&h, &[]);
    assert!(sessions(&doc).iter().all(|s| s["label"] != "runs:2"));
    let (out, doc) = h.close_json(&["--yes", "--idle", "3650d"]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    assert!(!out.stdout.contains("sql-end"), "{doc:#}");
    assert_eq!(runs(&db), after);

    // Undo puts run 2 back as it was.
    let (out, undo) = h.fx.json(h.args(&["journal", "undo", &run, "--yes"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    crate::json_schema::schema("journal-undo")
        .validate(&undo)
        .unwrap_or_else(|e| panic!("{e:#?}\n{undo:#}"));
    assert_eq!(runs(&db), before, "rows back as they were");
    assert!(pid_alive(child.pid));
}

/// A row ended by someone else between the intent and the write is left alone (the write
/// requires the active condition and the journaled prior), and the outcome says so.
#[test]
fn a_row_ended_meanwhile_is_left_alone() {
    let h = Host::new(Base::File735);
    let db = runs_db(&h);
    configure(&h, &runs_entry(&db));
    let mut cmd = h.command(&["close", "--yes", "--idle", "3650d", "--format", "json"]);
    cmd.env("SESSIONCTL_TEST_PAUSE", "before-row-writes:3000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    wait_until(
        "the sql-end intent",
        std::time::Duration::from_secs(20),
        || {
            h.journal.exists()
                && h.journal_lines()
                    .iter()
                    .any(|l| l["type"] == "intent" && l["kind"] == "sql-end")
        },
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE agent_runs SET state = 'ended', ended_at = 7 WHERE run_id = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let status = child.wait().unwrap();
    assert!(status.code().is_some_and(|c| c <= 1), "{status:?}");
    assert_eq!(
        runs(&db)[&2].int("ended_at"),
        Some(7),
        "the other writer's end stays"
    );
    let o: Vec<Value> = h
        .outcomes("sql-end:")
        .into_iter()
        .filter(|o| o["action"].as_str().unwrap().ends_with(":runs:2"))
        .collect();
    assert_eq!(o.len(), 1, "{o:#?}");
    assert_eq!(o[0]["skipped"], true, "{o:#?}");
    assert_eq!(o[0]["detail"], "row is no longer active");
}

/// (b) claude-mem's own schema declared as an sql table: for every row whose verdict
/// rests on the OpenClaw session, the same verdict as the built-in backend, and the same
/// row writes. The built-in knows more: the worker (its pid files, process and health
/// port) proves a row without an OpenClaw record (or with the `default` key) orphaned
/// (`worker-dead`) or live, and it never closes claude-mem's `observer-sessions`
/// bookkeeping; the sql entry, knowing none of that, calls such rows `unknown`.
#[test]
fn claude_mem_declared_as_sql_agrees_with_the_built_in_backend() {
    let cm_entry = |db: &Path| {
        format!(
            r#"
[[backend.sql]]
name = "cmsql"
database = "{}"
table = "sdk_sessions"
id_column = "id"
key_column = "content_session_id"
key_pattern = "openclaw-{{key}}-{{ms}}"
last_activity_column = "started_at_epoch"
active = {{ status = "active" }}
end = {{ status = "completed", completed_at = "now_iso", completed_at_epoch = "now_ms" }}
"#,
            db.display()
        )
    };
    let built_in = Host::new(Base::File735);
    let declared = Host::new(Base::File735);
    configure(&built_in, "");
    configure(&declared, &cm_entry(&declared.cm_db()));
    // Row 3 follows a replaced session; link row 4 to the finished e2e-1 and row 5 to
    // the running (orphaned) e2e-slow, in both.
    let t = now_ms();
    for h in [&built_in, &declared] {
        h.link_row(4, E2E1_KEY, t);
        h.link_row(5, SLOW_KEY, t);
    }
    let (out, a) = list(&built_in, &["--backend", "openclaw,claude-mem"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (out, b) = list(&declared, &["--backend", "openclaw,sql"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut compared = 0;
    for s in sessions(&a).iter().filter(|s| s["backend"] == "claude-mem") {
        let id = s["id"].as_str().unwrap();
        let twin = sessions(&b)
            .iter()
            .find(|t| t["label"] == format!("cmsql:{id}"))
            .unwrap_or_else(|| panic!("row {id} not listed by the sql entry: {b:#}"));
        // The linked session decided: it runs (live, stale, unknown) or it ended.
        let upstream_note = s["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "upstream")
            .map(|e| e["note"].as_str().unwrap().to_string());
        let rests_on_upstream = upstream_note
            .as_deref()
            .is_some_and(|n| !n.starts_with("no OpenClaw record"));
        if rests_on_upstream {
            assert_eq!(twin["verdict"], s["verdict"], "row {id}: {s:#}\n{twin:#}");
            // The built-in names `rebooted` for an orphan whose own last activity predates
            // this boot; the sql entry, `upstream-ended` for the same orphan.
            if s["reason"].as_str().unwrap().starts_with("upstream-") || s["verdict"] != "orphan" {
                assert_eq!(twin["reason"], s["reason"], "row {id}: {s:#}\n{twin:#}");
            } else {
                assert_eq!(twin["reason"], "upstream-ended", "row {id}: {twin:#}");
            }
            assert_eq!(twin["session_key"], s["session_key"]);
            compared += 1;
        } else {
            assert_eq!(twin["verdict"], "unknown", "row {id}: {s:#}\n{twin:#}");
        }
    }
    assert!(compared >= 3, "rows 3, 4, 5 rest on their sessions: {a:#}");

    // The same rows ended, with the same values (at each run's own time).
    let before = built_in.cm_rows();
    assert_eq!(before, declared.cm_rows());
    let (out, _) = built_in.close_json(&["--yes", "--backend", "openclaw,claude-mem"]);
    assert_eq!(out.code, 0, "{out:?}");
    let t0 = now_ms();
    let (out, _) = declared.close_json(&["--yes", "--backend", "openclaw,sql"]);
    assert_eq!(out.code, 0, "{out:?}");
    let t1 = now_ms();
    let (x, y) = (built_in.cm_rows(), declared.cm_rows());
    let changed = |rows: &BTreeMap<i64, Row>| -> Vec<i64> {
        rows.iter()
            .filter(|(id, r)| *r != &before[*id])
            .map(|(id, _)| *id)
            .collect()
    };
    assert_eq!(changed(&x), vec![3, 4, 5], "the built-in ends rows 3, 4, 5");
    assert_eq!(changed(&y), changed(&x), "the same rows");
    assert_cm_closed(&before, &y, &[3, 4, 5], t0, t1);
    let cols = ["completed_at", "completed_at_epoch"];
    for (id, r) in &x {
        assert_eq!(r.without(&cols), y[id].without(&cols), "row {id}");
    }
}

/// (c) A wrong table, column or assignment is one line naming the entry; the other
/// backends still report.
#[test]
fn config_mistakes_are_one_line_naming_the_entry() {
    let h = Host::new(Base::File735);
    let db = runs_db(&h);
    let entry = runs_entry(&db);
    let cases = [
        (
            entry.replace("table = \"agent_runs\"", "table = \"agent_run\""),
            format!("sessionctl: sql: {}: backend.sql `runs`: no table `agent_run` in the database", db.display()),
        ),
        (
            entry.replace("key_column = \"session_key\"", "key_column = \"key\""),
            format!("sessionctl: sql: {}: backend.sql `runs`: table `agent_runs` has no column `key` (key_column;", db.display()),
        ),
        (
            entry.replace("active = { state = \"running\" }", "active = { state = \"running\", kind = \"agent\" }"),
            format!("sessionctl: sql: {}: backend.sql `runs`: table `agent_runs` has no column `kind` (active;", db.display()),
        ),
        (
            entry.replace("ended_at = \"now_s\"", "ended_at = { at = 1 }"),
            format!("sessionctl: sql: {}: backend.sql `runs`: end.ended_at: a table is not a value", h.config.display()),
        ),
        (
            entry.replace("state = \"ended\"", "state = \"running\""),
            format!("sessionctl: sql: {}: backend.sql `runs`: end must change a column of the active condition (state)", h.config.display()),
        ),
    ];
    for (text, want) in cases {
        configure(&h, &text);
        let (out, doc) = list(&h, &[]);
        assert_eq!(out.code, 2, "{out:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{out:?}");
        assert!(lines[0].starts_with(&want), "{}\nwant {want}", lines[0]);
        // The other backends still report.
        assert!(
            sessions(&doc).iter().any(|s| s["backend"] == "openclaw"),
            "{doc:#}"
        );
        assert!(
            sessions(&doc).iter().any(|s| s["backend"] == "claude-mem"),
            "{doc:#}"
        );
    }
    assert_eq!(runs(&db).len(), 5);
}

/// Journals written before the linked-row path was shared still undo: a `claude-mem-end`
/// record as earlier versions wrote it (the row id in the session, no row locator).
#[test]
fn an_old_claude_mem_end_record_still_undoes() {
    let h = Host::new(Base::File735);
    let before = h.cm_rows();
    let t = 1_795_650_000_123_i64;
    let at = iso_ms(t);
    let conn = rusqlite::Connection::open(h.cm_db()).unwrap();
    conn.execute(
        "UPDATE sdk_sessions SET status = 'completed', completed_at = ?1, completed_at_epoch = ?2 WHERE id = 4",
        rusqlite::params![at, t],
    )
    .unwrap();
    drop(conn);
    let run = "20261101T000000.000Z-00000000000000bb";
    let db = h.cm_db().to_string_lossy().into_owned();
    let action = format!("claude-mem-end:{db}:4");
    let prior =
        serde_json::json!({"status": "active", "completed_at": null, "completed_at_epoch": null});
    let new =
        serde_json::json!({"status": "completed", "completed_at": at, "completed_at_epoch": t});
    let lines = [
        serde_json::json!({"type": "run", "run": run, "at": "2026-11-01T00:00:00.000Z",
            "mode": "close", "version": "0.1.0", "argv": ["sessionctl", "close", "--yes"]}),
        serde_json::json!({"type": "intent", "run": run, "action": action, "kind": "claude-mem-end",
            "at": "2026-11-01T00:00:00.000Z",
            "session": {"backend": "claude-mem", "id": "4", "session_key": TG_KEY},
            "path": db, "prior": prior, "new": new}),
        serde_json::json!({"type": "outcome", "run": run, "action": action,
            "at": "2026-11-01T00:00:00.000Z", "ok": true, "skipped": false, "detail": "done",
            "prior": prior, "new": new}),
    ];
    fs::create_dir_all(h.journal.parent().unwrap()).unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(&h.journal, text).unwrap();
    let out = h.run(&["journal", "undo", run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(h.cm_rows(), before, "row 4 back as it was\n{out:?}");
}

/// A run killed at any step is finished by the next one: rows either written by the
/// aborted run (and recorded by the resume) or written by the re-run, never half of a
/// transaction, every intent settled exactly once.
#[test]
fn a_crashed_run_is_finished_by_the_next() {
    for point in ["after-intent", "mid-transaction", "after-store-writes"] {
        let h = Host::new(Base::File735);
        let db = runs_db(&h);
        configure(&h, &runs_entry(&db));
        let before = runs(&db);
        let args = [
            "close",
            "--yes",
            "--idle",
            "3650d",
            "--backend",
            "openclaw,sql",
        ];
        let out = h.run_env(&args, &[("SESSIONCTL_FAILPOINT", point)]);
        assert_eq!(out.code, -1, "{point}: expected an abort\n{out:?}");
        let mid = runs(&db);
        match point {
            "after-store-writes" => assert_eq!(mid[&2].text("state"), "ended", "{point}"),
            _ => assert_eq!(mid, before, "{point}: nothing of an aborted transaction"),
        }
        let out = h.run(&args);
        assert_eq!(out.code, 0, "{point}: re-run\n{out:?}");
        let after = runs(&db);
        for id in [1, 2] {
            assert_eq!(after[&id].text("state"), "ended", "{point}: run {id}");
        }
        for id in [3, 4, 5] {
            assert_eq!(after[&id], before[&id], "{point}: run {id}");
        }
        if point == "after-store-writes" {
            assert_eq!(
                after[&2], mid[&2],
                "{point}: written once, by the first run"
            );
        }
        let lines = h.journal_lines();
        let intents: Vec<&Value> = lines
            .iter()
            .filter(|l| l["type"] == "intent" && l["kind"] == "sql-end")
            .collect();
        for i in &intents {
            let n = lines
                .iter()
                .filter(|l| {
                    l["type"] == "outcome" && l["run"] == i["run"] && l["action"] == i["action"]
                })
                .count();
            assert_eq!(n, 1, "{point}: {i:#}");
        }
        let out = h.run(&args);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(!out.stdout.contains("sql-end"), "{point}: {out:?}");
    }
}
