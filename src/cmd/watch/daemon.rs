//! The daemon: what it tracks, when it runs a pass, and the one `poll` it sleeps in.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::backends::{self, Dirs};
use super::inotify::Inotify;
use super::signals::Signals;
use crate::cli::{CloseArgs, Format};
use crate::cmd::{EXIT_ERROR, EXIT_OK};
use crate::config::Config;
use crate::lifetimes::{key_of, Lifetimes};
use crate::probe::{proc_starttime, Host, ProcKind};
use crate::report::escape_control;
use crate::timefmt::{human_age, iso_ms, now_ms};

/// The backstop: look for new gateways and workers this often even when inotify said
/// nothing (a lock dir on a filesystem without inotify, a gateway that writes no lock).
const RESCAN_EVERY: Duration = Duration::from_secs(60);
/// Without pidfds (Linux < 5.3) or inotify, deaths and births are found by rescans.
const RESCAN_DEGRADED: Duration = Duration::from_secs(5);
/// After a lock or pid file changed, look again a little later: a gateway may write its
/// lock before it takes its final process title.
const SETTLE: Duration = Duration::from_secs(2);
/// A pass that failed (a hook target down, another close holding the lock) is retried
/// after this, doubling up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// A pass at the end of a recovery window runs this long after it, so that the window
/// is over by then by every clock.
const WINDOW_SLACK_MS: i64 = 1000;
/// Passes due within this of each other run as one.
const COALESCE: Duration = Duration::from_millis(500);

pub fn run(cfg: &Config, grace: Duration, textfile: Option<&Path>) -> io::Result<u8> {
    // Before any thread exists (deliveries and store writes run on threads): the
    // signals stay blocked in every thread and arrive through the signalfd only.
    // Commands the hook targets run start with an empty mask (std resets it).
    let signals = match Signals::block() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sessionctl: watch: cannot set up signal handling: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let (cfg_path, explicit) = &cfg.config_file;
    let targets = match crate::targets::load(cfg_path, *explicit, &|k| std::env::var(k).ok()) {
        Ok(t) => t.targets.len(),
        Err(e) => {
            crate::cmd::error_line("config file", &e.path, &e.message);
            return Ok(EXIT_ERROR);
        }
    };
    let lifetimes = match Lifetimes::open(&cfg.journal) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sessionctl: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let _lock = match lifetimes.lock() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sessionctl: {e}");
            return Ok(EXIT_ERROR);
        }
    };
    let mut w = Watch::new(cfg, grace, textfile, lifetimes);
    w.start(targets);
    w.run(&signals)
}

struct Tracked {
    kind: ProcKind,
    pid: i64,
    /// Its pid in its own pid namespace (a container), which its records use.
    ns_pid: Option<i64>,
    starttime: u64,
    started_at: Option<i64>,
    dir: Option<PathBuf>,
    /// None without pidfd support: the rescans check it instead.
    fd: Option<OwnedFd>,
    /// A worker.pid named it when it was found (a clean stop removes the file).
    pid_file_named: bool,
}

impl Tracked {
    fn what(&self) -> &'static str {
        backends::what(self.kind)
    }

    fn dir_text(&self) -> String {
        match &self.dir {
            Some(d) => d.display().to_string(),
            None => "an unknown dir".into(),
        }
    }

    fn record(&self, boot_id: &Option<String>) -> Value {
        json!({
            "kind": backends::kind_name(self.kind),
            "pid": self.pid,
            "ns_pid": self.ns_pid,
            "starttime": self.starttime,
            "started_at": self.started_at.map(iso_ms),
            "dir": self.dir,
            "boot_id": boot_id,
        })
    }
}

struct Watch<'a> {
    cfg: &'a Config,
    /// What the passes and metrics scans run with: quiet (the notes a person wants
    /// once are printed once, at start), table format (the report is not printed).
    pass_cfg: Config,
    grace: Duration,
    textfile: Option<&'a Path>,
    dirs: Dirs,
    boot_id: Option<String>,
    tracked: Vec<Tracked>,
    lifetimes: Lifetimes,
    inotify: Option<Inotify>,
    /// Pending passes: when, and why (for the log line).
    passes: Vec<(Instant, String)>,
    /// No pass runs before this: the grace of the latest gateway death. A pass due earlier (the
    /// start of watch, a retry, a recovery window's end) would close what the dead
    /// gateway left before a restarted one could run its own recovery.
    hold: Instant,
    next_rescan: Instant,
    retry: Duration,
    /// Lifetimes an earlier `watch` recorded a start of and no end.
    inherited: Vec<Value>,
    pidfd_ok: bool,
    recovery_ms: i64,
}

impl<'a> Watch<'a> {
    fn new(
        cfg: &'a Config,
        grace: Duration,
        textfile: Option<&'a Path>,
        lifetimes: Lifetimes,
    ) -> Watch<'a> {
        let mut pass_cfg = cfg.clone();
        pass_cfg.quiet = !cfg.verbose;
        pass_cfg.format = Format::Table;
        let mut recovery_ms = crate::classify::RECOVERY_GRACE_MS;
        // As the scan does in test builds (release builds ignore the variable).
        if cfg!(debug_assertions) {
            if let Some(ms) = std::env::var("SESSIONCTL_TEST_RECOVERY_GRACE_MS")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                recovery_ms = ms;
            }
        }
        Watch {
            cfg,
            pass_cfg,
            grace,
            textfile,
            dirs: Dirs::discover(cfg),
            boot_id: None,
            tracked: Vec::new(),
            lifetimes,
            inotify: None,
            passes: Vec::new(),
            hold: Instant::now(),
            next_rescan: Instant::now(),
            retry: RETRY_FIRST,
            inherited: Vec::new(),
            pidfd_ok: true,
            recovery_ms,
        }
    }

    fn log(&self, msg: &str) {
        if !self.cfg.quiet {
            eprintln!("sessionctl: watch: {}", escape_control(msg));
        }
    }

    fn note(&self, msg: &str) {
        if self.cfg.verbose {
            self.log(msg);
        }
    }

    fn error(&self, msg: &str) {
        eprintln!("sessionctl: watch: {}", escape_control(msg));
    }

    fn start(&mut self, targets: usize) {
        let host = Host::probe(false);
        self.boot_id = host.boot_id.clone();
        match Inotify::new() {
            Ok(mut i) => {
                let wanted = self.dirs.watched(self.cfg);
                let direct = i.set(&wanted);
                self.note(&format!(
                    "inotify: {} watch(es), {direct} on lock or pid file dirs",
                    i.count()
                ));
                self.inotify = Some(i);
            }
            Err(e) => self.error(&format!(
                "no inotify ({e}): new gateways are found by a rescan every {} s",
                RESCAN_DEGRADED.as_secs()
            )),
        }
        let mut dirs = self.dirs.describe();
        if dirs.is_empty() {
            dirs.push("no dir (every backend is excluded)".into());
        }
        self.log(&format!(
            "started (pid {}): watching {}; grace {}; {targets} hook target(s); lifetimes in {}",
            std::process::id(),
            dirs.join(", "),
            humantime::format_duration(self.grace),
            self.lifetimes.path.display()
        ));
        if targets == 0 {
            self.log("no hook targets configured: passes end store entries and linked rows, and deliver no session_end; see README \"Hook targets\"");
        }
        self.inherited = self.lifetimes.open_records();
        self.rescan(true);
        // Lifetimes an earlier watch saw start and not end: they ended while nobody
        // watched (or before a reboot).
        for v in std::mem::take(&mut self.inherited) {
            let mut end = v.clone();
            end["type"] = json!("end");
            end["at"] = json!(iso_ms(now_ms()));
            end["seen_exit"] = json!(false);
            let (outcome, from, reason) = match (v["kind"].as_str(), v["dir"].as_str()) {
                (Some("gateway"), Some(d)) => backends::gateway_outcome(
                    self.cfg,
                    Path::new(d),
                    v["ns_pid"].as_i64().or(v["pid"].as_i64()).unwrap_or(0),
                    v["started_at"]
                        .as_str()
                        .and_then(crate::timefmt::parse_iso_ms),
                    false,
                ),
                _ => backends::unknown(),
            };
            end["outcome"] = json!(outcome);
            end["outcome_from"] = json!(from);
            end["reason"] = json!(reason);
            self.write_lifetime(&end);
        }
        // The first pass waits the grace too: a gateway starting with us (after a
        // reboot, at login) gets to run its own recovery first.
        self.schedule(self.grace, "start of watch".into());
        // Once, where the passes are quiet: where nothing was found, and which flag
        // reads the dirs running gateways use instead.
        let r = crate::scan::run(&self.pass_cfg);
        crate::report::print_missing(self.cfg, &r);
        self.write_metrics(&r);
    }

    fn write_lifetime(&self, v: &Value) {
        if let Err(e) = self.lifetimes.append(v) {
            self.error(&format!(
                "{}: cannot write: {e}",
                self.lifetimes.path.display()
            ));
        }
    }

    /// A gateway died: no pass runs until `grace` from now, so that a restarted gateway runs
    /// its own recovery first. Passes due before then wait, and run with the pass the death
    /// schedules. A worker's death holds nothing (a worker started with `--daemon` may fork a
    /// helper that exits at once).
    fn hold_passes(&mut self, kind: ProcKind) {
        if kind == ProcKind::Worker {
            return;
        }
        self.hold = self.hold.max(Instant::now() + self.grace);
        let hold = self.hold;
        let early: Vec<String> = self
            .passes
            .iter()
            .filter(|(t, _)| *t < hold)
            .map(|(_, w)| w.clone())
            .collect();
        self.passes.retain(|(t, _)| *t >= hold);
        for why in early {
            self.schedule(Duration::ZERO, why);
        }
    }

    /// A pass `after` from now. One due within [`COALESCE`] of another runs with it, at
    /// the later of the two times: never before a grace is over.
    fn schedule(&mut self, after: Duration, why: String) {
        let at = (Instant::now() + after).max(self.hold);
        let near = self
            .passes
            .iter_mut()
            .find(|(t, _)| t.max(&at).duration_since(*t.min(&at)) < COALESCE);
        match near {
            Some((t, w)) => {
                *t = (*t).max(at);
                if !w.split("; ").any(|x| x == why) {
                    w.push_str("; ");
                    w.push_str(&why);
                }
            }
            None => self.passes.push((at, why)),
        }
        self.passes.sort_by_key(|(t, _)| *t);
    }

    /// Find gateways and workers not yet tracked; with `startup`, those running now
    /// were already running. Also the deaths of processes tracked without a pidfd.
    fn rescan(&mut self, startup: bool) {
        let host = Host::probe(true);
        let mut changed = false;
        let now = now_ms();
        for p in &host.processes {
            if !self.dirs.serves(p)
                || self
                    .tracked
                    .iter()
                    .any(|t| t.pid == p.pid && t.starttime == p.starttime)
            {
                continue;
            }
            let fd = match pidfd_open(p.pid) {
                Ok(fd) => Some(fd),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => None,
                Err(e) => {
                    if self.pidfd_ok {
                        self.error(&format!(
                            "no pidfd ({e}): exits are found by a rescan every {} s",
                            RESCAN_DEGRADED.as_secs()
                        ));
                    }
                    self.pidfd_ok = false;
                    None
                }
            };
            let t = Tracked {
                kind: p.kind,
                pid: p.pid,
                ns_pid: p.ns_pid,
                starttime: p.starttime,
                started_at: p.started_at,
                dir: p.dir.clone(),
                fd,
                pid_file_named: p.kind == ProcKind::Worker
                    && self.dirs.pid_file_names(self.cfg, p.pid),
            };
            // The pid may have been reused between the scan and pidfd_open: the fd
            // must be the process the scan saw.
            if proc_starttime(p.pid) != Some(p.starttime) {
                self.log(&format!(
                    "{} pid {} for {} exited as it was found",
                    t.what(),
                    t.pid,
                    t.dir_text()
                ));
                self.hold_passes(t.kind);
                self.schedule(self.grace, format!("{} pid {} exited", t.what(), t.pid));
                continue;
            }
            let age = p.started_at.map(|s| now - s);
            let key = (
                self.boot_id.clone(),
                backends::kind_name(p.kind).to_string(),
                p.pid,
                p.starttime,
            );
            let known = self
                .inherited
                .iter()
                .position(|v| key_of(v).as_ref() == Some(&key));
            match known {
                // An earlier watch recorded its start: still the same lifetime.
                Some(i) => {
                    self.inherited.remove(i);
                }
                None => {
                    let mut v = t.record(&self.boot_id);
                    v["type"] = json!("start");
                    v["at"] = json!(iso_ms(now));
                    v["seen_start"] = json!(!startup);
                    self.write_lifetime(&v);
                }
            }
            self.log(&format!(
                "{} pid {} {} for {}{}",
                t.what(),
                t.pid,
                if startup { "runs" } else { "started" },
                t.dir_text(),
                match age {
                    Some(a) if startup => format!(" (since {} ago)", human_age(a)),
                    _ => String::new(),
                }
            ));
            // Sessions of a gateway or worker that started less than the recovery
            // window ago are `unknown` (its own recovery may still claim them): one
            // more pass once the window is over.
            if let Some(a) = age {
                let left = self.recovery_ms + WINDOW_SLACK_MS - a;
                if left > 0 {
                    self.schedule(
                        Duration::from_millis(left as u64),
                        format!("recovery window of {} pid {} over", t.what(), t.pid),
                    );
                }
            }
            self.tracked.push(t);
            changed = true;
        }
        // Processes tracked without a pidfd: gone when their start time changed.
        let gone: Vec<usize> = (0..self.tracked.len())
            .filter(|i| {
                let t = &self.tracked[*i];
                t.fd.is_none() && proc_starttime(t.pid) != Some(t.starttime)
            })
            .collect();
        for i in gone.into_iter().rev() {
            self.exited(i);
            changed = true;
        }
        let every = if self.pidfd_ok && self.inotify.is_some() {
            RESCAN_EVERY
        } else {
            RESCAN_DEGRADED
        };
        self.next_rescan = Instant::now() + every;
        if changed && !startup {
            self.refresh_metrics();
        }
    }

    /// Tracked process `i` has exited: log it, record the end of its lifetime, and
    /// schedule a pass after the grace.
    fn exited(&mut self, i: usize) {
        let t = self.tracked.swap_remove(i);
        let now = now_ms();
        let (outcome, from, reason) = match (t.kind, &t.dir) {
            (ProcKind::Worker, _) => {
                backends::worker_outcome(&self.dirs, self.cfg, t.pid, t.pid_file_named)
            }
            (_, Some(d)) => backends::gateway_outcome(
                self.cfg,
                d,
                t.ns_pid.unwrap_or(t.pid),
                t.started_at,
                true,
            ),
            (_, None) => backends::unknown(),
        };
        let mut v = t.record(&self.boot_id);
        v["type"] = json!("end");
        v["at"] = json!(iso_ms(now));
        v["seen_exit"] = json!(true);
        v["outcome"] = json!(outcome);
        v["outcome_from"] = json!(from);
        v["reason"] = json!(reason);
        self.write_lifetime(&v);
        let lived = t
            .started_at
            .map(|s| format!(" after {}", human_age(now - s)))
            .unwrap_or_default();
        let how = match outcome.as_str() {
            "clean_stop" => "a clean stop",
            "crash" => "a crash",
            _ => "how, unknown",
        };
        self.log(&format!(
            "{} pid {} for {} exited{lived} ({how}); closing what it left orphaned in {} unless it comes back",
            t.what(),
            t.pid,
            t.dir_text(),
            humantime::format_duration(self.grace)
        ));
        self.hold_passes(t.kind);
        self.schedule(self.grace, format!("{} pid {} exited", t.what(), t.pid));
        self.refresh_metrics();
    }

    /// One `close --yes`, exactly as the command runs it.
    fn pass(&mut self, why: &str) {
        self.rescan(false);
        let began = Instant::now();
        let args = CloseArgs {
            yes: true,
            ..CloseArgs::default()
        };
        let res = crate::cmd::close::run_to(
            &self.pass_cfg,
            &args,
            &mut io::sink(),
            &mut Default::default(),
        );
        let took = began.elapsed();
        let retry = match &res {
            Ok(o) => {
                let mut parts: Vec<String> = Vec::new();
                if o.resumed + o.resumed_failed > 0 {
                    parts.push(format!(
                        "settled {} action(s) earlier runs owed ({} failed)",
                        o.resumed, o.resumed_failed
                    ));
                }
                if o.closed + o.failed > 0 {
                    parts.push(format!(
                        "closed {} of {} session group(s)",
                        o.closed,
                        o.closed + o.failed
                    ));
                }
                if o.skipped > 0 {
                    parts.push(format!("{} skipped (changed since the scan)", o.skipped));
                }
                if parts.is_empty() {
                    parts.push("nothing to close".into());
                }
                let run = o
                    .run
                    .as_ref()
                    .map(|r| format!("; run {r} (undo: sessionctl journal undo {r})"))
                    .unwrap_or_default();
                let bad = o.code == EXIT_ERROR || o.failed > 0 || o.resumed_failed > 0;
                let retry = bad
                    .then(|| format!("; retrying in {}", humantime::format_duration(self.retry)));
                self.log(&format!(
                    "pass ({why}): {} in {} ms{run}{}",
                    parts.join(", "),
                    took.as_millis(),
                    retry.as_deref().unwrap_or("")
                ));
                bad
            }
            Err(e) => {
                self.error(&format!(
                    "pass ({why}) failed: {e}; retrying in {}",
                    humantime::format_duration(self.retry)
                ));
                true
            }
        };
        if retry {
            self.schedule(self.retry, "retry".into());
            self.retry = (self.retry * 2).min(RETRY_MAX);
        } else {
            self.retry = RETRY_FIRST;
        }
        drop(res);
        self.refresh_metrics();
        trim();
    }

    fn refresh_metrics(&self) {
        if self.textfile.is_none() {
            return;
        }
        let r = crate::scan::run(&self.pass_cfg);
        self.write_metrics(&r);
        drop(r);
        trim();
    }

    fn write_metrics(&self, r: &crate::scan::Report) {
        let Some(path) = self.textfile else { return };
        let last = if r.problems.is_empty() {
            Some(r.now_ms as f64 / 1000.0)
        } else {
            crate::metrics::previous_success(path)
        };
        if let Err(e) = crate::metrics::write(path, &crate::metrics::render(r, last)) {
            self.error(&format!("prometheus textfile: {e}"));
        }
    }

    fn run(&mut self, signals: &Signals) -> io::Result<u8> {
        let mut settle: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if settle.is_some_and(|s| s <= now) {
                settle = None;
                self.rescan(false);
            } else if self.next_rescan <= now {
                self.rescan(false);
            }
            if self
                .passes
                .first()
                .is_some_and(|(t, _)| *t <= Instant::now())
            {
                let now = Instant::now();
                let due: Vec<String> = self
                    .passes
                    .iter()
                    .filter(|(t, _)| *t <= now)
                    .map(|(_, w)| w.clone())
                    .collect();
                self.passes.retain(|(t, _)| *t > now);
                self.pass(&due.join("; "));
            }

            let mut next = self.next_rescan;
            if let Some((t, _)) = self.passes.first() {
                next = next.min(*t);
            }
            if let Some(s) = settle {
                next = next.min(s);
            }
            let wait = next.saturating_duration_since(Instant::now());
            // Round up: waking a millisecond early would only loop once more.
            let timeout = i32::try_from(wait.as_millis() + 1).unwrap_or(i32::MAX);

            let mut fds: Vec<libc::pollfd> = Vec::with_capacity(self.tracked.len() + 2);
            let pfd = |fd: i32| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            fds.push(pfd(signals.fd.as_raw_fd()));
            fds.push(pfd(self.inotify.as_ref().map_or(-1, |i| i.fd.as_raw_fd())));
            let first_pid = fds.len();
            let mut owners: Vec<usize> = Vec::new();
            for (i, t) in self.tracked.iter().enumerate() {
                if let Some(fd) = &t.fd {
                    fds.push(pfd(fd.as_raw_fd()));
                    owners.push(i);
                }
            }
            // SAFETY: `fds` is a valid array of pollfd of that length.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(io::Error::new(e.kind(), format!("watch: poll: {e}")));
            }
            if fds[0].revents != 0 {
                if let Some(sig) = signals.take() {
                    let pending = self.passes.len();
                    self.log(&format!(
                        "stopped ({sig}); {} gateway/worker process(es) watched{}",
                        self.tracked.len(),
                        if pending > 0 {
                            format!(", {pending} pass(es) pending (the next `close` or `watch` runs them)")
                        } else {
                            String::new()
                        }
                    ));
                    return Ok(EXIT_OK);
                }
            }
            // Deaths first (highest index first: `exited` swaps the last one in).
            let mut dead: Vec<usize> = (first_pid..fds.len())
                .filter(|k| fds[*k].revents != 0)
                .map(|k| owners[k - first_pid])
                .collect();
            dead.sort_unstable();
            for i in dead.into_iter().rev() {
                self.exited(i);
            }
            if fds[1].revents != 0 {
                let seen = self
                    .inotify
                    .as_ref()
                    .map(Inotify::drain)
                    .unwrap_or_default();
                if seen.rebuild {
                    let wanted = self.dirs.watched(self.cfg);
                    if let Some(i) = self.inotify.as_mut() {
                        i.set(&wanted);
                    }
                    self.note("inotify: a watched dir appeared or went: watches set up again");
                }
                if seen.rescan {
                    self.rescan(false);
                    settle = Some(Instant::now() + SETTLE);
                }
            }
        }
    }
}

fn pidfd_open(pid: i64) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags; the result is a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd, owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Give the memory a pass used back to the system: the daemon idles for hours.
fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
