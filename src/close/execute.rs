//! Executing a plan: intents first, then one write per store, then the deliveries, each
//! outcome journaled as it lands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::{delivery_key, failpoint, sref, Action, ActionResult, ItemResult, Op, Plan};
use crate::backend::openclaw::store as stores;
use crate::backend::write::Change;
use crate::journal::{History, Intent, Journal, Kind, Line, SessionRef};
use crate::targets::{self, Target};
use crate::timefmt::iso_ms;

fn intent_of(
    run: &str,
    a: &Action,
    payload: Option<&Value>,
    targets: &[Target],
    now: i64,
) -> Intent {
    let (path, target) = match &a.op {
        Op::RowEnd(end) => (Some(end.db.clone()), None),
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
        row: match &a.op {
            Op::RowEnd(end) => end.store.locator(&end.row),
            _ => None,
        },
    }
}

/// Intents rendered by one thread at a time (see `execute`).
const INTENTS_PER_PART: usize = 2048;

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

/// Execute a plan. `progress` is told about every finished action.
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
    // Each action's result with its item, in the order they land; the report's items are
    // made from them at the end (after the store writes, while their checkpoints run).
    let mut landed: Vec<(usize, ActionResult)> = Vec::new();
    // 3. intents first, for everything; deliveries a target already confirmed are skipped.
    let mut todo: Vec<(usize, &Action)> = Vec::new();
    for (ii, item) in plan.items.iter().enumerate() {
        for a in &item.actions {
            if a.kind == Kind::Deliver && history.succeeded(&a.id) {
                landed.push((
                    ii,
                    ActionResult {
                        action: a.id.clone(),
                        kind: a.kind.name(),
                        target: target_name(a, targets),
                        ok: true,
                        skipped: true,
                        detail: "already delivered by an earlier run; not sent again".into(),
                    },
                ));
                continue;
            }
            todo.push((ii, a));
        }
    }
    // The intent lines, rendered in parts side by side (10k intents with their priors
    // take tens of ms on one core), in action order.
    let parts: Vec<&[(usize, &Action)]> = todo.chunks(INTENTS_PER_PART).collect();
    let intents: Vec<std::io::Result<Vec<u8>>> = crate::par::map(&parts, |part| {
        let lines: Vec<Line> = part
            .iter()
            .map(|&(ii, a)| {
                Line::Intent(intent_of(
                    &run,
                    a,
                    plan.items[ii].payload.as_ref(),
                    targets,
                    now,
                ))
            })
            .collect();
        crate::journal::render(&lines)
    });
    // One write and one fsync for all intents: durable before any action starts.
    let intents = intents.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    journal.append_rendered(&intents)?;
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
        landed.push((
            ii,
            ActionResult {
                action: a.id.clone(),
                kind: a.kind.name(),
                target: None,
                ok,
                skipped,
                detail,
            },
        ));
    };

    // 4a. linked rows: one transaction per store (database and table).
    crate::fsx::test_pause("before-row-writes");
    let mut by_rows: BTreeMap<(PathBuf, String), Vec<(usize, &Action)>> = BTreeMap::new();
    for &(ii, a) in &todo {
        if let Op::RowEnd(end) = &a.op {
            let key = (end.db.clone(), end.store.store_id());
            by_rows.entry(key).or_default().push((ii, a));
        }
    }
    for ((db, _), group) in by_rows {
        let rows: Vec<(&Value, Option<&Value>)> = group
            .iter()
            .filter_map(|(_, a)| match &a.op {
                Op::RowEnd(end) => Some((&end.row, a.prior.as_ref())),
                _ => None,
            })
            .collect();
        let store = match &group[0].1.op {
            Op::RowEnd(end) => end.store.clone(),
            _ => continue,
        };
        match store.end(&db, &rows, now) {
            Ok(changes) => {
                for ((ii, a), ch) in group.into_iter().zip(changes) {
                    record(ii, a, Ok(ch), None);
                }
            }
            Err(e) => {
                for (ii, a) in group {
                    record(ii, a, Err(format!("{}: {e}", db.display())), None);
                }
            }
        }
    }
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
        landed.extend(out);
    }
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
    for (ii, r) in landed {
        results[ii].actions.push(r);
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
