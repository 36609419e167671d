//! Planning a `close`: which records, what each action does, the values it will change
//! (read right before acting), and the re-check against a fresh scan.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::payload::{payload, KeyIndex};
use super::{
    eligible, end_owed_id, entry_end_id, left_to_gateway_id, row_end_id, sref, Action, Item, Op,
    Plan, Selection,
};
use crate::backend::openclaw::store as stores;
use crate::journal::{Kind, SessionRef};
use crate::model::{Backend, Detail, Session, StoreKind, VerdictKind};
use crate::scan::{group_key, Report};
use crate::targets::Target;

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
            // Naming an OpenClaw session also closes its linked rows (of any linked-row backend) that
            // are closable on their own.
            if h.backend == Backend::Openclaw {
                let g = group_key(h);
                for s in r
                    .sessions
                    .iter()
                    .filter(|s| s.backend != Backend::Openclaw && group_key(s) == g)
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
            if let Some(end) = crate::backend::row_end(s) {
                let kind = end.store.kind();
                item.actions.push(Action {
                    // `<backend>-end:<db>:<row>`, `sql-end:<db>:<entry>:<row>`: stable
                    // across runs (a re-run knows what was done).
                    id: format!("{}:{}:{}", kind.name(), s.store.display(), s.id),
                    kind,
                    session: sref(s),
                    describe: end.store.describe(&end.db, &end.row, now),
                    prior: end.store.assumed_prior(),
                    // Set with the prior read right before acting ([`fill_priors`]).
                    new: None,
                    op: Op::RowEnd(end),
                });
                continue;
            }
            if let Detail::Openclaw(d) = &s.detail {
                openclaw_actions(r, s, d, targets, now, &mut item);
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
                // The key's own OpenClaw session is finished and owed its session_end (or
                // had it delivered): that session's close sends it, once.
                let settled = r.sessions.iter().find(|s| {
                    s.backend == Backend::Openclaw
                        && s.session_key.as_deref() == Some(k)
                        && matches!(s.verdict, VerdictKind::Owed | VerdictKind::Delivered)
                });
                item.notes.push(match settled {
                    Some(s) => format!(
                        "no session_end sent with these rows: `{k}`'s OpenClaw session is {}, and its own close sends it",
                        s.verdict.name()
                    ),
                    None => format!(
                        "no session_end sent: `{k}` names an OpenClaw session that a running gateway holds or ran a turn of"
                    ),
                });
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

/// What ending one OpenClaw session takes: the session_end a dead gateway owes it; or,
/// while a live gateway owns its store, leaving it to that gateway; or ending its entry
/// (file store, with its dead owner's lock) or its rows (SQLite store).
fn openclaw_actions(
    r: &Report,
    s: &Session,
    d: &crate::model::OpenclawDetail,
    targets: &[Target],
    now: i64,
    item: &mut Item,
) {
    if d.owed.is_some() {
        // Delivering is all there is to do: without a target the session_end
        // stays owed (and reported) until there is one.
        if targets.is_empty() {
            return;
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
        return;
    }
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
        return;
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
            _ => {}
        }
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
    // Linked rows: the rows of one store are read together (a backend may read 10k rows
    // in one query instead of 10k).
    let mut row_groups: BTreeMap<(PathBuf, String), Vec<(usize, usize)>> = BTreeMap::new();
    for (i, item) in plan.items.iter().enumerate() {
        for (j, a) in item.actions.iter().enumerate() {
            if let Op::RowEnd(end) = &a.op {
                row_groups
                    .entry((end.db.clone(), end.store.store_id()))
                    .or_default()
                    .push((i, j));
            }
        }
    }
    for ((db, _), at) in row_groups {
        let Op::RowEnd(first) = &plan.items[at[0].0].actions[at[0].1].op else {
            continue;
        };
        let store = first.store.clone();
        let rows: Vec<&Value> = at
            .iter()
            .filter_map(|&(i, j)| match &plan.items[i].actions[j].op {
                Op::RowEnd(end) => Some(&end.row),
                _ => None,
            })
            .collect();
        let mut priors = conn(&mut conns, &db)
            .and_then(|c| store.priors(c, &rows).ok())
            .unwrap_or_default()
            .into_iter();
        let new = store.new_values(now);
        for &(i, j) in &at {
            let a = &mut plan.items[i].actions[j];
            if let Some(p) = priors.next().flatten() {
                a.prior = Some(p);
            }
            a.new = Some(new.clone());
        }
    }
    for a in plan.items.iter_mut().flat_map(|i| i.actions.iter_mut()) {
        match &a.op {
            Op::RowEnd(_) => {}
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
