//! Run as root on another user's state: every file sessionctl rewrites or makes SQLite
//! create keeps that user as owner, and rewritten files keep their mode.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::common::*;

const OTHER: u32 = 4321;

fn chown_tree(p: &Path) {
    std::os::unix::fs::lchown(p, Some(OTHER), Some(OTHER)).unwrap();
    if p.is_dir() && !p.is_symlink() {
        for e in fs::read_dir(p).unwrap() {
            chown_tree(&e.unwrap().path());
        }
    }
}

#[test]
fn root_keeps_the_owner_and_mode_of_another_users_files() {
    if current_uid() != 0 {
        eprintln!("SKIPPED: ownership test (needs root to own files as another user)");
        return;
    }
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let cm = fx.root().join("cm");
    let conn = build_claude_mem_db(&cm, "13.25.3", None);
    conn.execute_batch("PRAGMA journal_mode=WAL;").unwrap();
    drop(conn);
    let sessions = fx.state().join("agents/main/sessions/sessions.json");
    fs::set_permissions(&sessions, fs::Permissions::from_mode(0o600)).unwrap();
    chown_tree(&fx.state());
    chown_tree(&cm);
    let out = fx.run(
        [
            "close",
            "--yes",
            "--openclaw-state-dir",
            &fx.state().to_string_lossy(),
            "--claude-mem-dir",
            &cm.to_string_lossy(),
            "--journal",
            &fx.root().join("j/journal.ndjson").to_string_lossy(),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let m = fs::metadata(&sessions).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o7777),
        (OTHER, OTHER, 0o600),
        "sessions.json"
    );
    assert_eq!(
        read_json(&sessions)["agent:main:e2e-slow"]["status"],
        "failed",
        "it was rewritten"
    );
    for e in fs::read_dir(&cm).unwrap() {
        let p = e.unwrap().path();
        let m = fs::metadata(&p).unwrap();
        assert_eq!(
            (m.uid(), m.gid()),
            (OTHER, OTHER),
            "{} belongs to root",
            p.display()
        );
    }
    for e in fs::read_dir(fx.state().join("agents/main/sessions")).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(fs::metadata(&p).unwrap().uid(), OTHER, "{}", p.display());
    }
    // And the claude-mem rows really were written.
    let c = rusqlite::Connection::open(cm.join("claude-mem.db")).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sdk_sessions WHERE status = 'completed' AND id IN (3,4,5)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 3);
}
