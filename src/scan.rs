//! One pass over the host: probe, read every backend, classify every session.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::backend::{claude_mem, openclaw};
use crate::classify::{self, HostFacts, Options, Upstream};
use crate::config::Config;
use crate::model::{Backend, Detail, Evidence, Problem, Session, VerdictKind};
use crate::probe::{Host, ProcKind};
use crate::timefmt::now_ms;

pub struct Report {
    pub host: Host,
    pub now_ms: i64,
    pub sessions: Vec<Session>,
    pub problems: Vec<Problem>,
    pub openclaw: Vec<openclaw::StateDirScan>,
    pub claude_mem: Vec<claude_mem::DataDirScan>,
    /// Backends this run wanted but found nothing of (no state dir, no data dir or no
    /// database where discovery looked), with the processes of that backend that run for
    /// other dirs.
    pub missing: Vec<Missing>,
}

/// Where a backend was looked for and not found, and where its processes run instead.
#[derive(Debug, Clone)]
pub struct Missing {
    pub backend: Backend,
    /// What was missing and where it was looked for, e.g. `no state dir at /home/u/.openclaw
    /// (OPENCLAW_STATE_DIR unset)`.
    pub what: String,
    /// Gateways (OpenClaw) or workers (claude-mem) that run for another dir: pid and dir.
    pub elsewhere: Vec<(i64, PathBuf)>,
}

impl Missing {
    /// The flag that reads a dir of this backend.
    pub fn flag(&self) -> &'static str {
        match self.backend {
            Backend::Openclaw => "--openclaw-state-dir",
            Backend::ClaudeMem => "--claude-mem-dir",
        }
    }

    /// The process kind that runs for a dir of this backend.
    pub fn process(&self) -> &'static str {
        match self.backend {
            Backend::Openclaw => "gateway",
            Backend::ClaudeMem => "claude-mem worker",
        }
    }
}

/// Running processes of `kind` whose dir is known and is none of `read` (nor `missing`).
fn elsewhere(host: &Host, kind: ProcKind, missing: Option<&Path>) -> Vec<(i64, PathBuf)> {
    let mut out: Vec<(i64, PathBuf)> = host
        .processes
        .iter()
        .filter(|p| p.kind == kind && !p.foreign_mnt)
        .filter(|p| missing.is_none_or(|m| p.serves(m) != Some(true)))
        .filter_map(|p| Some((p.pid, p.dir.clone()?)))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out
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
    let mut sessions = Vec::new();
    let mut problems = Vec::new();
    let mut oc_scans = Vec::new();
    // Finished sessions a gateway that died without a clean stop owes a session_end.
    let mut owed: Vec<Session> = Vec::new();
    // session key -> (running session verdict, started) or ended status, across state dirs
    let mut upstream: HashMap<String, (Upstream, Option<i64>)> = HashMap::new();

    // claude-mem rows are read first: the OpenClaw stores then keep links only for the
    // session keys those rows name (classified below, once the stores are read).
    let mut cm_scan = None;
    let mut missing = Vec::new();
    if cfg.wants(Backend::ClaudeMem) {
        match claude_mem::discover(cfg) {
            Some((dir, explicit)) => {
                note(cfg, &format!("claude-mem: data dir {}", dir.display()));
                match claude_mem::scan_data_dir(&dir, explicit, cfg, &host) {
                    Some(mut scan) => {
                        // A data dir without a database (never an error when discovered):
                        // nothing was read.
                        if scan.problems.is_empty() && scan.rows.is_empty() && !scan.db.exists() {
                            missing.push(Missing {
                                backend: Backend::ClaudeMem,
                                what: format!("no database at {}", scan.db.display()),
                                elsewhere: elsewhere(&host, ProcKind::Worker, Some(&dir)),
                            });
                        }
                        problems.append(&mut scan.problems);
                        cm_scan = Some(scan);
                    }
                    None => missing.push(Missing {
                        backend: Backend::ClaudeMem,
                        what: format!(
                            "no data dir at {} (CLAUDE_MEM_DATA_DIR unset)",
                            dir.display()
                        ),
                        elsewhere: elsewhere(&host, ProcKind::Worker, Some(&dir)),
                    }),
                }
            }
            None => missing.push(Missing {
                backend: Backend::ClaudeMem,
                what: "no data dir: neither CLAUDE_MEM_DATA_DIR nor HOME is set".into(),
                elsewhere: elsewhere(&host, ProcKind::Worker, None),
            }),
        }
    }
    let link_keys: HashSet<String> = cm_scan
        .iter()
        .flat_map(|c| c.rows.iter())
        .filter_map(|(_, _, k)| k.clone())
        .filter(|k| k != "default")
        .collect();

    if cfg.wants(Backend::Openclaw) {
        let dirs = openclaw::discover(cfg);
        if dirs.is_empty() {
            missing.push(Missing {
                backend: Backend::Openclaw,
                what: "no state dir: neither OPENCLAW_STATE_DIR, OPENCLAW_HOME nor HOME is set"
                    .into(),
                elsewhere: elsewhere(&host, ProcKind::Gateway, None),
            });
        }
        for (dir, explicit) in dirs {
            note(cfg, &format!("openclaw: state dir {}", dir.display()));
            let Some(mut scan) = openclaw::scan_state_dir(&dir, explicit, cfg, &host, &link_keys)
            else {
                // Only a discovered default is skipped when it does not exist.
                missing.push(Missing {
                    backend: Backend::Openclaw,
                    what: format!(
                        "no state dir at {} ({})",
                        dir.display(),
                        openclaw_default_note(cfg)
                    ),
                    elsewhere: elsewhere(&host, ProcKind::Gateway, Some(&dir)),
                });
                continue;
            };
            // The classifier names the state dir in the evidence of an absent gateway.
            scan.owners.dir = Some(scan.state_dir.clone());
            problems.append(&mut scan.problems);
            for (mut s, f) in std::mem::take(&mut scan.sessions) {
                let (v, mut ev) = classify::classify_openclaw(&f, &scan.owners, &facts, &opts);
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
                    upstream.insert(k.clone(), (Upstream::Running(s.verdict), s.started_at));
                }
                sessions.push(s);
            }
            if cfg.owed {
                owed.extend(owed_sessions(&mut scan));
            }
            scan.ended = Vec::new();
            oc_scans.push(scan);
        }
    }

    let mut cm_scans = Vec::new();
    if let Some(mut scan) = cm_scan {
        // The keys the rows name that no running OpenClaw session answers for: look up
        // their (ended) sessions in the SQLite stores, then let every store's links speak
        // for the keys still open (a running session anywhere wins, then the first state
        // dir's link).
        let mut keys: Vec<&str> = link_keys
            .iter()
            .map(String::as_str)
            .filter(|k| !upstream.contains_key(*k))
            .collect();
        keys.sort_unstable();
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
        for (mut s, row, key) in std::mem::take(&mut scan.rows) {
            let linked_at = match &s.detail {
                Detail::ClaudeMem(d) => d.linked_at,
                _ => None,
            };
            let up = match key.as_deref() {
                None | Some("default") => Upstream::NotLinked,
                Some(k) => match upstream.get(k) {
                    None => Upstream::NotFound,
                    // The key's current session began well after this row was created:
                    // the row belongs to an earlier, ended session.
                    Some((Upstream::Running(_), Some(st)))
                        if linked_at.is_some_and(|l| *st > l + 60_000) =>
                    {
                        Upstream::Ended("replaced by a newer session".into())
                    }
                    Some((u, _)) => u.clone(),
                },
            };
            let (v, ev) = classify::classify_claude_mem(&row, &up, &scan.owners, &facts, &opts);
            s.set_verdict(v);
            s.evidence = ev;
            sessions.push(s);
        }
        cm_scans.push(scan);
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
        claude_mem: cm_scans,
        missing,
    }
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
/// key, a claude-mem content id, or a claude-mem row id (`42`, `cm:42`, `claude-mem:42`).
pub fn matches(s: &Session, q: &str) -> bool {
    if s.session_key.as_deref() == Some(q)
        || s.content_session_id.as_deref() == Some(q)
        || s.id == q
    {
        return s.backend == Backend::Openclaw
            || s.session_key.as_deref() == Some(q)
            || s.content_session_id.as_deref() == Some(q)
            || q.bytes().all(|b| b.is_ascii_digit());
    }
    if s.backend == Backend::ClaudeMem {
        if let Some(n) = q
            .strip_prefix("cm:")
            .or_else(|| q.strip_prefix("claude-mem:"))
        {
            return s.id == n;
        }
        return false;
    }
    q.len() >= MIN_PREFIX && s.id.starts_with(q)
}
