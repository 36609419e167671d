//! `[journal]` limits: a journal grown past `max_size` is compacted by the next `close`
//! (keeping what is still owed or undoable, the old file beside it as `.1`), and backups
//! of rewritten files are pruned by age (`keep`) and total size (`max_backups_size`).

use std::fs;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::close::*;

/// A finished close run from 2025 (its rows long since ended, nothing owed), `n` actions.
fn old_run_lines(run: &str, n: usize) -> String {
    let mut out = String::new();
    let line = |v: Value| serde_json::to_string(&v).unwrap() + "\n";
    out += &line(
        json!({"type": "run", "run": run, "at": "2025-01-01T00:00:00.000Z",
        "mode": "close", "version": "0", "argv": ["sessionctl", "close"]}),
    );
    for k in 0..n {
        let action = format!("claude-mem-end:/gone/claude-mem.db:{k}");
        out += &line(json!({"type": "intent", "run": run, "action": action,
            "kind": "claude-mem-end", "at": "2025-01-01T00:00:00.000Z",
            "session": {"backend": "claude-mem", "id": k.to_string()},
            "path": "/gone/claude-mem.db", "prior": {"status": "active"}}));
        out += &line(json!({"type": "outcome", "run": run, "action": action,
            "at": "2025-01-01T00:00:00.000Z", "ok": true, "skipped": false, "detail": "done"}));
    }
    out
}

#[test]
fn close_compacts_a_large_journal_and_prunes_old_backups() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let mut cfg = fs::read_to_string(&h.config).unwrap();
    cfg.push_str("[journal]\nmax_size = \"16KiB\"\nmax_backups_size = \"1MiB\"\nkeep = \"7d\"\n");
    fs::write(&h.config, cfg).unwrap();
    let old = "20250101T000000.000Z-00000000000000aa";
    fs::create_dir_all(h.journal.parent().unwrap()).unwrap();
    let old_text = old_run_lines(old, 1000);
    assert!(old_text.len() > 16 << 10);
    fs::write(&h.journal, &old_text).unwrap();
    let backups = h.journal.parent().unwrap().join("backups");
    let old_backup = backups.join(old).join("1.before");
    fs::create_dir_all(old_backup.parent().unwrap()).unwrap();
    fs::write(&old_backup, b"{}").unwrap();
    fs::File::options()
        .write(true)
        .open(&old_backup)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(30 * 86_400))
        .unwrap();
    let sessions = fs::read(h.sessions_json()).unwrap();

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = doc["run"].as_str().unwrap().to_string();
    assert!(out.stderr.contains("compacted"), "{out:?}");
    let text = fs::read_to_string(&h.journal).unwrap();
    assert!(
        !text.contains(old),
        "the finished 2025 run was kept:\n{text}"
    );
    assert!(text.contains(&run), "{text}");
    assert!(text.len() < old_text.len() / 10, "{} bytes", text.len());
    let previous = h.journal.with_file_name("journal.ndjson.1");
    assert_eq!(fs::read_to_string(&previous).unwrap(), old_text);
    assert!(
        !backups.join(old).exists(),
        "backups older than keep were kept"
    );
    assert!(
        backups.join(&run).is_dir(),
        "this run's backups were removed"
    );

    // The new run is undone byte for byte from the compacted journal and its backups.
    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fs::read(h.sessions_json()).unwrap(), sessions, "{out:?}");
}

#[test]
fn journal_limits_are_checked() {
    let h = Host::new(Base::File735);
    for (bad, want) in [
        ("max_size = \"12 parsecs\"", "journal.max_size"),
        ("keep = \"forever\"", "journal.keep"),
        ("max_bytes = 5", "max_bytes"),
    ] {
        fs::write(&h.config, format!("[journal]\n{bad}\n")).unwrap();
        let out = h.run(&["close", "--yes"]);
        assert_eq!(out.code, 2, "{bad}: {out:?}");
        assert!(out.stderr.contains(want), "{bad}: {out:?}");
    }
}
