//! Shared harness for the integration tests: fixture copies, running the binary in a
//! clean environment, host facts (/proc), child-process guards, tree snapshots and small
//! time helpers. Nothing here knows how sessionctl classifies; it only prepares inputs and
//! reads the host.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Locations

/// `<manifest>/../shared/fixtures` (CI checks out `shared/` beside the repository).
pub fn fixtures_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    assert!(
        root.is_dir(),
        "shared fixtures not found at {} (expected ../shared beside the repo)",
        root.display()
    );
    root
}

/// `fixtures/openclaw/<version>/<snapshot>`, e.g. `("2026.7.35", "graceful/after-sigterm")`.
pub fn openclaw_snapshot(version: &str, snapshot: &str) -> PathBuf {
    fixtures_root()
        .join("openclaw")
        .join(version)
        .join(snapshot)
}

/// `fixtures/claude-mem/<name>`.
pub fn claude_mem_file(name: &str) -> PathBuf {
    fixtures_root().join("claude-mem").join(name)
}

/// The uid this test process runs as, read from the owner of a file we just created
/// (libc is not a dev-dependency).
pub fn current_uid() -> u32 {
    static UID: OnceLock<u32> = OnceLock::new();
    *UID.get_or_init(|| {
        let f = tempfile::NamedTempFile::new().expect("create temp file for uid probe");
        f.as_file().metadata().expect("stat uid probe").uid()
    })
}

// ---------------------------------------------------------------------------------------
// Sandbox: a fresh directory with home/ and tmp/, and the binary run against it

/// Result of one sessionctl run.
pub struct Out {
    pub args: Vec<String>,
    /// Exit code; -1 when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Debug for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sessionctl {}\n--- exit: {}\n--- stdout:\n{}\n--- stderr:\n{}\n---",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// A fresh, writable directory (the "run dir") with `home/` and `tmp/` in it.
pub struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("sessionctl-it-")
            .tempdir()
            .expect("create tempdir");
        // Canonical, so paths sessionctl reports (possibly canonicalized) compare equal.
        let root = dir.path().canonicalize().expect("canonicalize tempdir");
        fs::create_dir_all(root.join("home")).unwrap();
        fs::create_dir_all(root.join("tmp")).unwrap();
        Sandbox { _dir: dir, root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `$HOME` for the binary.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// `$TMPDIR` for the binary.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A `std::process::Command` for sessionctl with the same clean environment as
    /// [`Sandbox::run`], for tests that need control over the child's stdio (pipes, signals).
    pub fn command<I, S>(&self, args: I, env: &[(&str, &str)]) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sessionctl"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("TMPDIR", self.tmp())
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(args).current_dir(&self.root);
        cmd
    }

    /// Run sessionctl with a clean environment: only PATH, HOME=<root>/home,
    /// TMPDIR=<root>/tmp, NO_COLOR=1, plus `env`.
    pub fn run<I, S>(&self, args: I, env: &[(&str, &str)]) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let mut cmd = assert_cmd::Command::cargo_bin("sessionctl").expect("binary sessionctl");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("TMPDIR", self.tmp())
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(&args)
            .current_dir(&self.root)
            .timeout(Duration::from_secs(120));
        let output = cmd.output().expect("run sessionctl");
        Out {
            args,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Run with `--format json` appended and parse stdout as one JSON document.
    pub fn json<I, S>(&self, args: I, env: &[(&str, &str)]) -> (Out, Value)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut a: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        a.push("--format".into());
        a.push("json".into());
        let out = self.run(&a, env);
        let v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out:?}"));
        (out, v)
    }
}

// ---------------------------------------------------------------------------------------
// Fixture: a writable, placeholder-substituted copy of a shared snapshot

/// A copy of a fixture snapshot in a [`Sandbox`]; the copy's root is `$RUN_DIR`,
/// `state/` is `$STATE_DIR`, `tmp/` is `$TMPDIR`, `home/` is `$HOME`.
pub struct Fixture {
    pub sandbox: Sandbox,
    pub source: PathBuf,
}

impl Fixture {
    /// Copy `fixtures/openclaw/<version>/<snapshot>`.
    pub fn openclaw(version: &str, snapshot: &str) -> Fixture {
        Fixture::copy_of(&openclaw_snapshot(version, snapshot))
    }

    /// Copy any snapshot directory: `.gz` files are gunzipped (the `.gz` is not kept),
    /// everything made writable, placeholders substituted in text files, and
    /// `openclaw-0` dirs renamed for the current uid.
    pub fn copy_of(src: &Path) -> Fixture {
        assert!(src.is_dir(), "no fixture snapshot at {}", src.display());
        let sandbox = Sandbox::new();
        copy_tree(src, sandbox.root());
        let fx = Fixture {
            sandbox,
            source: src.to_path_buf(),
        };
        fx.substitute_placeholders(fx.root());
        let uid = current_uid();
        if uid != 0 {
            for parent in [fx.root().join("tmp"), fx.state().join("tmp")] {
                let from = parent.join("openclaw-0");
                if from.is_dir() {
                    fs::rename(&from, parent.join(format!("openclaw-{uid}"))).unwrap();
                }
            }
        }
        fx
    }

    pub fn root(&self) -> &Path {
        self.sandbox.root()
    }

    pub fn state(&self) -> PathBuf {
        self.root().join("state")
    }

    pub fn tmp(&self) -> PathBuf {
        self.sandbox.tmp()
    }

    /// `<tmp>/openclaw-<uid>` (2026.7 gateway locks).
    pub fn tmp_lock_dir(&self) -> PathBuf {
        self.tmp().join(format!("openclaw-{}", current_uid()))
    }

    /// `<state>/tmp/openclaw-<uid>` (2026.9 gateway locks).
    pub fn state_lock_dir(&self) -> PathBuf {
        self.state()
            .join("tmp")
            .join(format!("openclaw-{}", current_uid()))
    }

    pub fn run<I, S>(&self, args: I, env: &[(&str, &str)]) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.sandbox.run(args, env)
    }

    pub fn json<I, S>(&self, args: I, env: &[(&str, &str)]) -> (Out, Value)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.sandbox.json(args, env)
    }

    fn substitute_placeholders(&self, dir: &Path) {
        let state = self.state();
        let tmp = self.tmp();
        let home = self.sandbox.home();
        let subs = [
            ("$STATE_DIR", state.to_string_lossy().into_owned()),
            ("$TMPDIR", tmp.to_string_lossy().into_owned()),
            ("$RUN_DIR", self.root().to_string_lossy().into_owned()),
            ("$HOME", home.to_string_lossy().into_owned()),
        ];
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let ft = fs::symlink_metadata(&path).unwrap().file_type();
            if ft.is_dir() {
                self.substitute_placeholders(&path);
            } else if ft.is_file() && is_substitutable_text(&path) {
                let bytes = fs::read(&path).unwrap();
                if bytes.starts_with(b"SQLite format 3\0") {
                    continue;
                }
                let Ok(mut text) = String::from_utf8(bytes) else {
                    continue;
                };
                let before = text.clone();
                for (ph, val) in &subs {
                    text = text.replace(ph, val);
                }
                if text != before {
                    fs::write(&path, text).unwrap();
                }
            }
        }
    }
}

/// Text files that carry placeholders: sessions.json, `*.lock`, `*.json`, `*.jsonl`
/// (hook logs), openclaw.json. Never SQLite files or their sidecars.
fn is_substitutable_text(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    if name.contains(".sqlite") {
        return false;
    }
    name.ends_with(".json")
        || name.ends_with(".jsonl")
        || name.ends_with(".lock")
        || name.starts_with("hook-log")
}

/// Recursive copy; `X.gz` becomes gunzipped `X`; everything ends up writable.
fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let from = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ft = fs::metadata(&from).unwrap().file_type();
        if ft.is_dir() {
            copy_tree(&from, &dst.join(&name));
        } else if ft.is_file() {
            let to;
            if let Some(stem) = name.strip_suffix(".gz") {
                to = dst.join(stem);
                let mut dec = flate2::read::GzDecoder::new(fs::File::open(&from).unwrap());
                let mut buf = Vec::new();
                dec.read_to_end(&mut buf)
                    .unwrap_or_else(|e| panic!("gunzip {}: {e}", from.display()));
                fs::write(&to, buf).unwrap();
            } else {
                to = dst.join(&name);
                fs::copy(&from, &to).unwrap();
            }
            fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tree snapshots: "sessionctl wrote nothing"

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    File(Vec<u8>),
    /// A SQLite `-shm` file: its content is shared memory (a read-only reader may legitimately
    /// touch it), so only its presence is compared.
    Shm,
}

/// Every path under `root` (relative) with its content.
pub fn tree_snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let ft = fs::symlink_metadata(&path).unwrap().file_type();
            if ft.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(root, &path, out);
            } else if path.to_string_lossy().ends_with("-shm") {
                out.insert(rel, Entry::Shm);
            } else {
                out.insert(rel, Entry::File(fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Panic with a list of added, removed and changed paths if the trees differ.
pub fn assert_tree_unchanged(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
    context: &str,
) {
    let mut diffs = Vec::new();
    for (p, e) in before {
        match after.get(p) {
            None => diffs.push(format!("removed: {}", p.display())),
            Some(a) if a != e => diffs.push(format!("changed: {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys() {
        if !before.contains_key(p) {
            diffs.push(format!("added: {}", p.display()));
        }
    }
    assert!(
        diffs.is_empty(),
        "sessionctl modified the fixture copy ({context}):\n  {}",
        diffs.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------
// Host facts

/// Boot time of this host in epoch ms (`btime` in /proc/stat, seconds).
pub fn host_btime_ms() -> i64 {
    let stat = fs::read_to_string("/proc/stat").expect("read /proc/stat");
    let secs: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .expect("btime in /proc/stat")
        .trim()
        .parse()
        .expect("numeric btime");
    secs * 1000
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when unavailable).
pub fn clk_tck() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// True when /proc/<pid> exists (a zombie still counts; reap children before relying on it).
pub fn pid_alive(pid: i64) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). The comm field
/// (2) may contain spaces and parens, so fields are counted after the last ')'.
pub fn proc_starttime(pid: i64) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/stat: {e}"));
    parse_starttime(&stat).unwrap_or_else(|| panic!("bad /proc/{pid}/stat: {stat}"))
}

/// Like [`proc_starttime`], None when the process does not exist.
pub fn try_proc_starttime(pid: i64) -> Option<u64> {
    parse_starttime(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_starttime(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // after ')' the first field is field 3 (state), so field 22 is index 19.
    after.split_whitespace().nth(19)?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Child processes that die with the test

/// A spawned child that is killed and reaped when dropped (also on panic).
pub struct ChildGuard {
    child: Option<Child>,
    pub pid: i64,
}

impl ChildGuard {
    /// Spawn `cmd` with stdin, stdout and stderr detached (`/dev/null`).
    pub fn spawn(cmd: &mut std::process::Command) -> ChildGuard {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let pid = child.id() as i64;
        ChildGuard {
            child: Some(child),
            pid,
        }
    }

    /// `sleep 600`, detached from our stdio.
    pub fn sleep() -> ChildGuard {
        let child = std::process::Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sleep 600");
        let pid = child.id() as i64;
        ChildGuard {
            child: Some(child),
            pid,
        }
    }

    /// Its /proc start time (fixed at fork, so valid right after spawn).
    pub fn starttime(&self) -> u64 {
        proc_starttime(self.pid)
    }

    /// Kill and reap now; afterwards /proc/<pid> is gone.
    pub fn kill_and_wait(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill_and_wait();
    }
}

/// A pid that certainly belonged to a process which has exited (spawn `true`, reap it), and
/// the start time that process had.
pub fn dead_pid() -> (i64, u64) {
    let mut child = std::process::Command::new("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn true");
    let pid = child.id() as i64;
    // Not reaped yet, so /proc/<pid>/stat exists (running or zombie).
    let st = try_proc_starttime(pid).expect("starttime of unreaped child");
    child.wait().expect("wait for true");
    assert!(!pid_alive(pid), "pid {pid} still present after reaping");
    (pid, st)
}

/// Poll `cond` every 10 ms until it holds; panic naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------
// A loopback HTTP server with canned answers

/// How a [`HttpStub::receiver`] answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this status and an empty JSON body.
    Status(u16),
    /// Read the request, then never answer (the connection stays open until shutdown).
    Hang,
    /// Answer with this status after this many milliseconds (a slow receiver).
    Slow(u16, u64),
}

/// One request as the stub read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// A minimal HTTP/1.1 server on `127.0.0.1:<ephemeral>`, in a thread. Two modes:
/// [`HttpStub::start`]: `GET <path>` of a configured route answers `200` with its JSON
/// body, anything else `404`; [`HttpStub::receiver`]: any request (a POST of a payload)
/// is read with its body and answered as scripted, one thread per connection. Every
/// request is recorded. Stopped (and the port closed) by [`HttpStub::shutdown`] or on drop.
pub struct HttpStub {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    requests: Shared<Vec<String>>,
    received: Shared<Vec<Received>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpStub {
    /// Serve `routes` (`path` → JSON body text).
    pub fn start(routes: &[(&str, String)]) -> HttpStub {
        let routes: Vec<(String, String)> = routes
            .iter()
            .map(|(p, b)| (p.to_string(), b.clone()))
            .collect();
        Self::serve(false, move |req, _| {
            let found = routes
                .iter()
                .find(|(p, _)| req.method == "GET" && req.path == *p)
                .map(|(_, b)| b.clone());
            match found {
                Some(b) => (Reply::Status(200), b),
                None => (Reply::Status(404), r#"{"error":"not found"}"#.to_string()),
            }
        })
    }

    /// Accept anything; the n-th request (0-based, in arrival order) gets `script[n]`, later
    /// ones `then`. The request is recorded before it is answered.
    pub fn receiver(script: &[Reply], then: Reply) -> HttpStub {
        let script = script.to_vec();
        Self::serve(true, move |_, n| {
            (script.get(n).copied().unwrap_or(then), "{}".to_string())
        })
    }

    /// A receiver that answers `200` to everything.
    pub fn ok_receiver() -> HttpStub {
        Self::receiver(&[], Reply::Status(200))
    }

    fn serve(
        threaded: bool,
        decide: impl Fn(&Received, usize) -> (Reply, String) + Send + Sync + 'static,
    ) -> HttpStub {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests: Shared<Vec<String>> = Arc::new(Mutex::new(Vec::new()));
        let received: Shared<Vec<Received>> = Arc::new(Mutex::new(Vec::new()));
        let decide = Arc::new(decide);
        let counter = Arc::new(AtomicUsize::new(0));
        let (stop2, requests2, received2) = (stop.clone(), requests.clone(), received.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (stop3, requests3, received3, decide3, counter3) = (
                    stop2.clone(),
                    requests2.clone(),
                    received2.clone(),
                    decide.clone(),
                    counter.clone(),
                );
                let handle = move || {
                    Self::answer(conn, &stop3, &requests3, &received3, &counter3, &*decide3)
                };
                if threaded {
                    std::thread::spawn(handle);
                } else {
                    handle();
                }
            }
            // The listener is dropped here: the port refuses connections from now on.
        });
        HttpStub {
            port,
            stop,
            requests,
            received,
            thread: Some(thread),
        }
    }

    /// Read one request (head and Content-Length body), record it, answer it.
    fn answer(
        mut conn: std::net::TcpStream,
        stop: &std::sync::atomic::AtomicBool,
        requests: &Shared<Vec<String>>,
        received: &Shared<Vec<Received>>,
        counter: &std::sync::atomic::AtomicUsize,
        decide: &(dyn Fn(&Received, usize) -> (Reply, String) + Send + Sync),
    ) {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        if conn.set_read_timeout(Some(Duration::from_secs(2))).is_err()
            || conn
                .set_write_timeout(Some(Duration::from_secs(2)))
                .is_err()
        {
            return;
        }
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if data.len() > 64 * 1024 {
                return;
            }
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break data.len(),
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
        let line = head.lines().next().unwrap_or_default().to_string();
        if line.is_empty() {
            return; // a bare connect (e.g. the shutdown wake-up)
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = data[head_end..].to_vec();
        while body.len() < len {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
            }
        }
        let req = Received {
            method,
            path,
            headers,
            body,
        };
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let (reply, body) = decide(&req, n);
        requests.lock().unwrap().push(line);
        received.lock().unwrap().push(req);
        let code = match reply {
            Reply::Status(code) => code,
            Reply::Slow(code, ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                code
            }
            Reply::Hang => {
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        };
        let reason = match code {
            200 => "OK",
            204 => "No Content",
            404 => "Not Found",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let resp = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(resp.as_bytes());
        let _ = conn.flush();
        let _ = conn.shutdown(std::net::Shutdown::Both);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Request lines received so far (`GET /api/health HTTP/1.1`, …).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests received so far, with headers and bodies.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The bodies received so far, parsed as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.received().iter().map(Received::json).collect()
    }

    /// Stop serving and close the port; idempotent. Hanging connections are dropped
    /// shortly after.
    pub fn shutdown(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            // Wake the blocking accept; the loop sees the flag and ends.
            let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
            t.join().expect("http stub thread panicked");
        }
    }
}

impl Drop for HttpStub {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A loopback port that refuses connections (bound once, then closed).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// Lock-file editing that keeps the file's own format

/// Replace the values of `"key": value` / `"key":value` members in a JSON text, keeping
/// everything else byte-for-byte (pretty printing, key order, whitespace trailers). Values
/// must be given as JSON text (`"123"`, `"\"2026-…Z\""`). Panics if a key is missing.
pub fn set_json_fields(text: &str, fields: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (key, value) in fields {
        let needle = format!("\"{key}\"");
        let start = out
            .find(&needle)
            .unwrap_or_else(|| panic!("key {key} not in {text}"));
        let mut i = start + needle.len();
        let b = out.as_bytes();
        while b[i].is_ascii_whitespace() {
            i += 1;
        }
        assert_eq!(b[i], b':', "no ':' after {key}");
        i += 1;
        while b[i].is_ascii_whitespace() {
            i += 1;
        }
        let vstart = i;
        let vend = if b[i] == b'"' {
            let mut j = i + 1;
            while b[j] != b'"' {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            j + 1
        } else {
            let mut j = i;
            while !matches!(b[j], b',' | b'}' | b'\n' | b'\r' | b' ' | b'\t') {
                j += 1;
            }
            j
        };
        out.replace_range(vstart..vend, value);
    }
    // Still valid JSON (serde_json accepts trailing whitespace, like the real readers).
    let _: Value = serde_json::from_str(&out).expect("edited lock is still JSON");
    out
}

/// Rewrite a lock file in place via [`set_json_fields`].
pub fn rewrite_lock(path: &Path, fields: &[(&str, String)]) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fs::write(path, set_json_fields(&text, fields)).unwrap();
}

/// Parse a lock file (accepting trailing whitespace).
pub fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// Report helpers

pub fn sessions(report: &Value) -> &Vec<Value> {
    report["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions array in {report:#}"))
}

pub fn problems(report: &Value) -> &Vec<Value> {
    report["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array in {report:#}"))
}

/// The one session with this `session_key`; panics if absent or duplicated.
pub fn by_key<'a>(report: &'a Value, key: &str) -> &'a Value {
    let found: Vec<&Value> = sessions(report)
        .iter()
        .filter(|s| s["session_key"] == key)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one session with key {key} in {report:#}"
    );
    found[0]
}

/// The one session with this `id`, if any.
pub fn by_id<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    let found: Vec<&Value> = sessions(report).iter().filter(|s| s["id"] == id).collect();
    assert!(found.len() <= 1, "id {id} listed twice in {report:#}");
    found.first().copied()
}

/// True when the session's evidence has an item naming `pid`.
pub fn evidence_has_pid(session: &Value, pid: i64) -> bool {
    evidence_with_pid(session, pid).is_some()
}

pub fn evidence_with_pid(session: &Value, pid: i64) -> Option<&Value> {
    session["evidence"]
        .as_array()
        .and_then(|ev| ev.iter().find(|e| e["pid"].as_i64() == Some(pid)))
}

pub fn summary_count(report: &Value, field: &str) -> u64 {
    report["summary"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{field} missing in {report:#}"))
}

/// Check the `summary` object against the sessions actually listed.
pub fn assert_summary_consistent(report: &Value) {
    let list = sessions(report);
    assert_eq!(
        summary_count(report, "total"),
        list.len() as u64,
        "{report:#}"
    );
    for v in ["live", "orphan", "stale", "unknown"] {
        let n = list.iter().filter(|s| s["verdict"] == v).count() as u64;
        assert_eq!(summary_count(report, v), n, "summary.{v} in {report:#}");
    }
}

// ---------------------------------------------------------------------------------------
// Time

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-25T20:21:53.463Z` for epoch ms.
pub fn iso_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Parse `YYYY-MM-DDTHH:MM:SS(.fff)Z` into epoch ms.
pub fn parse_iso_ms(s: &str) -> i64 {
    let bad = format!("not an ISO-8601 UTC timestamp: {s}");
    let s2 = s.strip_suffix('Z').expect(&bad);
    let (date, time) = s2.split_once('T').expect(&bad);
    let dp: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let tp: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let mut f = frac.to_string();
    f.truncate(3);
    while f.len() < 3 {
        f.push('0');
    }
    let millis: i64 = f.parse().unwrap();
    (days_from_civil(dp[0], dp[1], dp[2]) * 86_400 + tp[0] * 3600 + tp[1] * 60 + tp[2]) * 1000
        + millis
}

#[test]
fn harness_time_roundtrip() {
    let t = parse_iso_ms("2026-11-25T20:21:53.463Z");
    assert_eq!(t, 1_795_638_113_463);
    assert_eq!(iso_ms(t), "2026-11-25T20:21:53.463Z");
    assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), 0);
}

#[test]
fn harness_starttime_parse_handles_parens_in_comm() {
    let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 98765 1 2 3";
    assert_eq!(parse_starttime(stat), Some(98765));
    let me = std::process::id() as i64;
    assert!(proc_starttime(me) > 0);
}

#[test]
fn harness_json_field_edit_keeps_format() {
    let pretty = "{\n  \"pid\": 7288,\n  \"createdAt\": \"2026-11-25T20:21:53.463Z\",\n  \"starttime\": 57697\n}\n\t \t\n";
    let out = set_json_fields(
        pretty,
        &[
            ("pid", "12".into()),
            ("createdAt", "\"X\"".into()),
            ("starttime", "9".into()),
        ],
    );
    assert_eq!(
        out,
        "{\n  \"pid\": 12,\n  \"createdAt\": \"X\",\n  \"starttime\": 9\n}\n\t \t\n"
    );
    let line = r#"{"pid":7288,"createdAt":"a","port":18831,"startTime":57697}"#;
    assert_eq!(
        set_json_fields(line, &[("pid", "5".into()), ("startTime", "6".into())]),
        r#"{"pid":5,"createdAt":"a","port":18831,"startTime":6}"#
    );
}

#[test]
fn harness_tree_snapshot_sees_writes_but_not_shm() {
    let sb = Sandbox::new();
    fs::write(sb.root().join("a.sqlite-wal"), b"x").unwrap();
    fs::write(sb.root().join("a.sqlite-shm"), b"x").unwrap();
    let before = tree_snapshot(sb.root());
    fs::write(sb.root().join("a.sqlite-shm"), b"y").unwrap();
    assert_eq!(before, tree_snapshot(sb.root()));
    fs::write(sb.root().join("a.sqlite-wal"), b"y").unwrap();
    assert_ne!(before, tree_snapshot(sb.root()));
    fs::write(sb.root().join("a.sqlite-wal"), b"x").unwrap();
    fs::write(sb.root().join("tmp/new"), b"").unwrap();
    assert_ne!(before, tree_snapshot(sb.root()));
}

#[test]
fn harness_fixture_copy_is_writable_gunzipped_and_substituted() {
    let fx = Fixture::openclaw("2026.9.6", "after-kill");
    let agent = fx.state().join("agents/main/agent");
    let db = fs::read(agent.join("openclaw-agent.sqlite")).unwrap();
    assert!(db.starts_with(b"SQLite format 3\0"));
    assert!(agent.join("openclaw-agent.sqlite-wal").exists());
    assert!(!agent.join("openclaw-agent.sqlite.gz").exists());
    let lock = fs::read_to_string(fx.state_lock_dir().join("gateway.state.lock")).unwrap();
    assert!(!lock.contains('$'), "{lock}");
    assert!(lock.contains(&format!("\"stateDir\": \"{}\"", fx.state().display())));
    let meta = fs::metadata(agent.join("openclaw-agent.sqlite")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o200, 0o200);
    assert!(fx.sandbox.home().is_dir() && fx.tmp().is_dir());
}

// ---------------------------------------------------------------------------------------
// A pseudo-terminal session (util-linux `script`)

/// sessionctl run on a pseudo-terminal by util-linux `script -qec <cmd> /dev/null`, with
/// the sandbox's clean environment plus `TERM=xterm`. Keystrokes go to `script`'s stdin,
/// which it forwards to the terminal; everything the terminal shows is collected.
pub struct Pty {
    child: Option<Child>,
    stdin: Option<std::process::ChildStdin>,
    screen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    /// Is util-linux `script` (with `-q -e -c`) installed?
    pub fn available() -> bool {
        std::process::Command::new("script")
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| {
                o.status.success() && String::from_utf8_lossy(&o.stdout).contains("util-linux")
            })
    }

    pub fn spawn(sandbox: &Sandbox, args: &[String], env: &[(&str, &str)]) -> Pty {
        let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
        let mut line = quote(env!("CARGO_BIN_EXE_sessionctl"));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sandbox.home())
            .env("TMPDIR", sandbox.tmp())
            .env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .current_dir(sandbox.root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn script");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let screen2 = screen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => screen2.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        });
        Pty {
            child: Some(child),
            stdin,
            screen,
            reader: Some(reader),
        }
    }

    /// Everything the terminal showed so far (escape sequences included).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Wait until the terminal has shown `text`.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while !self.output().contains(text) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {text:?} on the terminal:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type these bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to script");
        stdin.flush().unwrap();
    }

    /// Wait for the session to end; its exit code (-1 on a signal) and the whole screen.
    pub fn wait(&mut self, timeout: Duration) -> (i32, String) {
        let deadline = std::time::Instant::now() + timeout;
        let child = self.child.as_mut().expect("not waited yet");
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "terminal session still running after {timeout:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        self.stdin = None;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (status.code().unwrap_or(-1), self.output())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.stdin = None;
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The title a real OpenClaw gateway gives its process.
pub const GATEWAY_TITLE: &str = "openclaw-gateway";

/// `sleep 600` whose argv[0] is `title` (`exec -a`), with only PATH and `env` in its
/// environment; returns once /proc shows the new title (i.e. after the exec).
pub fn spawn_retitled(title: &str, env: &[(&str, &Path)]) -> ChildGuard {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg("exec -a \"$0\" sleep 600")
        .arg(title)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = ChildGuard::spawn(&mut cmd);
    let want = format!("{title}\0");
    wait_until(
        &format!("pid {} to show argv[0] {title}", child.pid),
        Duration::from_secs(10),
        || {
            fs::read(format!("/proc/{}/cmdline", child.pid))
                .is_ok_and(|c| c.starts_with(want.as_bytes()))
        },
    );
    child
}

/// `<cm>/claude-mem.db` (creating `cm`) from the shared fixture's `schema-<version>.sql` and
/// then `orphans-<version>.sql`, switched to `journal_mode` in between when one is given
/// (the worker keeps WAL); the connection stays open for what a test adds.
pub fn build_claude_mem_db(
    cm: &Path,
    version: &str,
    journal_mode: Option<&str>,
) -> rusqlite::Connection {
    fs::create_dir_all(cm).unwrap();
    let conn = rusqlite::Connection::open(cm.join("claude-mem.db")).unwrap();
    let schema = format!("schema-{version}.sql");
    conn.execute_batch(&fs::read_to_string(claude_mem_file(&schema)).unwrap())
        .unwrap_or_else(|e| panic!("{schema}: {e}"));
    if let Some(mode) = journal_mode {
        let got: String = conn
            .query_row(&format!("PRAGMA journal_mode={mode}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(got, mode);
    }
    let rows = format!("orphans-{version}.sql");
    conn.execute_batch(&fs::read_to_string(claude_mem_file(&rows)).unwrap())
        .unwrap_or_else(|e| panic!("{rows}: {e}"));
    conn
}
