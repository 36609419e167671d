//! Store repairs: the writes a clean shutdown (or the owner's own recovery) would have
//! made, and their exact reversal for `journal undo`. Every write is guarded so that a
//! record that changed since it was read is left alone and reported.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Map, Value};

use crate::timefmt::iso_ms;

/// How long a write waits for another writer before giving up (the whole batch then fails,
/// and nothing of it is written).
pub const WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Result of one record's write.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Written; `prior` holds the values before the change.
    Done { prior: Value, new: Value },
    /// Left alone because the record is no longer what was planned.
    Skipped(String),
}

fn open_rw(path: &Path) -> Result<Connection, String> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| write_msg(&e))?;
    c.busy_timeout(WRITE_BUSY_TIMEOUT)
        .map_err(|e| write_msg(&e))?;
    // Room for a large batch's dirty pages: with SQLite's default 2 MB cache, ending 10k
    // rows spills dirty pages to the WAL mid-transaction and writes many of them twice.
    c.pragma_update(None, "cache_size", -WRITE_CACHE_KIB)
        .map_err(|e| write_msg(&e))?;
    Ok(c)
}

/// The page cache of a writing connection, in KiB (SQLite allocates it as pages are used).
const WRITE_CACHE_KIB: i64 = 64 << 10;

pub fn write_msg(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(f, msg) = e {
        return match f.code {
            DatabaseBusy | DatabaseLocked => format!(
                "database is locked by another process (gave up after {} s); nothing in this batch was written",
                WRITE_BUSY_TIMEOUT.as_secs()
            ),
            ReadOnly => "database is read-only; nothing was written".into(),
            CannotOpen => format!("cannot open database for writing ({})", msg.clone().unwrap_or_default()),
            _ => crate::backend::sqlite_message(e),
        };
    }
    e.to_string()
}

/// Run `f` in one IMMEDIATE transaction on `db` (busy timeout [`WRITE_BUSY_TIMEOUT`]),
/// commit, and keep the database's owner on any file SQLite created beside it.
fn in_tx<T>(
    db: &Path,
    f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
) -> Result<T, String> {
    let mut conn = open_rw(db)?;
    let out = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let v = f(&tx)?;
        super::failpoint("mid-transaction");
        tx.commit()?;
        Ok(v)
    })()
    .map_err(|e: rusqlite::Error| write_msg(&e));
    drop(conn);
    keep_sidecar_owner(db);
    out
}

/// Files SQLite may create beside a database we wrote (-wal, -shm, -journal) get the
/// database's owner, so running as root never leaves the owner's program locked out.
fn keep_sidecar_owner(db: &Path) {
    let Ok(meta) = fs::metadata(db) else { return };
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = PathBuf::from(p);
        if let Ok(m) = fs::metadata(&p) {
            if m.uid() != meta.uid() || m.gid() != meta.gid() {
                let _ = std::os::unix::fs::chown(&p, Some(meta.uid()), Some(meta.gid()));
            }
        }
    }
}

/// An entry as the gateway's own recovery leaves an interrupted session it cannot resume:
/// `status: failed`, `abortedLastRun: true`, `endedAt` = `updatedAt` = now, and no
/// `lifecycleRunId` (no run is active any more). Existing members keep their place.
pub fn end_entry(entry: &mut Map<String, Value>, now: i64) {
    entry.insert("status".into(), json!("failed"));
    entry.insert("abortedLastRun".into(), json!(true));
    entry.insert("updatedAt".into(), json!(now));
    entry.insert("endedAt".into(), json!(now));
    entry.shift_remove("lifecycleRunId");
}

/// [`end_entry`] on a SQLite store's `entry_json` text; the result is what gets written.
pub fn ended_entry_json(entry_json: &str, now: i64) -> String {
    match serde_json::from_str::<Value>(entry_json) {
        Ok(Value::Object(mut m)) => {
            end_entry(&mut m, now);
            serde_json::to_string(&Value::Object(m)).unwrap_or_else(|_| entry_json.to_string())
        }
        _ => entry_json.to_string(),
    }
}

/// Roll back what a writer that died mid-transaction left in a hot journal, as any
/// SQLite writer opening the database would; `close` does this before it reads.
pub fn recover_hot_journal(db: &Path) -> Result<bool, String> {
    if crate::backend::hot_journal(db).is_none() {
        return Ok(false);
    }
    let conn = open_rw(db)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| write_msg(&e))?;
    drop(conn);
    keep_sidecar_owner(db);
    Ok(true)
}

/// End claude-mem rows as the worker's `markSessionCompleted` does
/// (`status='completed'`, ISO `completed_at`, epoch-ms `completed_at_epoch`), narrowed
/// with `AND status = 'active'`, all in one transaction. Each row comes with the prior
/// values read for its intent line, when there are any: the UPDATE then also requires
/// them, so a row it changes held exactly those values and needs no read of its own.
pub fn claude_mem_end(
    db: &Path,
    rows: &[(i64, Option<&Value>)],
    now: i64,
) -> Result<Vec<Change>, String> {
    let new = claude_mem_new(now);
    let now_iso = iso_ms(now);
    // Rows in id order: neighbouring rows share table and index pages, so the transaction
    // dirties far fewer pages than in the plan's (session-key) order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].0);
    in_tx(db, |tx| {
        let mut out = vec![Change::Skipped(String::new()); rows.len()];
        let mut upd = tx.prepare(
            "UPDATE sdk_sessions SET status = 'completed', completed_at = ?1, completed_at_epoch = ?2 \
             WHERE id = ?3 AND status = 'active'",
        )?;
        let mut upd_seen = tx.prepare(
            "UPDATE sdk_sessions SET status = 'completed', completed_at = ?1, completed_at_epoch = ?2 \
             WHERE id = ?3 AND status = 'active' AND completed_at IS ?4 AND completed_at_epoch IS ?5",
        )?;
        for i in order {
            let (id, seen) = rows[i];
            let slot = &mut out[i];
            let complete = |p: &&Value| {
                p["status"] == "active"
                    && p.get("completed_at").is_some()
                    && p.get("completed_at_epoch").is_some()
            };
            if let Some(p) = seen.filter(complete) {
                let n = upd_seen.execute(params![
                    now_iso,
                    now,
                    id,
                    p["completed_at"].as_str(),
                    p["completed_at_epoch"].as_i64()
                ])?;
                if n == 1 {
                    *slot = Change::Done {
                        prior: p.clone(),
                        new: new.clone(),
                    };
                    continue;
                }
            }
            // No prior seen, or the row changed since: read what it holds now.
            let Some(prior) = claude_mem_prior(tx, id)? else {
                *slot = Change::Skipped("row no longer exists".into());
                continue;
            };
            if prior["status"] != "active" {
                *slot = Change::Skipped(format!(
                    "row is now {}",
                    prior["status"].as_str().unwrap_or("?")
                ));
                continue;
            }
            let n = upd.execute(params![now_iso, now, id])?;
            if n == 1 {
                *slot = Change::Done {
                    prior,
                    new: new.clone(),
                };
            } else {
                *slot = Change::Skipped("row changed meanwhile".into());
            }
        }
        Ok(out)
    })
}

/// Undo of [`claude_mem_end`]: restore the prior columns where the row still holds what we wrote.
pub fn claude_mem_restore(
    db: &Path,
    row: i64,
    prior: &Value,
    new: &Value,
) -> Result<Change, String> {
    let conn = open_rw(db)?;
    let n = conn
        .execute(
            "UPDATE sdk_sessions SET status = ?1, completed_at = ?2, completed_at_epoch = ?3 \
             WHERE id = ?4 AND status = 'completed' AND completed_at_epoch IS ?5",
            params![
                prior["status"].as_str(),
                prior["completed_at"].as_str(),
                prior["completed_at_epoch"].as_i64(),
                row,
                new["completed_at_epoch"].as_i64()
            ],
        )
        .map_err(|e| write_msg(&e))?;
    drop(conn);
    keep_sidecar_owner(db);
    Ok(if n == 1 {
        Change::Done {
            prior: new.clone(),
            new: prior.clone(),
        }
    } else {
        Change::Skipped("row changed since it was ended; left alone".into())
    })
}

/// One OpenClaw SQLite-store session to end.
pub struct RowTarget<'a> {
    pub session_key: &'a str,
    pub session_id: &'a str,
}

/// What a session's rows hold now: `session_nodes` (with `entry_valid`, which the
/// gateway's triggers reset whenever `entry_json` changes), its `session_windows` row, and
/// whether it is queued in `session_canonical_validation_pending` — all that undo must put
/// back. None when the session is not in the store.
pub fn row_prior(conn: &Connection, key: &str, sid: &str) -> rusqlite::Result<Option<Value>> {
    let has = |table: &str, cols: &[&str]| {
        crate::backend::columns(conn, table)
            .map(|c| cols.iter().all(|x| c.iter().any(|y| y == x)))
            .unwrap_or(false)
    };
    let valid = if has("session_nodes", &["entry_valid"]) {
        "entry_valid"
    } else {
        "NULL"
    };
    let node = conn
        .query_row(
            &format!(
                "SELECT status, entry_json, updated_at, {valid} FROM session_nodes WHERE session_key = ?1 AND current_session_id = ?2"
            ),
            params![key, sid],
            |r| {
                Ok(json!({
                    "status": r.get::<_, Option<String>>(0)?,
                    "entry_json": r.get::<_, String>(1)?,
                    "updated_at": r.get::<_, Option<i64>>(2)?,
                    "entry_valid": r.get::<_, Option<i64>>(3)?,
                }))
            },
        )
        .optional()?;
    let Some(node) = node else { return Ok(None) };
    let window = if has(
        "session_windows",
        &["session_id", "status", "ended_at", "updated_at"],
    ) {
        conn.query_row(
            "SELECT status, ended_at, updated_at FROM session_windows WHERE session_id = ?1",
            [sid],
            |r| {
                Ok(json!({
                    "status": r.get::<_, Option<String>>(0)?,
                    "ended_at": r.get::<_, Option<i64>>(1)?,
                    "updated_at": r.get::<_, Option<i64>>(2)?,
                }))
            },
        )
        .optional()?
    } else {
        None
    };
    let pending = if has("session_canonical_validation_pending", &["session_key"]) {
        Some(
            conn.query_row(
                "SELECT count(*) FROM session_canonical_validation_pending WHERE session_key = ?1",
                [key],
                |r| r.get::<_, i64>(0),
            )? > 0,
        )
    } else {
        None
    };
    Ok(Some(
        json!({"node": node, "window": window, "pending": pending}),
    ))
}

/// What [`openclaw_rows_end`] writes over `prior`.
pub fn row_new(prior: &Value, now: i64) -> Value {
    let entry = ended_entry_json(prior["node"]["entry_json"].as_str().unwrap_or("{}"), now);
    json!({
        "node": {"status": "failed", "entry_json": entry, "updated_at": now},
        "window": if prior["window"].is_object() { json!({"status": "failed", "ended_at": now, "updated_at": now}) } else { Value::Null },
    })
}

/// Mark SQLite-store sessions ended as the gateway marks an interrupted session it cannot
/// resume: `session_nodes.status` and its `entry_json` (see [`end_entry`]),
/// `session_windows.status` and `ended_at`. One transaction; rows that are no longer
/// running are left alone. The gateway's own triggers then queue the entry for
/// re-validation, as they do for its own writes.
pub fn openclaw_rows_end(
    db: &Path,
    targets: &[RowTarget],
    now: i64,
) -> Result<Vec<Change>, String> {
    in_tx(db, |tx| {
        let mut out = Vec::new();
        for t in targets {
            let Some(prior) = row_prior(tx, t.session_key, t.session_id)? else {
                out.push(Change::Skipped("session no longer in the store".into()));
                continue;
            };
            if prior["node"]["status"] != "running" {
                out.push(Change::Skipped(format!(
                    "session is now {}",
                    prior["node"]["status"].as_str().unwrap_or_default()
                )));
                continue;
            }
            let new = row_new(&prior, now);
            tx.execute(
                "UPDATE session_nodes SET status = 'failed', entry_json = ?1, updated_at = ?2 \
                 WHERE session_key = ?3 AND current_session_id = ?4 AND status = 'running'",
                params![
                    new["node"]["entry_json"].as_str(),
                    now,
                    t.session_key,
                    t.session_id
                ],
            )?;
            if prior["window"].is_object() {
                tx.execute(
                    "UPDATE session_windows SET status = 'failed', ended_at = ?1, updated_at = ?1 WHERE session_id = ?2 AND status = 'running'",
                    params![now, t.session_id],
                )?;
            }
            out.push(Change::Done { prior, new });
        }
        Ok(out)
    })
}

/// Undo of [`openclaw_rows_end`] for one session, row for row: the node's columns
/// (`entry_valid` included), its window, and the validation queue as they were.
pub fn openclaw_row_restore(
    db: &Path,
    key: &str,
    sid: &str,
    prior: &Value,
    new: &Value,
) -> Result<Change, String> {
    in_tx(db, |tx| {
        let n = tx.execute(
            "UPDATE session_nodes SET status = ?1, entry_json = ?2, updated_at = ?3 \
             WHERE session_key = ?4 AND current_session_id = ?5 AND entry_json = ?6",
            params![
                prior["node"]["status"].as_str(),
                prior["node"]["entry_json"].as_str(),
                prior["node"]["updated_at"].as_i64(),
                key,
                sid,
                new["node"]["entry_json"].as_str()
            ],
        )?;
        if n != 1 {
            return Ok(Change::Skipped(
                "session changed since it was ended; left alone".into(),
            ));
        }
        // The triggers reset entry_valid and queued the entry; put both back as they were.
        if let Some(v) = prior["node"]["entry_valid"].as_i64() {
            tx.execute(
                "UPDATE session_nodes SET entry_valid = ?1 WHERE session_key = ?2",
                params![v, key],
            )?;
        }
        if prior["pending"] == Value::Bool(false) {
            tx.execute(
                "DELETE FROM session_canonical_validation_pending WHERE session_key = ?1",
                [key],
            )?;
        }
        if prior["window"].is_object() {
            tx.execute(
                "UPDATE session_windows SET status = ?1, ended_at = ?2, updated_at = ?3 WHERE session_id = ?4",
                params![
                    prior["window"]["status"].as_str(),
                    prior["window"]["ended_at"].as_i64(),
                    prior["window"]["updated_at"].as_i64(),
                    sid
                ],
            )?;
        }
        Ok(Change::Done {
            prior: new.clone(),
            new: prior.clone(),
        })
    })
}

/// What [`claude_mem_end`] writes: the worker's own completion values.
pub fn claude_mem_new(now: i64) -> Value {
    json!({"status": "completed", "completed_at": iso_ms(now), "completed_at_epoch": now})
}

/// What a claude-mem row holds now (the columns [`claude_mem_end`] changes).
pub fn claude_mem_prior(conn: &Connection, row: i64) -> rusqlite::Result<Option<Value>> {
    conn.prepare_cached(
        "SELECT status, completed_at, completed_at_epoch FROM sdk_sessions WHERE id = ?1",
    )?
    .query_row([row], |r| {
        Ok(json!({
            "status": r.get::<_, Option<String>>(0)?,
            "completed_at": r.get::<_, Option<String>>(1)?,
            "completed_at_epoch": r.get::<_, Option<i64>>(2)?,
        }))
    })
    .optional()
}

/// One sessions.json entry to end: the entry must still be running with this sessionId
/// and the updatedAt seen when it was classified.
pub struct EntryTarget<'a> {
    pub session_key: &'a str,
    pub session_id: &'a str,
    pub updated_at: Option<i64>,
}

/// What a file-store write did: per-entry changes plus the bytes before and after, so
/// undo can restore the file byte for byte.
pub struct FileWrite {
    pub changes: Vec<Change>,
    pub before: Vec<u8>,
    pub after: Option<Vec<u8>>,
}

/// Mark sessions.json entries ended as 2026.7's restart recovery does (`status: failed`,
/// `abortedLastRun: true`, `endedAt` = `updatedAt` = now) and write the file atomically,
/// keeping its owner and mode and OpenClaw's own layout (2-space JSON, no final newline).
pub fn openclaw_entries_end(
    path: &Path,
    targets: &[EntryTarget],
    now: i64,
) -> Result<FileWrite, String> {
    let before = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut doc: Value =
        serde_json::from_slice(&before).map_err(|e| crate::backend::openclaw::json_msg(&e))?;
    let Value::Object(map) = &mut doc else {
        return Err("not a JSON object".into());
    };
    let mut changes = Vec::new();
    let mut any = false;
    for t in targets {
        let Some(Value::Object(entry)) = map.get_mut(t.session_key) else {
            changes.push(Change::Skipped("entry no longer in sessions.json".into()));
            continue;
        };
        let prior = Value::Object(entry.clone());
        if entry.get("sessionId").and_then(Value::as_str) != Some(t.session_id) {
            changes.push(Change::Skipped("entry now holds another session".into()));
            continue;
        }
        if entry.get("status").and_then(Value::as_str) != Some("running") {
            changes.push(Change::Skipped(format!(
                "entry is now {}",
                entry.get("status").and_then(Value::as_str).unwrap_or("?")
            )));
            continue;
        }
        if t.updated_at.is_some() && entry.get("updatedAt").and_then(Value::as_i64) != t.updated_at
        {
            changes.push(Change::Skipped(
                "entry was updated since it was read".into(),
            ));
            continue;
        }
        end_entry(entry, now);
        changes.push(Change::Done {
            prior,
            new: Value::Object(entry.clone()),
        });
        any = true;
    }
    if !any {
        return Ok(FileWrite {
            changes,
            before,
            after: None,
        });
    }
    let after = render_like(&doc, &before);
    atomic_replace(path, &after)?;
    Ok(FileWrite {
        changes,
        before,
        after: Some(after),
    })
}

/// Serialize as JSON.stringify(doc, null, 2) does, keeping a final newline only if the
/// original had one.
pub fn render_like(doc: &Value, original: &[u8]) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(doc).unwrap_or_default();
    if original.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// Replace `path` with `bytes`: temp file in the same directory, same owner and mode,
/// fsync, rename, fsync the directory.
pub fn atomic_replace(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.sessionctl-{}.tmp", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        if meta.uid() != unsafe { libc::geteuid() } || meta.gid() != unsafe { libc::getegid() } {
            std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
        }
        // Errors of the last write() may only surface at close; sync_all reports them.
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(match e.kind() {
            std::io::ErrorKind::PermissionDenied => "permission denied; nothing was written".into(),
            std::io::ErrorKind::ReadOnlyFilesystem => {
                "read-only file system; nothing was written".into()
            }
            _ => format!("cannot write: {e}; nothing was written"),
        });
    }
    Ok(())
}

/// Undo of [`openclaw_entries_end`] for a whole file: when the file still holds exactly
/// what we wrote, put the old bytes back; otherwise restore each entry that still holds
/// our values.
pub fn openclaw_entries_restore(
    path: &Path,
    before: &[u8],
    after: &[u8],
    entries: &[(String, Value, Value)],
) -> Result<Vec<Change>, String> {
    let current = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if current == after {
        atomic_replace(path, before)?;
        return Ok(entries
            .iter()
            .map(|(_, p, n)| Change::Done {
                prior: n.clone(),
                new: p.clone(),
            })
            .collect());
    }
    let mut doc: Value =
        serde_json::from_slice(&current).map_err(|e| crate::backend::openclaw::json_msg(&e))?;
    let Value::Object(map) = &mut doc else {
        return Err("not a JSON object".into());
    };
    let mut out = Vec::new();
    let mut any = false;
    for (key, prior, new) in entries {
        match map.get_mut(key) {
            Some(e) if e == new => {
                *e = prior.clone();
                any = true;
                out.push(Change::Done {
                    prior: new.clone(),
                    new: prior.clone(),
                });
            }
            _ => out.push(Change::Skipped(
                "entry changed since it was ended; left alone".into(),
            )),
        }
    }
    if any {
        atomic_replace(path, &render_like(&doc, &current))?;
    }
    Ok(out)
}

/// Remove a dead owner's session lock, after re-reading it: it must still hold `expected`.
pub fn remove_lock(path: &Path, expected: &str) -> Result<Change, String> {
    match fs::read_to_string(path) {
        Ok(s) if s == expected => {
            fs::remove_file(path).map_err(|e| format!("cannot remove: {e}"))?;
            Ok(Change::Done {
                prior: json!(s),
                new: Value::Null,
            })
        }
        Ok(_) => Ok(Change::Skipped(
            "lock file changed since it was read".into(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Change::Skipped("lock file already gone".into()))
        }
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

/// Undo of [`remove_lock`]: put the lock back if nothing took its place.
pub fn restore_lock(path: &Path, content: &str) -> Result<Change, String> {
    if path.exists() {
        return Ok(Change::Skipped(
            "a lock file exists again; left alone".into(),
        ));
    }
    fs::write(path, content).map_err(|e| format!("cannot write: {e}"))?;
    Ok(Change::Done {
        prior: Value::Null,
        new: json!(content),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows whose prior was seen for the intent are ended by a guarded UPDATE; a row that
    /// changed since, or whose prior was not seen, is read in the transaction, and the
    /// outcome's prior is always what the row held when it was written.
    #[test]
    fn claude_mem_end_records_the_real_prior() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("claude-mem.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, status TEXT, completed_at TEXT, completed_at_epoch INTEGER);
             INSERT INTO sdk_sessions VALUES (1, 'active', NULL, NULL), (2, 'active', 'x', 7),
               (3, 'completed', 'y', 8), (4, 'active', NULL, NULL);",
        )
        .unwrap();
        drop(conn);
        let seen_active =
            json!({"status": "active", "completed_at": null, "completed_at_epoch": null});
        let now = 1_795_650_000_123;
        let out = claude_mem_end(
            &db,
            // Not in id order: the changes come back in the order asked.
            &[
                (3, Some(&seen_active)), // completed meanwhile
                (1, Some(&seen_active)), // unchanged since the intent
                (5, Some(&seen_active)), // gone
                (2, Some(&seen_active)), // completed_at changed since
                (4, None),               // prior never read
            ],
            now,
        )
        .unwrap();
        let out = [&out[1], &out[3], &out[0], &out[4], &out[2]]; // ids 1..=5
        let prior = |c: &Change| match c {
            Change::Done { prior, new } => {
                assert_eq!(new, &claude_mem_new(now));
                Some(prior.clone())
            }
            Change::Skipped(_) => None,
        };
        assert_eq!(prior(out[0]), Some(seen_active.clone()));
        assert_eq!(
            prior(out[1]),
            Some(json!({"status": "active", "completed_at": "x", "completed_at_epoch": 7}))
        );
        assert!(
            matches!(&out[2], Change::Skipped(w) if w == "row is now completed"),
            "{:?}",
            out[2]
        );
        assert_eq!(prior(out[3]), Some(seen_active));
        assert!(
            matches!(&out[4], Change::Skipped(w) if w == "row no longer exists"),
            "{:?}",
            out[4]
        );
        let conn = Connection::open(&db).unwrap();
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> = conn
            .prepare(
                "SELECT id, status, completed_at, completed_at_epoch FROM sdk_sessions ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let done = |id| (id, "completed".to_string(), Some(iso_ms(now)), Some(now));
        assert_eq!(
            rows,
            vec![
                done(1),
                done(2),
                (3, "completed".into(), Some("y".into()), Some(8)),
                done(4)
            ]
        );
    }

    #[test]
    fn render_matches_json_stringify_layout() {
        let src = b"{\n  \"a\": {\n    \"x\": 1,\n    \"list\": [],\n    \"o\": {}\n  }\n}";
        let v: Value = serde_json::from_slice(src).unwrap();
        assert_eq!(render_like(&v, src), src.to_vec());
    }

    #[test]
    fn atomic_replace_keeps_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        fs::write(&p, b"{}").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        atomic_replace(&p, b"{\"a\":1}").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"{\"a\":1}");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(
            fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
