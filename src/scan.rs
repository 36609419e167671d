//! One pass over the host: probe, read every backend, classify every session.
//!
//! The linked-row backends are read on threads of their own, side by side with the
//! OpenClaw stores; a file store's reader waits for the session keys their rows name (it
//! keeps links while it parses), an SQLite store's links are looked up afterwards.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use crate::backend::{self, linked, openclaw, Backend};
use crate::classify::{self, HostFacts, Options, Upstream};
use crate::config::Config;
use crate::model::{Detail, Evidence, Problem, Session, VerdictKind};
use crate::probe::Host;
use crate::timefmt::now_ms;

pub use crate::backend::Missing;

pub struct Report {
    pub host: Host,
    pub now_ms: i64,
    pub sessions: Vec<Session>,
    pub problems: Vec<Problem>,
    pub openclaw: Vec<openclaw::StateDirScan>,
    /// The stores of the linked-row backends, in the registry's order.
    pub linked: Vec<Box<dyn linked::Scan>>,
    /// Backends this run wanted but found nothing of (no state dir, no data dir or no
    /// database where discovery looked), with the processes of that backend that run for
    /// other dirs.
    pub missing: Vec<Missing>,
}

/// Why discovery looked where it did, for a note: the variable that would have pointed
/// elsewhere.
fn openclaw_default_note(cfg: &Config) -> String {
    match cfg.env.get("OPENCLAW_HOME") {
        Some(h) => format!("OPENCLAW_STATE_DIR unset, OPENCLAW_HOME={h}"),
        None => "OPENCLAW_STATE_DIR unset".into(),
    }
}

/// A `-v` line on stderr.
fn note(cfg: &Config, msg: &str) {
    if cfg.verbose {
        eprintln!("sessionctl: {}", crate::report::escape_control(msg));
    }
}

/// The OpenClaw side of a scan: its stores, sessions, problems and notes.
#[derive(Default)]
struct OpenclawPart {
    scans: Vec<openclaw::StateDirScan>,
    sessions: Vec<Session>,
    /// Finished sessions a gateway that died without a clean stop owes a session_end.
    owed: Vec<Session>,
    problems: Vec<Problem>,
    missing: Vec<Missing>,
    notes: Vec<String>,
    /// session key -> (running session verdict, started), across state dirs
    upstream: linked::Upstreams,
}

pub fn run(cfg: &Config) -> Report {
    let mut host = Host::probe(true);
    // Told that this pid namespace holds every owner: its dead pids are proof again.
    host.pidns_init |= cfg.trust_pid_namespace;
    if !host.proc_available && !cfg.quiet {
        eprintln!("sessionctl: no /proc here: liveness rests on kill(pid, 0), lock files and health probes; start times cannot be checked");
    }
    let now = now_ms();
    let facts = HostFacts {
        now_ms: now,
        btime_ms: host.btime_ms,
    };
    let mut opts = Options {
        idle_ms: cfg.idle_ms,
        ..Options::default()
    };
    // Test builds only: a gateway started moments ago is past its recovery grace at once,
    // so a test can show what happens after it (release builds ignore the variable).
    if cfg!(debug_assertions) {
        if let Some(ms) = std::env::var("SESSIONCTL_TEST_RECOVERY_GRACE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            opts.recovery_grace_ms = ms;
        }
    }

    let readers: Vec<_> = backend::all()
        .filter(|d| cfg.wants(d.backend))
        .filter_map(|d| d.read)
        .collect();
    let (reads, oc) = if !cfg.wants(Backend::Openclaw) && readers.len() <= 1 {
        // Nothing to read beside it: the one linked-row backend here (a thread of its own
        // costs a fresh heap, measurably: 99 against 90 ms for 1M claude-mem rows).
        let reads: Vec<linked::Read> = readers.iter().map(|read| read(cfg, &host)).collect();
        (reads, OpenclawPart::default())
    } else {
        std::thread::scope(|sc| {
            let host = &host;
            let handles: Vec<_> = readers
                .iter()
                .map(|read| sc.spawn(move || read(cfg, host)))
                .collect();
            // The linked rows and the session keys they name, once every reader is done: the
            // OpenClaw file stores keep links only for those keys.
            let joined = LazyLock::new(move || {
                let reads: Vec<linked::Read> = handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect();
                let keys: HashSet<String> = reads
                    .iter()
                    .flat_map(|r| r.scans.iter().flat_map(|s| s.keys()))
                    .filter_map(|k| linked::linked_key(k).map(str::to_string))
                    .collect();
                (Mutex::new(reads), keys)
            });
            let oc = if cfg.wants(Backend::Openclaw) {
                read_openclaw(cfg, host, &facts, &opts, &|| &joined.1)
            } else {
                OpenclawPart::default()
            };
            let reads = std::mem::take(&mut *joined.0.lock().unwrap_or_else(|e| e.into_inner()));
            (reads, oc)
        })
    };

    let OpenclawPart {
        scans: mut oc_scans,
        mut sessions,
        owed,
        problems: oc_problems,
        missing: oc_missing,
        notes: oc_notes,
        mut upstream,
    } = oc;
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut scans: Vec<Box<dyn linked::Scan>> = Vec::new();
    for mut r in reads {
        for n in &r.notes {
            note(cfg, n);
        }
        problems.append(&mut r.problems);
        missing.append(&mut r.missing);
        scans.append(&mut r.scans);
    }
    for n in &oc_notes {
        note(cfg, n);
    }
    problems.extend(oc_problems);
    missing.extend(oc_missing);

    if !scans.is_empty() {
        // The keys the linked rows name that no running OpenClaw session answers for: look
        // up their (ended) sessions in the SQLite stores, then let every store's links
        // speak for the keys still open (a running session anywhere wins, then the first
        // state dir's link).
        let mut keys: Vec<&str> = scans
            .iter()
            .flat_map(|s| s.keys())
            .filter_map(linked::linked_key)
            .filter(|k| !upstream.contains_key(*k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for oc in &mut oc_scans {
            openclaw::load_links(oc, &keys);
            problems.append(&mut oc.problems);
        }
        for oc in &oc_scans {
            for l in oc.links.iter().filter(|l| l.status != "running") {
                upstream
                    .entry(l.session_key.clone())
                    .or_insert((Upstream::Ended(l.status.clone()), None));
            }
        }
    }
    for scan in &mut scans {
        sessions.extend(scan.judge(&upstream, &facts, &opts));
    }

    mark_delivered(cfg, &mut sessions, &oc_scans);
    sessions.extend(unhandled(cfg, owed));

    missing.sort_by_key(|m| m.backend);
    Report {
        host,
        now_ms: now,
        sessions,
        problems,
        openclaw: oc_scans,
        linked: scans,
        missing,
    }
}

/// Read and classify every OpenClaw state dir. `link_keys` gives the session keys linked
/// rows name, waiting for their readers when called.
fn read_openclaw(
    cfg: &Config,
    host: &Host,
    facts: &HostFacts,
    opts: &Options,
    link_keys: &openclaw::LinkKeys<'_>,
) -> OpenclawPart {
    let mut out = OpenclawPart::default();
    let dirs = openclaw::discover(cfg);
    if dirs.is_empty() {
        out.missing.push(Missing::new(
            Backend::Openclaw,
            "no state dir: neither OPENCLAW_STATE_DIR, OPENCLAW_HOME nor HOME is set".into(),
            host,
            None,
        ));
    }
    for (dir, explicit) in dirs {
        out.notes
            .push(format!("openclaw: state dir {}", dir.display()));
        let Some(mut scan) = openclaw::scan_state_dir(&dir, explicit, cfg, host, link_keys) else {
            // Only a discovered default is skipped when it does not exist.
            out.missing.push(Missing::new(
                Backend::Openclaw,
                format!(
                    "no state dir at {} ({})",
                    dir.display(),
                    openclaw_default_note(cfg)
                ),
                host,
                Some(&dir),
            ));
            continue;
        };
        // The classifier names the state dir in the evidence of an absent gateway.
        scan.owners.dir = Some(scan.state_dir.clone());
        out.problems.append(&mut scan.problems);
        for (mut s, f) in std::mem::take(&mut scan.sessions) {
            let (v, mut ev) = classify::classify_openclaw(&f, &scan.owners, facts, opts);
            if let Detail::Openclaw(d) = &s.detail {
                if let Some(sf) = d.session_file.as_ref().filter(|sf| !sf.inside_state_dir) {
                    ev.push(Evidence {
                        kind: "session-file",
                        note: format!(
                            "sessionFile {} points outside the state dir; not followed",
                            sf.stored
                        ),
                        ..Evidence::default()
                    });
                }
            }
            s.set_verdict(v);
            s.evidence = ev;
            if cfg.owed && s.verdict == VerdictKind::Orphan {
                note_drained(&mut s, &scan);
            }
            if let Some(k) = &s.session_key {
                out.upstream
                    .insert(k.clone(), (Upstream::Running(s.verdict), s.started_at));
            }
            out.sessions.push(s);
        }
        if cfg.owed {
            out.owed.extend(owed_sessions(&mut scan));
        }
        scan.ended = Vec::new();
        out.scans.push(scan);
    }
    out
}

/// A running orphan whose turns ran only in a gateway that stopped cleanly: that drain
/// sent its session_end (2026.7 leaves such an entry `running`). The store is still
/// repaired; nothing is sent again.
fn note_drained(s: &mut Session, scan: &openclaw::StateDirScan) {
    let turns: Vec<i64> = [s.started_at, s.last_activity_at]
        .into_iter()
        .flatten()
        .collect();
    if let classify::EndFate::Drained { by } =
        classify::end_fate(&scan.lifetimes, &scan.owners.live(), &turns)
    {
        s.evidence.push(lifetime_evidence(
            &by,
            format!(
                "gateway pid {} (started {}) stopped cleanly: its drain sent this session's session_end",
                by.pid,
                crate::timefmt::iso_ms(by.started_ms)
            ),
        ));
        if let Detail::Openclaw(d) = &mut s.detail {
            d.drained_by = Some(by.pid);
        }
    }
}

fn lifetime_evidence(l: &classify::Lifetime, note: String) -> Evidence {
    Evidence {
        kind: "gateway-lifetime",
        path: Some(l.source.clone()),
        pid: Some(l.pid),
        at: Some(l.started_ms),
        note,
        ..Evidence::default()
    }
}

/// The finished sessions of a state dir whose session_end a dead gateway owes: their
/// turns ran in a lifetime that ended without a clean stop, and no gateway running now
/// had a turn of them since (see [`classify::end_fate`]).
fn owed_sessions(scan: &mut openclaw::StateDirScan) -> Vec<Session> {
    let running = scan.owners.live();
    let mut out = Vec::new();
    for (mut s, turns) in std::mem::take(&mut scan.ended) {
        let (by, successor) = match classify::end_fate(&scan.lifetimes, &running, &turns) {
            classify::EndFate::Owed { by, successor } => (by, successor),
            classify::EndFate::Live => {
                scan.live_turns.extend(s.session_key.clone());
                continue;
            }
            _ => continue,
        };
        s.verdict = VerdictKind::Owed;
        s.reason = crate::model::Reason::EndOwed;
        s.summary = format!(
            "{} in the store, but its turns ran in gateway pid {}, which died without a clean stop: the session_end that stop sends was never sent",
            s.status, by.pid
        );
        s.evidence = vec![lifetime_evidence(
            &by,
            format!(
                "gateway pid {} (started {}) ended without a clean stop",
                by.pid,
                crate::timefmt::iso_ms(by.started_ms)
            ),
        )];
        if let Detail::Openclaw(d) = &mut s.detail {
            d.owed = Some(crate::model::OwedBy {
                pid: by.pid,
                started_at: by.started_ms,
                successor,
            });
        }
        out.push(s);
    }
    out
}

/// Owed sessions a `close` run has not handled yet (its end-owed record and every
/// delivery it planned): the journal is read only when there are any.
fn unhandled(cfg: &Config, owed: Vec<Session>) -> Vec<Session> {
    if owed.is_empty() {
        return owed;
    }
    let Ok(history) = crate::journal::History::read(&cfg.journal) else {
        return owed;
    };
    owed.into_iter()
        .filter(|s| {
            let key = s.session_key.clone().unwrap_or_default();
            let records = crate::close::settling_records(&s.store, &key, &s.id);
            history.handled_by_any(&records, &key, &s.id).is_none()
        })
        .collect()
}

/// OpenClaw orphans whose store a live gateway owns (so `close` leaves it alone) and that
/// a `close` run already handled — it recorded leaving the store to the gateway and every
/// `session_end` delivery it planned landed — are `delivered`, not orphans: nothing more
/// can be done for them, and a second run must not report them again. The journal is
/// read only when such an orphan exists.
fn mark_delivered(cfg: &Config, sessions: &mut [Session], oc: &[openclaw::StateDirScan]) {
    let owned = |s: &Session| match &s.detail {
        Detail::Openclaw(d) => oc
            .iter()
            .find(|x| x.state_dir == d.state_dir)
            .and_then(|x| x.owners.live().first().map(|g| g.pid)),
        _ => None,
    };
    if !sessions
        .iter()
        .any(|s| s.verdict == VerdictKind::Orphan && owned(s).is_some())
    {
        return;
    }
    let Ok(history) = crate::journal::History::read(&cfg.journal) else {
        return;
    };
    for s in sessions.iter_mut() {
        if s.verdict != VerdictKind::Orphan {
            continue;
        }
        let Some(pid) = owned(s) else { continue };
        let key = s.session_key.clone().unwrap_or_default();
        let left = crate::close::left_to_gateway_id(&s.store, &key, &s.id);
        if let Some(run) = history.handled(&left, &key, &s.id) {
            s.verdict = VerdictKind::Delivered;
            s.summary = format!(
                "session_end delivered by run {run}; its store is left to gateway pid {pid}, which owns it"
            );
        }
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub live: usize,
    pub orphan: usize,
    pub stale: usize,
    pub unknown: usize,
    pub delivered: usize,
    pub owed: usize,
}

impl Summary {
    pub fn of<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> Summary {
        let mut s = Summary::default();
        for x in sessions {
            s.total += 1;
            match x.verdict {
                VerdictKind::Live => s.live += 1,
                VerdictKind::Orphan => s.orphan += 1,
                VerdictKind::Stale => s.stale += 1,
                VerdictKind::Unknown => s.unknown += 1,
                VerdictKind::Delivered => s.delivered += 1,
                VerdictKind::Owed => s.owed += 1,
            }
        }
        s
    }
}

/// The key records are grouped by: the OpenClaw session key they share, else their own id.
pub fn group_key(s: &Session) -> String {
    s.session_key
        .clone()
        .filter(|k| k != "default")
        .or_else(|| s.content_session_id.clone())
        .unwrap_or_else(|| s.id.clone())
}

/// Sessions ordered for display: linked records together, OpenClaw first in each group.
pub fn grouped(sessions: &[Session]) -> Vec<&Session> {
    let mut v: Vec<&Session> = sessions.iter().collect();
    // Each group key is built once, not once per comparison.
    v.sort_by_cached_key(|&s| (group_key(s), s.backend, s.id.as_str()));
    v
}

/// The shortest sessionId prefix [`matches`] takes: shorter ones would too often name
/// another session than the one meant.
pub const MIN_PREFIX: usize = 6;

/// What to tell the user when no session answers to `q`: a prefix of a sessionId that is
/// too short says so, rather than "no match".
pub fn no_match_message(sessions: &[Session], q: &str) -> String {
    let shown = crate::report::escape_control(q);
    if q.is_empty() || q.len() >= MIN_PREFIX {
        return format!("no active session matches `{shown}`");
    }
    let starting = sessions
        .iter()
        .filter(|s| s.backend == Backend::Openclaw && s.id.starts_with(q))
        .count();
    // Only what could be the start of a sessionId (hex digits and dashes; not a row id)
    // gets the rule.
    let id_like = q.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && !q.bytes().all(|b| b.is_ascii_digit());
    match starting {
        0 if !id_like => format!("no active session matches `{shown}`"),
        0 => format!(
            "no active session matches `{shown}` (a sessionId prefix must be at least \
             {MIN_PREFIX} characters)"
        ),
        n => format!(
            "`{shown}` is too short for a sessionId prefix: give at least {MIN_PREFIX} \
             characters ({n} active {} with it)",
            if n == 1 {
                "sessionId starts"
            } else {
                "sessionIds start"
            }
        ),
    }
}

/// Does `s` answer to `q`? A sessionId (or a unique prefix of 6+ characters), a session
/// key, a linked row's content id, a linked row's label or its id after the backend's name
/// (`cm:42`, `<backend>:42`, `runs:17`, `sql:runs:17`), or a bare row id where the label
/// is prefixed (`42`: a number only).
pub fn matches(s: &Session, q: &str) -> bool {
    let d = s.backend.describe();
    if s.backend.linked()
        && d.label
            .into_iter()
            .chain([d.name])
            .any(|p| q.strip_prefix(p).and_then(|r| r.strip_prefix(':')) == Some(s.id.as_str()))
    {
        return true;
    }
    if s.session_key.as_deref() == Some(q)
        || s.content_session_id.as_deref() == Some(q)
        || s.id == q
    {
        return d.label.is_none()
            || s.session_key.as_deref() == Some(q)
            || s.content_session_id.as_deref() == Some(q)
            || q.bytes().all(|b| b.is_ascii_digit());
    }
    // A prefixed label is matched whole, never by a prefix of its id.
    d.label.is_none() && q.len() >= MIN_PREFIX && s.id.starts_with(q)
}
