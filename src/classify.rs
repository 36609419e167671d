//! The classifier: a pure function of (session facts, owner evidence, host facts, now,
//! options) to a verdict with its evidence. No I/O happens here, so every rule is
//! unit-tested without a host. When the evidence does not prove an orphan, the answer is
//! `live` or `unknown`, never `orphan`.

use std::path::PathBuf;

use crate::model::{Evidence, PidState, Reason, Verdict, VerdictKind};
use crate::timefmt::{human_age, iso_ms};

/// A live owner's restart recovery may still claim a session this long after it started.
pub const RECOVERY_GRACE_MS: i64 = 120_000;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `--idle`: a session with a living owner and no activity for longer is `stale`.
    pub idle_ms: i64,
    pub recovery_grace_ms: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idle_ms: 6 * 3600 * 1000,
            recovery_grace_ms: RECOVERY_GRACE_MS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct HostFacts {
    pub now_ms: i64,
    pub btime_ms: Option<i64>,
}

/// A file or record that names an owner process: a lock, a lease, a pid file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Evidence kind: `session-lock`, `gateway-lock`, `gateway-lease`, `worker-pid-file`.
    pub kind: &'static str,
    pub path: Option<PathBuf>,
    pub pid: i64,
    pub starttime: Option<u64>,
    /// When the claim was written (epoch ms), if recorded.
    pub created_ms: Option<i64>,
    /// What the host says about the pid now.
    pub state: PidState,
    /// Wall-clock start of the owner, from its recorded start time (Alive claims).
    pub owner_start_ms: Option<i64>,
}

/// A running process of the right kind (gateway or worker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningOwner {
    pub kind: &'static str,
    pub pid: i64,
    pub start_ms: Option<i64>,
    pub path: Option<PathBuf>,
}

/// Everything known about the owners (gateways of a state dir, or the workers of a
/// linked-row backend's data dir).
#[derive(Debug, Clone, Default)]
pub struct OwnerFacts {
    /// Locks, leases or pid files naming owners of this dir.
    pub claims: Vec<Claim>,
    /// Processes verified to run for this dir.
    pub running: Vec<RunningOwner>,
    /// Signs of an owner that cannot be verified or attributed (a process whose dir cannot
    /// be read, a health endpoint that answers without a checkable pid, no /proc).
    pub unverified: Vec<String>,
    /// The state dir (or data dir) these facts are about, for evidence that names it.
    pub dir: Option<PathBuf>,
}

impl OwnerFacts {
    /// Verified living owners: running processes plus claims whose pid and start time match.
    pub fn live(&self) -> Vec<RunningOwner> {
        let mut out = self.running.clone();
        for c in &self.claims {
            if c.state == PidState::Alive && !out.iter().any(|o| o.pid == c.pid) {
                out.push(RunningOwner {
                    kind: c.kind,
                    pid: c.pid,
                    start_ms: c.owner_start_ms,
                    path: c.path.clone(),
                });
            }
        }
        out
    }

    pub(crate) fn unverified_notes(&self) -> Vec<String> {
        let mut notes = self.unverified.clone();
        for c in &self.claims {
            let by = || {
                c.path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| c.kind.to_string())
            };
            match c.state {
                PidState::AliveUnverified => notes.push(format!(
                    "pid {} named by {} runs, but its start time cannot be checked",
                    c.pid,
                    by()
                )),
                PidState::Unseen => notes.push(format!(
                    "pid {} named by {} may run in a pid namespace sessionctl cannot see",
                    c.pid,
                    by()
                )),
                _ => {}
            }
        }
        notes
    }
}

pub fn claim_evidence(c: &Claim) -> Evidence {
    let note = match c.state {
        PidState::Alive => format!("pid {} runs with the recorded start time", c.pid),
        PidState::AliveUnverified => format!("pid {} runs; start time not verifiable", c.pid),
        PidState::Unseen => format!(
            "pid {} is not running in sessionctl's pid namespace, which is not the host's: it may run in another",
            c.pid
        ),
        PidState::Reused => format!(
            "pid {} runs, but with another start time than the recorded {}: a different process",
            c.pid,
            c.starttime.map(|s| s.to_string()).unwrap_or_default()
        ),
        PidState::Dead => format!("pid {} is not running", c.pid),
        PidState::Invalid => format!("pid {} is not a usable pid; ignored", c.pid),
    };
    Evidence {
        kind: c.kind,
        path: c.path.clone(),
        pid: Some(c.pid),
        starttime: c.starttime,
        state: Some(c.state),
        at: c.created_ms,
        note,
    }
}

pub(crate) fn owner_evidence(o: &RunningOwner) -> Evidence {
    Evidence {
        kind: o.kind,
        path: o.path.clone(),
        pid: Some(o.pid),
        state: Some(PidState::Alive),
        at: o.start_ms,
        note: match o.start_ms {
            Some(ms) => format!("pid {} runs, started {}", o.pid, iso_ms(ms)),
            None => format!("pid {} runs", o.pid),
        },
        ..Evidence::default()
    }
}

fn boot_evidence(h: &HostFacts) -> Option<Evidence> {
    h.btime_ms.map(|b| Evidence {
        kind: "boot",
        at: Some(b),
        note: "this boot's start: records older than it have no living owner".into(),
        ..Evidence::default()
    })
}

/// A `rebooted` verdict names the boot it compares against.
pub(crate) fn with_boot_evidence(
    v: Verdict,
    mut ev: Vec<Evidence>,
    h: &HostFacts,
) -> (Verdict, Vec<Evidence>) {
    if v.kind == VerdictKind::Orphan && v.reason == Reason::Rebooted {
        ev.extend(boot_evidence(h));
    }
    (v, ev)
}

pub(crate) fn before_boot(ms: Option<i64>, h: &HostFacts) -> bool {
    matches!((ms, h.btime_ms), (Some(t), Some(b)) if t < b)
}

pub(crate) fn live_or_stale(
    reason: Reason,
    last: Option<i64>,
    h: &HostFacts,
    o: &Options,
    who: &str,
) -> Verdict {
    match last {
        Some(la) if h.now_ms - la > o.idle_ms => Verdict::new(
            VerdictKind::Stale,
            reason,
            format!("{who}, but no activity for {}", human_age(h.now_ms - la)),
        ),
        _ => Verdict::new(VerdictKind::Live, reason, who.to_string()),
    }
}

pub(crate) fn orphan(reason: Reason, summary: impl Into<String>) -> Verdict {
    Verdict::new(VerdictKind::Orphan, reason, summary)
}

pub(crate) fn unknown(reason: Reason, summary: impl Into<String>) -> Verdict {
    Verdict::new(VerdictKind::Unknown, reason, summary)
}

/// Verdict from dead or reused claims, once no living owner was found.
pub(crate) fn from_dead_claims(
    claims: &[Claim],
    h: &HostFacts,
    dead_reason: Reason,
) -> Option<Verdict> {
    let usable: Vec<&Claim> = claims
        .iter()
        .filter(|c| c.state != PidState::Invalid)
        .collect();
    if let Some(c) = usable.iter().find(|c| before_boot(c.created_ms, h)) {
        return Some(orphan(
            Reason::Rebooted,
            format!("{} of pid {} was written before this boot", c.kind, c.pid),
        ));
    }
    if let Some(c) = usable.iter().find(|c| c.state == PidState::Reused) {
        return Some(orphan(
            Reason::PidReused,
            format!(
                "{} names pid {}, which now belongs to another process",
                c.kind, c.pid
            ),
        ));
    }
    if let Some(c) = usable.iter().find(|c| c.state == PidState::Dead) {
        return Some(orphan(
            dead_reason,
            format!("{} names pid {}, which is not running", c.kind, c.pid),
        ));
    }
    None
}

/// One gateway lifetime on record: a row of `gateway_boot_lifecycle` (both eras), or,
/// where that table cannot be read, a dead gateway's lock left behind (a clean stop
/// deletes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetime {
    pub pid: i64,
    pub started_ms: i64,
    /// The gateway stopped cleanly (`outcome = 'clean_stop'`): its drain sent a
    /// session_end for every session it had started.
    pub clean: bool,
    /// The record's own words: `outcome` (NULL after a crash) and `reason`.
    pub outcome: Option<String>,
    pub reason: Option<String>,
    /// Where it is recorded (the database or the lock file).
    pub source: PathBuf,
}

/// What became of the session_end for a session, judged by the gateway lifetimes its
/// turns fell in (`turns`: its start and interaction times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndFate {
    /// A turn fell in the lifetime of a gateway that died without a clean stop: its
    /// session_start fired there, and no session_end ever will. `successor`: a later
    /// gateway took over the state dir (the payload says `restart`).
    Owed { by: Lifetime, successor: bool },
    /// Its turns fell only in lifetimes that ended cleanly: that drain sent it.
    Drained { by: Lifetime },
    /// A gateway that runs now had a turn of it: that gateway's own stop will end it (a
    /// late session_end would end a live session downstream).
    Live,
    /// No lifetime on record covers its turns.
    Unknown,
}

/// Decide [`EndFate`] from the lifetimes on record (any order), the gateways running now
/// and the session's turn times. A lifetime is the one running now when a running gateway
/// has its pid (and, when known, started within 30 s of it).
pub fn end_fate(lifetimes: &[Lifetime], running: &[RunningOwner], turns: &[i64]) -> EndFate {
    if turns.is_empty() {
        return EndFate::Unknown;
    }
    let mut ls: Vec<&Lifetime> = lifetimes.iter().collect();
    ls.sort_by_key(|l| l.started_ms);
    let alive = |l: &Lifetime| {
        running.iter().any(|r| {
            r.pid == l.pid
                && r.start_ms
                    .is_none_or(|st| (st - l.started_ms).abs() <= 30_000)
        })
    };
    // The running gateways' own lifetimes begin at the earliest of their starts.
    let live_since = running
        .iter()
        .filter_map(|r| r.start_ms)
        .chain(ls.iter().filter(|l| alive(l)).map(|l| l.started_ms))
        .min();
    if live_since.is_some_and(|c| turns.iter().any(|t| *t >= c)) {
        return EndFate::Live;
    }
    let mut owed: Option<(usize, &Lifetime)> = None;
    let mut drained: Option<&Lifetime> = None;
    for (i, l) in ls.iter().enumerate() {
        let end = ls.get(i + 1).map(|n| n.started_ms).unwrap_or(i64::MAX);
        if !turns.iter().any(|t| (l.started_ms..end).contains(t)) || alive(l) {
            continue;
        }
        if l.clean {
            drained = Some(l);
        } else {
            owed = Some((i, l));
        }
    }
    match (owed, drained) {
        (Some((i, l)), _) => EndFate::Owed {
            by: l.clone(),
            successor: i + 1 < ls.len() || !running.is_empty(),
        },
        (None, Some(l)) => EndFate::Drained { by: l.clone() },
        (None, None) => EndFate::Unknown,
    }
}

/// Facts of one OpenClaw session the store shows as running.
#[derive(Debug, Clone, Default)]
pub struct OpenclawSession {
    pub last_activity_ms: Option<i64>,
    /// `<sessionId>.jsonl.lock` (file store), when present and parseable.
    pub lock: Option<Claim>,
    /// SQLite era: `running`, `abortedLastRun: true` and no run id — an interrupted session
    /// that a restarted gateway's recovery queued (it re-runs one at a time).
    pub queued: bool,
}

/// Classify a running OpenClaw session against the gateways of its state dir.
pub fn classify_openclaw(
    s: &OpenclawSession,
    gw: &OwnerFacts,
    h: &HostFacts,
    o: &Options,
) -> (Verdict, Vec<Evidence>) {
    let mut ev: Vec<Evidence> = Vec::new();
    let v = classify_openclaw_inner(s, gw, h, o, &mut ev);
    with_boot_evidence(v, ev, h)
}

fn classify_openclaw_inner(
    s: &OpenclawSession,
    gw: &OwnerFacts,
    h: &HostFacts,
    o: &Options,
    ev: &mut Vec<Evidence>,
) -> Verdict {
    let la = s.last_activity_ms;
    let lock = s.lock.as_ref().filter(|l| l.state != PidState::Invalid);
    if let Some(l) = &s.lock {
        ev.push(claim_evidence(l));
    }
    if let Some(v) = lock_holder_runs(lock, la, h, o) {
        return v;
    }
    let live = gw.live();
    ev.extend(live.iter().map(owner_evidence));
    ev.extend(
        gw.claims
            .iter()
            .filter(|c| c.state != PidState::Alive)
            .map(claim_evidence),
    );
    let notes = gw.unverified_notes();
    ev.extend(notes.iter().map(|n| Evidence {
        kind: "gateway-unverified",
        note: n.clone(),
        ..Evidence::default()
    }));
    recovery_pending(&live, lock, la, h, o)
        .or_else(|| recovery_queued(s, &live))
        .or_else(|| lock_holder_gone(lock, la, &notes, h))
        .or_else(|| gateway_runs(&live, la, h, o))
        .unwrap_or_else(|| no_gateway(gw, la, &notes, h, ev))
}

/// 1. The session's own lock, held by a process that runs now (and was written this
///    boot): the most specific evidence of life there is.
fn lock_holder_runs(
    lock: Option<&Claim>,
    la: Option<i64>,
    h: &HostFacts,
    o: &Options,
) -> Option<Verdict> {
    let l = lock.filter(|l| !before_boot(l.created_ms, h))?;
    match l.state {
        PidState::Alive => Some(live_or_stale(
            Reason::OwnerAlive,
            la,
            h,
            o,
            &format!("pid {} holds its lock and runs", l.pid),
        )),
        PidState::AliveUnverified => Some(unknown(
            Reason::Unverifiable,
            format!(
                "its lock names pid {}, which runs, but its start time cannot be checked",
                l.pid
            ),
        )),
        PidState::Unseen => Some(unknown(
            Reason::Unverifiable,
            format!(
                "its lock names pid {}, which may run in a pid namespace sessionctl cannot see",
                l.pid
            ),
        )),
        _ => None,
    }
}

/// 2. A gateway that started moments ago, after the session's last activity, or after its
///    lock was written by an owner that is gone (a restart's recovery touches the entry
///    before it removes that stale lock): its restart recovery may be about to claim (or
///    end) this session. Whatever the lock says.
fn recovery_pending(
    live: &[RunningOwner],
    lock: Option<&Claim>,
    la: Option<i64>,
    h: &HostFacts,
    o: &Options,
) -> Option<Verdict> {
    let stale_lock_ms = lock
        .filter(|l| matches!(l.state, PidState::Dead | PidState::Reused))
        .and_then(|l| l.created_ms);
    let st = live
        .iter()
        .filter_map(|g| g.start_ms)
        .filter(|st| la.is_none_or(|la| *st > la) || stale_lock_ms.is_some_and(|c| *st > c))
        .max()
        .filter(|st| h.now_ms - st < o.recovery_grace_ms)?;
    Some(unknown(
        Reason::RecoveryPending,
        format!(
            "a gateway started {} ago; its restart recovery may still claim this session",
            human_age(h.now_ms - st)
        ),
    ))
}

/// 2b. Interrupted and queued for the live gateway's recovery: not running now (so not
///     live), not abandoned either (it will be re-run).
fn recovery_queued(s: &OpenclawSession, live: &[RunningOwner]) -> Option<Verdict> {
    let g = live.first().filter(|_| s.queued)?;
    Some(unknown(
        Reason::RecoveryQueued,
        format!(
            "interrupted (abortedLastRun, no run id): queued for the restart recovery of gateway pid {}, which re-runs interrupted sessions one at a time",
            g.pid
        ),
    ))
}

/// 3. The lock names an owner that is gone.
fn lock_holder_gone(
    lock: Option<&Claim>,
    la: Option<i64>,
    notes: &[String],
    h: &HostFacts,
) -> Option<Verdict> {
    let l = lock?;
    let rebooted = || {
        orphan(
            Reason::Rebooted,
            format!("its lock (pid {}) was written before this boot", l.pid),
        )
    };
    if before_boot(l.created_ms, h) && la.is_none_or(|la| before_boot(Some(la), h)) {
        return Some(rebooted());
    }
    if !notes.is_empty() {
        // A client running an agent itself, or a gateway still starting up, may hold it.
        return Some(unknown(Reason::Unverifiable, notes[0].clone()));
    }
    if before_boot(l.created_ms, h) {
        return Some(rebooted());
    }
    match l.state {
        PidState::Reused => Some(orphan(
            Reason::PidReused,
            format!(
                "its lock names pid {}, which now belongs to another process",
                l.pid
            ),
        )),
        PidState::Dead => Some(orphan(
            Reason::OwnerDead,
            format!("its lock names pid {}, which is not running", l.pid),
        )),
        _ => None,
    }
}

/// 4. A living gateway for the state dir: it owns the session if it was already running
///    at its last activity; one that started after has restarted without it.
fn gateway_runs(
    live: &[RunningOwner],
    la: Option<i64>,
    h: &HostFacts,
    o: &Options,
) -> Option<Verdict> {
    let first = live.first()?;
    let Some(la) = la else {
        return Some(unknown(
            Reason::Unverifiable,
            "a gateway runs for its state dir, and the session has no activity time to compare",
        ));
    };
    if let Some(g) = live.iter().find(|g| g.start_ms.is_none_or(|st| st <= la)) {
        return Some(live_or_stale(
            Reason::GatewayAlive,
            Some(la),
            h,
            o,
            &format!("gateway pid {} runs for its state dir", g.pid),
        ));
    }
    if before_boot(Some(la), h) {
        return Some(orphan(
            Reason::Rebooted,
            "its last activity predates this boot",
        ));
    }
    Some(orphan(
        Reason::GatewayRestarted,
        format!(
            "gateway pid {} started after the session's last activity and holds no lock on it",
            first.pid
        ),
    ))
}

/// 5. Something may be alive that cannot be verified; 6. else no living gateway: the
///    owner is gone. Say why as precisely as the evidence allows.
fn no_gateway(
    gw: &OwnerFacts,
    la: Option<i64>,
    notes: &[String],
    h: &HostFacts,
    ev: &mut Vec<Evidence>,
) -> Verdict {
    if before_boot(la, h) {
        return orphan(Reason::Rebooted, "its last activity predates this boot");
    }
    if !notes.is_empty() {
        return unknown(Reason::Unverifiable, notes[0].clone());
    }
    if let Some(v) = from_dead_claims(&gw.claims, h, Reason::OwnerDead) {
        return v;
    }
    // The evidence is an absence: say what was looked at, so it can be checked.
    ev.push(Evidence {
        kind: "gateway-process",
        path: gw.dir.clone(),
        note: if gw.claims.is_empty() {
            "no gateway process runs for this state dir, and no gateway lock or lease names one"
                .into()
        } else {
            "no gateway process runs for this state dir, and no gateway lock or lease names a living one"
                .into()
        },
        ..Evidence::default()
    });
    orphan(
        Reason::GatewayGone,
        "no gateway runs for its state dir and no lock names one",
    )
}

/// What the linked OpenClaw session says, for a linked row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The content id is not an OpenClaw one, or its key is `default`.
    NotLinked,
    /// No OpenClaw store was read, or none holds the key.
    NotFound,
    /// The key's current session is running, with this verdict.
    Running(VerdictKind),
    /// The key's session has ended (`done`, `failed`, `killed`, `timeout`) or was replaced
    /// by a newer session.
    Ended(String),
}

/// The first step of every linked-row backend: the linked OpenClaw session decides while
/// it runs (`live`/`stale` as it is; `unknown` when its owner cannot be verified), whatever
/// the row's own facts say. Otherwise it adds the upstream's evidence to `ev` and returns
/// None: the backend's own facts decide, knowing [`upstream_gone`].
pub fn upstream_first(upstream: &Upstream, ev: &mut Vec<Evidence>) -> Option<Verdict> {
    let upstream_note = |note: String| Evidence {
        kind: "upstream",
        note,
        ..Evidence::default()
    };
    match upstream {
        Upstream::Running(k @ (VerdictKind::Live | VerdictKind::Stale)) => {
            ev.push(upstream_note(format!(
                "linked OpenClaw session is {}",
                k.name()
            )));
            // The row lives as long as its session does; the session's own activity (not
            // the row's) decides staleness.
            let summary = format!("its OpenClaw session is {}", k.name());
            return Some(Verdict::new(*k, Reason::UpstreamLive, summary));
        }
        Upstream::Running(VerdictKind::Unknown) => {
            ev.push(upstream_note(
                "linked OpenClaw session's verdict is unknown".into(),
            ));
            return Some(unknown(
                Reason::Unverifiable,
                "its OpenClaw session's owner cannot be verified",
            ));
        }
        Upstream::Running(VerdictKind::Orphan | VerdictKind::Delivered | VerdictKind::Owed) => {
            ev.push(upstream_note("linked OpenClaw session is an orphan".into()))
        }
        Upstream::Ended(st) => ev.push(upstream_note(format!(
            "linked OpenClaw session ended ({st})"
        ))),
        Upstream::NotFound => ev.push(upstream_note(
            "no OpenClaw record holds its session key".into(),
        )),
        Upstream::NotLinked => {}
    }
    None
}

/// The linked OpenClaw session has ended, or is itself an orphan.
pub fn upstream_gone(upstream: &Upstream) -> bool {
    matches!(
        upstream,
        Upstream::Running(VerdictKind::Orphan) | Upstream::Ended(_)
    )
}

#[cfg(test)]
#[path = "classify_tests.rs"]
pub(crate) mod tests;
