//! Bad input: every case gives a one-line error on stderr naming the file and the problem,
//! the other backend is still reported, nothing panics and nothing is written.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

/// A host with one healthy claude-mem DB (13.25.3 fixture) and an OpenClaw state dir copied
/// from the 2026.7.35 after-kill capture, so every case can check that the *other* backend
/// still answers.
struct Host {
    fx: Fixture,
}

impl Host {
    fn new() -> Host {
        let fx = Fixture::openclaw("2026.7.35", "after-kill");
        drop(build_claude_mem_db(&fx.root().join("cm"), "13.25.3", None));
        Host { fx }
    }

    fn cm(&self) -> PathBuf {
        self.fx.root().join("cm")
    }

    fn sessions_json(&self) -> PathBuf {
        self.fx.state().join("agents/main/sessions/sessions.json")
    }

    fn lock(&self) -> PathBuf {
        self.fx
            .state()
            .join("agents/main/sessions/ae3ade86-9fb7-4837-a009-6fcc1c41c22b.jsonl.lock")
    }

    /// `list --format json` over both backends; asserts no panic and a parseable document.
    fn list(&self) -> (Out, Value) {
        let state = self.fx.state();
        let cm = self.cm();
        let args = [
            "list",
            "--openclaw-state-dir",
            state.to_str().unwrap(),
            "--claude-mem-dir",
            cm.to_str().unwrap(),
        ];
        let before = tree_snapshot(self.fx.root());
        let (out, v) = self.fx.json(args, &[]);
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        assert_tree_unchanged(&before, &tree_snapshot(self.fx.root()), "bad input run");
        (out, v)
    }
}

/// OpenClaw sessions the after-kill copy lists: the running orphan e2e-slow, and e2e-1 and
/// e2e-2, finished sessions of the killed gateway 7288 that are owed a session_end.
const OPENCLAW_LISTED: usize = 3;

/// The OpenClaw record with this key (claude-mem rows may share it).
fn oc<'a>(v: &'a Value, key: &str) -> &'a Value {
    let hits: Vec<&Value> = sessions(v)
        .iter()
        .filter(|s| s["backend"] == "openclaw" && s["session_key"] == key)
        .collect();
    assert_eq!(hits.len(), 1, "expected one OpenClaw session {key}: {v}");
    hits[0]
}

fn backend_count(v: &Value, backend: &str) -> usize {
    sessions(v)
        .iter()
        .filter(|s| s["backend"] == backend)
        .count()
}

/// Exactly one stderr line mentions `file`, and it says `what`.
fn assert_one_line_error(out: &Out, file: &Path, what: &str) {
    let f = file.to_string_lossy();
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(f.as_ref()))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one error line naming {f}:\n{out:?}"
    );
    assert!(lines[0].starts_with("sessionctl: "), "{out:?}");
    assert!(
        lines[0].contains(what),
        "error line lacks `{what}`: {}",
        lines[0]
    );
    assert_eq!(out.code, 2, "errors exit 2:\n{out:?}");
}

#[test]
fn healthy_baseline_has_no_problems() {
    let h = Host::new();
    let (out, v) = h.list();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(problems(&v).is_empty(), "{out:?}");
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED);
    assert_eq!(oc(&v, "agent:main:e2e-slow")["verdict"], "orphan");
    for key in ["agent:main:e2e-1", "agent:main:e2e-2"] {
        assert_eq!(oc(&v, key)["verdict"], "owed", "{out:?}");
    }
    assert_eq!(
        backend_count(&v, "claude-mem"),
        5,
        "rows 3,4,5,6,7 are active"
    );
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn corrupt_sessions_json() {
    let h = Host::new();
    fs::write(
        h.sessions_json(),
        b"{\"agent:main:x\": {\"sessionId\": \"a\",, }",
    )
    .unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.sessions_json(), "invalid JSON at line 1");
    assert_eq!(backend_count(&v, "openclaw"), 0);
    assert_eq!(
        backend_count(&v, "claude-mem"),
        5,
        "claude-mem still reported"
    );
}

#[test]
fn truncated_sessions_json() {
    let h = Host::new();
    let full = fs::read(h.sessions_json()).unwrap();
    fs::write(h.sessions_json(), &full[..full.len() / 2]).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.sessions_json(), "truncated JSON");
    assert_eq!(backend_count(&v, "claude-mem"), 5);
}

#[test]
fn sessions_json_of_the_wrong_shape() {
    let h = Host::new();
    fs::write(h.sessions_json(), b"[1, 2, 3]").unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.sessions_json(), "unexpected JSON shape");
    assert_eq!(backend_count(&v, "claude-mem"), 5);
}

#[test]
fn entry_missing_session_id_spares_the_others() {
    let h = Host::new();
    let mut doc: Value = read_json(&h.sessions_json());
    doc["agent:main:broken"] = serde_json::json!({"status": "running", "updatedAt": 1});
    fs::write(h.sessions_json(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(
        &out,
        &h.sessions_json(),
        "entry `agent:main:broken` has no sessionId",
    );
    // The real running entry is still there (and the two owed finished ones).
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED, "{out:?}");
    oc(&v, "agent:main:e2e-slow");
}

#[test]
fn lock_file_that_is_not_json() {
    let h = Host::new();
    fs::write(h.lock(), b"pid=7288\n").unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.lock(), "lock file is not JSON");
    // Still classified, from what remains (the gateway lock, the boot).
    let s = oc(&v, "agent:main:e2e-slow");
    assert_eq!(s["verdict"], "orphan", "{s}");
}

#[test]
fn lock_file_naming_pid_zero() {
    let h = Host::new();
    fs::write(
        h.lock(),
        b"{\n  \"pid\": 0,\n  \"createdAt\": \"2026-11-25T20:21:53.463Z\",\n  \"starttime\": 1\n}\n",
    )
    .unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.lock(), "pid 0");
    let s = oc(&v, "agent:main:e2e-slow");
    assert_ne!(s["verdict"], "live");
    assert!(
        !evidence_has_pid(s, 0) || s["reason"] != "owner-dead",
        "pid 0 proves nothing: {s}"
    );
}

#[test]
fn claude_mem_db_that_is_not_sqlite() {
    let h = Host::new();
    let db = h.cm().join("claude-mem.db");
    fs::write(&db, b"this is a text file, not a database\n".repeat(200)).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &db, "not an SQLite database");
    assert_eq!(
        backend_count(&v, "openclaw"),
        OPENCLAW_LISTED,
        "OpenClaw still reported"
    );
}

#[test]
fn claude_mem_db_truncated() {
    let h = Host::new();
    let db = h.cm().join("claude-mem.db");
    let bytes = fs::read(&db).unwrap();
    assert!(bytes.len() > 8192);
    fs::write(&db, &bytes[..bytes.len() / 3]).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &db, "corrupt or truncated");
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED);
}

#[test]
fn claude_mem_db_locked_by_a_writer() {
    let h = Host::new();
    let db = h.cm().join("claude-mem.db");
    // A rollback-journal database with an exclusive transaction open: readers must wait.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode=DELETE; BEGIN EXCLUSIVE; UPDATE sdk_sessions SET prompt_counter = prompt_counter + 1;")
        .unwrap();
    let started = std::time::Instant::now();
    let state = h.fx.state();
    let cm = h.cm();
    let (out, v) = h.fx.json(
        [
            "list",
            "--openclaw-state-dir",
            state.to_str().unwrap(),
            "--claude-mem-dir",
            cm.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "reader waited too long"
    );
    assert_one_line_error(&out, &db, "locked by another process");
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED);
    conn.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn reading_while_a_writer_is_active_does_not_block() {
    let h = Host::new();
    let db = h.cm().join("claude-mem.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; BEGIN IMMEDIATE; UPDATE sdk_sessions SET status = 'completed' WHERE id = 3;")
        .unwrap();
    let (out, v) = h.list();
    assert_eq!(out.code, 0, "{out:?}");
    // The uncommitted write is invisible: row 3 is still active.
    assert!(by_id(&v, "3").is_some(), "{out:?}");
    conn.execute_batch("COMMIT").unwrap();
    let (_, v) = h.list();
    assert!(by_id(&v, "3").is_none(), "committed change is seen");
}

#[test]
fn claude_mem_unknown_schema() {
    let h = Host::new();
    let db = h.cm().join("claude-mem.db");
    fs::remove_file(&db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, sid TEXT, state TEXT);")
        .unwrap();
    drop(conn);
    let (out, v) = h.list();
    assert_one_line_error(
        &out,
        &db,
        "unsupported claude-mem schema: sdk_sessions lacks",
    );
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED);
}

#[test]
fn openclaw_sqlite_store_with_unknown_schema() {
    let h = Host::new();
    let db = h.fx.state().join("agents/ops/agent/openclaw-agent.sqlite");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE sessions_v0 (key TEXT, blob TEXT);")
        .unwrap();
    drop(conn);
    let (out, v) = h.list();
    assert_one_line_error(
        &out,
        &db,
        "unsupported OpenClaw session store schema: no session_nodes table",
    );
    // The main agent's file store is still read.
    assert_eq!(backend_count(&v, "openclaw"), OPENCLAW_LISTED);
    assert_eq!(backend_count(&v, "claude-mem"), 5);
}

#[test]
fn state_dir_that_does_not_exist() {
    let h = Host::new();
    let missing = h.fx.root().join("no-such-state");
    let cm = h.cm();
    let (out, v) = h.fx.json(
        [
            "list",
            "--openclaw-state-dir",
            missing.to_str().unwrap(),
            "--claude-mem-dir",
            cm.to_str().unwrap(),
        ],
        &[],
    );
    assert_one_line_error(&out, &missing, "no such file or directory");
    assert_eq!(backend_count(&v, "claude-mem"), 5);
}

#[test]
fn state_dir_that_cannot_be_read() {
    let h = Host::new();
    // A symlink loop fails to open for every user, root included.
    let agents = h.fx.state().join("agents");
    fs::remove_dir_all(&agents).unwrap();
    std::os::unix::fs::symlink("agents", &agents).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &agents, "cannot list agents");
    assert_eq!(backend_count(&v, "claude-mem"), 5);
    // And where permissions apply (not root), an unreadable dir says so.
    if current_uid() != 0 {
        use std::os::unix::fs::PermissionsExt;
        fs::remove_file(&agents).unwrap();
        fs::create_dir(&agents).unwrap();
        fs::set_permissions(&agents, fs::Permissions::from_mode(0o000)).unwrap();
        let (out, _) = h.list();
        fs::set_permissions(&agents, fs::Permissions::from_mode(0o755)).unwrap();
        assert_one_line_error(&out, &agents, "permission denied");
    }
}

#[test]
fn state_dir_that_is_a_file() {
    let h = Host::new();
    let f = h.fx.root().join("not-a-dir");
    fs::write(&f, b"x").unwrap();
    let (out, _) = h.fx.json(
        [
            "list",
            "--openclaw-state-dir",
            f.to_str().unwrap(),
            "--backend",
            "openclaw",
        ],
        &[],
    );
    assert_one_line_error(&out, &f, "not a directory");
}

#[test]
fn session_file_outside_the_state_dir_is_never_followed() {
    let h = Host::new();
    let mut doc: Value = read_json(&h.sessions_json());
    doc["agent:main:e2e-slow"]["sessionFile"] = Value::String("../../../../etc/passwd".into());
    doc["agent:main:hostile"] = serde_json::json!({
        "sessionId": "11111111-2222-3333-4444-555555555555",
        "status": "running",
        "updatedAt": 1795638113441u64,
        "sessionFile": "/etc/shadow"
    });
    fs::write(h.sessions_json(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (out, v) = h.list();
    assert_eq!(out.code, 0, "{out:?}");
    for key in ["agent:main:e2e-slow", "agent:main:hostile"] {
        let s = oc(&v, key);
        assert_eq!(
            s["detail"]["session_file"]["inside_state_dir"], false,
            "{s}"
        );
        assert_eq!(s["detail"]["session_file"]["exists"], false, "{s}");
        let notes: Vec<&str> = s["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "session-file")
            .map(|e| e["note"].as_str().unwrap())
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("outside the state dir; not followed")),
            "{s}"
        );
        assert_eq!(
            s["verdict"], "orphan",
            "still classified from what remains: {s}"
        );
    }
}

#[test]
fn session_id_with_path_separators_is_not_used_as_a_path() {
    let h = Host::new();
    let mut doc: Value = read_json(&h.sessions_json());
    doc["agent:main:evil"] = serde_json::json!({
        "sessionId": "../../../tmp/evil",
        "status": "running",
        "updatedAt": 1795638113441u64
    });
    fs::write(h.sessions_json(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (out, v) = h.list();
    assert_one_line_error(&out, &h.sessions_json(), "unusable sessionId");
    let s = oc(&v, "agent:main:evil");
    assert!(s["detail"].get("lock").is_none(), "{s}");
}
