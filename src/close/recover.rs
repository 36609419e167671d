//! Finishing a crashed run: `close` resumes before it plans.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ActionResult;
use crate::backend::openclaw::store as stores;
use crate::backend::write::Change;
use crate::journal::{History, Intent, Journal, Kind};
use crate::targets::{self, Target};

pub use super::undo::{undo, undo_plan, UndoPlan};

/// Does the linked row of `i` still hold what the end wrote (`new`)? Resume asks it to
/// know whether a write landed; undo, whether the row is still ours to restore.
pub(super) fn row_holds(i: &Intent, db: &Path, new: &Value) -> Result<bool, String> {
    let (store, row) = crate::backend::linked::from_intent(i)?;
    store.holds(db, &row, new)
}

/// Was the store write this intent announced applied before the crash?
fn applied(i: &Intent) -> Result<bool, String> {
    let new = i.new.clone().unwrap_or(Value::Null);
    let path = i.path.clone().unwrap_or_default();
    match i.kind {
        Kind::RowEnd(_) => row_holds(i, &path, &new),
        Kind::OpenclawEntryEnd => {
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let doc: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let key = i.session.session_key.clone().unwrap_or_default();
            let e = &doc[key.as_str()];
            // Full entries are journaled since the intent is written right before acting;
            // older intents hold only the changed members.
            if new.get("sessionId").is_some() {
                Ok(*e == new)
            } else {
                Ok(e["status"] == "failed"
                    && e["endedAt"] == new["endedAt"]
                    && e["sessionId"] == i.session.id.as_str())
            }
        }
        Kind::OpenclawRowEnd => {
            let conn = crate::backend::open_read_only(&path)?;
            let key = i.session.session_key.clone().unwrap_or_default();
            let got: Option<(Option<String>, String)> = conn
                .query_row(
                    "SELECT status, entry_json FROM session_nodes WHERE session_key = ?1 AND current_session_id = ?2",
                    [key.as_str(), i.session.id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            Ok(match got {
                Some((Some(s), entry)) => {
                    let e: Value = serde_json::from_str(&entry).unwrap_or(Value::Null);
                    match new["node"]["entry_json"].as_str() {
                        Some(written) => s == "failed" && entry == written,
                        None => s == "failed" && e["endedAt"] == new["endedAt"],
                    }
                }
                _ => false,
            })
        }
        Kind::LockRemove => Ok(!path.exists()),
        Kind::Deliver | Kind::Restore => Ok(false),
        // Nothing to apply: leaving the store alone is done once it was decided.
        Kind::LeftToGateway | Kind::EndOwed => Ok(true),
    }
}

/// Deliveries an earlier run tried and a target refused, that no run has made since: the
/// newest intent of each action. `history` is read before a run writes anything, so every
/// intent in it belongs to an earlier run, whatever its id.
fn failed_deliveries(history: &History) -> Vec<&Intent> {
    let mut newest: BTreeMap<&str, &Intent> = BTreeMap::new();
    for i in history.intents().filter(|i| i.kind == Kind::Deliver) {
        newest.insert(&i.action, i);
    }
    newest
        .into_iter()
        .filter(|(action, i)| {
            history
                .outcome_of(&i.run, action)
                .is_some_and(|o| !o.ok && !o.skipped)
                && !history.succeeded(action)
        })
        .map(|(_, i)| i)
        .collect()
}

/// The deliveries [`resume`] will make (Ok: the target's index) or fail (Err: why), in its
/// order, decided the same way and with nothing sent or written: what `close --dry-run`
/// shows before its plan.
pub fn planned_retries<'a>(
    history: &'a History,
    targets: &[Target],
) -> Vec<(&'a Intent, Result<usize, String>)> {
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    let position = |i: &Intent| {
        targets
            .iter()
            .position(|t| Some(&t.name) == i.target.as_ref())
    };
    let mut out = Vec::new();
    for i in failed_deliveries(history) {
        if seen.insert(&i.action) {
            if let Some(t) = position(i).filter(|_| i.payload.is_some()) {
                out.push((i, Ok(t)));
            }
        }
    }
    for i in history.pending() {
        if i.kind != Kind::Deliver || history.succeeded(&i.action) || !seen.insert(&i.action) {
            continue;
        }
        match position(i) {
            Some(t) if i.payload.is_some() => out.push((i, Ok(t))),
            _ => out.push((
                i,
                Err(format!(
                    "target `{}` is no longer configured; not delivered",
                    i.target.clone().unwrap_or_default()
                )),
            )),
        }
    }
    out
}

/// Settle every intent of earlier runs that has no outcome: store writes are checked
/// (applied → recorded as done, with the prior values undo needs; not applied → recorded
/// as not done, and the session is planned again if it is still an orphan), deliveries a
/// target never confirmed are made now.
pub fn resume(
    history: &History,
    journal: &mut Journal,
    targets: &[Target],
    concurrency: usize,
    budget: &targets::RunBudget,
) -> std::io::Result<Vec<ActionResult>> {
    let mut results = Vec::new();
    let mut jobs: Vec<(&Intent, usize)> = Vec::new();
    // Deliveries an earlier run tried and a target refused: the sessions are closed now, so
    // no plan will deliver them again; retry each once per run, with its journaled payload.
    let mut retried: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for i in failed_deliveries(history) {
        if retried.insert(&i.action) {
            if let Some(t) = targets
                .iter()
                .position(|t| Some(&t.name) == i.target.as_ref())
            {
                jobs.push((i, t));
            }
        }
    }
    for i in history.pending() {
        match i.kind {
            Kind::Deliver => {
                if history.succeeded(&i.action) {
                    journal.outcome(&i.run, &i.action, true, true, "delivered by a later run")?;
                    continue;
                }
                if !retried.insert(&i.action) {
                    continue;
                }
                let name = i.target.clone().unwrap_or_default();
                match targets.iter().position(|t| t.name == name) {
                    Some(t) if i.payload.is_some() => jobs.push((i, t)),
                    _ => {
                        let why = format!("target `{name}` is no longer configured; not delivered");
                        journal.outcome(&i.run, &i.action, false, false, &why)?;
                        results.push(result(i, false, false, why));
                    }
                }
            }
            Kind::Restore => {
                let why = "interrupted undo; run `sessionctl journal undo` again".to_string();
                journal.outcome(&i.run, &i.action, false, true, &why)?;
                results.push(result(i, false, true, why));
            }
            _ => match applied(i) {
                Ok(true) => {
                    let why = format!("applied before run {} was interrupted", i.run);
                    journal.outcome_with(
                        &i.run,
                        &i.action,
                        true,
                        false,
                        &why,
                        i.prior.clone(),
                        i.new.clone(),
                        None,
                    )?;
                    results.push(result(i, true, false, why));
                }
                // A dead owner's lock is finished here: once its session is ended, no new
                // plan would remove it. Only if it still holds what was read and its owner
                // is still gone.
                Ok(false)
                    if i.kind == Kind::LockRemove
                        && lock_owner_gone(i)
                        && entry_settled(history, i) =>
                {
                    let path = i.path.clone().unwrap_or_default();
                    let prior = i.prior.as_ref().and_then(Value::as_str).unwrap_or_default();
                    let (ok, skipped, why) = match stores::remove_lock(&path, prior) {
                        Ok(Change::Done { .. }) => {
                            (true, false, format!("finished for run {}", i.run))
                        }
                        Ok(Change::Skipped(w)) => (true, true, w),
                        Err(e) => (false, false, e),
                    };
                    journal.outcome_with(
                        &i.run,
                        &i.action,
                        ok,
                        skipped,
                        &why,
                        i.prior.clone(),
                        None,
                        None,
                    )?;
                    results.push(result(i, ok, skipped, why));
                }
                Ok(false) => {
                    let why = format!("not applied before run {} was interrupted", i.run);
                    journal.outcome(&i.run, &i.action, false, true, &why)?;
                    results.push(result(i, false, true, why));
                }
                Err(e) => {
                    let why = format!("cannot tell whether run {} applied it: {e}", i.run);
                    journal.outcome(&i.run, &i.action, false, false, &why)?;
                    results.push(result(i, false, false, why));
                }
            },
        }
    }
    // Only journaled payloads can be sent again (every delivery intent carries one); keep
    // `jobs` and the delivery list index for index.
    jobs.retain(|(i, _)| i.payload.is_some());
    if !jobs.is_empty() {
        let keys: Vec<String> = jobs
            .iter()
            .map(|(i, _)| super::delivery_key(&i.action))
            .collect();
        let pairs: Vec<targets::Job> = jobs
            .iter()
            .zip(&keys)
            .filter_map(|((i, t), k)| {
                Some(targets::Job {
                    target: &targets[*t],
                    payload: i.payload.as_ref()?,
                    key: Some(k),
                })
            })
            .collect();
        // Each outcome is journaled as it lands, as `execute` does for fresh deliveries: a
        // resume killed again (cron under `timeout`) keeps what it delivered, and the next
        // run sends only the rest, the ones in flight at the kill first (in journal order).
        let shared = std::sync::Mutex::new((journal, None::<std::io::Error>));
        let on_done = |k: usize, o: &targets::Outcome| {
            let (i, _) = jobs[k];
            let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
            let (j, err) = &mut *g;
            if err.is_none() {
                if let Err(e) = j.outcome(&i.run, &i.action, o.ok, false, o.detail.clone()) {
                    *err = Some(e);
                }
            }
        };
        let outs = targets::deliver_all_within(&pairs, concurrency, budget, &on_done);
        let (_, err) = shared.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = err {
            return Err(e);
        }
        for ((i, _), o) in jobs.iter().zip(outs) {
            results.push(result(i, o.ok, false, format!("resumed: {}", o.detail)));
        }
    }
    Ok(results)
}

/// All or nothing per session: a crashed run's lock removal is finished only when that
/// run's entry write for the same session landed, or the entry no longer runs that session
/// (ended or replaced by someone else). Otherwise the session is still an orphan with its
/// lock, and the next plan ends the entry and removes the lock together.
fn entry_settled(history: &History, lock: &Intent) -> bool {
    let Some(entry) = history.intents().find(|e| {
        e.run == lock.run && e.kind == Kind::OpenclawEntryEnd && e.session == lock.session
    }) else {
        return true;
    };
    if history
        .outcome_of(&entry.run, &entry.action)
        .is_some_and(|o| o.ok && !o.skipped)
        || applied(entry) == Ok(true)
    {
        return true;
    }
    let Some(doc) = entry
        .path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    else {
        return false;
    };
    let e = &doc[entry.session.session_key.as_deref().unwrap_or_default()];
    !(e["sessionId"] == entry.session.id.as_str() && e["status"] == "running")
}

/// The pid a journaled lock names is not running, or runs with another start time.
fn lock_owner_gone(i: &Intent) -> bool {
    let Some(text) = i.prior.as_ref().and_then(Value::as_str) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let Some(pid) = v["pid"].as_i64() else {
        return false;
    };
    let host = crate::probe::Host::probe(false);
    matches!(
        host.check_pid(pid, v["starttime"].as_u64()),
        crate::model::PidState::Dead | crate::model::PidState::Reused
    )
}

fn result(i: &Intent, ok: bool, skipped: bool, detail: String) -> ActionResult {
    ActionResult {
        action: i.action.clone(),
        kind: i.kind.name(),
        target: i.target.clone(),
        ok,
        skipped,
        detail,
    }
}

/// What `journal undo <run>` will do.
pub fn backup_dir(journal: &Path, run: &str) -> PathBuf {
    journal
        .parent()
        .unwrap_or(Path::new("."))
        .join("backups")
        .join(run)
}
