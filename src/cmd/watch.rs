//! `sessionctl watch`: a foreground daemon that repairs after every gateway or claude-mem
//! worker death, within seconds and without anyone asking.
//!
//! One `poll(2)` waits on everything: a pidfd per gateway and worker (readable once the
//! process has exited), an inotify fd on the gateway lock dirs and the claude-mem pid
//! file dirs (a new gateway or worker writes there), a signalfd for SIGTERM and SIGINT,
//! and a timeout for the next scheduled action (a close pass, the slow backstop rescan).
//! Nothing runs while nothing happens.
//!
//! It never closes anything itself: a pass is `close --yes` (the same function, with the
//! same journal, targets, locks, re-check and verdicts), so it cannot end a session a live
//! gateway owns, or one whose gateway restarted less than 120 s ago (`recovery-pending`).
//! A crash of `watch` loses nothing: the journal holds what a pass left half done, and the
//! next pass (the first one after a restart of `watch`) settles it.

use std::io;
use std::path::Path;
use std::time::Duration;

use crate::config::Config;

#[cfg(target_os = "linux")]
pub fn run(cfg: &Config, grace: Duration, textfile: Option<&Path>) -> io::Result<u8> {
    imp::run(cfg, grace, textfile)
}

#[cfg(not(target_os = "linux"))]
pub fn run(_cfg: &Config, _grace: Duration, _textfile: Option<&Path>) -> io::Result<u8> {
    eprintln!("sessionctl: watch needs Linux (pidfd, inotify, signalfd); run `sessionctl close --yes` from a timer instead");
    Ok(super::EXIT_ERROR)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::{BTreeMap, HashMap};
    use std::ffi::{CString, OsStr, OsString};
    use std::fs::File;
    use std::io::{self, Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use crate::cli::{CloseArgs, Format};
    use crate::cmd::{EXIT_ERROR, EXIT_OK};
    use crate::config::Config;
    use crate::model::Backend;
    use crate::probe::{proc_starttime, Host, ProcInfo, ProcKind};
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

    const LIFETIMES: &str = "lifetimes.ndjson";
    const LIFETIMES_OLD: &str = "lifetimes.ndjson.1";
    /// `lifetimes.ndjson` is rotated (to `.1`, replacing the previous one) past this size:
    /// a few thousand lifetimes, and never more than twice this on disk.
    const LIFETIMES_MAX: u64 = 1 << 20;

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
                super::super::error_line("config file", &e.path, &e.message);
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

    // -----------------------------------------------------------------------------------
    // Signals through a signalfd

    struct Signals {
        fd: OwnedFd,
    }

    impl Signals {
        fn block() -> io::Result<Signals> {
            // SAFETY: plain libc calls on a zeroed, then initialised, sigset.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::sigaddset(&mut set, libc::SIGINT);
                let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                if rc != 0 {
                    return Err(io::Error::from_raw_os_error(rc));
                }
                let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(Signals {
                    fd: OwnedFd::from_raw_fd(fd),
                })
            }
        }

        /// The pending signal's name, if one is pending.
        fn take(&self) -> Option<&'static str> {
            // SAFETY: an all-zero signalfd_siginfo is valid.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading at most `size` bytes into `info`.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    &mut info as *mut libc::signalfd_siginfo as *mut libc::c_void,
                    size,
                )
            };
            let name = match info.ssi_signo as i32 {
                libc::SIGINT => "SIGINT",
                _ => "SIGTERM",
            };
            (n == size as isize).then_some(name)
        }
    }

    // -----------------------------------------------------------------------------------
    // inotify on the lock dirs and pid file dirs

    /// What a watched directory's events can mean.
    #[derive(Debug, Default)]
    struct Interest {
        /// `gateway.*.lock` files are written and removed here.
        gateway_locks: bool,
        /// `worker.pid` is written and removed here.
        pid_file: bool,
        /// Names of missing dirs on the way to a wanted one: when one appears, the watches
        /// are set up again.
        next: Vec<OsString>,
    }

    struct Inotify {
        fd: OwnedFd,
        watches: HashMap<i32, (PathBuf, Interest)>,
    }

    /// What a batch of inotify events asks for.
    #[derive(Debug, Default)]
    struct Seen {
        rescan: bool,
        rebuild: bool,
    }

    const CONTENT_MASK: u32 = libc::IN_CREATE
        | libc::IN_DELETE
        | libc::IN_CLOSE_WRITE
        | libc::IN_MOVED_TO
        | libc::IN_MOVED_FROM
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF
        | libc::IN_ONLYDIR;
    const ANCESTOR_MASK: u32 = libc::IN_CREATE
        | libc::IN_MOVED_TO
        | libc::IN_DELETE_SELF
        | libc::IN_MOVE_SELF
        | libc::IN_ONLYDIR;

    impl Inotify {
        fn new() -> io::Result<Inotify> {
            // SAFETY: no preconditions.
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Inotify {
                // SAFETY: just opened, owned here.
                fd: unsafe { OwnedFd::from_raw_fd(fd) },
                watches: HashMap::new(),
            })
        }

        /// Watch each wanted dir, or, while it is missing, the nearest dir above it that
        /// exists (for the creation of the next one on the way). Returns how many dirs are
        /// watched directly.
        fn set(&mut self, wanted: &[(PathBuf, bool)]) -> usize {
            for wd in self.watches.keys() {
                // SAFETY: valid inotify fd; a stale wd only returns EINVAL.
                unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), *wd) };
            }
            self.watches.clear();
            let mut plan: BTreeMap<PathBuf, (u32, Interest)> = BTreeMap::new();
            let mut direct = 0;
            for (dir, locks) in wanted {
                let mut here = dir.clone();
                let mut next: Option<OsString> = None;
                loop {
                    if here.is_dir() {
                        let e = plan.entry(here.clone()).or_default();
                        match &next {
                            None => {
                                e.0 |= CONTENT_MASK;
                                if *locks {
                                    e.1.gateway_locks = true;
                                } else {
                                    e.1.pid_file = true;
                                }
                            }
                            Some(n) => {
                                e.0 |= ANCESTOR_MASK;
                                if !e.1.next.contains(n) {
                                    e.1.next.push(n.clone());
                                }
                            }
                        }
                        break;
                    }
                    let (Some(parent), Some(name)) = (here.parent(), here.file_name()) else {
                        break;
                    };
                    next = Some(name.to_os_string());
                    here = parent.to_path_buf();
                }
            }
            for (path, (mask, interest)) in plan {
                let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
                    continue;
                };
                // SAFETY: valid fd and NUL-terminated path.
                let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
                if wd < 0 {
                    continue;
                }
                direct += usize::from(interest.gateway_locks || interest.pid_file);
                // Two paths of one directory (a symlink) share a wd: keep both interests.
                match self.watches.get_mut(&wd) {
                    Some((_, old)) => {
                        old.gateway_locks |= interest.gateway_locks;
                        old.pid_file |= interest.pid_file;
                        old.next.extend(interest.next);
                    }
                    None => {
                        self.watches.insert(wd, (path, interest));
                    }
                }
            }
            direct
        }

        /// Read every queued event.
        fn drain(&self) -> Seen {
            let mut seen = Seen::default();
            // inotify_event is 4-byte aligned: read into u32s.
            let mut buf = [0u32; 1024];
            loop {
                // SAFETY: reading at most the buffer's size into it.
                let n = unsafe {
                    libc::read(
                        self.fd.as_raw_fd(),
                        buf.as_mut_ptr() as *mut libc::c_void,
                        std::mem::size_of_val(&buf),
                    )
                };
                if n <= 0 {
                    break;
                }
                // SAFETY: the kernel wrote `n` bytes; viewed as bytes.
                let bytes =
                    unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n as usize) };
                let head = std::mem::size_of::<libc::inotify_event>();
                let mut at = 0;
                while at + head <= bytes.len() {
                    // SAFETY: a whole header lies at `at` (checked above).
                    let ev: libc::inotify_event = unsafe {
                        std::ptr::read_unaligned(bytes[at..].as_ptr() as *const libc::inotify_event)
                    };
                    let end = (at + head + ev.len as usize).min(bytes.len());
                    let raw = &bytes[at + head..end];
                    let name = OsStr::from_bytes(
                        &raw[..raw.iter().position(|b| *b == 0).unwrap_or(raw.len())],
                    );
                    at = end;
                    self.judge(ev.wd, ev.mask, name, &mut seen);
                }
            }
            seen
        }

        fn judge(&self, wd: i32, mask: u32, name: &OsStr, seen: &mut Seen) {
            if mask & libc::IN_Q_OVERFLOW != 0 {
                seen.rescan = true;
                seen.rebuild = true;
                return;
            }
            let Some((_, interest)) = self.watches.get(&wd) else {
                return;
            };
            if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
                seen.rebuild = true;
                seen.rescan = true;
                return;
            }
            if interest.next.iter().any(|n| n == name) {
                seen.rebuild = true;
                seen.rescan = true;
            }
            let n = name.as_bytes();
            if interest.gateway_locks && n.starts_with(b"gateway.") && n.ends_with(b".lock") {
                seen.rescan = true;
            }
            if interest.pid_file && n == b"worker.pid" {
                seen.rescan = true;
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // lifetimes.ndjson

    struct Lifetimes {
        dir: crate::fsx::Dir,
        path: PathBuf,
    }

    /// One lifetime, as its records name it.
    type Key = (Option<String>, String, i64, u64);

    impl Lifetimes {
        fn open(journal: &Path) -> Result<Lifetimes, String> {
            let dir = crate::journal::trusted_journal_dir(journal)?;
            let path = journal.parent().unwrap_or(Path::new(".")).join(LIFETIMES);
            Ok(Lifetimes { dir, path })
        }

        /// One `watch` per journal: two would record every lifetime twice.
        fn lock(&self) -> Result<File, String> {
            let lock = self.path.with_file_name("watch.lock");
            let f = self
                .dir
                .open_rw_private(OsStr::new("watch.lock"))
                .map_err(|e| format!("watch lock: {}: cannot open: {e}", lock.display()))?;
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                return Err(format!(
                    "watch lock: {}: another `sessionctl watch` runs with this journal",
                    lock.display()
                ));
            }
            Ok(f)
        }

        fn append(&self, v: &Value) -> io::Result<()> {
            let name = OsStr::new(LIFETIMES);
            let mut f = self.dir.open_append_private(name)?;
            if f.metadata()?.len() > LIFETIMES_MAX {
                drop(f);
                self.dir.rename(name, OsStr::new(LIFETIMES_OLD))?;
                f = self.dir.open_append_private(name)?;
            }
            let mut line = serde_json::to_vec(v).map_err(io::Error::other)?;
            line.push(b'\n');
            // One write of a whole line, O_APPEND: a reader never sees half a record.
            f.write_all(&line)
        }

        /// Start records without an end record, from both files (oldest first).
        fn open_records(&self) -> Vec<Value> {
            let mut open: BTreeMap<Key, Value> = BTreeMap::new();
            for name in [LIFETIMES_OLD, LIFETIMES] {
                let Ok(f) = self.dir.open_read(OsStr::new(name)) else {
                    continue;
                };
                let mut text = String::new();
                if f.take(4 * LIFETIMES_MAX).read_to_string(&mut text).is_err() {
                    continue;
                }
                for line in text.lines() {
                    let Ok(v) = serde_json::from_str::<Value>(line) else {
                        continue;
                    };
                    let Some(k) = key_of(&v) else { continue };
                    match v["type"].as_str() {
                        Some("start") => {
                            open.insert(k, v);
                        }
                        Some("end") => {
                            open.remove(&k);
                        }
                        _ => {}
                    }
                }
            }
            open.into_values().collect()
        }
    }

    fn key_of(v: &Value) -> Option<Key> {
        Some((
            v["boot_id"].as_str().map(str::to_string),
            v["kind"].as_str()?.to_string(),
            v["pid"].as_i64()?,
            v["starttime"].as_u64()?,
        ))
    }

    // -----------------------------------------------------------------------------------
    // The daemon

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
            match self.kind {
                ProcKind::Worker => "claude-mem worker",
                _ => "gateway",
            }
        }

        fn dir_text(&self) -> String {
            match &self.dir {
                Some(d) => d.display().to_string(),
                None => "an unknown dir".into(),
            }
        }

        fn record(&self, boot_id: &Option<String>) -> Value {
            json!({
                "kind": kind_name(self.kind),
                "pid": self.pid,
                "ns_pid": self.ns_pid,
                "starttime": self.starttime,
                "started_at": self.started_at.map(iso_ms),
                "dir": self.dir,
                "boot_id": boot_id,
            })
        }
    }

    fn kind_name(k: ProcKind) -> &'static str {
        match k {
            ProcKind::Worker => "worker",
            _ => "gateway",
        }
    }

    struct Watch<'a> {
        cfg: &'a Config,
        /// What the passes and metrics scans run with: quiet (the notes a person wants
        /// once are printed once, at start), table format (the report is not printed).
        pass_cfg: Config,
        grace: Duration,
        textfile: Option<&'a Path>,
        state_dirs: Vec<PathBuf>,
        cm_dir: Option<PathBuf>,
        boot_id: Option<String>,
        tracked: Vec<Tracked>,
        lifetimes: Lifetimes,
        inotify: Option<Inotify>,
        /// Pending passes: when, and why (for the log line).
        passes: Vec<(Instant, String)>,
        /// No pass runs before this: the grace of the latest death. A pass due earlier (the
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
            let state_dirs = if cfg.wants(Backend::Openclaw) {
                crate::backend::openclaw::discover(cfg)
                    .into_iter()
                    .map(|(d, _)| d)
                    .collect()
            } else {
                Vec::new()
            };
            let cm_dir = if cfg.wants(Backend::ClaudeMem) {
                crate::backend::claude_mem::discover(cfg).map(|(d, _)| d)
            } else {
                None
            };
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
                state_dirs,
                cm_dir,
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

        /// Where gateways write their locks, for each state dir (as the scanner reads
        /// them), and where workers write worker.pid.
        fn wanted_dirs(&self) -> Vec<(PathBuf, bool)> {
            // SAFETY: getuid has no preconditions.
            let uid = unsafe { libc::getuid() };
            let mut out: Vec<(PathBuf, bool)> = Vec::new();
            let mut add = |d: PathBuf, locks: bool| {
                if !out.iter().any(|(o, l)| *o == d && *l == locks) {
                    out.push((d, locks));
                }
            };
            for state in &self.state_dirs {
                for d in crate::backend::openclaw::lock_dir_candidates(state, self.cfg, uid) {
                    add(d, true);
                }
            }
            if let Some(cm) = &self.cm_dir {
                add(cm.clone(), false);
                // worker.pid lives in ~/.claude-mem up to 12.5.
                if let Some(home) = self.cfg.env.home() {
                    add(home.join(".claude-mem"), false);
                }
            }
            out
        }

        fn start(&mut self, targets: usize) {
            let host = Host::probe(false);
            self.boot_id = host.boot_id.clone();
            match Inotify::new() {
                Ok(mut i) => {
                    let wanted = self.wanted_dirs();
                    let direct = i.set(&wanted);
                    self.note(&format!(
                        "inotify: {} watch(es), {direct} on lock or pid file dirs",
                        i.watches.len()
                    ));
                    self.inotify = Some(i);
                }
                Err(e) => self.error(&format!(
                    "no inotify ({e}): new gateways are found by a rescan every {} s",
                    RESCAN_DEGRADED.as_secs()
                )),
            }
            let mut dirs: Vec<String> = self
                .state_dirs
                .iter()
                .map(|d| format!("state dir {}", d.display()))
                .collect();
            if let Some(cm) = &self.cm_dir {
                dirs.push(format!("claude-mem dir {}", cm.display()));
            }
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
                self.log("no hook targets configured: passes end store entries and claude-mem rows, and deliver no session_end; see README \"Hook targets\"");
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
                    (Some("gateway"), Some(d)) => gateway_outcome(
                        Path::new(d),
                        v["ns_pid"].as_i64().or(v["pid"].as_i64()).unwrap_or(0),
                        v["started_at"]
                            .as_str()
                            .and_then(crate::timefmt::parse_iso_ms),
                    ),
                    _ => ("unknown".into(), None, None),
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

        /// A gateway or worker died: no pass runs until `grace` from now. Passes due before
        /// then wait, and run with the pass the death schedules.
        fn hold_passes(&mut self) {
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

        fn relevant(&self, p: &ProcInfo) -> bool {
            match p.kind {
                ProcKind::Gateway => self.state_dirs.iter().any(|d| p.serves(d) != Some(false)),
                ProcKind::Worker => self
                    .cm_dir
                    .as_ref()
                    .is_some_and(|d| p.serves(d) != Some(false)),
                ProcKind::Openclaw => false,
            }
        }

        fn pid_file_names(&self, pid: i64) -> bool {
            let mut paths: Vec<PathBuf> = Vec::new();
            if let Some(cm) = &self.cm_dir {
                paths.push(cm.join("worker.pid"));
            }
            if let Some(home) = self.cfg.env.home() {
                paths.push(home.join(".claude-mem").join("worker.pid"));
            }
            paths.iter().any(|p| {
                crate::backend::read_small(p, 64 * 1024)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .and_then(|v| v["pid"].as_i64())
                    == Some(pid)
            })
        }

        /// Find gateways and workers not yet tracked; with `startup`, those running now
        /// were already running. Also the deaths of processes tracked without a pidfd.
        fn rescan(&mut self, startup: bool) {
            let host = Host::probe(true);
            let mut changed = false;
            let now = now_ms();
            for p in &host.processes {
                if !self.relevant(p)
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
                    pid_file_named: p.kind == ProcKind::Worker && self.pid_file_names(p.pid),
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
                    self.hold_passes();
                    self.schedule(self.grace, format!("{} pid {} exited", t.what(), t.pid));
                    continue;
                }
                let age = p.started_at.map(|s| now - s);
                let key = (
                    self.boot_id.clone(),
                    kind_name(p.kind).to_string(),
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
            let (outcome, from, reason) = match t.kind {
                ProcKind::Worker => {
                    if self.pid_file_names(t.pid) {
                        ("crash".to_string(), Some("worker.pid".to_string()), None)
                    } else if t.pid_file_named {
                        ("clean_stop".into(), Some("worker.pid".into()), None)
                    } else {
                        ("unknown".into(), None, None)
                    }
                }
                _ => match &t.dir {
                    Some(d) => gateway_outcome(d, t.ns_pid.unwrap_or(t.pid), t.started_at),
                    None => ("unknown".into(), None, None),
                },
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
            self.hold_passes();
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
            let res = super::super::close::run_to(&self.pass_cfg, &args, &mut io::sink(), false);
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
                    let retry = bad.then(|| {
                        format!("; retrying in {}", humantime::format_duration(self.retry))
                    });
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
                let rc =
                    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
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
                        let wanted = self.wanted_dirs();
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

    /// How the gateway that ran as `pid` (its own namespace's pid) from `started_ms` on
    /// `dir` ended, by its own record: the row of `gateway_boot_lifecycle` in
    /// `<dir>/state/openclaw.sqlite` (`outcome` `clean_stop`, or NULL after a crash).
    /// Only these columns are read: the database also holds key material.
    fn gateway_outcome(
        dir: &Path,
        pid: i64,
        started_ms: Option<i64>,
    ) -> (String, Option<String>, Option<String>) {
        let unknown = ("unknown".to_string(), None, None);
        let Some(lifetimes) = crate::backend::openclaw::read_lifetimes(dir) else {
            return unknown;
        };
        let rows: Vec<(i64, Option<String>, Option<String>)> = lifetimes
            .into_iter()
            .filter(|l| l.pid == pid)
            .map(|l| (l.started_ms, l.outcome, l.reason))
            .collect();
        // The boot whose start is nearest this process's start (pids are reused across
        // boots); more than 10 minutes apart is another process.
        let best = match started_ms {
            Some(s) => rows
                .into_iter()
                .filter(|r| (r.0 - s).abs() <= 600_000)
                .min_by_key(|r| (r.0 - s).abs()),
            None => rows.into_iter().max_by_key(|r| r.0),
        };
        match best {
            Some((_, outcome, reason)) => (
                outcome.unwrap_or_else(|| "crash".into()),
                Some("gateway_boot_lifecycle".into()),
                reason,
            ),
            None => unknown,
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
}
