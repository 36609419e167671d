//! `close`: plan, re-check, journal, repair stores and deliver `session_end` payloads.
//!
//! Order of work, so a crash at any point can be finished by a re-run:
//! 1. resume: intents of earlier runs without an outcome are finished or settled;
//! 2. re-check: the host is scanned again right before acting; sessions that changed or
//!    came back to life are skipped;
//! 3. an `intent` line for every action is made durable;
//! 4. store writes (one transaction or one atomic file write per store);
//! 5. hook deliveries, concurrently; a target that recorded success is never sent to again.

mod execute;
mod payload;
mod plan;
pub mod recover;
mod undo;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::backend::linked::RowEnd;
pub use crate::backend::write::failpoint;
use crate::journal::{Kind, SessionRef};
use crate::model::{Session, VerdictKind};

pub use execute::{execute, Ctx};
pub use plan::{fill_priors, plan, recheck, select};

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub ids: Vec<String>,
    pub include_stale: bool,
    pub force: bool,
    /// `--reason`, else `restart`/`shutdown` from the host.
    pub reason: Option<String>,
}

/// Can this record be closed under these flags? Err says why not.
pub fn eligible(s: &Session, sel: &Selection, named: bool) -> Result<(), String> {
    if let Some(why) = crate::backend::never_closed(s) {
        return Err(why.into());
    }
    match s.verdict {
        VerdictKind::Orphan => Ok(()),
        VerdictKind::Live => Err(format!(
            "it is live ({}); live sessions are never closed",
            s.summary
        )),
        VerdictKind::Stale if sel.include_stale => Ok(()),
        VerdictKind::Stale => Err("it is stale, not an orphan (use --include-stale)".into()),
        VerdictKind::Unknown if sel.force && named => Ok(()),
        VerdictKind::Unknown => Err(format!(
            "its verdict is unknown ({}); only --force with its id closes it",
            s.summary
        )),
        VerdictKind::Delivered => Err(format!("nothing left to do: {}", s.summary)),
        VerdictKind::Owed => Ok(()),
    }
}

/// One planned action.
#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub kind: Kind,
    pub session: SessionRef,
    pub op: Op,
    /// Human description for dry runs and reports.
    pub describe: String,
    /// Values read at plan time (for the intent line).
    pub prior: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Debug, Clone)]
pub enum Op {
    /// End a linked row by its backend's [`crate::backend::linked::RowStore`].
    RowEnd(RowEnd),
    OpenclawEntry {
        file: PathBuf,
        key: String,
        sid: String,
        updated_at: Option<i64>,
    },
    OpenclawRow {
        db: PathBuf,
        key: String,
        sid: String,
    },
    LockRemove {
        path: PathBuf,
        content: String,
    },
    Deliver {
        target: usize,
    },
    /// Nothing written: the store belongs to the live gateway `pid` (journaled).
    LeaveToGateway {
        pid: i64,
    },
    /// Nothing written: the session_end that dead gateway `pid` owed (journaled).
    EndOwed {
        pid: i64,
    },
}

/// Everything `close` will do for one session group.
#[derive(Debug, Clone)]
pub struct Item {
    pub group: String,
    pub sessions: Vec<Session>,
    pub payload: Option<Value>,
    pub actions: Vec<Action>,
    /// Stores deliberately left alone, with why.
    pub notes: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Named sessions that will not be closed, with why.
    pub refused: Vec<(String, String)>,
}

fn sref(s: &Session) -> SessionRef {
    SessionRef {
        backend: s.backend.name().into(),
        id: s.id.clone(),
        session_key: s.session_key.clone(),
    }
}

/// The result of one action, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    pub action: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub ok: bool,
    pub skipped: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    pub group: String,
    pub sessions: Vec<SessionRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    pub actions: Vec<ActionResult>,
    pub notes: Vec<String>,
    /// All actions succeeded (deliveries already made by an earlier run count).
    pub closed: bool,
}

/// The journal records that settle a session's session_end once its deliveries landed:
/// its end-owed record, the store write that ended it, or leaving it to its gateway.
pub fn settling_records(store: &Path, key: &str, sid: &str) -> Vec<String> {
    vec![
        end_owed_id(store, key, sid),
        entry_end_id(store, key, sid),
        row_end_id(store, key, sid),
        left_to_gateway_id(store, key, sid),
    ]
}

/// The journal action that ends a sessions.json entry.
fn entry_end_id(store: &Path, key: &str, sid: &str) -> String {
    format!("openclaw-entry-end:{}:{key}:{sid}", store.display())
}

/// The journal action that ends a SQLite store's session rows.
fn row_end_id(store: &Path, key: &str, sid: &str) -> String {
    format!("openclaw-row-end:{}:{key}:{sid}", store.display())
}

/// The journal action that records an owed session_end as handled by a run.
pub fn end_owed_id(store: &Path, key: &str, sid: &str) -> String {
    format!("end-owed:{}:{key}:{sid}", store.display())
}

/// The journal action that records an OpenClaw session's store as left to its live
/// gateway; the scan reads it back to call the session `delivered`.
pub fn left_to_gateway_id(store: &Path, key: &str, sid: &str) -> String {
    format!("left-to-gateway:{}:{key}:{sid}", store.display())
}

/// A stable key for one delivery (the same session to the same target, in any run):
/// `sessionctl-` and 16 hex digits of FNV-1a over the action id.
pub fn delivery_key(action: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in action.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("sessionctl-{h:016x}")
}
