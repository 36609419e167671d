//! `journal undo`: restore what a run changed, each store guarded by what it holds now.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::recover::row_holds;
use super::ActionResult;
use crate::backend::openclaw::store as stores;
use crate::backend::write::Change;
use crate::journal::{History, Intent, Journal, Kind, Outcome};
use crate::timefmt::{iso_ms, now_ms};

pub struct UndoPlan<'a> {
    pub steps: Vec<(&'a Intent, &'a Outcome)>,
    pub already: Vec<&'a Intent>,
    pub deliveries: usize,
}

pub fn undo_plan<'a>(history: &'a History, run: &str) -> UndoPlan<'a> {
    let mut plan = UndoPlan {
        steps: Vec::new(),
        already: Vec::new(),
        deliveries: 0,
    };
    for i in history.intents().filter(|i| i.run == run) {
        let Some(o) = history.outcome_of(&i.run, &i.action) else {
            continue;
        };
        if !o.ok || o.skipped {
            continue;
        }
        match i.kind {
            Kind::Deliver => plan.deliveries += 1,
            Kind::Restore | Kind::LeftToGateway | Kind::EndOwed => {}
            _ => {
                let tag = format!("{}/{}", i.run, i.action);
                let undone = history.intents().any(|u| {
                    u.undoes.as_deref() == Some(tag.as_str())
                        && history
                            .outcome_of(&u.run, &u.action)
                            .is_some_and(|o| o.ok && !o.skipped)
                });
                if undone {
                    plan.already.push(i);
                } else {
                    plan.steps.push((i, o));
                }
            }
        }
    }
    plan
}

/// Who a step is about, for the report: the session key (and the linked row).
fn who(i: &Intent) -> String {
    match &i.session.session_key {
        Some(k) if i.session.backend != "openclaw" => {
            format!("{k} ({})", crate::report::ref_label(&i.session))
        }
        Some(k) => k.clone(),
        None => format!(
            "{} {}",
            i.session.backend,
            crate::report::ref_label(&i.session)
        ),
    }
}

/// The OpenClaw state dir a journaled store or lock path lies in: the parent of its last
/// `agents` component (`<state>/agents/<id>/sessions/sessions.json`,
/// `<state>/agents/<id>/agent/openclaw-agent.sqlite`, `<state>/agents/<id>/sessions/<sid>.jsonl.lock`).
pub fn state_dir_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "agents"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

/// Does a gateway own `state_dir` now? Scans the host as `close` does (processes, gateway
/// locks and leases, through the OpenClaw backend's owner facts). Some(why) when a live
/// owner runs or one may run that cannot be verified: then the store is the gateway's.
pub fn gateway_owns(cfg: &crate::config::Config, state_dir: &Path) -> Option<String> {
    let mut host = crate::probe::Host::probe(true);
    host.pidns_init |= cfg.trust_pid_namespace;
    let none = std::collections::HashSet::new();
    let scan = crate::backend::openclaw::scan_state_dir(state_dir, true, cfg, &host, &|| &none)?;
    if let Some(g) = scan.owners.live().first() {
        return Some(format!(
            "a gateway (pid {}) now runs for {}; left to it",
            g.pid,
            state_dir.display()
        ));
    }
    let unverified = scan.owners.unverified.first().cloned().or_else(|| {
        scan.owners
            .claims
            .iter()
            .find(|c| c.state == crate::model::PidState::AliveUnverified)
            .map(|c| {
                format!(
                    "pid {} named by {} runs; its start time cannot be checked",
                    c.pid, c.kind
                )
            })
    });
    unverified.map(|n| {
        format!(
            "a gateway may run for {} but cannot be verified ({n}); left to it",
            state_dir.display()
        )
    })
}

/// Does the store still hold what the run wrote? Ok(None): restore; Ok(Some(why)): leave it
/// (the same guard the store's restore applies, read without writing, so that a dry run
/// says what the undo will do); Err: cannot tell.
fn still_ours(i: &Intent, o: &Outcome) -> Result<Option<String>, String> {
    let new = written(i, o);
    let path = i.path.clone().unwrap_or_default();
    let left = |why: &str| Ok(Some(why.to_string()));
    match i.kind {
        Kind::RowEnd(_) => {
            if row_holds(i, &path, &new)? {
                Ok(None)
            } else {
                left("row changed since it was ended; left alone")
            }
        }
        Kind::OpenclawRowEnd => {
            let conn = crate::backend::open_read_only(&path)?;
            let key = i.session.session_key.clone().unwrap_or_default();
            let entry: Option<String> = conn
                .query_row(
                    "SELECT entry_json FROM session_nodes WHERE session_key = ?1 AND current_session_id = ?2",
                    [key.as_str(), i.session.id.as_str()],
                    |r| r.get(0),
                )
                .ok();
            match (entry, new["node"]["entry_json"].as_str()) {
                (Some(e), Some(w)) if e == w => Ok(None),
                _ => left("session changed since it was ended; left alone"),
            }
        }
        Kind::OpenclawEntryEnd => {
            let current = std::fs::read(&path).map_err(|e| format!("cannot read: {e}"))?;
            let after = o
                .data
                .as_ref()
                .and_then(|d| std::fs::read(d["backup_after"].as_str()?).ok());
            if after.is_some_and(|a| a == current) {
                return Ok(None);
            }
            let doc: Value = serde_json::from_slice(&current)
                .map_err(|e| crate::backend::openclaw::json_msg(&e))?;
            let key = i.session.session_key.clone().unwrap_or_default();
            if doc.get(key.as_str()) == Some(&new) {
                Ok(None)
            } else {
                left("entry changed since it was ended; left alone")
            }
        }
        Kind::LockRemove => {
            if path.exists() {
                left("a lock file exists again; left alone")
            } else {
                Ok(None)
            }
        }
        Kind::Deliver | Kind::Restore | Kind::LeftToGateway | Kind::EndOwed => {
            left("not a store change")
        }
    }
}

/// All or nothing per session: a removed lock comes back only with its session's entry.
/// `entries`: what became of this undo's entry restores (session -> Ok, or why not).
fn lock_may_return(
    plan: &UndoPlan,
    lock: &Intent,
    entries: &BTreeMap<(String, String), Result<(), String>>,
) -> Result<(), String> {
    let sess = (lock.session.id.clone(), lock.run.clone());
    if let Some(r) = entries.get(&sess) {
        return r.clone().map_err(|why| {
            format!("the session's entry was not restored ({why}); its lock stays removed")
        });
    }
    let same = |i: &Intent| {
        i.run == lock.run && i.kind == Kind::OpenclawEntryEnd && i.session == lock.session
    };
    if plan.already.iter().any(|i| same(i)) {
        return Ok(());
    }
    // The run did not end the entry (an older journal, or someone else ended it): the lock
    // belongs back only beside an entry that still runs its session.
    let file = lock
        .path
        .as_deref()
        .map(|p| p.with_file_name("sessions.json"))
        .unwrap_or_default();
    let doc: Option<Value> = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let e = doc
        .as_ref()
        .map(|d| d[lock.session.session_key.as_deref().unwrap_or_default()].clone())
        .unwrap_or(Value::Null);
    if e["sessionId"] == lock.session.id.as_str() && e["status"] == "running" {
        Ok(())
    } else {
        Err("the session's entry no longer runs it; a lock put back would be stale".into())
    }
}

/// Restore what the planned steps changed, journaled under `journal`'s run; with no
/// journal, a dry run: the same decisions (the live-gateway check, the same reads of what
/// each store holds now), nothing written, each result saying what the undo would do.
///
/// Order: linked rows first, then each OpenClaw state dir in turn — its owner checked right
/// before anything in it is written (a gateway that runs now, or one that cannot be
/// verified, keeps the whole dir), its rows and entries, then its locks, each lock only
/// with its session's entry.
pub fn undo(
    plan: &UndoPlan,
    cfg: &crate::config::Config,
    mut journal: Option<&mut Journal>,
) -> std::io::Result<Vec<ActionResult>> {
    let mut results = Vec::new();
    // Steps grouped: linked rows first (None), then by state dir.
    let mut groups: BTreeMap<Option<PathBuf>, Vec<(&Intent, &Outcome)>> = BTreeMap::new();
    for &(i, o) in &plan.steps {
        let dir = match i.kind {
            k if k.is_row_end() => None,
            _ => Some(
                i.path
                    .as_deref()
                    .and_then(state_dir_of)
                    .unwrap_or_else(|| i.path.clone().unwrap_or_default()),
            ),
        };
        groups.entry(dir).or_default().push((i, o));
    }
    for (dir, steps) in groups {
        // A downstream process that runs now (a linked-row backend's worker) would not pick a row
        // set back to active up again, but it does not own the row either: the rows are
        // restored, guarded by what they hold.
        let owned = dir.as_deref().and_then(|d| gateway_owns(cfg, d));
        let mut entries: BTreeMap<(String, String), Result<(), String>> = BTreeMap::new();
        let mut by_file: BTreeMap<PathBuf, Vec<(&Intent, &Outcome)>> = BTreeMap::new();
        let mut locks = Vec::new();
        for &(i, o) in &steps {
            if i.kind == Kind::LockRemove {
                locks.push((i, o));
                continue;
            }
            let decided = match &owned {
                Some(why) => Ok(Some(why.clone())),
                None => still_ours(i, o),
            };
            if i.kind == Kind::OpenclawEntryEnd {
                let sess = (i.session.id.clone(), i.run.clone());
                match decided {
                    Ok(None) => {
                        entries.insert(sess, Ok(()));
                        by_file
                            .entry(i.path.clone().unwrap_or_default())
                            .or_default()
                            .push((i, o));
                    }
                    Ok(Some(why)) => {
                        entries.insert(sess, Err(why.clone()));
                        step(
                            &mut journal,
                            &mut results,
                            i,
                            o,
                            Ok(Change::Skipped(why)),
                            false,
                        )?;
                    }
                    Err(e) => {
                        entries.insert(sess, Err(e.clone()));
                        step(&mut journal, &mut results, i, o, Err(e), false)?;
                    }
                }
                continue;
            }
            decide_and_restore(&mut journal, &mut results, i, o, decided)?;
        }
        for (file, steps) in by_file {
            let changes = if journal.is_none() {
                steps.iter().map(|_| Ok(would_restore())).collect()
            } else {
                for &(i, o) in &steps {
                    intent(&mut journal, i, o)?;
                }
                restore_entries(&file, &steps)
            };
            for (&(i, o), ch) in steps.iter().zip(changes) {
                if !matches!(ch, Ok(Change::Done { .. })) {
                    let why = match &ch {
                        Ok(Change::Skipped(w)) => w.clone(),
                        Err(e) => e.clone(),
                        Ok(Change::Done { .. }) => String::new(),
                    };
                    entries.insert((i.session.id.clone(), i.run.clone()), Err(why));
                }
                step(&mut journal, &mut results, i, o, ch, true)?;
            }
        }
        for (i, o) in locks {
            let decided = match &owned {
                Some(why) => Ok(Some(why.clone())),
                None => match lock_may_return(plan, i, &entries) {
                    Err(why) => Ok(Some(why)),
                    Ok(()) => still_ours(i, o),
                },
            };
            decide_and_restore(&mut journal, &mut results, i, o, decided)?;
        }
    }
    Ok(results)
}

/// What a dry run reports for a step the undo would restore.
/// One row's or lock's restore, as decided: skipped with the reason, failed, only
/// described (a dry run, no journal), or journaled and done.
fn decide_and_restore(
    journal: &mut Option<&mut Journal>,
    results: &mut Vec<ActionResult>,
    i: &Intent,
    o: &Outcome,
    decided: Result<Option<String>, String>,
) -> std::io::Result<()> {
    let mut written = false;
    let ch = match decided {
        Ok(Some(why)) => Ok(Change::Skipped(why)),
        Err(e) => Err(e),
        Ok(None) if journal.is_none() => Ok(would_restore()),
        Ok(None) => {
            intent(journal, i, o)?;
            written = true;
            restore_one(i, o)
        }
    };
    step(journal, results, i, o, ch, written)
}

fn would_restore() -> Change {
    Change::Done {
        prior: Value::Null,
        new: Value::Null,
    }
}

fn undo_id(i: &Intent) -> String {
    format!("restore:{}/{}", i.run, i.action)
}

/// The restore's intent line, right before its write.
fn intent(journal: &mut Option<&mut Journal>, i: &Intent, o: &Outcome) -> std::io::Result<()> {
    let Some(j) = journal.as_deref_mut() else {
        return Ok(());
    };
    let run = j.run.clone();
    j.intent(Intent {
        run,
        action: undo_id(i),
        kind: Kind::Restore,
        at: iso_ms(now_ms()),
        session: i.session.clone(),
        target: None,
        path: i.path.clone(),
        row: i.row.clone(),
        prior: o.new.clone(),
        new: o.prior.clone().or_else(|| i.prior.clone()),
        payload: None,
        undoes: Some(format!("{}/{}", i.run, i.action)),
    })
}

/// What the run wrote: the outcome's values, else the intent's.
fn written(i: &Intent, o: &Outcome) -> Value {
    o.new
        .clone()
        .or_else(|| i.new.clone())
        .unwrap_or(Value::Null)
}

/// Restore one row or lock (the store re-checks, in its write, that it holds what we wrote).
fn restore_one(i: &Intent, o: &Outcome) -> Result<Change, String> {
    let prior = o
        .prior
        .clone()
        .or_else(|| i.prior.clone())
        .unwrap_or(Value::Null);
    let new = written(i, o);
    let path = i.path.clone().unwrap_or_default();
    match i.kind {
        k if k.is_row_end() => {
            let (store, row) = crate::backend::linked::from_intent(i)?;
            store.restore(&path, &row, &prior, &new)
        }
        Kind::OpenclawRowEnd => stores::openclaw_row_restore(
            &path,
            i.session.session_key.as_deref().unwrap_or_default(),
            &i.session.id,
            &prior,
            &new,
        ),
        Kind::LockRemove => stores::restore_lock(&path, prior.as_str().unwrap_or_default()),
        _ => Err("not a store change".into()),
    }
}

/// Restore one sessions.json's entries: byte for byte when the file still holds what the
/// run wrote, else entry by entry.
fn restore_entries(file: &Path, steps: &[(&Intent, &Outcome)]) -> Vec<Result<Change, String>> {
    let entries: Vec<(String, Value, Value)> = steps
        .iter()
        .map(|(i, o)| {
            (
                i.session.session_key.clone().unwrap_or_default(),
                o.prior.clone().unwrap_or(Value::Null),
                o.new.clone().unwrap_or(Value::Null),
            )
        })
        .collect();
    let backups = steps[0].1.data.as_ref().and_then(|d| {
        let b = std::fs::read(d["backup_before"].as_str()?).ok()?;
        let a = std::fs::read(d["backup_after"].as_str()?).ok()?;
        Some((b, a))
    });
    let (before, after) = backups.unwrap_or_default();
    match stores::openclaw_entries_restore(file, &before, &after, &entries) {
        Ok(changes) => changes.into_iter().map(Ok).collect(),
        Err(e) => steps
            .iter()
            .map(|_| Err(format!("{}: {e}", file.display())))
            .collect(),
    }
}

/// Record one step's result: in the journal (a real undo; a step left alone gets its
/// intent and outcome together) and in the report.
fn step(
    journal: &mut Option<&mut Journal>,
    results: &mut Vec<ActionResult>,
    i: &Intent,
    o: &Outcome,
    ch: Result<Change, String>,
    announced: bool,
) -> std::io::Result<()> {
    let dry = journal.is_none();
    let (ok, skipped, detail, prior, new) = match ch {
        Ok(Change::Done { prior, new }) => (
            true,
            false,
            if dry { "would restore" } else { "restored" }.to_string(),
            Some(prior),
            Some(new),
        ),
        Ok(Change::Skipped(why)) => (true, true, why, None, None),
        Err(e) => (false, false, e, None, None),
    };
    if let Some(j) = journal.as_deref_mut() {
        let id = undo_id(i);
        let run = j.run.clone();
        if !announced {
            // Left alone before anything was written: its intent was not announced yet.
            intent(&mut Some(&mut *j), i, o)?;
        }
        j.outcome_with(&run, &id, ok, skipped, &detail, prior, new, None)?;
    }
    results.push(ActionResult {
        action: undo_id(i),
        kind: i.kind.name(),
        target: Some(who(i)),
        ok,
        skipped,
        detail,
    });
    Ok(())
}

/// Where a run keeps copies of files it rewrote.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_of_store_and_lock_paths() {
        for p in [
            "/s/agents/main/sessions/sessions.json",
            "/s/agents/main/agent/openclaw-agent.sqlite",
            "/s/agents/main/sessions/ae3ade86.jsonl.lock",
        ] {
            assert_eq!(state_dir_of(Path::new(p)), Some(PathBuf::from("/s")), "{p}");
        }
        // A state dir that itself lies under a dir named `agents`: the last one counts.
        assert_eq!(
            state_dir_of(Path::new("/agents/x/s/agents/main/sessions/sessions.json")),
            Some(PathBuf::from("/agents/x/s"))
        );
        assert_eq!(state_dir_of(Path::new("/tmp/rows.db")), None);
    }
}
