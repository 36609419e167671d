//! Harness for `security.rs`: a throwaway unprivileged user (created with `useradd`,
//! removed on drop), commands run as that user, root-owned victim files, fake gateways in
//! their own pid (and mount) namespaces, and sessionctl run through a wrapper (`unshare`,
//! `sh -c 'umask 000; …'`, `setpriv`). Nothing here knows how sessionctl works inside.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::common::*;

/// The sessionctl binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_sessionctl");

// ---------------------------------------------------------------------------------------
// Tools and prerequisites

/// Absolute path of `name`, searched in PATH and the sbin directories (a non-login root
/// shell may lack them in PATH).
pub fn tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

fn tool_or_panic(name: &str) -> PathBuf {
    tool(name).unwrap_or_else(|| panic!("{name} not found"))
}

/// What a test needs besides root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A throwaway user (useradd/userdel, and setpriv or su).
    User,
    /// `unshare --pid --fork --mount-proc` (and `--mount`) that really works here.
    PidNamespace,
}

/// Can `unshare` make a pid + mount namespace here? (Containers without CAP_SYS_ADMIN
/// cannot.) Probed once.
fn unshare_works() -> Result<(), String> {
    static R: OnceLock<Result<(), String>> = OnceLock::new();
    R.get_or_init(|| {
        let Some(unshare) = tool("unshare") else {
            return Err("unshare (util-linux) not installed".into());
        };
        let out = Command::new(unshare)
            .args([
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
                "test \"$$\" -le 2",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "unshare --mount --pid --fork --mount-proc does not work here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    })
    .clone()
}

/// Check the prerequisites of `test`; on a miss print one `SKIPPED: <test>: <why>` line and
/// return None. With [`Need::User`], the user is created and returned.
pub fn prerequisites(test: &str, needs: &[Need]) -> Option<Option<ThrowawayUser>> {
    let skip = |why: String| {
        eprintln!("SKIPPED: {test}: {why}");
        None
    };
    if current_uid() != 0 {
        return skip("needs root (CI runs the security suite as root)".into());
    }
    if needs.contains(&Need::PidNamespace) {
        if let Err(e) = unshare_works() {
            return skip(e);
        }
    }
    if needs.contains(&Need::User) {
        for t in ["useradd", "userdel"] {
            if tool(t).is_none() {
                return skip(format!("{t} (package passwd) not installed"));
            }
        }
        if tool("setpriv").is_none() && tool("su").is_none() {
            return skip("neither setpriv nor su is installed".into());
        }
        return match ThrowawayUser::create() {
            Ok(u) => Some(Some(u)),
            Err(e) => skip(format!("cannot create a throwaway user: {e}")),
        };
    }
    Some(None)
}

// ---------------------------------------------------------------------------------------
// A throwaway user

/// useradd/userdel take /etc/passwd's lock and fail (not wait) when it is held: parallel
/// tests take turns.
static PASSWD: Mutex<()> = Mutex::new(());

/// An unprivileged user `sessionctl-t<random>` with its own group and no home, deleted
/// (with its group) on drop, also when the test panics.
pub struct ThrowawayUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

/// Run a passwd-database tool, retrying while another process holds the lock.
fn passwd_tool(tool_name: &str, args: &[&str]) -> Result<(), String> {
    let t = tool(tool_name).ok_or_else(|| format!("{tool_name} not installed"))?;
    let mut last = String::new();
    for _ in 0..50 {
        let out = Command::new(&t)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{tool_name}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        last = format!(
            "{tool_name} {}: exit {:?}: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        // "cannot lock /etc/passwd; try again later": another process holds it.
        if !last.contains("lock") {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}

fn passwd_entry(name: &str) -> Option<(u32, u32)> {
    let text = fs::read_to_string("/etc/passwd").ok()?;
    for l in text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            return Some((f[2].parse().ok()?, f[3].parse().ok()?));
        }
    }
    None
}

impl ThrowawayUser {
    pub fn create() -> Result<ThrowawayUser, String> {
        let name = format!("sessionctl-t{}", random_suffix());
        let _g = PASSWD.lock().unwrap_or_else(|p| p.into_inner());
        passwd_tool(
            "useradd",
            &[
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "--user-group",
                &name,
            ],
        )?;
        // From here on, Drop removes it.
        let mut u = ThrowawayUser {
            name,
            uid: u32::MAX,
            gid: u32::MAX,
        };
        let (uid, gid) =
            passwd_entry(&u.name).ok_or_else(|| format!("{} not in /etc/passwd", u.name))?;
        assert!(uid != 0 && gid != 0, "throwaway user must not be root");
        u.uid = uid;
        u.gid = gid;
        Ok(u)
    }

    /// A command that runs `prog` as this user (`setpriv --reuid --regid --clear-groups`,
    /// else `su -s /bin/sh`), with the caller's environment and working directory.
    pub fn command(&self, prog: impl AsRef<OsStr>) -> Command {
        if let Some(setpriv) = tool("setpriv") {
            let mut c = Command::new(setpriv);
            c.arg(format!("--reuid={}", self.uid))
                .arg(format!("--regid={}", self.gid))
                .arg("--clear-groups")
                .arg("--")
                .arg(prog.as_ref());
            c
        } else {
            let mut c = Command::new(tool_or_panic("su"));
            c.args(["-s", "/bin/sh", &self.name, "-c", "exec \"$0\" \"$@\""])
                .arg(prog.as_ref());
            c
        }
    }

    /// The same as a prefix for [`wrapped_command`]: `setpriv … --` (or `su … -c`).
    pub fn wrapper(&self) -> Vec<OsString> {
        let c = self.command("");
        let mut v: Vec<OsString> = vec![c.get_program().to_os_string()];
        v.extend(c.get_args().map(OsStr::to_os_string));
        v.pop(); // the placeholder program
        v
    }

    /// Run `prog args` as this user; panic unless it succeeds.
    pub fn run(&self, prog: &str, args: &[&OsStr]) {
        let out = self
            .command(prog)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {prog} as {}: {e}", self.name));
        assert!(
            out.status.success(),
            "{prog} {args:?} as {} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `ln -s target link`, done by the user (proves the user can plant it).
    pub fn symlink(&self, target: &Path, link: &Path) {
        self.run(
            "ln",
            &[OsStr::new("-s"), target.as_os_str(), link.as_os_str()],
        );
    }

    /// `mkdir -p dir`, done by the user.
    pub fn mkdir_p(&self, dir: &Path) {
        self.run("mkdir", &[OsStr::new("-p"), dir.as_os_str()]);
    }

    /// Can this user execute `path` (every directory on the way traversable)?
    pub fn can_execute(&self, path: &Path) -> bool {
        self.command("test")
            .arg("-x")
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Give `path` and everything under it (not following links) to this user.
    pub fn chown_tree(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        let m = fs::symlink_metadata(path).unwrap();
        if m.is_dir() {
            for e in fs::read_dir(path).unwrap() {
                self.chown_tree(&e.unwrap().path());
            }
        }
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        let _g = PASSWD.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = passwd_tool("userdel", &[&self.name]) {
            eprintln!("warning: userdel {}: {e}", self.name);
        }
        // userdel removes the user's private group with USERGROUPS_ENAB; make sure.
        if fs::read_to_string("/etc/group")
            .is_ok_and(|g| g.lines().any(|l| l.split(':').next() == Some(&self.name)))
        {
            let _ = passwd_tool("groupdel", &[&self.name]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sandboxes another user can use

/// Let other users traverse the sandbox root (tempdirs are 0700); it stays root's.
pub fn open_sandbox_root(sb: &Sandbox) {
    fs::set_permissions(sb.root(), fs::Permissions::from_mode(0o755)).unwrap();
}

/// A root-owned 0755 directory (the user can look, not write).
pub fn root_dir(path: &Path) -> PathBuf {
    fs::create_dir_all(path).unwrap();
    std::os::unix::fs::chown(path, Some(0), Some(0)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// A directory owned by `user`, mode 0755.
pub fn user_dir(user: &ThrowawayUser, path: &Path) -> PathBuf {
    fs::create_dir_all(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).unwrap();
    path.to_path_buf()
}

/// A root-owned 0600 file outside anything the user owns, whose owner, mode and content
/// must survive the test.
pub struct Victim {
    pub path: PathBuf,
    content: Vec<u8>,
}

impl Victim {
    /// `<dir>/<name>` in a root-owned 0755 dir.
    pub fn new(dir: &Path, name: &str) -> Victim {
        root_dir(dir);
        let path = dir.join(name);
        let content = format!("root-only secret of {name}\n").into_bytes();
        fs::write(&path, &content).unwrap();
        std::os::unix::fs::chown(&path, Some(0), Some(0)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        Victim { path, content }
    }

    /// What is wrong with it now, if anything.
    pub fn damage(&self) -> Option<String> {
        let m = match fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) => return Some(format!("{}: gone ({e})", self.path.display())),
        };
        let mut what = Vec::new();
        if !m.is_file() {
            what.push("no longer a regular file".to_string());
        }
        if (m.uid(), m.gid()) != (0, 0) {
            what.push(format!("owner {}:{} (was 0:0)", m.uid(), m.gid()));
        }
        if m.mode() & 0o7777 != 0o600 {
            what.push(format!("mode {:o} (was 600)", m.mode() & 0o7777));
        }
        if fs::read(&self.path).ok().as_deref() != Some(&self.content[..]) {
            what.push(format!(
                "content changed ({} bytes now)",
                fs::read(&self.path).map(|b| b.len()).unwrap_or(0)
            ));
        }
        (!what.is_empty()).then(|| format!("{}: {}", self.path.display(), what.join(", ")))
    }

    pub fn assert_unchanged(&self, context: &str) {
        if let Some(d) = self.damage() {
            panic!("victim file damaged ({context}): {d}");
        }
    }
}

/// (uid, gid, mode & 07777) of a path, not following a final link.
pub fn owner_mode(p: &Path) -> (u32, u32, u32) {
    let m = fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

// ---------------------------------------------------------------------------------------
// Running sessionctl through a wrapper

/// `wrapper… sessionctl args…` with the clean environment of [`Sandbox::run`] (PATH,
/// HOME, TMPDIR, NO_COLOR) plus `env`, in the sandbox root.
pub fn wrapped_command(
    sb: &Sandbox,
    wrapper: &[OsString],
    args: &[String],
    env: &[(&str, &OsStr)],
) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((prog, rest)) => {
            let mut c = Command::new(prog);
            c.args(rest).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.home())
        .env("TMPDIR", sb.tmp())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).current_dir(sb.root());
    cmd
}

/// Run a command to completion (60 s at most) and collect it as an [`Out`].
pub fn output_of(cmd: Command, args: &[String]) -> Out {
    let mut c = assert_cmd::Command::from_std(cmd);
    c.timeout(Duration::from_secs(60));
    let o = c.output().expect("run sessionctl");
    Out {
        args: args.to_vec(),
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn run_wrapped(
    sb: &Sandbox,
    wrapper: &[OsString],
    args: &[String],
    env: &[(&str, &OsStr)],
) -> Out {
    output_of(wrapped_command(sb, wrapper, args, env), args)
}

/// `unshare --pid --fork --mount-proc`: sessionctl runs as pid 1 of a fresh pid namespace,
/// so its pid is known in advance.
pub fn in_pid_namespace() -> Vec<OsString> {
    vec![
        tool_or_panic("unshare").into_os_string(),
        "--pid".into(),
        "--fork".into(),
        "--mount-proc".into(),
    ]
}

/// `sh -c 'umask 000; exec "$@"' sh`.
pub fn with_umask_000() -> Vec<OsString> {
    vec![
        "sh".into(),
        "-c".into(),
        "umask 000; exec \"$@\"".into(),
        "sh".into(),
    ]
}

pub fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------
// A fake gateway in its own pid (and mount) namespace

/// `openclaw-gateway` (bash `exec -a`) as pid 1 of a new pid namespace, started by
/// `unshare … --fork --mount-proc`. Killed by its host pid on drop (pid 1 of a namespace
/// only takes SIGKILL from outside), then `unshare` is reaped.
pub struct NsGateway {
    unshare: ChildGuard,
    /// Its pid as the host sees it.
    pub host_pid: i64,
    /// Its pid inside its namespace (what a containerized gateway writes into its locks).
    pub ns_pid: i64,
    /// Field 22 of its /proc stat (the same value inside and outside the namespace).
    pub starttime: u64,
}

impl NsGateway {
    /// `bind`: also make a mount namespace and bind-mount `bind.0` at `bind.1` in it
    /// before the gateway starts. `env` is the gateway's whole environment (plus PATH).
    pub fn spawn(env: &[(&str, &Path)], bind: Option<(&Path, &Path)>) -> NsGateway {
        let mut cmd = Command::new(tool_or_panic("unshare"));
        if bind.is_some() {
            cmd.arg("--mount");
        }
        cmd.args(["--pid", "--fork", "--mount-proc", "sh", "-c"]);
        let gateway = "exec bash -c 'exec -a openclaw-gateway sleep 1000'";
        match bind {
            Some((from, to)) => {
                cmd.arg(format!("mount --bind \"$1\" \"$2\" && {gateway}"))
                    .arg("sh")
                    .arg(from)
                    .arg(to);
            }
            None => {
                cmd.arg(gateway);
            }
        }
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let unshare = ChildGuard::spawn(&mut cmd);
        let parent = unshare.pid;
        let mut host_pid = 0;
        wait_until(
            &format!("the namespaced gateway under unshare pid {parent}"),
            Duration::from_secs(10),
            || {
                host_pid = child_of(parent).unwrap_or(0);
                host_pid > 0
                    && fs::read(format!("/proc/{host_pid}/cmdline"))
                        .is_ok_and(|c| c.starts_with(b"openclaw-gateway\0"))
            },
        );
        let status = fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap();
        let nspid: Vec<i64> = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .expect("NSpid in /proc/<pid>/status")
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        let ns_pid = *nspid.last().unwrap();
        assert!(
            nspid.len() >= 2 && ns_pid != host_pid,
            "gateway {host_pid} is not in a pid namespace of its own: NSpid {nspid:?}"
        );
        let starttime = proc_starttime(host_pid);
        NsGateway {
            unshare,
            host_pid,
            ns_pid,
            starttime,
        }
    }
}

/// A child process of `parent` (by scanning /proc/*/stat for its ppid).
fn child_of(parent: i64) -> Option<i64> {
    for e in fs::read_dir("/proc").ok()?.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i64>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<i64>().ok());
        if ppid == Some(parent) {
            return Some(pid);
        }
    }
    None
}

impl Drop for NsGateway {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a pid we started (pid 1 of the namespace we made).
        unsafe {
            libc::kill(self.host_pid as libc::pid_t, libc::SIGKILL);
        }
        self.unshare.kill_and_wait();
    }
}

// ---------------------------------------------------------------------------------------
// Store editing

/// Set every activity time of `key` in a 2026.7 sessions.json to `ms`.
pub fn set_file_activity(sessions_json: &Path, key: &str, ms: i64) {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fs::read(sessions_json).unwrap()).unwrap();
    let e = doc[key]
        .as_object_mut()
        .unwrap_or_else(|| panic!("no entry {key}"));
    for f in ["updatedAt", "lastInteractionAt"] {
        e.insert(f.into(), serde_json::json!(ms));
    }
    let mut out = serde_json::to_vec_pretty(&doc).unwrap();
    out.push(b'\n');
    fs::write(sessions_json, out).unwrap();
}

/// Set every activity time of `key` in a 2026.9 agent database to `ms` (closing the
/// connection checkpoints the WAL).
pub fn set_sqlite_activity(db: &Path, key: &str, ms: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n = conn
        .execute(
            "UPDATE session_nodes SET updated_at = ?1, last_interaction_at = ?1, last_activity_at = ?1 WHERE session_key = ?2",
            rusqlite::params![ms, key],
        )
        .unwrap();
    assert_eq!(n, 1, "session_nodes rows for {key}");
    conn.execute(
        "UPDATE session_windows SET updated_at = ?1 WHERE session_key = ?2",
        rusqlite::params![ms, key],
    )
    .unwrap();
    conn.close().unwrap();
}

/// The gateway lock files (`gateway.*.lock`) in `dir`.
pub fn gateway_locks(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("gateway.") && n.ends_with(".lock"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Point every gateway lock in `dir` at `pid` with `starttime`, written now.
pub fn claim_gateway_locks(dir: &Path, pid: i64, starttime: u64) {
    let locks = gateway_locks(dir);
    assert!(!locks.is_empty(), "no gateway lock in {}", dir.display());
    for l in locks {
        rewrite_lock(
            &l,
            &[
                ("pid", pid.to_string()),
                ("createdAt", format!("\"{}\"", iso_ms(now_ms()))),
                ("startTime", starttime.to_string()),
            ],
        );
    }
}

/// Point a `<sessionId>.jsonl.lock` at `pid` with `starttime`, written now.
pub fn claim_session_lock(lock: &Path, pid: i64, starttime: u64) {
    rewrite_lock(
        lock,
        &[
            ("pid", pid.to_string()),
            ("createdAt", format!("\"{}\"", iso_ms(now_ms()))),
            ("starttime", starttime.to_string()),
        ],
    );
}

/// Bytes of every file under `dir` except SQLite `-shm` files (shared memory, which a
/// reader may touch), keyed by relative path; links are listed by their target.
pub fn store_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    tree_snapshot(dir)
        .into_iter()
        .filter_map(|(p, e)| match e {
            Entry::File(b) => Some((p, b)),
            _ => None,
        })
        .collect()
}
