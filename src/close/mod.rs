//! `close`: plan, re-check, journal, repair stores and deliver `session_end` payloads.
//!
//! Order of work, so a crash at any point can be finished by a re-run:
//! 1. resume: intents of earlier runs without an outcome are finished or settled;
//! 2. re-check: the host is scanned again right before acting; sessions that changed or
//!    came back to life are skipped;
//! 3. an `intent` line for every action is made durable;
//! 4. store writes (one transaction or one atomic file write per store);
//! 5. hook deliveries, concurrently; a target that recorded success is never sent to again.

pub mod recover;
pub mod stores;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::journal::{History, Intent, Journal, Kind, Line, SessionRef};
use crate::model::{Backend, Detail, Session, StoreKind, VerdictKind};
use crate::scan::{group_key, Report};
use crate::targets::{self, Target};
use crate::timefmt::iso_ms;

use stores::Change;

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
    if let Detail::ClaudeMem(d) = &s.detail {
        if d.project == "observer-sessions" {
            return Err("claude-mem's own observer bookkeeping is never closed".into());
        }
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
    ClaudeMem {
        db: PathBuf,
        row: i64,
    },
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

/// The agent id in a session key `agent:<id>:…`.
fn agent_of(key: &str) -> Option<String> {
    let mut parts = key.split(':');
    (parts.next() == Some("agent"))
        .then(|| parts.next().map(String::from))
        .flatten()
}

/// Which records to close: named ones (with their linked records), or every candidate.
pub fn select<'a>(r: &'a Report, sel: &Selection) -> (Vec<&'a Session>, Vec<(String, String)>) {
    let mut chosen: Vec<&Session> = Vec::new();
    let mut refused = Vec::new();
    let mut seen: std::collections::HashSet<(Backend, &'a str, &'a Path)> =
        std::collections::HashSet::new();
    let mut push = |s: &'a Session, chosen: &mut Vec<&'a Session>| {
        if seen.insert((s.backend, s.id.as_str(), s.store.as_path())) {
            chosen.push(s);
        }
    };
    if sel.ids.is_empty() {
        for s in &r.sessions {
            if eligible(s, sel, false).is_ok() {
                push(s, &mut chosen);
            }
        }
        return (chosen, refused);
    }
    for q in &sel.ids {
        let hits: Vec<&Session> = r
            .sessions
            .iter()
            .filter(|s| crate::scan::matches(s, q))
            .collect();
        if hits.is_empty() {
            refused.push((q.clone(), crate::scan::no_match_message(&r.sessions, q)));
            continue;
        }
        // A sessionId prefix must name one session: closing every session it happens to
        // start would close sessions nobody named.
        let by_prefix: std::collections::BTreeSet<&str> = hits
            .iter()
            .filter(|s| {
                s.backend == Backend::Openclaw && s.id != *q && s.id.starts_with(q.as_str())
            })
            .map(|s| s.id.as_str())
            .collect();
        if by_prefix.len() > 1 {
            refused.push((
                q.clone(),
                format!(
                    "`{}` is ambiguous: {} sessionIds start with it; give more characters",
                    crate::report::escape_control(q),
                    by_prefix.len()
                ),
            ));
            continue;
        }
        for h in hits {
            match eligible(h, sel, true) {
                Ok(()) => push(h, &mut chosen),
                Err(why) => refused.push((q.clone(), why)),
            }
            // Naming an OpenClaw session also closes its linked claude-mem rows that are
            // closable on their own.
            if h.backend == Backend::Openclaw {
                let g = group_key(h);
                for s in r
                    .sessions
                    .iter()
                    .filter(|s| s.backend == Backend::ClaudeMem && group_key(s) == g)
                {
                    if eligible(s, sel, false).is_ok() {
                        push(s, &mut chosen);
                    }
                }
            }
        }
    }
    (chosen, refused)
}

/// Build the plan for the chosen records.
pub fn plan(
    r: &Report,
    chosen: &[&Session],
    sel: &Selection,
    targets: &[Target],
    now: i64,
) -> Plan {
    let ix = KeyIndex::new(r);
    let now_iso = iso_ms(now);
    let cm_new = stores::claude_mem_new(now);
    let cm_prior = json!({"status": "active"});
    let mut groups: BTreeMap<String, Vec<&Session>> = BTreeMap::new();
    for s in chosen {
        groups.entry(group_key(s)).or_default().push(s);
    }
    let mut items = Vec::new();
    for (group, mut recs) in groups {
        recs.sort_by_key(|s| (s.backend, s.id.clone()));
        let mut item = Item {
            group: group.clone(),
            sessions: recs.iter().map(|s| (*s).clone()).collect(),
            payload: None,
            actions: Vec::new(),
            notes: Vec::new(),
        };
        let oc = recs
            .iter()
            .find(|s| s.backend == Backend::Openclaw)
            .copied();
        for s in &recs {
            match &s.detail {
                Detail::ClaudeMem(d) => item.actions.push(Action {
                    id: format!("claude-mem-end:{}:{}", s.store.display(), d.row_id),
                    kind: Kind::ClaudeMemEnd,
                    session: sref(s),
                    op: Op::ClaudeMem { db: s.store.clone(), row: d.row_id },
                    describe: format!(
                        "claude-mem {}: UPDATE sdk_sessions SET status='completed', completed_at='{}', completed_at_epoch={now} WHERE id={} AND status='active'",
                        s.store.display(),
                        now_iso,
                        d.row_id
                    ),
                    prior: Some(cm_prior.clone()),
                    new: Some(cm_new.clone()),
                }),
                Detail::Openclaw(d) if d.owed.is_some() => {
                    // Delivering is all there is to do: without a target the session_end
                    // stays owed (and reported) until there is one.
                    if targets.is_empty() {
                        continue;
                    }
                    let key = s.session_key.clone().unwrap_or_default();
                    let pid = d.owed.as_ref().map(|o| o.pid).unwrap_or_default();
                    item.actions.push(Action {
                        id: end_owed_id(&s.store, &key, &s.id),
                        kind: Kind::EndOwed,
                        session: sref(s),
                        op: Op::EndOwed { pid },
                        describe: format!(
                            "session `{key}` is {} in the store; send the session_end gateway pid {pid} owed it",
                            s.status
                        ),
                        prior: None,
                        new: None,
                    });
                }
                Detail::Openclaw(d) => {
                    let scan = r.openclaw.iter().find(|x| x.state_dir == d.state_dir);
                    let live = scan.map(|x| x.owners.live()).unwrap_or_default();
                    let key = s.session_key.clone().unwrap_or_default();
                    if let Some(g) = live.first() {
                        item.notes.push(format!(
                            "OpenClaw store left alone: gateway pid {} owns {}",
                            g.pid,
                            d.state_dir.display()
                        ));
                        item.actions.push(Action {
                            id: left_to_gateway_id(&s.store, &key, &s.id),
                            kind: Kind::LeftToGateway,
                            session: sref(s),
                            op: Op::LeaveToGateway { pid: g.pid },
                            describe: format!(
                                "leave OpenClaw {} to gateway pid {}, which owns it",
                                s.store.display(),
                                g.pid
                            ),
                            prior: None,
                            new: None,
                        });
                        continue;
                    }
                    match s.store_kind {
                        StoreKind::File => {
                            item.actions.push(Action {
                                id: entry_end_id(&s.store, &key, &s.id),
                                kind: Kind::OpenclawEntryEnd,
                                session: sref(s),
                                op: Op::OpenclawEntry {
                                    file: s.store.clone(),
                                    key: key.clone(),
                                    sid: s.id.clone(),
                                    updated_at: d.updated_at,
                                },
                                describe: format!(
                                    "OpenClaw {}: entry `{key}` status running -> failed, abortedLastRun true, endedAt = updatedAt = {now}",
                                    s.store.display()
                                ),
                                prior: Some(json!({"status": "running"})),
                                new: Some(json!({"status": "failed", "abortedLastRun": true, "endedAt": now, "updatedAt": now})),
                            });
                            if let Some(lock) = &d.lock {
                                let dead = s.evidence.iter().any(|e| {
                                    e.kind == "session-lock"
                                        && matches!(e.state, Some(crate::model::PidState::Dead | crate::model::PidState::Reused))
                                }) || s.reason == crate::model::Reason::Rebooted;
                                if let (true, Ok(content)) = (dead, std::fs::read_to_string(&lock.path)) {
                                    item.actions.push(Action {
                                        id: format!("lock-remove:{}", lock.path.display()),
                                        kind: Kind::LockRemove,
                                        session: sref(s),
                                        op: Op::LockRemove { path: lock.path.clone(), content: content.clone() },
                                        describe: format!("remove dead owner's lock {}", lock.path.display()),
                                        prior: Some(json!(content)),
                                        new: None,
                                    });
                                }
                            }
                        }
                        StoreKind::Sqlite => item.actions.push(Action {
                            id: row_end_id(&s.store, &key, &s.id),
                            kind: Kind::OpenclawRowEnd,
                            session: sref(s),
                            op: Op::OpenclawRow { db: s.store.clone(), key: key.clone(), sid: s.id.clone() },
                            describe: format!(
                                "OpenClaw {}: session_nodes `{key}` and session_windows `{}` status running -> failed, ended_at = {now}",
                                s.store.display(),
                                s.id
                            ),
                            prior: Some(json!({"status": "running"})),
                            new: Some(json!({"status": "failed", "endedAt": now})),
                        }),
                        StoreKind::ClaudeMemDb => {}
                    }
                }
            }
        }
        item.payload = payload(&ix, r, oc, &recs, sel);
        let drained = oc.and_then(|s| match &s.detail {
            Detail::Openclaw(d) => d.drained_by,
            _ => None,
        });
        if let (Some(pid), None) = (drained, &sel.reason) {
            item.notes.push(format!(
                "no session_end sent: the drain of gateway pid {pid} sent it when that gateway stopped cleanly"
            ));
            item.payload = None;
        }
        if item.payload.is_none() {
            if let Some(k) = recs
                .iter()
                .find_map(|s| s.session_key.as_deref())
                .filter(|k| *k != "default")
            {
                item.notes.push(format!(
                    "no session_end sent: `{k}` names an OpenClaw session that a running gateway holds or ran a turn of"
                ));
            }
        }
        if let Some(p) = &item.payload {
            let key = p["event"]["sessionKey"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let sid = p["event"]["sessionId"].as_str().unwrap_or("-").to_string();
            let first = oc.unwrap_or(recs[0]);
            for (i, t) in targets.iter().enumerate() {
                item.actions.push(Action {
                    id: format!("deliver:{}:{key}:{sid}", t.name),
                    kind: Kind::Deliver,
                    session: sref(first),
                    op: Op::Deliver { target: i },
                    describe: format!("deliver session_end to {t}"),
                    prior: None,
                    new: None,
                });
            }
        }
        // Only owed session_ends and no target to send them to: nothing to do here.
        if item.actions.is_empty() {
            continue;
        }
        items.push(item);
    }
    Plan {
        items,
        refused: Vec::new(),
    }
}

/// The payload OpenClaw's own shutdown drain sends (keys and types as in the captured
/// `session_end.jsonl`): event `{sessionId, sessionKey, messageCount, reason}` plus
/// `sessionFile`/`transcriptArchived` when a transcript exists; ctx `{sessionId,
/// sessionKey, agentId}`. Unknown fields are omitted. None when no OpenClaw session key
/// is known (claude-mem rows made without one).
/// Lookups `payload` needs for every group, built once per plan.
pub struct KeyIndex<'a> {
    /// Keys whose OpenClaw session runs and is not an orphan, or ended after a turn in a
    /// gateway that runs now.
    live_keys: std::collections::HashSet<&'a str>,
    /// Key -> (session id, state dir, stored sessionFile) from the stores' link index
    /// (first state dir wins).
    links: std::collections::HashMap<&'a str, (&'a str, &'a Path, Option<&'a str>)>,
}

impl<'a> KeyIndex<'a> {
    pub fn new(r: &'a Report) -> KeyIndex<'a> {
        let live_keys = r
            .sessions
            .iter()
            .filter(|s| s.backend == Backend::Openclaw && s.verdict != VerdictKind::Orphan)
            .filter_map(|s| s.session_key.as_deref())
            .chain(
                r.openclaw
                    .iter()
                    .flat_map(|x| x.live_turns.iter().map(String::as_str)),
            )
            .collect();
        let mut links = std::collections::HashMap::new();
        for x in &r.openclaw {
            for l in &x.links {
                links.entry(l.session_key.as_str()).or_insert((
                    l.session_id.as_str(),
                    x.state_dir.as_path(),
                    l.session_file.as_deref(),
                ));
            }
        }
        KeyIndex { live_keys, links }
    }
}

pub fn payload(
    ix: &KeyIndex,
    r: &Report,
    oc: Option<&Session>,
    recs: &[&Session],
    sel: &Selection,
) -> Option<Value> {
    let (key, sid, agent, state_dir, session_file) = match oc {
        Some(s) => {
            let Detail::Openclaw(d) = &s.detail else {
                return None;
            };
            let file = d
                .session_file
                .as_ref()
                .filter(|f| f.inside_state_dir && f.exists)
                .map(|f| f.stored.clone());
            (
                s.session_key.clone()?,
                Some(s.id.clone()),
                Some(d.agent_id.clone()),
                Some(d.state_dir.clone()),
                file,
            )
        }
        None => {
            let key = recs
                .iter()
                .find_map(|s| s.session_key.clone())
                .filter(|k| k != "default")?;
            // The key's current OpenClaw session runs and is not an orphan, or a gateway
            // running now had a turn of it (a 2026.9 restart re-ran it): a session_end naming
            // the key now would tell downstream that a live session ended. Send nothing.
            if ix.live_keys.contains(key.as_str()) {
                return None;
            }
            // The store may still know the key's (ended or orphaned) session id and its
            // transcript, which the drain names for every session it ends.
            let found = ix.links.get(key.as_str());
            let sid = found.map(|f| f.0.to_string());
            let file = found.and_then(|&(_, dir, file)| {
                let f = crate::backend::openclaw::stored_path(dir, file?);
                f.exists.then_some(f.stored)
            });
            let agent = agent_of(&key);
            (key, sid, agent, found.map(|f| f.1.to_path_buf()), file)
        }
    };
    let successor = oc.is_some_and(|s| {
        matches!(&s.detail, Detail::Openclaw(d) if d.owed.as_ref().is_some_and(|o| o.successor))
    });
    let reason = sel.reason.clone().unwrap_or_else(|| {
        let restarted = successor
            || r.openclaw
                .iter()
                .filter(|x| state_dir.as_ref().is_none_or(|d| &x.state_dir == d))
                .any(|x| !x.owners.live().is_empty());
        if restarted { "restart" } else { "shutdown" }.to_string()
    });
    let mut event = Map::new();
    if let Some(sid) = &sid {
        event.insert("sessionId".into(), json!(sid));
    }
    event.insert("sessionKey".into(), json!(key));
    // OpenClaw's own drain reports 0 here, even for sessions with a transcript.
    event.insert("messageCount".into(), json!(0));
    event.insert("reason".into(), json!(reason));
    if let Some(f) = session_file {
        event.insert("sessionFile".into(), json!(f));
        event.insert("transcriptArchived".into(), json!(false));
    }
    let mut ctx = Map::new();
    if let Some(sid) = &sid {
        ctx.insert("sessionId".into(), json!(sid));
    }
    ctx.insert("sessionKey".into(), json!(key));
    if let Some(a) = agent {
        ctx.insert("agentId".into(), json!(a));
    }
    Some(json!({"event": Value::Object(event), "ctx": Value::Object(ctx)}))
}

/// Read, right before acting, the full values each store action will change, so the
/// intent lines hold what undo needs even if the run dies before its outcome lines.
pub fn fill_priors(plan: &mut Plan, now: i64) {
    let mut conns: BTreeMap<PathBuf, Option<crate::backend::ReadConn>> = BTreeMap::new();
    let mut files: BTreeMap<PathBuf, Option<stores::FileEntries>> = BTreeMap::new();
    fn conn<'a>(
        conns: &'a mut BTreeMap<PathBuf, Option<crate::backend::ReadConn>>,
        db: &Path,
    ) -> Option<&'a crate::backend::ReadConn> {
        conns
            .entry(db.to_path_buf())
            .or_insert_with(|| crate::backend::open_read_only(db).ok())
            .as_ref()
    }
    let cm_new = stores::claude_mem_new(now);
    for a in plan.items.iter_mut().flat_map(|i| i.actions.iter_mut()) {
        match &a.op {
            Op::ClaudeMem { db, row } => {
                if let Some(p) = conn(&mut conns, db)
                    .and_then(|c| stores::claude_mem_prior(c, *row).ok().flatten())
                {
                    a.prior = Some(p);
                }
                a.new = Some(cm_new.clone());
            }
            Op::OpenclawRow { db, key, sid } => {
                if let Some(p) =
                    conn(&mut conns, db).and_then(|c| stores::row_prior(c, key, sid).ok().flatten())
                {
                    a.new = Some(stores::row_new(&p, now));
                    a.prior = Some(p);
                }
            }
            Op::OpenclawEntry { file, key, .. } => {
                let doc = files
                    .entry(file.clone())
                    .or_insert_with(|| stores::FileEntries::read(file));
                if let Some(Value::Object(entry)) = doc.as_ref().and_then(|d| d.get(key)) {
                    let mut ended = entry.clone();
                    stores::end_entry(&mut ended, now);
                    a.prior = Some(Value::Object(entry.clone()));
                    a.new = Some(Value::Object(ended));
                }
            }
            Op::LockRemove { .. }
            | Op::Deliver { .. }
            | Op::LeaveToGateway { .. }
            | Op::EndOwed { .. } => {}
        }
    }
}

/// Re-check against a fresh scan: drop records that are gone, changed, or no longer
/// closable, and the actions that belonged to them. Returns what was dropped and why.
pub fn recheck(plan: &mut Plan, fresh: &Report, sel: &Selection) -> Vec<(SessionRef, String)> {
    let mut dropped = Vec::new();
    let by_identity: std::collections::HashMap<(Backend, &str, &Path), &Session> = fresh
        .sessions
        .iter()
        .map(|s| ((s.backend, s.id.as_str(), s.store.as_path()), s))
        .collect();
    for item in &mut plan.items {
        let mut keep_ids: Vec<String> = Vec::new();
        item.sessions.retain(|old| {
            let now = by_identity
                .get(&(old.backend, old.id.as_str(), old.store.as_path()))
                .copied();
            let why = match now {
                None => Some("no longer active".to_string()),
                Some(n) if n.last_activity_at != old.last_activity_at || n.status != old.status => {
                    Some("changed since it was listed".to_string())
                }
                Some(n) if n.verdict != old.verdict => {
                    Some(format!("is now {} ({})", n.verdict.name(), n.summary))
                }
                Some(n) => eligible(n, sel, !sel.ids.is_empty()).err(),
            };
            match why {
                Some(w) => {
                    dropped.push((sref(old), w));
                    false
                }
                None => {
                    keep_ids.push(old.id.clone());
                    true
                }
            }
        });
        let has_oc = item.sessions.iter().any(|s| s.backend == Backend::Openclaw);
        item.actions.retain(|a| match a.kind {
            Kind::Deliver => {
                !item.sessions.is_empty() && (has_oc || a.session.backend != "openclaw")
            }
            _ => keep_ids.contains(&a.session.id),
        });
    }
    plan.items.retain(|i| !i.sessions.is_empty());
    dropped
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

fn intent_of(
    run: &str,
    a: &Action,
    payload: Option<&Value>,
    targets: &[Target],
    now: i64,
) -> Intent {
    let (path, target) = match &a.op {
        Op::ClaudeMem { db, .. } => (Some(db.clone()), None),
        Op::OpenclawEntry { file, .. } => (Some(file.clone()), None),
        Op::OpenclawRow { db, .. } => (Some(db.clone()), None),
        Op::LockRemove { path, .. } => (Some(path.clone()), None),
        Op::LeaveToGateway { .. } | Op::EndOwed { .. } => (None, None),
        Op::Deliver { target } => (None, Some(targets[*target].name.clone())),
    };
    Intent {
        run: run.to_string(),
        action: a.id.clone(),
        kind: a.kind,
        at: iso_ms(now),
        session: a.session.clone(),
        target,
        path,
        prior: a.prior.clone(),
        new: a.new.clone(),
        payload: (a.kind == Kind::Deliver)
            .then(|| payload.cloned())
            .flatten(),
        undoes: None,
    }
}

/// Execute a plan. `progress` is told about every finished action.
/// What execution needs besides the plan.
pub struct Ctx<'a> {
    pub targets: &'a [Target],
    pub concurrency: usize,
    /// The one timestamp every write of this run uses (so a re-run can recognise them).
    pub now: i64,
    /// Where copies of rewritten files go, for byte-exact undo.
    pub backups: &'a Path,
    /// Targets this run has given up on (shared with the resume before it).
    pub budget: &'a targets::RunBudget,
}

pub fn execute(
    plan: &Plan,
    journal: &mut Journal,
    history: &History,
    ctx: &Ctx,
    progress: &(dyn Fn(&str) + Sync),
) -> std::io::Result<Vec<ItemResult>> {
    let Ctx {
        targets,
        concurrency,
        now,
        backups,
        budget,
    } = *ctx;
    let run = journal.run.clone();
    let mut results: Vec<ItemResult> = plan
        .items
        .iter()
        .map(|i| ItemResult {
            group: i.group.clone(),
            sessions: i.sessions.iter().map(sref).collect(),
            payload: i.payload.clone(),
            actions: Vec::new(),
            notes: i.notes.clone(),
            closed: false,
        })
        .collect();
    // 3. intents first, for everything; deliveries a target already confirmed are skipped.
    let mut todo: Vec<(usize, &Action)> = Vec::new();
    let mut intents: Vec<Line> = Vec::new();
    for (ii, item) in plan.items.iter().enumerate() {
        for a in &item.actions {
            if a.kind == Kind::Deliver && history.succeeded(&a.id) {
                results[ii].actions.push(ActionResult {
                    action: a.id.clone(),
                    kind: a.kind.name(),
                    target: target_name(a, targets),
                    ok: true,
                    skipped: true,
                    detail: "already delivered by an earlier run; not sent again".into(),
                });
                continue;
            }
            intents.push(Line::Intent(intent_of(
                &run,
                a,
                item.payload.as_ref(),
                targets,
                now,
            )));
            todo.push((ii, a));
        }
    }
    // One write and one fsync for all intents: durable before any action starts.
    journal.append_all(&intents)?;
    drop(intents);

    failpoint("after-intent");

    // Store outcomes are collected per batch and written with one fsync after it: a crash
    // in between is settled by the next run, which checks whether the write landed.
    let mut batch: Vec<Line> = Vec::new();
    // What became of each session's sessions.json entry: its lock is removed only after.
    let entry_fates: std::cell::RefCell<BTreeMap<SessionKey, EntryFate>> = Default::default();
    let mut record = |ii: usize, a: &Action, ch: Result<Change, String>, extra: Option<Value>| {
        if let Op::OpenclawEntry { file, key, sid, .. } = &a.op {
            let fate = match &ch {
                Ok(Change::Done { .. }) => EntryFate::Ended,
                Ok(Change::Skipped(_)) => EntryFate::LeftAlone {
                    file: file.clone(),
                    key: key.clone(),
                    sid: sid.clone(),
                },
                Err(e) => EntryFate::Failed(e.clone()),
            };
            entry_fates
                .borrow_mut()
                .insert(session_key(&a.session), fate);
        }
        let (ok, skipped, detail, prior, new) = match ch {
            Ok(Change::Done { prior, new }) => {
                (true, false, "done".to_string(), Some(prior), Some(new))
            }
            Ok(Change::Skipped(why)) => (true, true, why, None, None),
            Err(e) => (false, false, e, None, None),
        };
        batch.push(journal.outcome_line(&run, &a.id, ok, skipped, &detail, prior, new, extra));
        progress(&a.id);
        results[ii].actions.push(ActionResult {
            action: a.id.clone(),
            kind: a.kind.name(),
            target: None,
            ok,
            skipped,
            detail,
        });
    };

    // 4a. claude-mem: one transaction per database.
    each_store(
        &todo,
        &mut record,
        |op| match op {
            Op::ClaudeMem { db, .. } => Some(db),
            _ => None,
        },
        |db, acts| {
            let rows: Vec<(i64, Option<&Value>)> = acts
                .iter()
                .filter_map(|a| match a.op {
                    Op::ClaudeMem { row, .. } => Some((row, a.prior.as_ref())),
                    _ => None,
                })
                .collect();
            stores::claude_mem_end(db, &rows, now).map(|c| (c, None))
        },
    );
    // 4b. OpenClaw file stores: one atomic write per sessions.json.
    let mut n = 0;
    each_store(
        &todo,
        &mut record,
        |op| match op {
            Op::OpenclawEntry { file, .. } => Some(file),
            _ => None,
        },
        |file, acts| {
            let tg: Vec<stores::EntryTarget> = acts
                .iter()
                .filter_map(|a| match &a.op {
                    Op::OpenclawEntry {
                        key,
                        sid,
                        updated_at,
                        ..
                    } => Some(stores::EntryTarget {
                        session_key: key,
                        session_id: sid,
                        updated_at: *updated_at,
                    }),
                    _ => None,
                })
                .collect();
            if let Some(e) = fault("openclaw-file-write") {
                return Err(e);
            }
            let w = stores::openclaw_entries_end(file, &tg, now)?;
            // Keep a small file as it was and as written, so undo can restore it byte for
            // byte. A large one is not copied twice per run: the journal holds every
            // changed entry before and after, and undo restores entry by entry.
            n += 1;
            let extra = w.after.as_ref().and_then(|after| {
                if w.before.len() > WHOLE_FILE_BACKUP_MAX {
                    return Some(json!({"backup": format!(
                        "none: the file is larger than {} MiB; undo restores entry by entry",
                        WHOLE_FILE_BACKUP_MAX >> 20
                    )}));
                }
                save_backups(backups, n, &w.before, after).ok()
            });
            Ok((w.changes, extra))
        },
    );
    // 4c. OpenClaw SQLite stores: one transaction per database.
    each_store(
        &todo,
        &mut record,
        |op| match op {
            Op::OpenclawRow { db, .. } => Some(db),
            _ => None,
        },
        |db, acts| {
            let tg: Vec<stores::RowTarget> = acts
                .iter()
                .filter_map(|a| match &a.op {
                    Op::OpenclawRow { key, sid, .. } => Some(stores::RowTarget {
                        session_key: key,
                        session_id: sid,
                    }),
                    _ => None,
                })
                .collect();
            stores::openclaw_rows_end(db, &tg, now).map(|c| (c, None))
        },
    );
    // 4d. dead owners' lock files: all or nothing per session. A lock goes only when its
    // entry was ended now, or someone else ended or replaced that session meanwhile (then
    // no one runs it, and the lock names a dead owner of nothing). When the entry's write
    // failed, or the entry was left alone because it is still running but changed, the
    // lock stays with it, and the next run decides both together.
    for (ii, a) in &todo {
        if let Op::LeaveToGateway { pid } = &a.op {
            // Nothing is written; the record is what later scans read as `delivered`.
            let ch = Ok(Change::Done {
                prior: Value::Null,
                new: json!({"left_to_gateway_pid": pid}),
            });
            record(*ii, a, ch, None);
        }
        if let Op::EndOwed { pid } = &a.op {
            // Nothing is written; with the deliveries, the record ends the debt.
            let ch = Ok(Change::Done {
                prior: Value::Null,
                new: json!({"owed_by_gateway_pid": pid}),
            });
            record(*ii, a, ch, None);
        }
        if let Op::LockRemove { path, content } = &a.op {
            let fate = entry_fates.borrow().get(&session_key(&a.session)).cloned();
            let ch = match fate.map(|f| f.lock_may_go()).unwrap_or(Ok(())) {
                Ok(()) => stores::remove_lock(path, content),
                Err(why) => Ok(Change::Skipped(why)),
            };
            record(*ii, a, ch, None);
        }
    }
    journal.append_all(&std::mem::take(&mut batch))?;
    failpoint("after-store-writes");
    // 5. deliveries, concurrently, each outcome journaled as it lands.
    let jobs: Vec<(usize, &Action, usize)> = todo
        .iter()
        .filter_map(|(ii, a)| match a.op {
            Op::Deliver { target } => Some((*ii, *a, target)),
            _ => None,
        })
        .collect();
    if !jobs.is_empty() {
        let payloads: Vec<Value> = jobs
            .iter()
            .map(|(ii, _, _)| plan.items[*ii].payload.clone().unwrap_or(Value::Null))
            .collect();
        let delivery_keys: Vec<String> = jobs.iter().map(|(_, a, _)| delivery_key(&a.id)).collect();
        let pairs: Vec<targets::Job> = jobs
            .iter()
            .zip(&payloads)
            .zip(&delivery_keys)
            .map(|(((_, _, t), p), k)| targets::Job {
                target: &targets[*t],
                payload: p,
                key: Some(k),
            })
            .collect();
        let shared = Mutex::new((
            journal,
            Vec::<(usize, ActionResult)>::new(),
            None::<std::io::Error>,
        ));
        let on_done = |k: usize, o: &targets::Outcome| {
            let (ii, a, t) = jobs[k];
            failpoint("after-delivery");
            let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
            let (j, out, err) = &mut *g;
            if let Err(e) = j.outcome(&run, &a.id, o.ok, false, o.detail.clone()) {
                err.get_or_insert(e);
            }
            out.push((
                ii,
                ActionResult {
                    action: a.id.clone(),
                    kind: a.kind.name(),
                    target: Some(targets[t].name.clone()),
                    ok: o.ok,
                    skipped: false,
                    detail: o.detail.clone(),
                },
            ));
            progress(&a.id);
        };
        targets::deliver_all_within(&pairs, concurrency, budget, &on_done);
        let (_, out, err) = shared.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = err {
            return Err(e);
        }
        for (ii, r) in out {
            results[ii].actions.push(r);
        }
    }
    for r in &mut results {
        r.closed = r
            .actions
            .iter()
            .all(|a| a.ok && (!a.skipped || a.detail.starts_with("already delivered")));
    }
    Ok(results)
}

/// Which session an action belongs to (backend, id, key).
type SessionKey = (String, String, Option<String>);

fn session_key(s: &SessionRef) -> SessionKey {
    (s.backend.clone(), s.id.clone(), s.session_key.clone())
}

/// What a run's write did to a session's sessions.json entry.
#[derive(Debug, Clone)]
enum EntryFate {
    Ended,
    /// Left as it was (changed since it was read, ended or replaced by someone else).
    LeftAlone {
        file: PathBuf,
        key: String,
        sid: String,
    },
    Failed(String),
}

impl EntryFate {
    /// May the session's dead-owner lock be removed? Err says why not.
    fn lock_may_go(&self) -> Result<(), String> {
        match self {
            EntryFate::Ended => Ok(()),
            EntryFate::Failed(e) => Err(format!(
                "kept: the session's entry could not be ended ({e}); lock and entry are retried together"
            )),
            EntryFate::LeftAlone { file, key, sid } => {
                let doc: Value = std::fs::read(file)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| {
                        format!("kept: {} cannot be read again to check the entry", file.display())
                    })?;
                let e = &doc[key.as_str()];
                if e["sessionId"] == sid.as_str() && e["status"] == "running" {
                    Err("kept: the session's entry is still running and changed since it was read; left to its owner".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Test builds only: a store write named by `SESSIONCTL_FAILPOINT` fails as a full disk
/// would (ENOSPC), without aborting, to prove a failed write leaves its session whole.
fn fault(name: &str) -> Option<String> {
    (cfg!(debug_assertions) && std::env::var("SESSIONCTL_FAILPOINT").is_ok_and(|v| v == name))
        .then(|| "cannot write: No space left on device (os error 28) (injected by SESSIONCTL_FAILPOINT); nothing was written".to_string())
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

/// Abort the process at a named step, to prove a re-run finishes the job. Test builds
/// only: release builds ignore `SESSIONCTL_FAILPOINT`.
pub fn failpoint(name: &str) {
    if cfg!(debug_assertions) && std::env::var("SESSIONCTL_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("sessionctl: failpoint {name}: aborting");
        std::process::abort();
    }
}

/// Group the planned actions by the store they write (`store_of`), run `write` once per
/// store, and record each action's change, or the store's error for all of them.
fn each_store<'p>(
    todo: &[(usize, &'p Action)],
    record: &mut impl FnMut(usize, &Action, Result<Change, String>, Option<Value>),
    store_of: impl Fn(&Op) -> Option<&PathBuf>,
    mut write: impl FnMut(&Path, &[&'p Action]) -> Result<(Vec<Change>, Option<Value>), String>,
) {
    let mut by_store: BTreeMap<PathBuf, Vec<(usize, &'p Action)>> = BTreeMap::new();
    for &(ii, a) in todo {
        if let Some(p) = store_of(&a.op) {
            by_store.entry(p.clone()).or_default().push((ii, a));
        }
    }
    for (store, group) in by_store {
        let acts: Vec<&Action> = group.iter().map(|(_, a)| *a).collect();
        match write(&store, &acts) {
            Ok((changes, extra)) => {
                for ((ii, a), ch) in group.into_iter().zip(changes) {
                    record(ii, a, Ok(ch), extra.clone());
                }
            }
            Err(e) => {
                for (ii, a) in group {
                    record(ii, a, Err(format!("{}: {e}", store.display())), None);
                }
            }
        }
    }
}

fn target_name(a: &Action, targets: &[Target]) -> Option<String> {
    match a.op {
        Op::Deliver { target } => Some(targets[target].name.clone()),
        _ => None,
    }
}

/// Files up to this size are backed up whole for a byte-exact undo.
const WHOLE_FILE_BACKUP_MAX: usize = 8 << 20;

fn save_backups(dir: &Path, n: usize, before: &[u8], after: &[u8]) -> std::io::Result<Value> {
    // Private (0700 dirs, 0600 files) in a directory no other user controls: a copy of a
    // 0600 store is never readable by more users than the store.
    let d = crate::fsx::Dir::trusted(dir).map_err(std::io::Error::other)?;
    for (name, bytes) in [
        (format!("{n}.before"), before),
        (format!("{n}.after"), after),
    ] {
        let mut f = d.create_new(std::ffi::OsStr::new(&name), crate::fsx::PRIVATE_FILE)?;
        std::io::Write::write_all(&mut f, bytes)?;
    }
    let b = dir.join(format!("{n}.before"));
    let a = dir.join(format!("{n}.after"));
    Ok(json!({"backup_before": b, "backup_after": a}))
}
