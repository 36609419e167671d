//! Writing into SQLite stores, for every backend: one IMMEDIATE transaction per store,
//! as the owner of the store's directory, with one-line errors. What a backend writes is
//! its own (`backend/<name>/store.rs`); how it is written is shared here.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::fsx;

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

impl Change {
    /// What a guarded end of one row did: `n` rows changed (1: it held what the guard
    /// required, `prior`, and holds `new` now).
    pub fn ended(n: usize, prior: Value, new: &Value) -> Change {
        if n == 1 {
            Change::Done {
                prior,
                new: new.clone(),
            }
        } else {
            Change::Skipped("row changed meanwhile".into())
        }
    }

    /// What a guarded restore of one row did: `n` rows changed (1: it still held what the
    /// end wrote, `new`, and holds `prior` again).
    pub fn restored(n: usize, prior: &Value, new: &Value) -> Change {
        if n == 1 {
            Change::Done {
                prior: new.clone(),
                new: prior.clone(),
            }
        } else {
            Change::Skipped("row changed since it was ended; left alone".into())
        }
    }
}

pub fn open_rw(path: &Path) -> Result<Connection, String> {
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
    // A set-based UPDATE's id list and RETURNING rows are held in memory, not in a temp
    // file (SQLite's default spills them to one).
    c.pragma_update(None, "temp_store", "MEMORY")
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

/// Run `f` in one IMMEDIATE transaction on `db` (busy timeout [`WRITE_BUSY_TIMEOUT`]) and
/// commit — as the owner of the database's directory when root writes another user's
/// store, so every file SQLite creates beside it is that user's and nothing is done that
/// the owner could not do ([`fsx::as_owner`]). SQLite opens its sidecars `O_NOFOLLOW`.
pub fn in_tx<T: Send>(
    db: &Path,
    f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T> + Send,
) -> Result<T, String> {
    tx_on(db, false, f)
}

/// [`in_tx`] for a batch that ends many rows: the transaction is durable when this
/// returns (its WAL frames are synced at commit), but the connection is closed on a thread
/// of its own, so the WAL checkpoint that closing it runs (copying the batch's pages into
/// the database and syncing it, ~130 ms for 10k rows) overlaps the caller's journaling and
/// report instead of preceding them. The connection does not checkpoint at commit; it
/// checkpoints as it closes when it is the database's last, as SQLite always does, or
/// leaves that to the owner's next write. [`settle`] waits for every such close.
pub fn in_batch_tx<T: Send>(
    db: &Path,
    f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T> + Send,
) -> Result<T, String> {
    tx_on(db, true, f)
}

fn tx_on<T: Send>(
    db: &Path,
    close_later: bool,
    f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T> + Send,
) -> Result<T, String> {
    fsx::as_owner(owner_of(db)?, || {
        let mut conn = open_rw(db)?;
        if close_later {
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| write_msg(&e))?;
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| write_msg(&e))?;
        let v = f(&tx).map_err(|e| write_msg(&e))?;
        failpoint("mid-transaction");
        tx.commit().map_err(|e| write_msg(&e))?;
        if close_later {
            // Spawned from this thread, the closer has its identity: as the owner when
            // `as_owner` switched to one, so the WAL it removes is removed as the owner.
            // The batch is committed: when no thread can be made (the owner's process
            // limit), the closure is dropped, and the connection is closed here.
            if let Ok(closer) = std::thread::Builder::new().spawn(move || {
                fsx::test_pause("closing-batch");
                drop(conn)
            }) {
                CLOSING
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(closer);
            }
        }
        Ok(v)
    })?
}

/// Connections of committed batches, still closing (see [`in_batch_tx`]).
static CLOSING: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

/// Wait until every batch connection is closed (its checkpoint done). A run calls it
/// before it lets go of the store locks and before the process exits.
pub fn settle() {
    let closing = std::mem::take(&mut *CLOSING.lock().unwrap_or_else(|e| e.into_inner()));
    for c in closing {
        let _ = c.join();
    }
}

/// Who writes into the directory that holds `path` (see [`fsx::write_identity`]).
pub fn owner_of(path: &Path) -> Result<Option<fsx::Owner>, String> {
    fsx::write_identity(path.parent().unwrap_or(Path::new(".")))
}

/// Roll back what a writer that died mid-transaction left in a hot journal, as any
/// SQLite writer opening the database would; `close` does this before it reads.
pub fn recover_hot_journal(db: &Path) -> Result<bool, String> {
    if crate::backend::hot_journal(db).is_none() {
        return Ok(false);
    }
    in_tx(db, |tx| {
        tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
    })?;
    Ok(true)
}

/// Abort the process at a named step, to prove a re-run finishes the job. Test builds
/// only: release builds ignore `SESSIONCTL_FAILPOINT`.
pub fn failpoint(name: &str) {
    if cfg!(debug_assertions) && std::env::var("SESSIONCTL_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("sessionctl: failpoint {name}: aborting");
        std::process::abort();
    }
}
