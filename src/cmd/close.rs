use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use super::{stdout, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::{CloseArgs, Format};
use crate::close::{self, recover, ActionResult, ItemResult, Plan, Selection};
use crate::config::Config;
use crate::journal::{History, Journal, RunHeader, SessionRef};
use crate::report::{escape_control, print_problems, ref_label, stamped, write_doc};
use crate::scan;
use crate::targets;
use crate::timefmt::{human_age, iso_ms, now_ms};

/// How long a second `close` waits for the first to finish.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// An exclusive advisory lock held for the life of the value: one `close` per user.
pub struct RunLock(#[allow(dead_code)] File);

pub fn lock_path(journal: &Path) -> PathBuf {
    journal
        .parent()
        .unwrap_or(Path::new("."))
        .join("close.lock")
}

pub fn acquire(path: &Path) -> Result<RunLock, String> {
    let dir = crate::journal::trusted_journal_dir(path)?;
    let name = path.file_name().unwrap_or_default();
    let f = dir
        .open_rw_private(name)
        .map_err(|e| format!("close lock: {}: cannot open: {e}", path.display()))?;
    let start = Instant::now();
    loop {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(RunLock(f));
        }
        if start.elapsed() >= LOCK_WAIT {
            return Err(format!(
                "close lock: {}: another `sessionctl close` is running (waited {} s); try again when it is done",
                path.display(),
                LOCK_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    run: Option<&'a str>,
    dry_run: bool,
    resumed: &'a [ActionResult],
    items: &'a [ItemResult],
    refused: Vec<Value>,
    skipped: Vec<Value>,
    summary: Value,
}

/// One item of a dry run's JSON, borrowed from the plan.
#[derive(Serialize)]
struct DryItem<'a> {
    group: &'a str,
    sessions: Vec<DrySession<'a>>,
    payload: &'a Option<Value>,
    actions: Vec<DryAction<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct DrySession<'a> {
    backend: crate::model::Backend,
    id: &'a str,
    label: String,
    session_key: &'a Option<String>,
    verdict: crate::model::VerdictKind,
    reason: crate::model::Reason,
    summary: &'a str,
}

#[derive(Serialize)]
struct DryAction<'a> {
    action: &'a str,
    kind: &'static str,
    describe: &'a str,
}

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
pub fn run(cfg: &Config, args: &CloseArgs) -> io::Result<u8> {
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
    Ok(run_to(cfg, args, &mut out, true)?.code)
}

/// One `close` run with its report (table or JSON, as `cfg.format` says) written to `out`.
/// `exiting`: the process exits right after, so the run's large values are not freed one
/// by one (`watch` runs it again and again, and frees them).
pub fn run_to<W: Write>(
    cfg: &Config,
    args: &CloseArgs,
    out: &mut W,
    exiting: bool,
) -> io::Result<Outcome> {
    // ExecStopPost= has no terminal to confirm on: --after-stop is --yes.
    let yes = args.yes || args.after_stop;
    let (cfg_path, explicit) = &cfg.config_file;
    let tcfg = match targets::load(cfg_path, *explicit, &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            super::error_line("config file", &e.path, &e.message);
            return Ok(Outcome::code(EXIT_ERROR));
        }
    };
    let tty = io::stdin().is_terminal() && io::stderr().is_terminal();
    if !yes && !args.dry_run && !tty {
        eprintln!(
            "sessionctl: close needs a terminal to confirm; pass --yes (or SESSIONCTL_YES=1) to close without asking, or --dry-run to see the plan"
        );
        return Ok(Outcome::code(EXIT_ERROR));
    }
    let _lock = if args.dry_run {
        None
    } else {
        match acquire(&lock_path(&cfg.journal)) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("sessionctl: {e}");
                return Ok(Outcome::code(EXIT_ERROR));
            }
        }
    };
    // Exclusion on the stores themselves, whatever the journal: a run with another
    // journal (root's timer beside the user's) waits here, then finds the work done.
    let _store_locks = if args.dry_run {
        Vec::new()
    } else {
        match lock_stores(cfg) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("sessionctl: {e}");
                return Ok(Outcome::code(EXIT_ERROR));
            }
        }
    };
    if !args.dry_run {
        compact_journal(cfg, &tcfg.journal);
    }
    let history = match super::read_history(cfg) {
        Ok(h) => h,
        Err(code) => return Ok(Outcome::code(code)),
    };
    let now = now_ms();
    let sel = Selection {
        ids: args.ids.clone(),
        include_stale: args.include_stale,
        force: args.force,
        reason: args.reason.map(|r| r.name().to_string()),
    };

    let mut journal: Option<Journal> = None;
    let mut resumed = Vec::new();
    let budget = targets::RunBudget::default();
    let start_journal = |report_host: &crate::probe::Host| -> io::Result<Journal> {
        Journal::start(
            &cfg.journal,
            RunHeader {
                run: crate::journal::new_run_id(),
                at: iso_ms(now),
                mode: "close".into(),
                host: report_host.hostname.clone(),
                boot_id: report_host.boot_id.clone(),
                version: env!("CARGO_PKG_VERSION").into(),
                argv: std::env::args().collect(),
                dry_run: None,
            },
        )
    };

    if !args.dry_run {
        recover_hot_journals(cfg);
    }
    let report = scan::run(cfg);
    print_problems(&report.problems);
    crate::report::print_missing(cfg, &report);
    if !args.dry_run && (!history.pending().is_empty() || history.has_failed_deliveries()) {
        let mut j = start_journal(&report.host).map_err(|e| journal_err(&cfg.journal, e))?;
        resumed = recover::resume(&history, &mut j, &tcfg.targets, tcfg.concurrency, &budget)?;
        journal = Some(j);
    }
    // After resuming, scan again: what the resume settled is no longer active.
    let report = if resumed.is_empty() {
        report
    } else {
        scan::run(cfg)
    };
    let (mut chosen, refused) = close::select(&report, &sel);
    if args.after_stop {
        let held = hold_back_for_recovery(&report, &mut chosen);
        if !held.is_empty() && !cfg.quiet {
            eprintln!(
                "sessionctl: after-stop: {}",
                escape_control(&held_line(&held))
            );
        }
    }
    let mut plan = close::plan(&report, &chosen, &sel, &tcfg.targets, now);
    plan.refused = refused.clone();
    let refusals = refusals(&report, &sel, &refused);

    if args.dry_run {
        if tcfg.targets.is_empty() && plan.items.iter().any(|i| i.payload.is_some()) {
            no_targets_note(cfg, "would be delivered");
        }
        let retries = recover::planned_retries(&history, &tcfg.targets);
        let code = print_dry_run(cfg, &plan, &refusals, &retries, &tcfg.targets);
        if exiting {
            std::mem::forget((report, plan)); // as at the end of a real run
        }
        return code.map(Outcome::code);
    }
    if tty && !yes && !plan.items.is_empty() {
        match pick(&mut plan, report.now_ms) {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("sessionctl: nothing closed");
                return Ok(Outcome::code(EXIT_OK));
            }
            Err(e) => {
                eprintln!("sessionctl: {e}");
                return Ok(Outcome::code(EXIT_ERROR));
            }
        }
    }
    // Re-check right before acting: the prompt may have taken minutes.
    let fresh = scan::run(cfg);
    let dropped = close::recheck(&mut plan, &fresh, &sel);
    close::fill_priors(&mut plan, now);

    let mut results: Vec<ItemResult> = Vec::new();
    if !plan.items.is_empty() {
        let mut j = match journal.take() {
            Some(j) => j,
            None => start_journal(&fresh.host).map_err(|e| journal_err(&cfg.journal, e))?,
        };
        let history = History::read(&cfg.journal).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("journal: {}: cannot read: {e}", cfg.journal.display()),
            )
        })?;
        let total: usize = plan.items.iter().map(|i| i.actions.len()).sum();
        let bar = (io::stderr().is_terminal() && plan.items.len() > 5 && !cfg.quiet).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} actions {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        let backups = recover::backup_dir(&cfg.journal, &j.run);
        let tick = |_: &str| {
            if let Some(b) = &bar {
                b.inc(1);
            }
        };
        let ctx = close::Ctx {
            targets: &tcfg.targets,
            concurrency: tcfg.concurrency,
            now,
            backups: &backups,
            budget: &budget,
        };
        results = close::execute(&plan, &mut j, &history, &ctx, &tick)?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        journal = Some(j);
    }
    if tcfg.targets.is_empty() && plan.items.iter().any(|i| i.payload.is_some()) {
        no_targets_note(cfg, "was delivered");
    }
    let run_id = journal.as_ref().map(|j| j.run.clone());
    prune_backups(cfg, run_id.as_deref(), &tcfg.journal);
    let closed = results.iter().filter(|r| r.closed).count();
    let failed = results.len() - closed;
    let resumed_bad = resumed.iter().filter(|r| !r.ok && !r.skipped).count();
    match cfg.format {
        Format::Json | Format::Ndjson => {
            let doc = Doc {
                run: run_id.as_deref(),
                dry_run: false,
                resumed: &resumed,
                items: &results,
                refused: refusals.iter().map(Refusal::json).collect(),
                skipped: dropped
                    .iter()
                    .map(|(s, why)| json!({"session": s, "why": why}))
                    .collect(),
                summary: json!({"closed": closed, "failed": failed, "refused": plan.refused.len(), "skipped": dropped.len()}),
            };
            write_doc(out, cfg.format, &stamped(now_ms(), doc))?;
        }
        Format::Table => {
            for r in &resumed {
                writeln!(
                    out,
                    "resumed {}: {}",
                    escape_control(&r.action),
                    escape_control(&r.detail)
                )?;
            }
            for r in &results {
                write_item(out, r)?;
            }
            for r in &refusals {
                writeln!(out, "not closed {}", r.text())?;
            }
            for (s, why) in &dropped {
                writeln!(out, "skipped {}: {}", describe_ref(s), escape_control(why))?;
            }
            if results.is_empty() && plan.refused.is_empty() && dropped.is_empty() {
                writeln!(out, "No orphans to close.")?;
            } else {
                write!(out, "Closed {closed} of {} session group(s)", results.len())?;
                if let Some(r) = &run_id {
                    write!(out, "; run {r} (undo: sessionctl journal undo {r})")?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    let code = if !fresh.problems.is_empty() {
        EXIT_ERROR
    } else if failed == 0 && plan.refused.is_empty() && dropped.is_empty() && resumed_bad == 0 {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    };
    let outcome = Outcome {
        code,
        run: run_id,
        closed,
        failed,
        skipped: dropped.len(),
        resumed: resumed.len() - resumed_bad,
        resumed_failed: resumed_bad,
    };
    if exiting {
        // The process exits next: freeing tens of thousands of sessions, actions and JSON
        // values one by one would take longer than closing them did.
        std::mem::forget((report, fresh, plan, results));
    }
    Ok(outcome)
}

/// How systemd says the gateway's main process ended: `$SERVICE_RESULT`, `$EXIT_CODE`
/// and `$EXIT_STATUS`, which it sets for `ExecStop=` and `ExecStopPost=` (systemd.exec(5),
/// "Summary of possible service result variable values").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StopEnv {
    pub service_result: Option<String>,
    pub exit_code: Option<String>,
    pub exit_status: Option<String>,
}

impl StopEnv {
    pub fn from(get: impl Fn(&str) -> Option<String>) -> StopEnv {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        StopEnv {
            service_result: get("SERVICE_RESULT"),
            exit_code: get("EXIT_CODE"),
            exit_status: get("EXIT_STATUS"),
        }
    }

    /// Was it a clean stop, and the line that says how the gateway ended. Clean is
    /// `SERVICE_RESULT=success` with the main process exited 0 or 143 (OpenClaw's unit
    /// has `SuccessExitStatus=0 143`: 143 is the drain's exit after SIGTERM), or killed
    /// by one of the signals systemd counts as a clean end (HUP, INT, TERM, PIPE). After
    /// it, the gateway's own drain sent every session_end it owed.
    pub fn judge(&self) -> (bool, String) {
        let vars = format!(
            "SERVICE_RESULT={}, EXIT_CODE={}, EXIT_STATUS={}",
            self.service_result.as_deref().unwrap_or("(unset)"),
            self.exit_code.as_deref().unwrap_or("(unset)"),
            self.exit_status.as_deref().unwrap_or("(unset)"),
        );
        let Some(result) = self.service_result.as_deref() else {
            return (
                false,
                "SERVICE_RESULT, EXIT_CODE and EXIT_STATUS are not set (not run by systemd's ExecStopPost=?): closing orphans as --yes does, except the running sessions of SQLite stores".into(),
            );
        };
        let status = self.exit_status.as_deref().unwrap_or("");
        let how = match self.exit_code.as_deref() {
            Some("exited") => format!("its main process exited with status {status}"),
            Some("killed") => format!("its main process was killed by SIG{status}"),
            Some("dumped") => format!("its main process was killed by SIG{status} and dumped core"),
            Some(other) => format!("its main process ended ({other} {status})"),
            None => "systemd knows no exit of its main process".into(),
        };
        let clean = result == "success"
            && match self.exit_code.as_deref() {
                Some("exited") => matches!(status, "0" | "143"),
                Some("killed") => matches!(status, "TERM" | "INT" | "HUP" | "PIPE"),
                _ => false,
            };
        if clean {
            (
                true,
                format!("the gateway stopped cleanly ({vars}): {how}, and its own drain sent every session_end; nothing to do"),
            )
        } else {
            // What the exit alone does not say.
            let why = match result {
                "success" => "; systemd counts that as clean, OpenClaw's drain does not end so",
                "timeout" => "; a start or stop step timed out",
                "oom-kill" => "; the OOM killer ended it",
                "watchdog" => "; its watchdog expired",
                "start-limit-hit" => "; it hit its start limit",
                "protocol" => "; it broke its unit's start-up protocol",
                "resources" => "; systemd could not set it up",
                _ => "",
            };
            (
                false,
                format!(
                    "the gateway did not stop cleanly ({vars}): {how}{why}; closing its orphans"
                ),
            )
        }
    }
}

/// Under `--after-stop`, the restarted gateway's recovery comes next (`Restart=always`,
/// 5 s later): the SQLite-era gateway (2026.8+) re-runs an interrupted session under the
/// same sessionId, so no running session of a SQLite store may be ended now, nor any
/// record of its group (its claude-mem rows; a key-only session_end would end the re-run
/// downstream). 2026.7's file store marks such sessions failed itself and never re-runs
/// them: its orphans are closed now. Returns the groups held back that were chosen.
fn hold_back_for_recovery(
    report: &scan::Report,
    chosen: &mut Vec<&crate::model::Session>,
) -> Vec<String> {
    let recovering: std::collections::BTreeSet<String> = report
        .sessions
        .iter()
        .filter(|s| {
            s.backend == crate::model::Backend::Openclaw
                && s.store_kind == crate::model::StoreKind::Sqlite
                && s.status == "running"
        })
        .map(scan::group_key)
        .collect();
    let mut held: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    chosen.retain(|s| {
        let g = scan::group_key(s);
        if recovering.contains(&g) {
            held.insert(g);
            false
        } else {
            true
        }
    });
    held.into_iter().collect()
}

fn held_line(held: &[String]) -> String {
    let n = held.len();
    format!(
        "left {n} running session{} of SQLite stores to the restarted gateway, which re-runs {} ({}); `sessionctl watch` or the next timer run closes what is still orphaned once recovery is done",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "them" },
        held.join(", ")
    )
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

/// How long a run waits for another sessionctl that is changing the same stores.
pub const STORE_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Lock every state dir and claude-mem data dir this run may change, in path order (two
/// runs never wait for each other crosswise).
pub fn lock_stores(cfg: &Config) -> Result<Vec<crate::fsx::DirLock>, String> {
    let mut dirs: Vec<PathBuf> = crate::backend::openclaw::discover(cfg)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    if let Some((d, _)) = crate::backend::claude_mem::discover(cfg) {
        dirs.push(d);
    }
    dirs.extend(
        crate::backend::sql::databases(cfg)
            .iter()
            .filter_map(|db| db.parent().map(Path::to_path_buf)),
    );
    let mut dirs: Vec<PathBuf> = dirs
        .into_iter()
        .map(|d| fs::canonicalize(&d).unwrap_or(d))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(crate::fsx::lock_dir(&d, STORE_LOCK_WAIT)?);
    }
    Ok(out)
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
    let mut dbs: Vec<(&str, PathBuf)> = Vec::new();
    if let Some((dir, _)) = crate::backend::claude_mem::discover(cfg) {
        dbs.push(("claude-mem", dir.join("claude-mem.db")));
    }
    dbs.extend(
        crate::backend::sql::databases(cfg)
            .into_iter()
            .map(|db| ("sql", db)),
    );
    for (dir, _) in crate::backend::openclaw::discover(cfg) {
        if let Ok(rd) = fs::read_dir(dir.join("agents")) {
            dbs.extend(rd.flatten().map(|a| {
                (
                    "openclaw",
                    a.path().join("agent").join("openclaw-agent.sqlite"),
                )
            }));
        }
    }
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

fn describe_ref(s: &SessionRef) -> String {
    match &s.session_key {
        Some(k) => format!(
            "{} {} ({})",
            s.backend,
            escape_control(k),
            escape_control(&ref_label(s))
        ),
        None => format!("{} {}", s.backend, escape_control(&ref_label(s))),
    }
}

fn write_item<W: Write>(w: &mut W, r: &ItemResult) -> io::Result<()> {
    let who: Vec<String> = r
        .sessions
        .iter()
        .map(|s| format!("{} {}", s.backend, escape_control(&ref_label(s))))
        .collect();
    writeln!(
        w,
        "{} {} ({})",
        if r.closed { "closed" } else { "incomplete" },
        escape_control(&r.group),
        who.join(", ")
    )?;
    for a in &r.actions {
        let mark = if !a.ok {
            "failed "
        } else if a.skipped {
            "skipped"
        } else {
            "ok     "
        };
        let what = match &a.target {
            Some(t) => format!("deliver to {}", escape_control(t)),
            None => a.kind.to_string(),
        };
        writeln!(w, "  {mark} {what}: {}", escape_control(&a.detail))?;
    }
    for n in &r.notes {
        writeln!(w, "  note    {}", escape_control(n))?;
    }
    Ok(())
}

/// A named id `close` will not close, and the record it names: a key can name sessions in
/// several state dirs (and their claude-mem rows), one closed and another refused.
struct Refusal<'a> {
    query: &'a str,
    session: Option<&'a crate::model::Session>,
    why: &'a str,
}

impl Refusal<'_> {
    /// `<query>: <backend> <label> in <dir>: <why>`, escaped for a terminal.
    fn text(&self) -> String {
        match self.session {
            Some(s) => format!(
                "{}: {} {} in {}: {}",
                escape_control(self.query),
                s.backend.name(),
                escape_control(&crate::report::label(s.backend, &s.id)),
                escape_control(&session_dir(s).display().to_string()),
                escape_control(self.why)
            ),
            None => format!(
                "{}: {}",
                escape_control(self.query),
                escape_control(self.why)
            ),
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({"id": self.query, "why": self.why});
        if let Some(s) = self.session {
            v["backend"] = json!(s.backend);
            v["session_id"] = json!(s.id);
            v["label"] = json!(crate::report::label(s.backend, &s.id));
            v["dir"] = json!(session_dir(s));
        }
        v
    }
}

/// The OpenClaw state dir, claude-mem data dir or sql database a record belongs to.
fn session_dir(s: &crate::model::Session) -> &Path {
    match &s.detail {
        crate::model::Detail::Openclaw(d) => &d.state_dir,
        crate::model::Detail::ClaudeMem(d) => &d.data_dir,
        crate::model::Detail::Sql(_) => &s.store,
    }
}

/// `select`'s refusals with the record each one is about, found the way `select` finds
/// them (each named id's matches, in order, that `eligible` turns down). Should the two
/// ever disagree, the refusals are shown as `select` gave them.
fn refusals<'a>(
    r: &'a scan::Report,
    sel: &Selection,
    refused: &'a [(String, String)],
) -> Vec<Refusal<'a>> {
    let mut out: Vec<(&str, Option<&crate::model::Session>)> = Vec::new();
    for q in &sel.ids {
        let hits: Vec<&crate::model::Session> =
            r.sessions.iter().filter(|s| scan::matches(s, q)).collect();
        if hits.is_empty() {
            out.push((q, None));
        }
        for h in hits {
            if close::eligible(h, sel, true).is_err() {
                out.push((q, Some(h)));
            }
        }
    }
    let agrees =
        out.len() == refused.len() && out.iter().zip(refused).all(|((q, _), (id, _))| q == id);
    refused
        .iter()
        .enumerate()
        .map(|(k, (id, why))| Refusal {
            query: id,
            session: if agrees { out[k].1 } else { None },
            why,
        })
        .collect()
}

fn print_dry_run(
    cfg: &Config,
    plan: &Plan,
    refusals: &[Refusal],
    retries: &[(&crate::journal::Intent, Result<usize, String>)],
    targets: &[targets::Target],
) -> io::Result<u8> {
    let mut out = stdout();
    let items: Vec<DryItem> = plan
        .items
        .iter()
        .map(|i| DryItem {
            group: &i.group,
            sessions: i
                .sessions
                .iter()
                .map(|s| DrySession {
                    backend: s.backend,
                    id: &s.id,
                    label: crate::report::label(s.backend, &s.id),
                    session_key: &s.session_key,
                    verdict: s.verdict,
                    reason: s.reason,
                    summary: &s.summary,
                })
                .collect(),
            payload: &i.payload,
            actions: i
                .actions
                .iter()
                .map(|a| DryAction {
                    action: &a.id,
                    kind: a.kind.name(),
                    describe: &a.describe,
                })
                .collect(),
            notes: &i.notes,
        })
        .collect();
    match cfg.format {
        Format::Json | Format::Ndjson => {
            let doc = json!({
                "dry_run": true,
                "targets": targets.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                "items": items,
                "refused": refusals.iter().map(Refusal::json).collect::<Vec<_>>(),
                "retries": retries.iter().map(|(i, r)| {
                    let mut session = json!(i.session);
                    session["label"] = json!(ref_label(&i.session));
                    json!({
                        "action": i.action,
                        "run": i.run,
                        "target": i.target,
                        "session": session,
                        "will": if r.is_ok() { "retry" } else { "fail" },
                        "why": r.as_ref().err(),
                    })
                }).collect::<Vec<_>>(),
            });
            write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
        }
        Format::Table => {
            // What the real run does first: the deliveries earlier runs still owe.
            for (i, r) in retries {
                let who = match &i.session.session_key {
                    Some(k) => format!(
                        "{} ({} {})",
                        escape_control(k),
                        escape_control(&i.session.backend),
                        escape_control(&ref_label(&i.session))
                    ),
                    None => format!(
                        "{} {}",
                        escape_control(&i.session.backend),
                        escape_control(&ref_label(&i.session))
                    ),
                };
                let target = escape_control(i.target.as_deref().unwrap_or("-")).into_owned();
                match r {
                    Ok(_) => writeln!(
                        out,
                        "would retry delivery to {target} for {who}, owed since run {}",
                        escape_control(&i.run)
                    )?,
                    Err(why) => writeln!(
                        out,
                        "would fail delivery to {target} for {who}: {}",
                        escape_control(why)
                    )?,
                }
            }
            if plan.items.is_empty() {
                writeln!(out, "No orphans to close.")?;
            }
            for i in &plan.items {
                writeln!(out, "would close {}", escape_control(&i.group))?;
                for s in &i.sessions {
                    writeln!(
                        out,
                        "  {} {}: {} ({}) — {}",
                        s.backend.name(),
                        escape_control(&crate::report::label(s.backend, &s.id)),
                        s.verdict.name(),
                        s.reason.name(),
                        escape_control(&s.summary)
                    )?;
                }
                match &i.payload {
                    // serde escapes C0 controls in JSON, but not C1 or bidi characters.
                    Some(p) => writeln!(
                        out,
                        "  payload {}",
                        escape_control(&serde_json::to_string(p).unwrap_or_default())
                    )?,
                    None => writeln!(out, "  payload none (no OpenClaw session key is known)")?,
                }
                for a in &i.actions {
                    writeln!(out, "  plan    {}", escape_control(&a.describe))?;
                }
                for n in &i.notes {
                    writeln!(out, "  note    {}", escape_control(n))?;
                }
            }
            for r in refusals {
                writeln!(out, "would not close {}", r.text())?;
            }
            writeln!(out, "Dry run: nothing was changed.")?;
        }
    }
    out.flush()?;
    Ok(if plan.refused.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

/// One line of the picker: the group (escaped: it is a stored session key), verdict,
/// reason, idle time and how many records are linked.
fn pick_label(i: &close::Item, now: i64) -> String {
    let s = &i.sessions[0];
    let age = s
        .last_activity_at
        .map(|t| human_age(now - t))
        .unwrap_or_else(|| "?".into());
    let also = if i.sessions.len() > 1 {
        format!(" +{} linked", i.sessions.len() - 1)
    } else {
        String::new()
    };
    format!(
        "{}  {} ({}), idle {age}{also}",
        escape_control(&i.group),
        s.verdict.name(),
        s.reason.name()
    )
}

/// The interactive picker: every candidate pre-selected, with verdict, reason and age.
fn pick(plan: &mut Plan, now: i64) -> Result<bool, String> {
    let labels: Vec<String> = plan.items.iter().map(|i| pick_label(i, now)).collect();
    let defaults = vec![true; labels.len()];
    let theme = dialoguer::theme::SimpleTheme;
    let chosen = dialoguer::MultiSelect::with_theme(&theme)
        .with_prompt("Orphans to close (space toggles, enter accepts, q or Esc cancels)")
        .items(&labels)
        .defaults(&defaults)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|e| format!("prompt failed: {e}"))?;
    let Some(chosen) = chosen else {
        return Ok(false);
    };
    if chosen.is_empty() {
        return Ok(false);
    }
    let keep: Vec<bool> = (0..plan.items.len()).map(|i| chosen.contains(&i)).collect();
    let mut k = keep.iter();
    plan.items.retain(|_| *k.next().unwrap_or(&false));
    let n = plan.items.len();
    // `q` and Esc cancel here as they do in the list above (`interact_on` ignores them).
    let yes = dialoguer::Confirm::with_theme(&theme)
        .with_prompt(format!("Close {n} session group(s)?"))
        .default(false)
        .interact_on_opt(&dialoguer::console::Term::stderr())
        .map_err(|e| format!("prompt failed: {e}"))?;
    Ok(yes == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(r: Option<&str>, c: Option<&str>, st: Option<&str>) -> StopEnv {
        StopEnv::from(|k| {
            match k {
                "SERVICE_RESULT" => r,
                "EXIT_CODE" => c,
                "EXIT_STATUS" => st,
                _ => None,
            }
            .map(String::from)
        })
    }

    #[test]
    fn clean_stops_are_the_ones_systemd_and_the_unit_call_success() {
        for (c, st) in [
            ("exited", "0"),
            ("exited", "143"),
            ("killed", "TERM"),
            ("killed", "INT"),
            ("killed", "HUP"),
            ("killed", "PIPE"),
        ] {
            let (clean, line) = env(Some("success"), Some(c), Some(st)).judge();
            assert!(clean, "{c} {st}: {line}");
            assert!(line.contains("nothing to do"), "{line}");
        }
    }

    #[test]
    fn crashes_oom_timeouts_and_failures_are_not_clean() {
        for (r, c, st) in [
            (Some("signal"), Some("killed"), Some("KILL")),
            (Some("core-dump"), Some("dumped"), Some("SEGV")),
            (Some("exit-code"), Some("exited"), Some("1")),
            (Some("exit-code"), Some("exited"), Some("78")),
            (Some("timeout"), Some("killed"), Some("KILL")),
            (Some("oom-kill"), Some("killed"), Some("KILL")),
            (Some("protocol"), None, None),
            // success without an exit of the main process, or with one the unit does
            // not call clean: no proof that the drain ran.
            (Some("success"), None, None),
            (Some("success"), Some("exited"), Some("1")),
            (Some("success"), Some("killed"), Some("KILL")),
        ] {
            let (clean, line) = env(r, c, st).judge();
            assert!(!clean, "{r:?} {c:?} {st:?}: {line}");
            assert!(line.contains("did not stop cleanly"), "{line}");
            assert!(line.contains(r.unwrap()), "{line}");
        }
        let (_, line) = env(Some("signal"), Some("killed"), Some("KILL")).judge();
        assert!(line.contains("killed by SIGKILL"), "{line}");
    }

    #[test]
    fn without_systemds_variables_it_says_so() {
        let (clean, line) = env(None, None, None).judge();
        assert!(!clean);
        assert!(line.contains("are not set"), "{line}");
        // Empty counts as unset.
        let (clean, line) = env(Some(""), Some(""), Some("")).judge();
        assert!(!clean);
        assert!(line.contains("are not set"), "{line}");
    }
}
