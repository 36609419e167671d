//! OpenClaw store repairs: the writes a clean shutdown (or the gateway's own recovery)
//! would have made, and their exact reversal for `journal undo`. Every write is guarded so
//! that a record that changed since it was read is left alone and reported.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use crate::backend::write::{in_batch_tx, in_tx, owner_of, Change};
use crate::fsx;

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
    in_batch_tx(db, |tx| {
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

/// One sessions.json entry to end: the entry must still be running with this sessionId
/// and the updatedAt seen when it was classified.
pub struct EntryTarget<'a> {
    pub session_key: &'a str,
    pub session_id: &'a str,
    pub updated_at: Option<i64>,
}

/// What a file-store write did: per-entry changes plus the bytes before and after, so
/// undo can restore the file byte for byte.
pub type FileWrite = FileWriteOf<Change>;

/// Mark sessions.json entries ended as 2026.7's restart recovery does (`status: failed`,
/// `abortedLastRun: true`, `endedAt` = `updatedAt` = now) and write the file atomically,
/// keeping its owner and mode. Only the ended entries are parsed and re-rendered (in
/// OpenClaw's own layout, `JSON.stringify(store, null, 2)`); every other byte of the file
/// is copied as it was, so memory stays near twice the file's size however large the
/// store. Other writers win: see [`rewrite_store`].
pub fn openclaw_entries_end(
    path: &Path,
    targets: &[EntryTarget],
    now: i64,
) -> Result<FileWrite, String> {
    rewrite_store(path, |before| {
        let members = top_members(before)?;
        let mut changes = Vec::new();
        let mut edits = Vec::new();
        for t in targets {
            let Some(range) = member(&members, t.session_key) else {
                changes.push(Change::Skipped("entry no longer in sessions.json".into()));
                continue;
            };
            let Ok(Value::Object(mut entry)) =
                serde_json::from_slice::<Value>(&before[range.clone()])
            else {
                changes.push(Change::Skipped("entry is no longer an object".into()));
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
            if t.updated_at.is_some()
                && entry.get("updatedAt").and_then(Value::as_i64) != t.updated_at
            {
                changes.push(Change::Skipped(
                    "entry was updated since it was read".into(),
                ));
                continue;
            }
            end_entry(&mut entry, now);
            let new = Value::Object(entry);
            edits.push((range, render_member(&new)));
            changes.push(Change::Done { prior, new });
        }
        Ok(((!edits.is_empty()).then(|| splice(before, edits)), changes))
    })
}

/// A member's value: where it is in the document.
type Members = Vec<(String, std::ops::Range<usize>)>;

/// The top-level members of a JSON object document: each key with the byte range of its
/// value, in file order. Only keys are copied; values are borrowed as raw text.
fn top_members(doc: &[u8]) -> Result<Members, String> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};
    struct Collect<'a>(&'a [u8]);
    impl<'de> Visitor<'de> for Collect<'de> {
        type Value = Members;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Members, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                let raw: &'de serde_json::value::RawValue = m.next_value()?;
                let start = raw.get().as_ptr() as usize - self.0.as_ptr() as usize;
                out.push((k, start..start + raw.get().len()));
            }
            Ok(out)
        }
    }
    if doc.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("not a JSON object".into());
    }
    let mut de = serde_json::Deserializer::from_slice(doc);
    de.deserialize_map(Collect(doc))
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| crate::backend::openclaw::json_msg(&e))
}

/// A sessions.json read once, its entries parsed one at a time as they are asked for
/// (a large store is never held as a whole parsed document).
pub struct FileEntries {
    bytes: Vec<u8>,
    members: Members,
}

impl FileEntries {
    pub fn read(path: &Path) -> Option<FileEntries> {
        let bytes = std::fs::read(path).ok()?;
        let members = top_members(&bytes).ok()?;
        Some(FileEntries { bytes, members })
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        let r = member(&self.members, key)?;
        serde_json::from_slice(&self.bytes[r]).ok()
    }
}

/// The value range of member `key` (the last one, as `JSON.parse` keeps it).
fn member(members: &Members, key: &str) -> Option<std::ops::Range<usize>> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, r)| r.clone())
}

/// A member value as `JSON.stringify(store, null, 2)` lays it out one level deep (JSON
/// strings hold no raw newline, so every newline is layout).
fn render_member(v: &Value) -> Vec<u8> {
    let flat = serde_json::to_vec_pretty(v).unwrap_or_default();
    let mut out = Vec::with_capacity(flat.len() + flat.len() / 8);
    for b in flat {
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(b"  ");
        }
    }
    out
}

/// `doc` with each range replaced by its bytes (ranges in any order, not overlapping).
fn splice(doc: &[u8], mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)>) -> Vec<u8> {
    edits.sort_by_key(|(r, _)| r.start);
    edits.dedup_by(|a, b| a.0.start == b.0.start);
    let grow: usize = edits.iter().map(|(_, b)| b.len()).sum();
    let mut out = Vec::with_capacity(doc.len() + grow);
    let mut at = 0;
    for (r, bytes) in edits {
        out.extend_from_slice(&doc[at..r.start]);
        out.extend_from_slice(&bytes);
        at = r.end;
    }
    out.extend_from_slice(&doc[at..]);
    out
}

/// How often a rewrite is redone on fresh content when another writer changed the file
/// between our read and our rename.
const REWRITE_ATTEMPTS: usize = 5;

/// Rewrite a JSON store file that other processes write too (the gateway, `openclaw
/// agent`'s embedded run): as the directory's owner when root works on another user's
/// state ([`fsx::as_owner`]); under OpenClaw's own store lock (`<file>.lock`, taken as
/// the gateway takes it); and as a compare-and-swap of the whole file — `edit` sees the
/// current bytes, and when the file changed between that read and the rename (another
/// writer that does not take the lock), the edit is redone on the fresh content. The temp
/// file has an unpredictable name and is created `O_EXCL|O_NOFOLLOW` in the directory fd.
/// `edit` returns the new bytes (None: nothing to write) and what it did.
fn rewrite_store<R: Send>(
    path: &Path,
    edit: impl Fn(&[u8]) -> Result<(Option<Vec<u8>>, Vec<R>), String> + Sync,
) -> Result<FileWriteOf<R>, String> {
    let (dir_path, name) = split(path)?;
    fsx::as_owner(owner_of(path)?, || {
        let dir =
            fsx::Dir::open(dir_path).map_err(|e| io_write_msg(&e, "cannot open its directory"))?;
        let _lock = StoreLock::acquire(&dir, &name)?;
        for _ in 0..REWRITE_ATTEMPTS {
            let (before, seen) = read_regular(&dir, &name)?;
            let (after, changes) = edit(&before)?;
            let Some(after) = after else {
                return Ok(FileWriteOf {
                    changes,
                    before,
                    after: None,
                });
            };
            let keep_owner = (seen.uid() != fsx::euid() || seen.gid() != fsx::egid())
                .then_some((seen.uid(), seen.gid()));
            let res = dir.replace(&name, &after, seen.mode() & 0o7777, keep_owner, || {
                fsx::test_pause("before-rename");
                match dir.lstat(&name) {
                    Ok(now) if same_version(&now, &seen) => Ok(()),
                    _ => Err(std::io::Error::other(CHANGED)),
                }
            });
            match res {
                Ok(()) => {
                    return Ok(FileWriteOf {
                        changes,
                        before,
                        after: Some(after),
                    })
                }
                Err(e) if e.to_string() == CHANGED => continue,
                Err(e) => return Err(io_write_msg(&e, "cannot write")),
            }
        }
        Err(format!(
            "the file kept changing while it was rewritten ({REWRITE_ATTEMPTS} attempts); nothing was written"
        ))
    })?
}

const CHANGED: &str = "changed by another writer";

/// What a file-store write did: per-entry changes plus the bytes before and after.
pub struct FileWriteOf<R> {
    pub changes: Vec<R>,
    pub before: Vec<u8>,
    pub after: Option<Vec<u8>>,
}

/// Same file, same size, same modification: nobody wrote it since `seen`.
fn same_version(now: &libc::stat, seen: &std::fs::Metadata) -> bool {
    now.st_ino == seen.ino()
        && now.st_dev == seen.dev()
        && now.st_size as u64 == seen.size()
        && now.st_mtime == seen.mtime()
        && now.st_mtime_nsec == seen.mtime_nsec()
        && now.st_ctime == seen.ctime()
        && now.st_ctime_nsec == seen.ctime_nsec()
}

fn split(path: &Path) -> Result<(&Path, std::ffi::OsString), String> {
    let name = path
        .file_name()
        .ok_or_else(|| "not a file path".to_string())?
        .to_os_string();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((dir, name))
}

/// Read a store file through the directory fd: never through a link, only a regular file.
fn read_regular(
    dir: &fsx::Dir,
    name: &std::ffi::OsStr,
) -> Result<(Vec<u8>, std::fs::Metadata), String> {
    let mut f = dir
        .open_read(name)
        .map_err(|e| io_write_msg(&e, "cannot read"))?;
    let m = f.metadata().map_err(|e| io_write_msg(&e, "cannot stat"))?;
    if !m.file_type().is_file() {
        return Err("not a regular file; nothing was written".into());
    }
    let mut buf = Vec::with_capacity(m.len() as usize);
    use std::io::Read;
    f.read_to_end(&mut buf)
        .map_err(|e| io_write_msg(&e, "cannot read"))?;
    Ok((buf, m))
}

fn io_write_msg(e: &std::io::Error, what: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied; nothing was written".into(),
        std::io::ErrorKind::ReadOnlyFilesystem => {
            "read-only file system; nothing was written".into()
        }
        _ if e.raw_os_error() == Some(libc::ELOOP) => {
            "is a symlink; sessionctl does not write through links; nothing was written".into()
        }
        _ => format!("{what}: {e}; nothing was written"),
    }
}

/// OpenClaw's own lock on a session store (`sessions.json.lock`, created exclusively with
/// `{pid, startedAt}`, polled every 25 ms for up to 10 s, taken over when older than 30 s
/// — what the gateway's `withSessionStoreLock` does), so the gateway and its clients wait
/// for our write as they wait for each other's.
struct StoreLock<'d> {
    dir: &'d fsx::Dir,
    name: std::ffi::OsString,
}

const STORE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);
const STORE_LOCK_STALE: Duration = Duration::from_secs(30);

impl<'d> StoreLock<'d> {
    fn acquire(dir: &'d fsx::Dir, store: &std::ffi::OsStr) -> Result<StoreLock<'d>, String> {
        let mut name = store.to_os_string();
        name.push(".lock");
        let start = std::time::Instant::now();
        loop {
            // The gateway's own fields, plus what lets the next sessionctl tell that a lock
            // of a killed sessionctl is dead. The lock appears with its content or not at
            // all: a kill can never leave an empty lock nobody can judge.
            let me = std::process::id();
            let body = json!({
                "pid": me,
                "startedAt": crate::timefmt::now_ms(),
                "writer": "sessionctl",
                "starttime": crate::probe::proc_starttime(i64::from(me)),
                "bootId": boot_id(),
            });
            match dir.create_new_with(&name, body.to_string().as_bytes(), 0o600) {
                Ok(()) => return Ok(StoreLock { dir, name }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = dir.lstat(&name).ok().is_some_and(|st| {
                        let age_s = crate::timefmt::now_ms() / 1000 - st.st_mtime;
                        st.st_mode & libc::S_IFMT == libc::S_IFREG
                            && age_s > STORE_LOCK_STALE.as_secs() as i64
                    }) || left_by_dead_sessionctl(dir, &name);
                    if stale {
                        let _ = dir.unlink(&name);
                        continue;
                    }
                    if start.elapsed() > STORE_LOCK_TIMEOUT {
                        return Err(format!(
                            "{} is held by another writer (waited {} s); nothing was written",
                            name.to_string_lossy(),
                            STORE_LOCK_TIMEOUT.as_secs()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => return Err(io_write_msg(&e, "cannot take the store lock")),
            }
        }
    }
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// A store lock a sessionctl wrote in this boot whose process is gone (killed mid-write):
/// nobody holds it. Locks of other writers are left to OpenClaw's own rule (30 s old).
fn left_by_dead_sessionctl(dir: &fsx::Dir, name: &std::ffi::OsStr) -> bool {
    let Ok(f) = dir.open_read(name) else {
        return false;
    };
    let mut text = String::new();
    use std::io::Read;
    if f.take(4096).read_to_string(&mut text).is_err() {
        return false;
    }
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    let (Some(pid), Some(st)) = (v["pid"].as_i64(), v["starttime"].as_u64()) else {
        return false;
    };
    v["writer"] == "sessionctl"
        && v["bootId"].as_str().is_some()
        && v["bootId"].as_str().map(String::from) == boot_id()
        && crate::probe::proc_starttime(pid) != Some(st)
}

impl Drop for StoreLock<'_> {
    fn drop(&mut self) {
        let _ = self.dir.unlink(&self.name);
    }
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
    let w = rewrite_store(path, |current| {
        if current == after {
            return Ok((
                Some(before.to_vec()),
                entries
                    .iter()
                    .map(|(_, p, n)| Change::Done {
                        prior: n.clone(),
                        new: p.clone(),
                    })
                    .collect(),
            ));
        }
        let members = top_members(current)?;
        let mut out = Vec::new();
        let mut edits = Vec::new();
        for (key, prior, new) in entries {
            let holds_ours = member(&members, key).filter(|r| {
                serde_json::from_slice::<Value>(&current[r.clone()]).is_ok_and(|v| &v == new)
            });
            match holds_ours {
                Some(r) => {
                    edits.push((r, render_member(prior)));
                    out.push(Change::Done {
                        prior: new.clone(),
                        new: prior.clone(),
                    });
                }
                None => out.push(Change::Skipped(
                    "entry changed since it was ended; left alone".into(),
                )),
            }
        }
        Ok(((!edits.is_empty()).then(|| splice(current, edits)), out))
    })?;
    Ok(w.changes)
}

/// Remove a dead owner's session lock, after re-reading it (never through a link, as the
/// directory's owner): it must still hold `expected`.
pub fn remove_lock(path: &Path, expected: &str) -> Result<Change, String> {
    let (dir_path, name) = split(path)?;
    fsx::as_owner(owner_of(path)?, || {
        let dir = match fsx::Dir::open(dir_path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Change::Skipped("lock file already gone".into()))
            }
            Err(e) => return Err(format!("cannot open its directory: {e}")),
        };
        let text = match dir.open_read(&name) {
            Ok(mut f) => {
                let regular = f
                    .metadata()
                    .map(|m| m.file_type().is_file())
                    .unwrap_or(false);
                if !regular {
                    return Ok(Change::Skipped("not a regular file; left alone".into()));
                }
                let mut s = String::new();
                use std::io::Read;
                match f.read_to_string(&mut s) {
                    Ok(_) => s,
                    Err(_) => {
                        return Ok(Change::Skipped(
                            "lock file changed since it was read".into(),
                        ))
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Change::Skipped("lock file already gone".into()))
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Ok(Change::Skipped("a symlink now; left alone".into()))
            }
            Err(e) => return Err(format!("cannot read: {e}")),
        };
        if text != expected {
            return Ok(Change::Skipped(
                "lock file changed since it was read".into(),
            ));
        }
        dir.unlink(&name)
            .map_err(|e| format!("cannot remove: {e}"))?;
        Ok(Change::Done {
            prior: json!(text),
            new: Value::Null,
        })
    })?
}

/// Undo of [`remove_lock`]: put the lock back (created exclusively, never through a link,
/// as the directory's owner) if nothing took its place.
pub fn restore_lock(path: &Path, content: &str) -> Result<Change, String> {
    let (dir_path, name) = split(path)?;
    fsx::as_owner(owner_of(path)?, || {
        let dir =
            fsx::Dir::open(dir_path).map_err(|e| format!("cannot open its directory: {e}"))?;
        match dir.create_new(&name, fsx::PRIVATE_FILE) {
            Ok(mut f) => {
                f.write_all(content.as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| format!("cannot write: {e}"))?;
                Ok(Change::Done {
                    prior: Value::Null,
                    new: json!(content),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Change::Skipped(
                "a lock file (or a link) exists again; left alone".into(),
            )),
            Err(e) => Err(format!("cannot write: {e}")),
        }
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ending one entry rewrites only that entry, in the layout JSON.stringify(store,
    /// null, 2) gives the whole store; every other byte stays, duplicate keys included.
    #[test]
    fn an_edited_entry_is_laid_out_as_the_gateway_lays_out_the_store() {
        let doc = json!({
            "agent:main:a": {"x": 1, "list": [], "o": {}, "s": "done"},
            "agent:main:b": {"sessionId": "b1", "status": "running", "nested": {"k": [1, 2]}},
        });
        let src = serde_json::to_vec_pretty(&doc).unwrap();
        let members = top_members(&src).unwrap();
        let r = member(&members, "agent:main:b").unwrap();
        let mut entry: Value = serde_json::from_slice(&src[r.clone()]).unwrap();
        entry["status"] = json!("failed");
        let out = splice(&src, vec![(r, render_member(&entry))]);
        let mut want = doc.clone();
        want["agent:main:b"]["status"] = json!("failed");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(serde_json::to_vec_pretty(&want).unwrap()).unwrap()
        );
        assert_eq!(top_members(b"[1]").unwrap_err(), "not a JSON object");
        let dup = br#"{"k": 1, "k": {"v": 2}}"#;
        let m = top_members(dup).unwrap();
        assert_eq!(&dup[member(&m, "k").unwrap()], br#"{"v": 2}"#);
    }

    #[test]
    fn rewrite_keeps_mode_and_leaves_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        std::fs::write(&p, b"{}").unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
        let w = rewrite_store(&p, |b| {
            assert_eq!(b, b"{}");
            Ok((Some(b"{\"a\":1}".to_vec()), vec![()]))
        })
        .unwrap();
        assert_eq!(w.before, b"{}");
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"a\":1}");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temp file and no store lock left"
        );
    }

    /// Another writer changes the file between our read and our rename: the edit is redone
    /// on its content, so its update survives.
    #[test]
    fn rewrite_redoes_the_edit_when_another_writer_got_there_first() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        std::fs::write(&p, b"1").unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let w = rewrite_store(&p, |b| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                // A writer that does not take the store lock replaces the file meanwhile.
                std::fs::write(d.path().join("other"), b"2").unwrap();
                std::fs::rename(d.path().join("other"), &p).unwrap();
            }
            let mut v = b.to_vec();
            v.push(b'+');
            Ok((Some(v), vec![()]))
        })
        .unwrap();
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(w.before, b"2");
        assert_eq!(std::fs::read(&p).unwrap(), b"2+");
    }
}
