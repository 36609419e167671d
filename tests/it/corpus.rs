//! Hostile input: every file under `tests/corpus/` (plus a few cases that need a symlink, a
//! FIFO or a directory, made at run time) is put in its place in a healthy host — the
//! 2026.7.35 after-kill OpenClaw state and a 13.25.3 claude-mem database — and `list`,
//! `check` (both `--format json`) and `list` (table) run over both backends. Whatever the
//! input, sessionctl must not panic, hang, die by a signal or read without bound; stdout
//! is one JSON document; each problem is one stderr line `sessionctl: …` naming the file
//! it is about, with no raw control characters; the other backend is still reported; and
//! nothing under the sandbox is created, changed or removed. Then proptest throws random
//! bytes and random JSON-ish documents at the same parsers.
//!
//! The corpus layout and the `.sql` recipe format are described in `tests/corpus/README.md`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::Value;

use crate::common::*;

/// The running session of the 2026.7.35 after-kill capture, and its lock.
const SLOW_KEY: &str = "agent:main:e2e-slow";
const SLOW_ID: &str = "ae3ade86-9fb7-4837-a009-6fcc1c41c22b";
/// Active rows of the 13.25.3 claude-mem fixture.
const CM_ACTIVE: [&str; 5] = ["3", "4", "5", "6", "7"];
/// A run that takes longer than this is a hang.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);
/// Address-space limit of each run: an unbounded read (a symlink to /dev/zero) fails fast
/// instead of eating the machine.
const RUN_MEMORY_LIMIT: u64 = 512 << 20;
/// Peak memory growth above this is reported even when the error was swallowed (files
/// are small; the biggest generated one is 10 MB).
const RUN_MEMORY_WARN: u64 = 128 << 20;

// Cases known to fail would be listed here, skipped by the table-driven test and run by
// their own `#[ignore = "bug: …"]` test. None are: the FIFO, /dev/zero, endless-view and
// missing -shm cases found while building the corpus are fixed and run with the rest.
const KNOWN_BUGS: &[&str] = &[];

/// Out-of-range times (claude-mem `started_at_epoch` and OpenClaw
/// `session_windows.started_at` = i64::MIN) through every command that prints an age: once
/// `now - t` overflowed and panicked in `list`, `show`, `doctor` and `check
/// --prometheus-textfile`.
#[test]
fn extreme_times_in_show_doctor_metrics() {
    let host = Host::new();
    let corpus = corpus_root();
    place_db(
        &host,
        &corpus.join("claude-mem-db/extreme-epochs.sql"),
        &host.cm_db(),
    );
    place_db(
        &host,
        &corpus.join("openclaw-db/extreme-times.sql"),
        &host.agent_db("ops"),
    );
    let prom = host.fx.tmp().join("sessionctl.prom");
    let mut failures = Vec::new();
    for extra in [
        vec!["list".to_string()],
        vec!["show".into(), "cm:3".into()],
        vec!["show".into(), "agent:ops:run".into()],
        vec!["doctor".into()],
        vec![
            "check".into(),
            "--prometheus-textfile".into(),
            prom.to_string_lossy().into_owned(),
        ],
    ] {
        let mut args = host.args("list");
        args.splice(0..1, extra.iter().cloned());
        args.truncate(args.len() - 2); // the table, not JSON
        let run = run_bin(&host, &args);
        let bad = crashed(&run);
        if !bad.is_empty() {
            failures.push(format!("{}\n{run}", bad.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

// ---------------------------------------------------------------------------------------
// The healthy host

/// The 13.25.3 claude-mem database with the orphans fixture, built once.
fn healthy_claude_mem_db() -> &'static [u8] {
    static DB: OnceLock<Vec<u8>> = OnceLock::new();
    DB.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        drop(build_claude_mem_db(d.path(), "13.25.3", None));
        fs::read(d.path().join("claude-mem.db")).unwrap()
    })
}

struct Host {
    fx: Fixture,
}

impl Host {
    /// A fresh host from the shared fixtures (gunzipped, placeholders substituted).
    fn new() -> Host {
        let fx = Fixture::openclaw("2026.7.35", "after-kill");
        let cm = fx.root().join("cm");
        fs::create_dir_all(&cm).unwrap();
        fs::write(cm.join("claude-mem.db"), healthy_claude_mem_db()).unwrap();
        Host { fx }
    }

    /// A copy of `template` in a new sandbox, its paths rewritten: much cheaper than
    /// [`Host::new`] when every case needs its own host.
    fn copy_of(template: &Host) -> Host {
        fn copy(from: &Path, to: &Path, old: &str, new: &str) {
            fs::create_dir_all(to).unwrap();
            for entry in fs::read_dir(from).unwrap() {
                let src = entry.unwrap().path();
                let dst = to.join(src.file_name().unwrap());
                if src.is_dir() {
                    copy(&src, &dst, old, new);
                    continue;
                }
                let name = src.file_name().unwrap().to_string_lossy();
                if !name.contains(".sqlite") && !name.ends_with(".db") {
                    if let Ok(text) = fs::read_to_string(&src) {
                        fs::write(&dst, text.replace(old, new)).unwrap();
                        continue;
                    }
                }
                fs::copy(&src, &dst).unwrap();
            }
        }
        let sandbox = Sandbox::new();
        copy(
            template.root(),
            sandbox.root(),
            &template.root().to_string_lossy(),
            &sandbox.root().to_string_lossy(),
        );
        Host {
            fx: Fixture {
                sandbox,
                source: template.fx.source.clone(),
            },
        }
    }

    fn root(&self) -> &Path {
        self.fx.root()
    }

    fn cm(&self) -> PathBuf {
        self.root().join("cm")
    }

    fn sessions_dir(&self) -> PathBuf {
        self.fx.state().join("agents/main/sessions")
    }

    fn sessions_json(&self) -> PathBuf {
        self.sessions_dir().join("sessions.json")
    }

    fn session_lock(&self) -> PathBuf {
        self.sessions_dir().join(format!("{SLOW_ID}.jsonl.lock"))
    }

    /// The capture's own gateway lock, in `$TMPDIR/openclaw-<uid>/` (2026.7).
    fn tmp_gateway_lock(&self) -> PathBuf {
        self.fx.tmp_lock_dir().join("gateway.81957b4c.lock")
    }

    /// A gateway lock in `<state>/tmp/openclaw-<uid>/` (2026.9), which always belongs to
    /// the state dir, so its problems are always reported.
    fn state_gateway_lock(&self) -> PathBuf {
        self.fx.state_lock_dir().join("gateway.corpus.lock")
    }

    fn worker_pid(&self) -> PathBuf {
        self.cm().join("worker.pid")
    }

    fn cm_settings(&self) -> PathBuf {
        self.cm().join("settings.json")
    }

    fn cm_db(&self) -> PathBuf {
        self.cm().join("claude-mem.db")
    }

    fn agent_db(&self, agent: &str) -> PathBuf {
        self.fx
            .state()
            .join("agents")
            .join(agent)
            .join("agent/openclaw-agent.sqlite")
    }

    fn lease_db(&self) -> PathBuf {
        self.fx.state().join("state/openclaw.sqlite")
    }

    fn args(&self, cmd: &str) -> Vec<String> {
        vec![
            cmd.into(),
            "--openclaw-state-dir".into(),
            self.fx.state().to_string_lossy().into_owned(),
            "--claude-mem-dir".into(),
            self.cm().to_string_lossy().into_owned(),
            "--format".into(),
            "json".into(),
        ]
    }

    /// `$STATE_DIR`, `$TMPDIR`, `$HOME` in corpus files, as in the fixtures.
    fn substitute(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for (ph, val) in [
            ("$STATE_DIR", self.fx.state()),
            ("$TMPDIR", self.fx.tmp()),
            ("$HOME", self.fx.sandbox.home()),
        ] {
            out = replace_bytes(&out, ph.as_bytes(), val.to_string_lossy().as_bytes());
        }
        out
    }

    /// Write `bytes` at `path` (placeholders substituted), creating parent dirs.
    fn place(&self, path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = fs::remove_file(path);
        fs::write(path, self.substitute(bytes)).unwrap();
    }
}

fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Running the binary: timeout, memory limit, signals

struct Run {
    args: Vec<String>,
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    /// Peak resident memory of the run beyond what it inherited from the test process.
    own_rss_kb: u64,
    elapsed: Duration,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = |s: &str, n: usize| -> String {
            if s.len() <= n {
                s.to_string()
            } else {
                let mut end = n;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}… ({} bytes)", &s[..end], s.len())
            }
        };
        write!(
            f,
            "    $ sessionctl {}\n    exit: {:?}, signal: {:?}, timed out: {}, {} ms, peak {} MiB\n    stdout: {}\n    stderr: {}",
            self.args.join(" "),
            self.code,
            self.signal,
            self.timed_out,
            self.elapsed.as_millis(),
            self.own_rss_kb >> 10,
            cut(&self.stdout, 600).replace('\n', "\n            "),
            cut(&self.stderr, 1500).replace('\n', "\n            "),
        )
    }
}

fn run_bin(host: &Host, args: &[String]) -> Run {
    let mut cmd = host.fx.sandbox.command(args, &[]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: RUN_MEMORY_LIMIT,
                rlim_max: RUN_MEMORY_LIMIT,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
    // A forked child starts with the parent's resident set, and Linux carries the peak
    // across exec: only growth beyond it is the child's own.
    let parent_rss_kb = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let started = Instant::now();
    // Reaped by wait4 below, which std's Child does not know about.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("spawn sessionctl");
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    // wait4 rather than Child::wait: it also reports the child's peak memory.
    let pid = child.id() as libc::pid_t;
    let mut timed_out = false;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; the out-pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0, "wait4: {}", std::io::Error::last_os_error());
        if !timed_out && started.elapsed() > RUN_TIMEOUT {
            timed_out = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    let status = std::process::ExitStatus::from_raw(status);
    Run {
        args: args.to_vec(),
        code: status.code(),
        signal: status.signal(),
        timed_out,
        own_rss_kb: (usage.ru_maxrss as u64).saturating_sub(parent_rss_kb),
        elapsed,
        stdout: String::from_utf8_lossy(&out_t.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Tree snapshots that never follow symlinks or open FIFOs

#[derive(Debug, PartialEq, Eq)]
enum Node {
    Dir,
    /// Size, inode and mtime (ns): a write, a truncation or a rename-over changes one of
    /// them, and nothing is read (a 3.6 MB WAL is in every sandbox). Not ctime: running
    /// as root, SQLite fchown()s the -wal and -shm it opens to their own owner.
    File(u64, u64, i128),
    /// SQLite shared memory: a reader may touch it; only its presence counts.
    Shm,
    Symlink(PathBuf),
    Special(u32),
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for entry in rd.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let ft = meta.file_type();
            let node = if ft.is_dir() {
                walk(root, &path, out);
                Node::Dir
            } else if ft.is_symlink() {
                Node::Symlink(fs::read_link(&path).unwrap_or_default())
            } else if !ft.is_file() {
                Node::Special(meta.mode())
            } else if path.to_string_lossy().ends_with("-shm") {
                Node::Shm
            } else {
                let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
                Node::File(meta.len(), meta.ino(), ns(meta.mtime(), meta.mtime_nsec()))
            };
            out.insert(rel, node);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn tree_diff(before: &BTreeMap<PathBuf, Node>, after: &BTreeMap<PathBuf, Node>) -> Vec<String> {
    let mut d = Vec::new();
    for (p, n) in before {
        match after.get(p) {
            None => d.push(format!("removed {}", p.display())),
            Some(a) if a != n => d.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        d.push(format!("added {}", p.display()));
    }
    d
}

// ---------------------------------------------------------------------------------------
// What every run must satisfy

/// Records that must still be listed whatever the hostile input.
#[derive(Clone, Copy, Debug, Default)]
struct Must {
    /// The main agent's running session from its sessions.json.
    openclaw_slow: bool,
    /// claude-mem's five active rows.
    claude_mem_rows: bool,
}

/// A hang, a signal, a panic or an exit code other than 0, 1, 2.
fn crashed(run: &Run) -> Vec<String> {
    let mut bad = Vec::new();
    if run.timed_out {
        bad.push(format!("hung: killed after {} s", RUN_TIMEOUT.as_secs()));
    } else if let Some(sig) = run.signal {
        bad.push(format!("killed by signal {sig}"));
    } else if !matches!(run.code, Some(0..=2)) {
        bad.push(format!("exit code {:?} (only 0, 1, 2 allowed)", run.code));
    }
    if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
        bad.push("panicked".into());
    }
    bad
}

/// Every stderr line is one `sessionctl: …` line, without raw control characters, naming
/// one of the files the case is about.
fn stderr_lines_bad(run: &Run, about: &[PathBuf]) -> Vec<String> {
    let about_s: Vec<String> = about
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut bad = Vec::new();
    for l in run.stderr.split_terminator('\n') {
        let short: String = l.chars().take(300).collect();
        if !l.starts_with("sessionctl: ") {
            bad.push(format!(
                "stderr line does not start with `sessionctl: `: {short:?}"
            ));
        }
        if l.chars().any(char::is_control) {
            bad.push(format!("raw control character on stderr: {short:?}"));
        }
        if !about_s.iter().any(|a| l.contains(a.as_str())) {
            bad.push(format!("stderr line names none of {about_s:?}: {short:?}"));
        }
    }
    bad
}

/// The decisions some cases pin down, beyond the rules every case follows.
fn case_expectations(name: &str, host: &Host, v: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let openclaw = |key: Option<&str>| -> Vec<&Value> {
        v["sessions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|s| s["backend"] == "openclaw")
                    .filter(|s| key.is_none_or(|k| s["session_key"] == k))
                    .collect()
            })
            .unwrap_or_default()
    };
    let never_followed = |s: &Value, bad: &mut Vec<String>| {
        let f = &s["detail"]["session_file"];
        if f["stored"].as_str().is_some_and(|p| !p.is_empty())
            && (f["inside_state_dir"] != false || f["exists"] != false)
        {
            bad.push(format!(
                "sessionFile {} of {} is outside the state dir, yet inside_state_dir = {}, exists = {}",
                f["stored"], s["session_key"], f["inside_state_dir"], f["exists"]
            ));
        }
    };
    match name {
        // A sessions.json symlinked out of its state dir belongs to no state dir sessionctl
        // can judge: it is refused (never read, so never written), and reported against
        // sessions.json with where it leads.
        "special/sessions-json-symlink-to-etc-passwd" => {
            let path = host.sessions_json().to_string_lossy().into_owned();
            let reported = v["problems"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["path"] == path.as_str()
                        && p["message"].as_str().is_some_and(|m| {
                            m.contains("leads out of") && m.contains("/etc/passwd")
                        })
                })
            });
            if !reported {
                bad.push(
                    "a sessions.json symlinked to /etc/passwd is not refused as leading out of its state dir".into(),
                );
            }
        }
        // A sessionFile that leaves the state dir, by `..`, an absolute path or a symlink,
        // is never followed.
        "sessions-json/session-file-dotdot.json"
        | "sessions-json/session-file-absolute-outside.json" => {
            let all = openclaw(None);
            if all.len() < 4 {
                bad.push(format!("only {} OpenClaw sessions listed", all.len()));
            }
            for s in all {
                never_followed(s, &mut bad);
            }
        }
        "special/session-file-symlink-leaving-state-dir" => {
            for key in ["agent:main:evil-link", "agent:main:evil-dir-link"] {
                match openclaw(Some(key)).first() {
                    Some(s) => never_followed(s, &mut bad),
                    None => bad.push(format!("{key} is not listed")),
                }
            }
        }
        _ => {}
    }
    bad
}

/// Check one run; returns what is wrong (empty when all is well).
fn verify(run: &Run, about: &[PathBuf], must: Must, is_check: bool) -> Vec<String> {
    let mut bad = crashed(run);
    if run.stderr.contains("out of memory") || run.stderr.contains("memory allocation of") {
        bad.push(format!(
            "ran into the test's {} MiB address-space limit: a read without a size bound",
            RUN_MEMORY_LIMIT >> 20
        ));
    } else if run.own_rss_kb > RUN_MEMORY_WARN >> 10 {
        bad.push(format!(
            "peak memory {} MiB (more than {} MiB): a read without a size bound?",
            run.own_rss_kb >> 10,
            RUN_MEMORY_WARN >> 20
        ));
    }
    let doc: Option<Value> = match serde_json::from_str::<Value>(&run.stdout) {
        Ok(v) if v["sessions"].is_array() && v["problems"].is_array() => Some(v),
        Ok(_) => {
            bad.push("stdout is JSON but has no sessions/problems arrays".into());
            None
        }
        Err(e) => {
            bad.push(format!("stdout is not one JSON document: {e}"));
            None
        }
    };
    bad.extend(stderr_lines_bad(run, about));
    let about_s: Vec<String> = about
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let lines: Vec<&str> = run.stderr.split_terminator('\n').collect();
    let Some(v) = doc else { return bad };
    let problems = v["problems"].as_array().unwrap();
    if problems.len() != lines.len() {
        bad.push(format!(
            "{} problems in the JSON but {} stderr lines",
            problems.len(),
            lines.len()
        ));
    }
    for p in problems {
        let path = p["path"].as_str().unwrap_or_default();
        if !about_s.iter().any(|a| a == path) {
            bad.push(format!(
                "problem about an unexpected file {path:?} (expected one of {about_s:?}): {}",
                p["message"].as_str().unwrap_or_default()
            ));
        }
    }
    match (problems.is_empty(), run.code) {
        (false, Some(c)) if c != 2 => {
            bad.push(format!("{} problem(s) but exit {c}", problems.len()))
        }
        (true, Some(2)) => bad.push("exit 2 without a reported problem".into()),
        (true, Some(1)) if !is_check => bad.push("list exited 1".into()),
        _ => {}
    }
    let sessions = v["sessions"].as_array().unwrap();
    if v["summary"]["total"].as_u64() != Some(sessions.len() as u64) {
        bad.push(format!(
            "summary.total {} but {} sessions",
            v["summary"]["total"],
            sessions.len()
        ));
    }
    if must.openclaw_slow
        && !sessions
            .iter()
            .any(|s| s["backend"] == "openclaw" && s["session_key"] == SLOW_KEY)
    {
        bad.push(format!("OpenClaw session {SLOW_KEY} is no longer listed"));
    }
    if must.claude_mem_rows {
        let ids: Vec<&str> = sessions
            .iter()
            .filter(|s| s["backend"] == "claude-mem")
            .filter_map(|s| s["id"].as_str())
            .collect();
        let missing: Vec<&&str> = CM_ACTIVE.iter().filter(|i| !ids.contains(i)).collect();
        if !missing.is_empty() {
            bad.push(format!(
                "claude-mem rows {missing:?} are no longer listed (listed: {ids:?})"
            ));
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------
// SQLite recipes (`*.sql` in the database directories)

#[derive(Debug, Default)]
struct Recipe {
    base: Vec<String>,
    wal_journal: bool,
    /// `db` (default), `wal-only`, `db-and-wal`.
    place: String,
    garbage_wal: bool,
    truncate: Option<String>,
    truncate_wal: Option<usize>,
    patches: Vec<(usize, Vec<u8>)>,
    agent: Option<String>,
}

fn parse_recipe(text: &str) -> Recipe {
    let mut r = Recipe {
        place: "db".into(),
        ..Recipe::default()
    };
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix("-- @") else {
            continue;
        };
        let (k, v) = d.split_once(':').unwrap_or((d, ""));
        let v = v.trim();
        match k.trim() {
            "base" => r.base.extend(v.split_whitespace().map(String::from)),
            "journal" => r.wal_journal = v == "wal",
            "place" => r.place = v.into(),
            "wal" => r.garbage_wal = v == "garbage",
            "truncate" => r.truncate = Some(v.into()),
            "truncate-wal" => r.truncate_wal = Some(v.parse().expect("@truncate-wal: N")),
            "patch" => {
                let (off, hex) = v.split_once(':').expect("@patch: OFFSET:HEX");
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect();
                r.patches.push((off.parse().expect("patch offset"), bytes));
            }
            "agent" => r.agent = Some(v.into()),
            other => panic!("unknown recipe directive @{other}"),
        }
    }
    r
}

/// The database the `@base` files build (rollback journal), built once per base list:
/// SQLite is slow in a debug build and most recipes share the claude-mem base.
fn base_db(dir: &Path, base: &[String]) -> Vec<u8> {
    static CACHE: OnceLock<Mutex<BTreeMap<Vec<String>, Vec<u8>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(b) = cache.lock().unwrap().get(base) {
        return b.clone();
    }
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("base.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    for b in base {
        let sql = match b.strip_prefix("fixture:") {
            Some(rel) => fs::read_to_string(fixtures_root().join(rel)).unwrap(),
            None => fs::read_to_string(dir.join(b)).unwrap(),
        };
        conn.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("base {b}: {e}"));
    }
    drop(conn);
    let bytes = fs::read(&db).unwrap();
    cache.lock().unwrap().insert(base.to_vec(), bytes.clone());
    bytes
}

fn cut_len(spec: &str, len: usize) -> usize {
    if let Some(p) = spec.strip_suffix('%') {
        len * p.parse::<usize>().unwrap() / 100
    } else if let Some(n) = spec.strip_prefix('-') {
        len - n.parse::<usize>().unwrap()
    } else {
        spec.parse::<usize>().unwrap().min(len)
    }
}

/// Build the database a recipe describes; returns (db bytes or None, wal bytes or None).
fn build_recipe(recipe_path: &Path) -> (Recipe, Option<Vec<u8>>, Option<Vec<u8>>) {
    let text = fs::read_to_string(recipe_path).unwrap();
    let r = parse_recipe(&text);
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("x.sqlite");
    let wal = d.path().join("x.sqlite-wal");
    if !r.base.is_empty() {
        fs::write(&db, base_db(recipe_path.parent().unwrap(), &r.base)).unwrap();
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    if r.wal_journal {
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
    }
    conn.execute_batch(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", recipe_path.display()));
    let (mut db_bytes, mut wal_bytes) = match r.place.as_str() {
        "db" => {
            drop(conn);
            (Some(fs::read(&db).unwrap()), None)
        }
        // Copy while the connection is open: the frames are still in the WAL.
        "wal-only" => (None, Some(fs::read(&wal).unwrap())),
        "db-and-wal" => (Some(fs::read(&db).unwrap()), Some(fs::read(&wal).unwrap())),
        other => panic!("unknown @place {other}"),
    };
    if r.garbage_wal {
        wal_bytes = Some(b"this is not a write-ahead log\n".repeat(100));
    }
    if let Some(b) = db_bytes.as_mut() {
        for (off, patch) in &r.patches {
            b[*off..off + patch.len()].copy_from_slice(patch);
        }
        if let Some(t) = &r.truncate {
            let n = cut_len(t, b.len());
            b.truncate(n);
        }
    }
    if let (Some(w), Some(n)) = (wal_bytes.as_mut(), r.truncate_wal) {
        w.truncate(n);
    }
    (r, db_bytes, wal_bytes)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Put a database (from a recipe, or a file copied as-is) at `target`, replacing any
/// database and sidecars there.
fn place_db(host: &Host, source: &Path, target: &Path) {
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    for sfx in ["", "-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(with_suffix(target, sfx));
    }
    if source.extension().is_some_and(|e| e == "sql") {
        let (_, db, wal) = build_recipe(source);
        if let Some(db) = db {
            fs::write(target, db).unwrap();
        }
        if let Some(wal) = wal {
            fs::write(with_suffix(target, "-wal"), wal).unwrap();
        }
    } else {
        host.place(target, &fs::read(source).unwrap());
    }
}

// ---------------------------------------------------------------------------------------
// Cases

type Setup = Box<dyn Fn(&Host) -> Vec<PathBuf> + Send + Sync>;

struct Case {
    name: String,
    /// Places the hostile input; returns the files its errors may name.
    setup: Setup,
    must: Must,
}

/// Which records must survive a hostile file in each corpus directory.
fn must_for(dir: &str) -> Must {
    match dir {
        // The store itself is hostile: only the other backend must survive.
        "sessions-json" => Must {
            openclaw_slow: false,
            claude_mem_rows: true,
        },
        "claude-mem-db" => Must {
            openclaw_slow: true,
            claude_mem_rows: false,
        },
        // Evidence files, other agents' stores and the lease DB must hide nothing.
        _ => Must {
            openclaw_slow: true,
            claude_mem_rows: true,
        },
    }
}

fn corpus_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_root())
        .expect("tests/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dname = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                p.is_file() && !n.starts_with('_')
            })
            .collect();
        files.sort();
        for f in files {
            let name = format!("{dname}/{}", f.file_name().unwrap().to_string_lossy());
            let mut must = must_for(&dname);
            let setup: Setup = match dname.as_str() {
                "sessions-json" => Box::new(move |h| {
                    h.place(&h.sessions_json(), &fs::read(&f).unwrap());
                    vec![h.sessions_json()]
                }),
                "session-lock" => Box::new(move |h| {
                    h.place(&h.session_lock(), &fs::read(&f).unwrap());
                    vec![h.session_lock()]
                }),
                "gateway-lock" => Box::new(move |h| {
                    let b = fs::read(&f).unwrap();
                    h.place(&h.tmp_gateway_lock(), &b);
                    h.place(&h.state_gateway_lock(), &b);
                    vec![h.tmp_gateway_lock(), h.state_gateway_lock()]
                }),
                "worker-pid" => Box::new(move |h| {
                    h.place(&h.worker_pid(), &fs::read(&f).unwrap());
                    vec![h.worker_pid()]
                }),
                "claude-mem-settings" => Box::new(move |h| {
                    h.place(&h.cm_settings(), &fs::read(&f).unwrap());
                    vec![h.cm_settings()]
                }),
                "claude-mem-db" => Box::new(move |h| {
                    place_db(h, &f, &h.cm_db());
                    vec![h.cm_db()]
                }),
                "openclaw-db" => {
                    let agent = if f.extension().is_some_and(|e| e == "sql") {
                        parse_recipe(&fs::read_to_string(&f).unwrap()).agent
                    } else {
                        None
                    }
                    .unwrap_or_else(|| "ops".into());
                    if agent == "main" {
                        // The main agent's SQLite store replaces its sessions.json only
                        // when it is readable; a broken one must fall back to the file.
                        must.openclaw_slow = true;
                    }
                    Box::new(move |h| {
                        place_db(h, &f, &h.agent_db(&agent));
                        vec![h.agent_db(&agent)]
                    })
                }
                "lease-db" => Box::new(move |h| {
                    place_db(h, &f, &h.lease_db());
                    vec![h.lease_db()]
                }),
                other => panic!("tests/corpus/{other}: no placement rule for this directory"),
            };
            cases.push(Case { name, setup, must });
        }
    }
    cases
}

fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", p.display());
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    let _ = fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn replace_with_dir(p: &Path) {
    let _ = fs::remove_file(p);
    fs::create_dir_all(p.join("sub")).unwrap();
}

fn replace_with_fifo(p: &Path) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    let _ = fs::remove_file(p);
    mkfifo(p);
}

/// A sessions.json with the capture's running entry plus `extra` entries.
fn sessions_with(h: &Host, extra: &[(String, Value)]) -> Vec<u8> {
    let mut doc: Value = read_json(&h.sessions_json());
    for (k, v) in extra {
        doc[k] = v.clone();
    }
    serde_json::to_vec_pretty(&doc).unwrap()
}

/// Cases that need a symlink, a FIFO, a directory or a big generated file.
fn special_cases() -> Vec<Case> {
    let oc = must_for("session-lock");
    let store = must_for("sessions-json");
    let cmdb = must_for("claude-mem-db");
    let mut v: Vec<Case> = Vec::new();
    let mut add = |name: &str, must: Must, setup: Setup| {
        v.push(Case {
            name: format!("special/{name}"),
            setup,
            must,
        })
    };
    add(
        "session-lock-is-a-directory",
        oc,
        Box::new(|h| {
            replace_with_dir(&h.session_lock());
            vec![h.session_lock()]
        }),
    );
    add(
        "session-lock-is-a-fifo",
        oc,
        Box::new(|h| {
            replace_with_fifo(&h.session_lock());
            vec![h.session_lock()]
        }),
    );
    add(
        "session-lock-symlink-to-etc-passwd",
        oc,
        Box::new(|h| {
            symlink("/etc/passwd", &h.session_lock());
            vec![h.session_lock()]
        }),
    );
    add(
        "session-lock-symlink-to-dev-zero",
        oc,
        Box::new(|h| {
            symlink("/dev/zero", &h.session_lock());
            vec![h.session_lock()]
        }),
    );
    add(
        "session-lock-dangling-symlink",
        oc,
        Box::new(|h| {
            symlink("no-such-file", &h.session_lock());
            vec![h.session_lock()]
        }),
    );
    add(
        "session-lock-symlink-loop",
        oc,
        Box::new(|h| {
            let l = h.session_lock();
            symlink(l.file_name().unwrap(), &l);
            vec![l]
        }),
    );
    add(
        "sessions-json-is-a-directory",
        store,
        Box::new(|h| {
            replace_with_dir(&h.sessions_json());
            vec![h.sessions_json()]
        }),
    );
    add(
        "sessions-json-is-a-fifo",
        store,
        Box::new(|h| {
            replace_with_fifo(&h.sessions_json());
            vec![h.sessions_json()]
        }),
    );
    add(
        // Followed (OpenClaw follows it too): an error about sessions.json, not a crash.
        "sessions-json-symlink-to-etc-passwd",
        store,
        Box::new(|h| {
            symlink("/etc/passwd", &h.sessions_json());
            vec![h.sessions_json()]
        }),
    );
    add(
        "sessions-json-symlink-loop",
        store,
        Box::new(|h| {
            symlink("sessions.json", &h.sessions_json());
            vec![h.sessions_json()]
        }),
    );
    add(
        // A transcript inside the sessions dir that is a symlink leaving the state dir: its
        // sessionFile must be reported as outside and never read.
        "session-file-symlink-leaving-state-dir",
        oc,
        Box::new(|h| {
            let link = h.sessions_dir().join("evil.jsonl");
            symlink("/etc/passwd", &link);
            let dir_link = h.sessions_dir().join("evil-dir");
            symlink("/etc", &dir_link);
            let body = sessions_with(
                h,
                &[
                    (
                        "agent:main:evil-link".into(),
                        serde_json::json!({"sessionId": "12000000-0000-4000-8000-000000000001",
                            "status": "running", "updatedAt": 1795638113441u64,
                            "sessionFile": link.to_string_lossy()}),
                    ),
                    (
                        "agent:main:evil-dir-link".into(),
                        serde_json::json!({"sessionId": "12000000-0000-4000-8000-000000000002",
                            "status": "running", "updatedAt": 1795638113441u64,
                            "sessionFile": "agents/main/sessions/evil-dir/shadow"}),
                    ),
                ],
            );
            h.place(&h.sessions_json(), &body);
            vec![h.sessions_json()]
        }),
    );
    add(
        // An agent whose sessions dir is a symlink to a directory outside the state dir.
        "agent-sessions-dir-symlink-outside",
        oc,
        Box::new(|h| {
            let outside = h.root().join("outside-sessions");
            fs::create_dir_all(&outside).unwrap();
            fs::write(
                outside.join("sessions.json"),
                serde_json::to_vec(&serde_json::json!({"agent:evil:x": {
                    "sessionId": "13000000-0000-4000-8000-000000000001", "status": "running",
                    "updatedAt": 1795638113441u64, "sessionFile": outside.join("x.jsonl")}}))
                .unwrap(),
            )
            .unwrap();
            fs::write(outside.join("x.jsonl"), b"{}\n").unwrap();
            symlink(&outside, &h.fx.state().join("agents/evil/sessions"));
            vec![h.fx.state().join("agents/evil/sessions/sessions.json")]
        }),
    );
    add(
        "gateway-lock-is-a-directory",
        oc,
        Box::new(|h| {
            replace_with_dir(&h.state_gateway_lock());
            vec![h.state_gateway_lock()]
        }),
    );
    add(
        "gateway-lock-is-a-fifo",
        oc,
        Box::new(|h| {
            replace_with_fifo(&h.state_gateway_lock());
            vec![h.state_gateway_lock()]
        }),
    );
    add(
        "gateway-lock-dir-is-a-file",
        oc,
        Box::new(|h| {
            let d = h.fx.state_lock_dir();
            fs::create_dir_all(d.parent().unwrap()).unwrap();
            fs::write(&d, b"not a dir").unwrap();
            vec![d]
        }),
    );
    add(
        "worker-pid-is-a-directory",
        oc,
        Box::new(|h| {
            replace_with_dir(&h.worker_pid());
            vec![h.worker_pid()]
        }),
    );
    add(
        "worker-pid-is-a-fifo",
        oc,
        Box::new(|h| {
            replace_with_fifo(&h.worker_pid());
            vec![h.worker_pid()]
        }),
    );
    add(
        "gateway-lock-symlink-to-dev-zero",
        oc,
        Box::new(|h| {
            symlink("/dev/zero", &h.state_gateway_lock());
            vec![h.state_gateway_lock()]
        }),
    );
    add(
        "sessions-json-symlink-to-dev-zero",
        store,
        Box::new(|h| {
            symlink("/dev/zero", &h.sessions_json());
            vec![h.sessions_json()]
        }),
    );
    add(
        // settings.json is read for CLAUDE_MEM_WORKER_PORT, its errors ignored.
        "claude-mem-settings-symlink-to-dev-zero",
        oc,
        Box::new(|h| {
            symlink("/dev/zero", &h.cm_settings());
            vec![h.cm_settings()]
        }),
    );
    add(
        "worker-pid-symlink-to-dev-zero",
        oc,
        Box::new(|h| {
            symlink("/dev/zero", &h.worker_pid());
            vec![h.worker_pid()]
        }),
    );
    add(
        "claude-mem-db-is-a-directory",
        cmdb,
        Box::new(|h| {
            fs::remove_file(h.cm_db()).unwrap();
            replace_with_dir(&h.cm_db());
            vec![h.cm_db()]
        }),
    );
    add(
        "claude-mem-db-is-a-fifo",
        cmdb,
        Box::new(|h| {
            replace_with_fifo(&h.cm_db());
            vec![h.cm_db()]
        }),
    );
    add(
        "claude-mem-db-symlink-to-dev-zero",
        cmdb,
        Box::new(|h| {
            symlink("/dev/zero", &h.cm_db());
            vec![h.cm_db()]
        }),
    );
    add(
        "claude-mem-db-wal-is-a-directory",
        cmdb,
        Box::new(|h| {
            let c = rusqlite::Connection::open(h.cm_db()).unwrap();
            c.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
            drop(c);
            replace_with_dir(&with_suffix(&h.cm_db(), "-wal"));
            vec![h.cm_db()]
        }),
    );
    add(
        "openclaw-db-is-a-fifo",
        oc,
        Box::new(|h| {
            replace_with_fifo(&h.agent_db("ops"));
            vec![h.agent_db("ops")]
        }),
    );
    add(
        // 5 MB strings: a sessionId (unusable as a file name) and an ignored member.
        "sessions-json-5mb-strings",
        store,
        Box::new(|h| {
            let big = "x".repeat(5 << 20);
            let body = format!(
                r#"{{"{SLOW_KEY}": {{"sessionId": "{SLOW_ID}", "status": "running"}},
                    "agent:main:big": {{"sessionId": "{big}", "status": "running",
                    "updatedAt": 1795638113441, "systemPrompt": "{big}"}}}}"#
            );
            h.place(&h.sessions_json(), body.as_bytes());
            vec![h.sessions_json()]
        }),
    );
    add(
        // Members sessionctl skips are skipped without recursion: a million levels.
        "sessions-json-1m-nested-in-skipped-member",
        store,
        Box::new(|h| {
            let n = 1_000_000;
            let mut body = format!(
                r#"{{"{SLOW_KEY}": {{"sessionId": "{SLOW_ID}", "status": "running", "skillsSnapshot": "#
            );
            body.push_str(&"[".repeat(n));
            body.push_str(&"]".repeat(n));
            body.push_str(r#", "lastActivityAt": "#);
            body.push_str(&"[{\"a\":".repeat(n / 10));
            body.push('1');
            body.push_str(&"}]".repeat(n / 10));
            body.push_str("}}");
            h.place(&h.sessions_json(), body.as_bytes());
            vec![h.sessions_json()]
        }),
    );
    add(
        "sessions-json-100k-nested-arrays",
        store,
        Box::new(|h| {
            let mut b = "[".repeat(100_000);
            b.push_str(&"]".repeat(100_000));
            h.place(&h.sessions_json(), b.as_bytes());
            vec![h.sessions_json()]
        }),
    );
    add(
        "sessions-json-5000-running-entries",
        store,
        Box::new(|h| {
            let extra: Vec<(String, Value)> = (0..5000)
                .map(|i| {
                    (
                        format!("agent:main:bulk-{i}"),
                        serde_json::json!({"sessionId": format!("14000000-0000-4000-8000-{i:012}"),
                            "status": "running", "updatedAt": 1795638113441u64 - i as u64}),
                    )
                })
                .collect();
            let body = sessions_with(h, &extra);
            h.place(&h.sessions_json(), &body);
            vec![h.sessions_json()]
        }),
    );
    v
}

fn all_cases() -> Vec<Case> {
    let mut c = corpus_cases();
    c.extend(special_cases());
    c
}

/// Build a host, place the case, run `list` and `check`; returns the failures.
fn run_case(template: &Host, case: &Case) -> (Vec<String>, String) {
    let host = Host::copy_of(template);
    let about = (case.setup)(&host);
    let before = snapshot(host.root());
    let mut failures = Vec::new();
    let mut summary = String::new();
    for cmd in ["list", "check"] {
        let run = run_bin(&host, &host.args(cmd));
        let mut bad = verify(&run, &about, case.must, cmd == "check");
        if let Ok(v) = serde_json::from_str::<Value>(&run.stdout) {
            bad.extend(case_expectations(&case.name, &host, &v));
        }
        if cmd == "list" {
            let first = run.stderr.lines().next().unwrap_or("-");
            summary = format!(
                "exit {:?} {:>5} ms {:>4} MiB  {} problem line(s)  {}",
                run.code,
                run.elapsed.as_millis(),
                run.own_rss_kb >> 10,
                run.stderr.lines().count(),
                first.chars().take(160).collect::<String>()
            );
        }
        if !bad.is_empty() {
            failures.push(format!("  {cmd}: {}\n{run}", bad.join("\n    ")));
        }
    }
    // The table: no crash, and the same stderr discipline.
    let mut args = host.args("list");
    args.truncate(args.len() - 1);
    args.push("table".into());
    let run = run_bin(&host, &args);
    let mut bad = crashed(&run);
    bad.extend(stderr_lines_bad(&run, &about));
    if !bad.is_empty() {
        failures.push(format!("  list (table): {}\n{run}", bad.join("\n    ")));
    }
    let diff = tree_diff(&before, &snapshot(host.root()));
    if !diff.is_empty() {
        failures.push(format!("  sandbox changed: {}", diff.join(", ")));
    }
    (failures, summary)
}

#[test]
fn hostile_corpus() {
    let cases = all_cases();
    let corpus_files = cases
        .iter()
        .filter(|c| !c.name.starts_with("special/"))
        .count();
    assert!(
        corpus_files >= 50,
        "only {corpus_files} corpus files under tests/corpus"
    );
    for b in KNOWN_BUGS {
        assert!(
            cases.iter().any(|c| c.name == *b),
            "KNOWN_BUGS names {b}, which is not a case"
        );
    }
    let todo: Vec<&Case> = cases
        .iter()
        .filter(|c| !KNOWN_BUGS.contains(&c.name.as_str()))
        .collect();
    let template = Host::new();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, Vec<String>, String)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = todo.get(i) else { break };
                let (failures, summary) = run_case(&template, case);
                results
                    .lock()
                    .unwrap()
                    .push((case.name.clone(), failures, summary));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    println!(
        "{} hostile cases ({corpus_files} corpus files):",
        results.len()
    );
    for (name, failures, summary) in &results {
        let mark = if failures.is_empty() { "ok  " } else { "FAIL" };
        println!("{mark} {name:<60} {summary}");
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, f, _)| !f.is_empty())
        .map(|(n, f, _)| format!("{n}:\n{}", f.join("\n")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} hostile cases failed:\n\n{}",
        failed.len(),
        results.len(),
        failed.join("\n\n")
    );
}

/// Run one named case (for the known bugs' own tests).

#[test]
fn corpus_recipes_build() {
    // Every recipe builds, and does what it says: a truncation cuts, wal-only has no db.
    let (r, db, wal) = build_recipe(&corpus_root().join("claude-mem-db/truncated-4096.sql"));
    assert_eq!(r.truncate.as_deref(), Some("4096"));
    assert_eq!(db.unwrap().len(), 4096);
    assert!(wal.is_none());
    let (_, db, wal) = build_recipe(&corpus_root().join("claude-mem-db/wal-only.sql"));
    assert!(db.is_none());
    assert!(wal.unwrap().len() > 4096, "the WAL holds the frames");
    let (r, _, _) = build_recipe(&corpus_root().join("openclaw-db/main-agent-truncated.sql"));
    assert_eq!(r.agent.as_deref(), Some("main"));
}

// ---------------------------------------------------------------------------------------
// Property tests: random bytes and random JSON-ish documents in every parsed file

/// A JSON-ish value: numbers are kept as text so 1e400 and 2^64 can be written.
#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(n),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::Arr(items) => {
                out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    it.write(out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    fn text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// The field names the parsers look for, and a few session keys.
const FIELDS: &[&str] = &[
    "sessionId",
    "status",
    "updatedAt",
    "pid",
    "starttime",
    "createdAt",
    "startTime",
    "port",
    "startToken",
    "startedAt",
    "sessionStartedAt",
    "lastInteractionAt",
    "lastActivityAt",
    "endedAt",
    "sessionFile",
    "lifecycleRunId",
    "stateDir",
    "configPath",
    SLOW_KEY,
    "agent:main:e2e-1",
];

fn arb_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0i64..2_000_000_000_000).prop_map(|n| n.to_string()),
        (0u32..70_000).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        prop::sample::select(vec![
            "1e400",
            "-1e400",
            "1e-400",
            "99999999999999999999999",
            "-99999999999999999999999",
            "18446744073709551616",
            "-9223372036854775809",
            "9007199254740993",
            "-0",
            "0.5",
            "1795638113441",
            "7288",
            "57697",
            "4294967296",
            "1099511627776",
        ])
        .prop_map(String::from),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "running",
            "done",
            "",
            SLOW_ID,
            "2026-11-25T20:21:53.463Z",
            "9999-99-99T99:99:99.999Z",
            "../../../../etc/passwd",
            "/etc/passwd",
            "/dev/zero",
            "agents/main/sessions/x.jsonl",
            "\u{1b}[31mred\u{1b}[0m",
            "\u{1b}]0;title\u{7}",
            "a\nb\r\n",
            "\u{0}",
            "\u{9b}2J",
            "\u{202e}",
            "7288",
            " 1795638113441 ",
            "abc",
            "openclaw-agent:main:e2e-slow-1764100000000",
        ])
        .prop_map(String::from),
        prop::collection::vec(any::<char>(), 0..16).prop_map(String::from_iter),
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(String::from),
        1 => arb_string(),
    ]
}

fn arb_leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        1 => Just(J::Null),
        1 => any::<bool>().prop_map(J::Bool),
        3 => arb_number().prop_map(J::Num),
        3 => arb_string().prop_map(J::Str),
    ]
}

fn arb_json() -> impl Strategy<Value = J> {
    arb_leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((arb_key(), inner), 0..6).prop_map(J::Obj),
        ]
    })
}

/// An object made mostly of the real fields, with values of any type.
fn arb_record() -> impl Strategy<Value = J> {
    (
        prop::option::weighted(
            0.8,
            prop_oneof![
                2 => Just(J::Str(SLOW_ID.into())),
                1 => "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}".prop_map(J::Str),
                1 => arb_json(),
            ],
        ),
        prop::option::weighted(
            0.8,
            prop_oneof![3 => Just(J::Str("running".into())), 1 => arb_json()],
        ),
        prop::collection::vec((arb_key(), arb_json()), 0..6),
    )
        .prop_map(|(sid, status, rest)| {
            let mut m = Vec::new();
            if let Some(s) = sid {
                m.push(("sessionId".to_string(), s));
            }
            if let Some(s) = status {
                m.push(("status".to_string(), s));
            }
            m.extend(rest);
            J::Obj(m)
        })
}

/// A sessions.json-like document: session keys to records, or anything at all.
fn arb_store() -> impl Strategy<Value = J> {
    prop_oneof![
        4 => prop::collection::vec(
            (prop_oneof![3 => prop::sample::select(FIELDS).prop_map(String::from), 1 => arb_string()], arb_record()),
            0..5,
        )
        .prop_map(J::Obj),
        1 => arb_json(),
    ]
}

/// Serialized text, sometimes damaged: cut short, a byte replaced, or a byte inserted.
fn damaged(doc: impl Strategy<Value = J>) -> impl Strategy<Value = Vec<u8>> {
    (doc, 0u8..10, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(j, how, at, byte)| {
        let mut b = j.text().into_bytes();
        let i = if b.is_empty() { 0 } else { at.index(b.len()) };
        match how {
            0 => b.truncate(i),
            1 if !b.is_empty() => b[i] = byte,
            2 => b.insert(i, byte),
            _ => {}
        }
        b
    })
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        prop::collection::vec(
            prop::sample::select(b"{}[]\":,0123456789eE.-+ \n\t\\ufnrtlsa\x00\x1b\xff".to_vec()),
            0..400,
        ),
    ]
}

fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        // Each case spawns a process; keep shrinking bounded, and write no regression
        // files into the source tree.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Put the four inputs in place, run `list`, and check it like a corpus case.
fn fuzz_once(
    host: &Host,
    store: &[u8],
    lock: &[u8],
    gateway: &[u8],
    pid: &[u8],
) -> Result<(), TestCaseError> {
    let about = vec![
        host.sessions_json(),
        host.session_lock(),
        host.state_gateway_lock(),
        host.worker_pid(),
    ];
    for (p, b) in about.iter().zip([store, lock, gateway, pid]) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b).unwrap();
    }
    let before = snapshot(host.root());
    let run = run_bin(host, &host.args("list"));
    let mut bad = verify(
        &run,
        &about,
        Must {
            openclaw_slow: false,
            claude_mem_rows: true,
        },
        false,
    );
    bad.extend(tree_diff(&before, &snapshot(host.root())));
    prop_assert!(bad.is_empty(), "{}\n{run}", bad.join("\n"));
    Ok(())
}

/// Run a property over one host (each case overwrites the same four files).
fn fuzz<S>(strategy: S)
where
    S: Strategy<Value = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>)>,
{
    let host = Host::new();
    let mut runner = proptest::test_runner::TestRunner::new(proptest_config());
    if let Err(e) = runner.run(&strategy, |(store, lock, gateway, pid)| {
        fuzz_once(&host, &store, &lock, &gateway, &pid)
    }) {
        panic!("{e}");
    }
}

/// Random bytes as sessions.json, a session lock, a gateway lock and worker.pid.
#[test]
fn fuzz_random_bytes() {
    fuzz((arb_bytes(), arb_bytes(), arb_bytes(), arb_bytes()));
}

/// Random JSON-ish documents (the real field names as keys, values of any type, 1e400
/// and 2^64, sometimes cut short or with a byte changed) in the same four places.
#[test]
fn fuzz_json_documents() {
    let other = || damaged(prop_oneof![3 => arb_record(), 1 => arb_json()]);
    fuzz((damaged(arb_store()), other(), other(), other()));
}
