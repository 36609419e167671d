//! The records every backend produces and the verdicts the classifier gives them.
//! These types are serialized as-is into `--format json|ndjson`; field names are stable.

use std::path::PathBuf;

use serde::Serialize;

use crate::timefmt;

pub use crate::backend::{Backend, Detail, StoreKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    Orphan,
    Stale,
    Unknown,
    Live,
    /// An orphan whose `session_end` a `close` run delivered, while its store is left to
    /// the live gateway that owns it: nothing is left to do, and it is not counted as an
    /// orphan (so `check`, the alert and `close` go quiet after one successful run).
    Delivered,
    /// Finished or ended in the store (so not an orphan), but its turns ran in a gateway
    /// that died without a clean stop: the session_end that stop sends is owed, and
    /// `close` delivers it (nothing is written to the store).
    Owed,
}

impl VerdictKind {
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Live => "live",
            VerdictKind::Orphan => "orphan",
            VerdictKind::Stale => "stale",
            VerdictKind::Unknown => "unknown",
            VerdictKind::Delivered => "delivered",
            VerdictKind::Owed => "owed",
        }
    }
}

/// Why a verdict was given. Orphan reasons are the ones of DESIGN §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    // orphan
    /// A lock or pid file names a pid that is not running.
    OwnerDead,
    /// The pid named by a lock runs, but /proc says it started at another time.
    PidReused,
    /// A gateway runs for the state dir, but it started after the session's last activity
    /// and holds no lock on it.
    GatewayRestarted,
    /// No gateway runs for the state dir and no lock names one.
    GatewayGone,
    /// The session's last activity (or its owner's lock) predates this boot.
    Rebooted,
    /// A linked row: the backend's worker that held the row is not running.
    WorkerDead,
    /// A linked row: a worker runs, but started after the row's last activity.
    WorkerRestarted,
    /// A linked row (any linked-row backend): the linked OpenClaw session has ended or is itself
    /// an orphan.
    UpstreamEnded,
    // live / stale
    /// The process named by the session's lock runs with the recorded start time.
    OwnerAlive,
    /// A gateway that started before the session's last activity runs for its state dir.
    GatewayAlive,
    /// A linked row: the linked OpenClaw session is live.
    UpstreamLive,
    /// A linked row: a worker that started before the row's last activity runs.
    WorkerAlive,
    // unknown
    /// A linked-row backend's own bookkeeping row (`observer-sessions`): never an orphan.
    ObserverSession,
    /// A linked row whose content id or key column names no OpenClaw session: no owner
    /// sessionctl can check.
    NotOpenclaw,
    /// An owner may be alive but cannot be verified (no /proc, unreadable process).
    Unverifiable,
    /// A gateway started moments ago; its restart recovery may still claim the session.
    RecoveryPending,
    /// 2026.9: interrupted and waiting its turn in the live gateway's restart recovery.
    RecoveryQueued,
    /// Finished or ended in the store, but its turns ran in a gateway that died without
    /// a clean stop: the session_end that stop would have sent is owed.
    EndOwed,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::OwnerDead => "owner-dead",
            Reason::PidReused => "pid-reused",
            Reason::GatewayRestarted => "gateway-restarted",
            Reason::GatewayGone => "gateway-gone",
            Reason::Rebooted => "rebooted",
            Reason::WorkerDead => "worker-dead",
            Reason::WorkerRestarted => "worker-restarted",
            Reason::UpstreamEnded => "upstream-ended",
            Reason::OwnerAlive => "owner-alive",
            Reason::GatewayAlive => "gateway-alive",
            Reason::UpstreamLive => "upstream-live",
            Reason::WorkerAlive => "worker-alive",
            Reason::ObserverSession => "observer-session",
            Reason::NotOpenclaw => "not-openclaw",
            Reason::Unverifiable => "unverifiable",
            Reason::RecoveryPending => "recovery-pending",
            Reason::RecoveryQueued => "recovery-queued",
            Reason::EndOwed => "end-owed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub reason: Reason,
    /// One human sentence explaining the verdict.
    pub summary: String,
}

impl Verdict {
    pub fn new(kind: VerdictKind, reason: Reason, summary: impl Into<String>) -> Self {
        Verdict {
            kind,
            reason,
            summary: summary.into(),
        }
    }
}

/// What a pid check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PidState {
    /// Running, and its start time matches the recorded one.
    Alive,
    /// Running, but no start time was recorded or could be read to confirm it is the same process.
    AliveUnverified,
    /// Running with a different start time: the pid belongs to another process now.
    Reused,
    /// Not running.
    Dead,
    /// Not a usable pid (0, 1, negative or huge).
    Invalid,
    /// Not running as far as sessionctl can see, but sessionctl cannot see every process:
    /// it runs in a pid namespace of its own (a container), and the pid may belong to a
    /// process of another namespace. Never evidence of death.
    Unseen,
}

/// One piece of host or store evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Evidence {
    /// `session-lock`, `gateway-lock`, `gateway-lease`, `gateway-process`, `gateway-health`,
    /// `worker-pid-file`, `worker-process`, `worker-health`, `boot`, `session-file`, `upstream`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    /// Start time as recorded (clock ticks since boot, /proc/<pid>/stat field 22).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PidState>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::ser_opt_ms"
    )]
    pub at: Option<i64>,
    pub note: String,
}

/// A stored path (such as `sessionFile`) and what sessionctl made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPath {
    /// The path exactly as stored.
    pub stored: String,
    /// True when the path resolves inside the state dir; paths outside are never followed.
    pub inside_state_dir: bool,
    /// True when the path is inside the state dir and the file exists.
    pub exists: bool,
}

/// A session lock file (`<sessionId>.jsonl.lock`) as found on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockFile {
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starttime: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "timefmt::ser_opt_ms"
    )]
    pub created_at: Option<i64>,
    /// Set when the file could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenclawDetail {
    pub state_dir: PathBuf,
    pub agent_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_file: Option<StoredPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The entry's own `updatedAt`, as read: a write is refused if it changed since.
    #[serde(skip)]
    pub updated_at: Option<i64>,
    /// A session_end owed by a gateway lifetime that ended without a clean stop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owed: Option<OwedBy>,
    /// Pid of the gateway whose clean stop already sent this session's session_end
    /// (the store was left `running` all the same): the store is repaired, nothing is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drained_by: Option<i64>,
}

/// The gateway lifetime that owes a session's session_end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwedBy {
    pub pid: i64,
    #[serde(serialize_with = "timefmt::ser_ms")]
    pub started_at: i64,
    /// A later gateway took over the state dir: the payload says `restart`.
    pub successor: bool,
}

/// One session that a backend considers active, with its verdict once classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub backend: Backend,
    /// OpenClaw: the sessionId. A linked row: its row id (sql: `<entry>:<row id>`).
    pub id: String,
    /// OpenClaw: the session key. A linked row: the OpenClaw key the row links to.
    pub session_key: Option<String>,
    /// A linked row's content session id, where its backend keeps one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_session_id: Option<String>,
    pub status: String,
    pub store: PathBuf,
    pub store_kind: StoreKind,
    #[serde(serialize_with = "timefmt::ser_opt_ms")]
    pub started_at: Option<i64>,
    #[serde(serialize_with = "timefmt::ser_opt_ms")]
    pub last_activity_at: Option<i64>,
    pub verdict: VerdictKind,
    pub reason: Reason,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub detail: Detail,
}

impl Session {
    pub fn set_verdict(&mut self, v: Verdict) {
        self.verdict = v.kind;
        self.reason = v.reason;
        self.summary = v.summary;
    }
}

/// A backend that could not be read, or a record that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub backend: Backend,
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.backend.name(),
            self.path.display(),
            self.message
        )
    }
}
