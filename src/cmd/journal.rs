use std::io::{self, IsTerminal, Write};

use comfy_table::Cell;
use serde_json::json;

use super::{stdout, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{Format, JournalAction};
use crate::close::recover;
use crate::config::Config;
use crate::journal::{History, Journal, RunHeader};
use crate::report::{escape_control, new_table, ref_label, stamped, write_doc};
use crate::timefmt::now_ms;

pub fn run(cfg: &Config, action: Option<&JournalAction>, run: Option<&str>) -> io::Result<u8> {
    let history = match super::read_history(cfg) {
        Ok(h) => h,
        Err(code) => return Ok(code),
    };
    match action {
        Some(JournalAction::Undo { run, dry_run, yes }) => undo(cfg, &history, run, *dry_run, *yes),
        None => match run {
            Some(r) => actions(cfg, &history, r),
            None => runs(cfg, &history),
        },
    }
}

fn counts(h: &History, run: &str) -> (usize, usize, usize, usize) {
    let (mut ok, mut failed, mut skipped, mut pending) = (0, 0, 0, 0);
    for i in h.intents().filter(|i| i.run == run) {
        match h.outcome_of(&i.run, &i.action) {
            None => pending += 1,
            Some(o) if o.skipped => skipped += 1,
            Some(o) if o.ok => ok += 1,
            Some(_) => failed += 1,
        }
    }
    (ok, failed, skipped, pending)
}

fn runs(cfg: &Config, h: &History) -> io::Result<u8> {
    let mut out = stdout();
    if cfg.format != Format::Table {
        let list: Vec<_> = h
            .runs()
            .map(|r| {
                let (ok, failed, skipped, pending) = counts(h, &r.run);
                json!({"run": r.run, "mode": r.mode, "at": r.at, "host": r.host, "version": r.version, "argv": r.argv,
                       "actions": {"ok": ok, "failed": failed, "skipped": skipped, "pending": pending}})
            })
            .collect();
        let doc = json!({"journal": cfg.journal, "runs": list});
        write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
    } else if h.runs().next().is_none() {
        writeln!(out, "No runs in {}.", cfg.journal.display())?;
    } else {
        let mut t = new_table(cfg);
        t.set_header([
            "RUN", "MODE", "AT", "OK", "FAILED", "SKIPPED", "PENDING", "COMMAND",
        ]);
        for r in h.runs() {
            let (ok, failed, skipped, pending) = counts(h, &r.run);
            t.add_row(vec![
                // The journal is a file anyone with the user's rights can edit.
                Cell::new(escape_control(&r.run)),
                Cell::new(escape_control(&r.mode)),
                Cell::new(escape_control(&r.at)),
                Cell::new(ok),
                Cell::new(failed),
                Cell::new(skipped),
                Cell::new(pending),
                Cell::new(escape_control(
                    &r.argv.iter().skip(1).cloned().collect::<Vec<_>>().join(" "),
                )),
            ]);
        }
        crate::report::write_rendered(&mut out, &t)?;
    }
    out.flush()?;
    Ok(EXIT_OK)
}

fn actions(cfg: &Config, h: &History, run: &str) -> io::Result<u8> {
    if let Err(code) = known_run(cfg, h, run) {
        return Ok(code);
    }
    let mut out = stdout();
    let rows: Vec<_> = h
        .intents()
        .filter(|i| i.run == run)
        .map(|i| (i, h.outcome_of(&i.run, &i.action)))
        .collect();
    if cfg.format != Format::Table {
        let list: Vec<_> = rows
            .iter()
            .map(|(i, o)| {
                let mut session = json!(i.session);
                session["label"] = json!(ref_label(&i.session));
                json!({"action": i.action, "kind": i.kind, "session": session, "target": i.target, "outcome": o})
            })
            .collect();
        let doc = json!({"run": run, "actions": list});
        write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
    } else {
        let mut t = new_table(cfg);
        t.set_header(["KIND", "SESSION", "ID", "TARGET", "OUTCOME", "DETAIL"]);
        for (i, o) in rows {
            let outcome = match o {
                None => "pending",
                Some(o) if o.skipped => "skipped",
                Some(o) if o.ok => "ok",
                Some(_) => "failed",
            };
            t.add_row(vec![
                Cell::new(i.kind.name()),
                Cell::new(escape_control(
                    i.session.session_key.as_deref().unwrap_or("-"),
                )),
                Cell::new(escape_control(&ref_label(&i.session))),
                Cell::new(escape_control(i.target.as_deref().unwrap_or("-"))),
                Cell::new(outcome),
                Cell::new(escape_control(
                    &o.map(|o| o.detail.clone()).unwrap_or_default(),
                )),
            ]);
        }
        crate::report::write_rendered(&mut out, &t)?;
    }
    out.flush()?;
    Ok(EXIT_OK)
}

fn undo(cfg: &Config, h: &History, run: &str, dry_run: bool, yes: bool) -> io::Result<u8> {
    if let Err(code) = known_run(cfg, h, run) {
        return Ok(code);
    }
    let tty = io::stdin().is_terminal() && io::stderr().is_terminal();
    // Without a terminal to confirm on, say so before a preview of what "will" be restored:
    // nothing will be.
    if !dry_run && !yes && !tty {
        eprintln!(
            "sessionctl: undo needs a terminal to confirm; pass --yes (or SESSIONCTL_YES=1), or --dry-run to see what it would restore"
        );
        return Ok(EXIT_ERROR);
    }
    let plan = recover::undo_plan(h, run);
    // What the undo will do, decided by the undo's own code (the live-gateway check, the
    // same reads of what each store holds now) with nothing written: a dry run prints
    // exactly this, and a real undo shows it before asking.
    let preview = recover::undo(&plan, cfg, None)?;
    let mut out = stdout();
    if dry_run && cfg.format != Format::Table {
        let doc = json!({"dry_run": true, "undoes": run, "steps": preview,
                "already_undone": plan.already.iter().map(|i| &i.action).collect::<Vec<_>>(),
                "deliveries_not_unsent": plan.deliveries});
        write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
        out.flush()?;
        return Ok(EXIT_OK);
    }
    if dry_run || cfg.format == Format::Table {
        let verb = if dry_run { "would" } else { "will" };
        for r in &preview {
            let what = format!(
                "{} ({})",
                r.kind,
                escape_control(r.target.as_deref().unwrap_or_default())
            );
            if !r.ok {
                writeln!(out, "{verb} fail: {what}: {}", escape_control(&r.detail))?;
            } else if r.skipped {
                writeln!(out, "{verb} skip: {what}: {}", escape_control(&r.detail))?;
            } else {
                writeln!(out, "{verb} restore {what}")?;
            }
        }
        for i in &plan.already {
            writeln!(
                out,
                "already undone: {} ({})",
                i.kind.name(),
                escape_control(&i.session.id)
            )?;
        }
        if plan.deliveries > 0 {
            writeln!(
                out,
                "{} hook deliver{} cannot be unsent",
                plan.deliveries,
                if plan.deliveries == 1 { "y" } else { "ies" }
            )?;
        }
        out.flush()?;
    }
    if dry_run || plan.steps.is_empty() {
        if plan.steps.is_empty() {
            writeln!(out, "Nothing to restore.")?;
        }
        return Ok(EXIT_OK);
    }
    if !yes {
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Restore {} change(s) of run {run}?",
                plan.steps.len()
            ))
            .default(false)
            .interact_on(&dialoguer::console::Term::stderr())
            .unwrap_or(false);
        if !ok {
            return Ok(EXIT_OK);
        }
    }
    let _lock = match super::close::acquire(&super::close::lock_path(&cfg.journal)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sessionctl: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    // The same exclusion on the stores as `close` takes, whatever the journal.
    let _store_locks = match lock_undo_stores(&plan) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sessionctl: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let host = crate::probe::Host::probe(false);
    let mut j =
        Journal::start(&cfg.journal, RunHeader::new("undo", now_ms(), &host)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("journal: {}: cannot write: {e}", cfg.journal.display()),
            )
        })?;
    let results = recover::undo(&plan, cfg, Some(&mut j))?;
    let bad = results.iter().filter(|r| !r.ok || r.skipped).count();
    if cfg.format == Format::Table {
        for r in &results {
            writeln!(
                out,
                "{} {} {}: {}",
                if !r.ok {
                    "failed "
                } else if r.skipped {
                    "skipped"
                } else {
                    "ok     "
                },
                r.kind,
                escape_control(r.target.as_deref().unwrap_or_default()),
                escape_control(&r.detail)
            )?;
        }
        writeln!(
            out,
            "Undo run {}: {} restored, {bad} not",
            j.run,
            results.len() - bad
        )?;
    } else {
        let doc = json!({"run": j.run, "undoes": run, "results": results, "deliveries_not_unsent": plan.deliveries});
        write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
    }
    out.flush()?;
    Ok(if bad == 0 { EXIT_OK } else { EXIT_FINDINGS })
}

fn known_run(cfg: &Config, h: &History, run: &str) -> Result<(), u8> {
    if h.runs().any(|r| r.run == run) {
        return Ok(());
    }
    super::error_line(
        "journal",
        &cfg.journal,
        format!("no run `{}`", escape_control(run)),
    );
    Err(EXIT_ERROR)
}

/// Lock the state dirs and data dirs the undo writes into, as `close` locks them: the
/// state dir is four levels above an OpenClaw store or lock file
/// (`<state>/agents/<id>/sessions/…`, `<state>/agents/<id>/agent/…`); a linked row's
/// database is locked by its directory.
fn lock_undo_stores(plan: &recover::UndoPlan) -> Result<Vec<crate::fsx::DirLock>, String> {
    use crate::journal::Kind;
    let mut dirs: Vec<std::path::PathBuf> = plan
        .steps
        .iter()
        .filter_map(|(i, _)| {
            let p = i.path.as_deref()?;
            let up = match i.kind {
                k if k.is_row_end() => 1,
                Kind::OpenclawEntryEnd | Kind::OpenclawRowEnd | Kind::LockRemove => 4,
                _ => return None,
            };
            p.ancestors()
                .nth(up)
                .map(|d| std::fs::canonicalize(d).unwrap_or(d.to_path_buf()))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(crate::fsx::lock_dir(&d, super::close::STORE_LOCK_WAIT)?);
    }
    Ok(out)
}
