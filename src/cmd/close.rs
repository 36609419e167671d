//! `sessionctl close`: one run, in the steps `run_to` names — open (config, terminal),
//! lock, prepare (journal upkeep, history), scan and resume what earlier runs owe, plan,
//! then either the dry run's report, or confirm, re-check, execute and report.

mod after_stop;
mod dry_run;
mod locks;
mod pick;
mod report;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{stdout, Keep, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::CloseArgs;
use crate::close::{self, recover, ActionResult, ItemResult, Plan, Selection};
use crate::config::Config;
use crate::journal::{History, Journal, RunHeader, SessionRef};
use crate::report::{escape_control, print_problems};
use crate::scan;
use crate::targets;
use crate::timefmt::now_ms;

pub use after_stop::StopEnv;
pub use locks::{acquire, lock_path, lock_stores, RunLock, STORE_LOCK_WAIT};
use report::Refusal;

/// What one `close` run did: its exit code and the counts `watch` logs.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub code: u8,
    /// The journal run, when one was started.
    pub run: Option<String>,
    /// Session groups closed, and those that were not (an action failed).
    pub closed: usize,
    pub failed: usize,
    /// Planned sessions the re-check dropped.
    pub skipped: usize,
    /// Actions earlier runs owed that this run settled, and those that failed again.
    pub resumed: usize,
    pub resumed_failed: usize,
}

impl Outcome {
    fn code(code: u8) -> Outcome {
        Outcome {
            code,
            ..Outcome::default()
        }
    }
}

/// `sessionctl close`: the report on stdout; the process exits after it.
pub fn run(cfg: &Config, args: &CloseArgs, keep: &mut Keep) -> io::Result<u8> {
    // --after-stop: first of all, how the gateway ended. A clean stop needs nothing.
    if args.after_stop {
        let stop = StopEnv::from(|k| std::env::var(k).ok());
        let (clean, line) = stop.judge();
        if !cfg.quiet {
            eprintln!("sessionctl: after-stop: {}", escape_control(&line));
        }
        if clean {
            return Ok(EXIT_OK);
        }
    }
    let mut out = stdout();
    Ok(run_to(cfg, args, &mut out, keep)?.code)
}

/// One `close` run with its report (table or JSON, as `cfg.format` says) written to `out`.
/// The run's large values (scans, plan, results) end in `keep`: `main` exits holding them;
/// `watch` runs close again and again, and frees them.
pub fn run_to<W: Write>(
    cfg: &Config,
    args: &CloseArgs,
    out: &mut W,
    keep: &mut Keep,
) -> io::Result<Outcome> {
    let mut run = match Run::open(cfg, args) {
        Ok(run) => run,
        Err(code) => return Ok(Outcome::code(code)),
    };
    // Held to the end of the run; none for a dry run.
    let _locks = match run.lock() {
        Ok(locks) => locks,
        Err(code) => return Ok(Outcome::code(code)),
    };
    // Dropped before the locks, on every way out: a batch's connection may still be
    // closing (its checkpoint runs beside the outcome lines and the report).
    let _settle = Settle;
    let history = match run.prepare() {
        Ok(h) => h,
        Err(code) => return Ok(Outcome::code(code)),
    };
    let (report, resumed) = run.scan_and_resume(&history)?;
    // No one will be asked (`--yes`): the re-check's fresh scan starts now, beside
    // planning. With a prompt, it starts once the prompt is answered.
    let early = (!args.dry_run && run.yes).then(|| run.spawn_scan());
    let (mut plan, refused) = run.plan(&report);
    let refusals = report::refusals(&report, &run.sel, &refused);

    if args.dry_run {
        let code = run.dry_run(&history, &plan, &refusals);
        keep.hold((report, plan));
        return code.map(Outcome::code);
    }
    if let Err(code) = run.confirm(&mut plan, report.now_ms) {
        return Ok(Outcome::code(code));
    }
    let (fresh, dropped) = run.recheck(&mut plan, early);
    let results = run.execute(&plan, &fresh.host)?;
    let run_id = run.tidy(&plan);

    let done = report::Done {
        run: run_id.as_deref(),
        resumed: &resumed,
        results: &results,
        refusals: &refusals,
        dropped: &dropped,
    };
    report::write(out, cfg.format, now_ms(), &done)?;
    let outcome = run.outcome(&fresh, &done);
    drop(refusals);
    keep.hold((report, fresh, plan, results));
    Ok(outcome)
}

/// Waits, when dropped, until every batch's connection is closed
/// ([`crate::backend::write::settle`]).
struct Settle;

impl Drop for Settle {
    fn drop(&mut self) {
        crate::backend::write::settle();
    }
}

/// One close run's settings and what its steps share: the targets, the selection, the
/// time it started, the delivery budget and the journal once a step started it.
struct Run<'a> {
    cfg: &'a Config,
    args: &'a CloseArgs,
    /// `--yes`; `--after-stop` is too (ExecStopPost= has no terminal to confirm on).
    yes: bool,
    /// stdin and stderr are a terminal: `close` may ask.
    tty: bool,
    targets: targets::Config,
    sel: Selection,
    /// When the run began its work: set again once the locks are held (they may wait).
    now: i64,
    budget: targets::RunBudget,
    /// Started by the first step that writes: resuming owed work, or executing the plan.
    journal: Option<Journal>,
}

impl<'a> Run<'a> {
    /// Read the config file's targets; without `--yes` or `--dry-run`, insist on a
    /// terminal to confirm on. Err is the exit code after a one-line error.
    fn open(cfg: &'a Config, args: &'a CloseArgs) -> Result<Run<'a>, u8> {
        let yes = args.yes || args.after_stop;
        let (cfg_path, explicit) = &cfg.config_file;
        let targets = match targets::load(cfg_path, *explicit, &|k| std::env::var(k).ok()) {
            Ok(c) => c,
            Err(e) => {
                super::error_line("config file", &e.path, &e.message);
                return Err(EXIT_ERROR);
            }
        };
        let tty = io::stdin().is_terminal() && io::stderr().is_terminal();
        if !yes && !args.dry_run && !tty {
            eprintln!(
                "sessionctl: close needs a terminal to confirm; pass --yes (or SESSIONCTL_YES=1) to close without asking, or --dry-run to see the plan"
            );
            return Err(EXIT_ERROR);
        }
        Ok(Run {
            cfg,
            args,
            yes,
            tty,
            targets,
            sel: Selection {
                ids: args.ids.clone(),
                include_stale: args.include_stale,
                force: args.force,
                reason: args.reason.map(|r| r.name().to_string()),
            },
            now: now_ms(),
            budget: targets::RunBudget::default(),
            journal: None,
        })
    }

    /// One `close` per journal, then exclusion on the stores themselves, whatever the
    /// journal: a run with another journal (root's timer beside the user's) waits here,
    /// then finds the work done. A dry run changes nothing and takes no lock.
    fn lock(&self) -> Result<Option<(RunLock, Vec<crate::fsx::DirLock>)>, u8> {
        if self.args.dry_run {
            return Ok(None);
        }
        let locked = acquire(&lock_path(&self.cfg.journal))
            .and_then(|run| Ok((run, lock_stores(self.cfg)?)));
        match locked {
            Ok(l) => Ok(Some(l)),
            Err(e) => {
                eprintln!("sessionctl: {e}");
                Err(EXIT_ERROR)
            }
        }
    }

    /// Journal upkeep (compaction), its history, and hot SQLite journals rolled back
    /// before anything is read. A dry run only reads the history.
    fn prepare(&mut self) -> Result<History, u8> {
        if !self.args.dry_run {
            compact_journal(self.cfg, &self.targets.journal);
        }
        let history = super::read_history(self.cfg)?;
        self.now = now_ms();
        if !self.args.dry_run {
            recover_hot_journals(self.cfg);
        }
        Ok(history)
    }

    /// Scan; settle what earlier runs still owe (pending actions, failed deliveries),
    /// then scan again, since what the resume settled is no longer active.
    fn scan_and_resume(
        &mut self,
        history: &History,
    ) -> io::Result<(scan::Report, Vec<ActionResult>)> {
        let report = scan::run(self.cfg);
        print_problems(&report.problems);
        crate::report::print_missing(self.cfg, &report);
        if self.args.dry_run || (history.pending().is_empty() && !history.has_failed_deliveries()) {
            return Ok((report, Vec::new()));
        }
        let mut j = self.start_journal(&report.host)?;
        let resumed = recover::resume(
            history,
            &mut j,
            &self.targets.targets,
            self.targets.concurrency,
            &self.budget,
        )?;
        self.journal = Some(j);
        if resumed.is_empty() {
            return Ok((report, resumed));
        }
        Ok((scan::run(self.cfg), resumed))
    }

    /// What to close, and the named ids refused (also in the plan). Under
    /// `--after-stop`, what the restarted gateway's recovery re-runs is held back.
    fn plan(&self, report: &scan::Report) -> (Plan, Vec<(String, String)>) {
        let (mut chosen, refused) = close::select(report, &self.sel);
        if self.args.after_stop {
            let held = after_stop::hold_back_for_recovery(report, &mut chosen);
            if !held.is_empty() && !self.cfg.quiet {
                eprintln!(
                    "sessionctl: after-stop: {}",
                    escape_control(&after_stop::held_line(&held))
                );
            }
        }
        let mut plan = close::plan(report, &chosen, &self.sel, &self.targets.targets, self.now);
        plan.refused = refused.clone();
        (plan, refused)
    }

    /// `--dry-run`: the plan and the deliveries the real run would retry first.
    fn dry_run(&self, history: &History, plan: &Plan, refusals: &[Refusal]) -> io::Result<u8> {
        if self.targets.targets.is_empty() && plan.items.iter().any(|i| i.payload.is_some()) {
            no_targets_note(self.cfg, "would be delivered");
        }
        let retries = recover::planned_retries(history, &self.targets.targets);
        dry_run::print(self.cfg, plan, refusals, &retries, &self.targets.targets)
    }

    /// On a terminal without `--yes`: the picker, then a yes/no. Err is the exit code
    /// when nothing is to be closed (cancelled: 0) or the prompt failed.
    fn confirm(&self, plan: &mut Plan, now: i64) -> Result<(), u8> {
        if !self.tty || self.yes || plan.items.is_empty() {
            return Ok(());
        }
        match pick::pick(plan, now) {
            Ok(true) => Ok(()),
            Ok(false) => {
                eprintln!("sessionctl: nothing closed");
                Err(EXIT_OK)
            }
            Err(e) => {
                eprintln!("sessionctl: {e}");
                Err(EXIT_ERROR)
            }
        }
    }

    /// Re-check right before acting (the prompt may have taken minutes): a fresh scan —
    /// `early` when one was started as soon as the run knew no one would be asked — and
    /// each write's priors read while it runs (two cores, side by side); then the planned
    /// sessions that no longer qualify are dropped, with their actions.
    fn recheck(
        &self,
        plan: &mut Plan,
        early: Option<std::thread::JoinHandle<scan::Report>>,
    ) -> (scan::Report, Vec<(SessionRef, String)>) {
        let scan = early.unwrap_or_else(|| self.spawn_scan());
        close::fill_priors(plan, self.now);
        let fresh = scan.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let dropped = close::recheck(plan, &fresh, &self.sel);
        (fresh, dropped)
    }

    /// A fresh scan on a thread of its own (the re-check's).
    fn spawn_scan(&self) -> std::thread::JoinHandle<scan::Report> {
        let cfg = self.cfg.clone();
        std::thread::spawn(move || scan::run(&cfg))
    }

    /// Carry out the plan, journaled before and after each action, with a progress bar
    /// on a terminal for more than a few groups.
    fn execute(&mut self, plan: &Plan, host: &crate::probe::Host) -> io::Result<Vec<ItemResult>> {
        if plan.items.is_empty() {
            return Ok(Vec::new());
        }
        let mut j = match self.journal.take() {
            Some(j) => j,
            None => self.start_journal(host)?,
        };
        let history = History::read(&self.cfg.journal).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("journal: {}: cannot read: {e}", self.cfg.journal.display()),
            )
        })?;
        let total: usize = plan.items.iter().map(|i| i.actions.len()).sum();
        let bar =
            (io::stderr().is_terminal() && plan.items.len() > 5 && !self.cfg.quiet).then(|| {
                let b = indicatif::ProgressBar::new(total as u64);
                b.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} actions {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
        let backups = recover::backup_dir(&self.cfg.journal, &j.run);
        let tick = |_: &str| {
            if let Some(b) = &bar {
                b.inc(1);
            }
        };
        let ctx = close::Ctx {
            targets: &self.targets.targets,
            concurrency: self.targets.concurrency,
            now: self.now,
            backups: &backups,
            budget: &self.budget,
        };
        let results = close::execute(plan, &mut j, &history, &ctx, &tick)?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        self.journal = Some(j);
        Ok(results)
    }

    /// After executing: the note when nothing could be delivered, and old backups
    /// pruned. Returns the journal run's id, when one was started.
    fn tidy(&self, plan: &Plan) -> Option<String> {
        if self.targets.targets.is_empty() && plan.items.iter().any(|i| i.payload.is_some()) {
            no_targets_note(self.cfg, "was delivered");
        }
        let run_id = self.journal.as_ref().map(|j| j.run.clone());
        prune_backups(self.cfg, run_id.as_deref(), &self.targets.journal);
        run_id
    }

    /// The exit code (2 when the re-check's scan had problems, 1 when anything was not
    /// closed, refused, dropped or failed again) and the counts.
    fn outcome(&self, fresh: &scan::Report, done: &report::Done) -> Outcome {
        let (closed, failed) = done.counts();
        let resumed_bad = done.resumed.iter().filter(|r| !r.ok && !r.skipped).count();
        let code = if !fresh.problems.is_empty() {
            EXIT_ERROR
        } else if failed == 0
            && done.refusals.is_empty()
            && done.dropped.is_empty()
            && resumed_bad == 0
        {
            EXIT_OK
        } else {
            EXIT_FINDINGS
        };
        Outcome {
            code,
            run: done.run.map(String::from),
            closed,
            failed,
            skipped: done.dropped.len(),
            resumed: done.resumed.len() - resumed_bad,
            resumed_failed: resumed_bad,
        }
    }

    fn start_journal(&self, host: &crate::probe::Host) -> io::Result<Journal> {
        Journal::start(&self.cfg.journal, RunHeader::new("close", self.now, host))
            .map_err(|e| journal_err(&self.cfg.journal, e))
    }
}

/// Once per run, on stderr: with no hook target in the config file, closing repairs the
/// stores but tells no plugin; nothing else in the output would say so.
fn no_targets_note(cfg: &Config, verb: &str) {
    if cfg.quiet {
        return;
    }
    let (path, _) = &cfg.config_file;
    let whence = if path.exists() {
        format!("config file {} has no [[targets]]", path.display())
    } else {
        format!("no config file at {}", path.display())
    };
    eprintln!(
        "sessionctl: no hook targets configured ({}): no session_end {verb}; see README \"Hook targets\"",
        escape_control(&whence)
    );
}

/// `[journal] max_size`: a journal grown past it is compacted to what is still needed
/// (pending work, runs that can be undone), so that no `close` reads hundreds of MB.
fn compact_journal(cfg: &Config, r: &crate::journal::Retention) {
    match crate::journal::compact(&cfg.journal, r, now_ms()) {
        Ok(Some(c)) if !cfg.quiet => eprintln!(
            "sessionctl: journal: {}: compacted from {} to {} bytes ({} run(s) kept, {} dropped; the old journal is {})",
            cfg.journal.display(),
            c.bytes_before,
            c.bytes_after,
            c.runs_kept,
            c.runs_dropped,
            c.previous.display()
        ),
        Err(e) => super::error_line("journal", &cfg.journal, format!("cannot compact: {e}")),
        _ => {}
    }
}

/// `[journal] keep` and `max_backups_size`: backups of rewritten files older than `keep`,
/// then the oldest while all together are too large; never this run's.
fn prune_backups(cfg: &Config, run: Option<&str>, r: &crate::journal::Retention) {
    let dir = cfg
        .journal
        .parent()
        .unwrap_or(Path::new("."))
        .join("backups");
    match crate::journal::prune_backups(&dir, run, r, now_ms()) {
        Ok(p) if !p.runs.is_empty() && cfg.verbose => eprintln!(
            "sessionctl: journal backups: {}: removed the backups of {} run(s), {} bytes",
            dir.display(),
            p.runs.len(),
            p.bytes
        ),
        Err(e) => super::error_line("journal backups", &dir, format!("cannot prune: {e}")),
        _ => {}
    }
}

/// A writer that died mid-transaction (a crashed `close`, in rollback-journal mode) left a
/// hot journal: roll it back before reading, as the next SQLite writer would.
fn recover_hot_journals(cfg: &Config) {
    // The linked-row backends' databases first, then OpenClaw's, as they are read.
    let order = crate::backend::all()
        .filter(|b| b.backend.linked())
        .chain(crate::backend::all().filter(|b| !b.backend.linked()));
    let dbs: Vec<(&str, PathBuf)> = order
        .flat_map(|b| (b.databases)(cfg).into_iter().map(|db| (b.name, db)))
        .collect();
    for (what, db) in dbs {
        match crate::backend::write::recover_hot_journal(&db) {
            Ok(true) if !cfg.quiet => {
                super::error_line(what, &db, "rolled back an interrupted write")
            }
            Err(e) => super::error_line(what, &db, e),
            _ => {}
        }
    }
}

fn journal_err(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("journal: {}: cannot write: {e}", path.display()),
    )
}
