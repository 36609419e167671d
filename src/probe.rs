//! Host evidence: boot identity, processes and their start times, pid checks and loopback
//! health probes. Everything here reads; nothing writes.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::model::PidState;
use crate::timefmt;

/// How long a loopback health probe may take, connect and answer together.
const HEALTH_TIMEOUT: Duration = Duration::from_millis(300);

/// What sessionctl knows about this boot.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub boot_id: Option<String>,
    /// Boot time in epoch ms (`btime` in /proc/stat).
    #[serde(serialize_with = "timefmt::ser_opt_ms")]
    pub boot_time: Option<i64>,
    #[serde(skip)]
    pub btime_ms: Option<i64>,
    pub clock_ticks: u64,
    /// False where /proc is missing (macOS): liveness then rests on kill(pid, 0), lock files
    /// and health probes, and start times cannot be compared.
    pub proc_available: bool,
    pub uid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Gateway and worker processes found in /proc.
    pub processes: Vec<ProcInfo>,
    /// sessionctl runs in the host's pid namespace, and so sees every process.
    pub pidns_init: bool,
    /// Processes of other pid namespaces (containers): a lock they wrote names their
    /// pid as their namespace numbers it.
    #[serde(skip)]
    pub foreign: Vec<ForeignProc>,
}

/// A process of another pid namespace: its pid in its own namespace, and its
/// start time (ticks since boot, the same in every pid namespace).
#[derive(Debug, Clone, Copy)]
pub struct ForeignProc {
    pub ns_pid: i64,
    pub starttime: u64,
}

/// The inode of the initial pid namespace (`PROC_PID_INIT_INO`), fixed by the kernel.
const INIT_PIDNS: &str = "pid:[4026531836]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcKind {
    Gateway,
    Worker,
    /// Another OpenClaw process (`openclaw`, `openclaw-agent`): a gateway that has not set
    /// its final title yet, or a client, which may run an agent itself (embedded fallback).
    Openclaw,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcInfo {
    pub kind: ProcKind,
    pub pid: i64,
    /// /proc/<pid>/stat field 22, clock ticks since boot.
    pub starttime: u64,
    #[serde(serialize_with = "timefmt::ser_opt_ms")]
    pub started_at: Option<i64>,
    pub argv: String,
    /// OpenClaw state dir (gateways) or a linked-row backend's data dir (workers), from the process's
    /// environment; None when it cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Its pid in its own pid namespace, when that is another one (a container).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns_pid: Option<i64>,
    /// Device and inode of `dir` as the process sees it (through `/proc/<pid>/root`): the
    /// same directory can have another path in another mount namespace.
    #[serde(skip)]
    pub dir_id: Option<(u64, u64)>,
    /// It lives in another mount namespace: its paths are not ours.
    #[serde(skip)]
    pub foreign_mnt: bool,
}

impl ProcInfo {
    /// Does this process work on `dir`? By device and inode where its view of its dir can
    /// be read, by path in our own mount namespace otherwise; None when it cannot be told.
    pub fn serves(&self, dir: &Path) -> Option<bool> {
        use std::os::unix::fs::MetadataExt;
        if let Some(id) = self.dir_id {
            return Some(fs::metadata(dir).is_ok_and(|m| (m.dev(), m.ino()) == id));
        }
        match &self.dir {
            Some(d) if !self.foreign_mnt => Some(crate::fsx::same_dir(d, dir)),
            _ => None,
        }
    }
}

/// Where a process of `kind` works (its state or data dir) and the port it serves, from
/// its environment (`get`). Backends know their own variables: see `backend::process_dirs`.
pub type DirOf =
    for<'a> fn(ProcKind, &dyn Fn(&str) -> Option<&'a str>) -> (Option<PathBuf>, Option<u16>);

impl Host {
    /// Probe the host; with `dirs`, also scan /proc for gateways and workers and tell
    /// the dir each works on. (`Host::probe(bool)`, in `backend`, supplies `dirs`.)
    pub fn probe_with(dirs: Option<DirOf>) -> Host {
        let proc_available = Path::new("/proc/self/stat").exists();
        let clock_ticks = clock_ticks();
        let btime_ms = read_btime_ms();
        let mut host = Host {
            boot_id: fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|s| s.trim().to_string()),
            boot_time: btime_ms,
            btime_ms,
            clock_ticks,
            proc_available,
            uid: unsafe { libc::getuid() },
            hostname: fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_string()),
            processes: Vec::new(),
            pidns_init: fs::read_link("/proc/self/ns/pid")
                .is_ok_and(|l| l.as_os_str() == INIT_PIDNS),
            foreign: Vec::new(),
        };
        if let (Some(dirs), true) = (dirs, proc_available) {
            let (processes, foreign) = scan_processes(&host, dirs);
            host.processes = processes;
            host.foreign = foreign;
        }
        host
    }

    /// Wall-clock start of a process from its /proc starttime ticks.
    pub fn ticks_to_ms(&self, ticks: u64) -> Option<i64> {
        let btime = self.btime_ms?;
        Some(btime + (ticks as i64).saturating_mul(1000) / self.clock_ticks.max(1) as i64)
    }

    /// Is `pid` running, and is it the process that was recorded with `starttime`?
    pub fn check_pid(&self, pid: i64, starttime: Option<u64>) -> PidState {
        if pid <= 0 || pid > i64::from(i32::MAX) {
            return PidState::Invalid;
        }
        if self.proc_available {
            let here = match proc_starttime(pid) {
                Some(actual) => match starttime {
                    Some(expected) if expected == actual => PidState::Alive,
                    Some(_) => PidState::Reused,
                    None => PidState::AliveUnverified,
                },
                None => PidState::Dead,
            };
            if matches!(here, PidState::Reused | PidState::Dead) {
                // A container's process writes its own namespace's pid: the process with
                // that pid there and the recorded start time is the owner.
                if let Some(st) = starttime {
                    if self
                        .foreign
                        .iter()
                        .any(|f| f.ns_pid == pid && f.starttime == st)
                    {
                        return PidState::Alive;
                    }
                }
                if !self.pidns_init {
                    return PidState::Unseen;
                }
            }
            here
        } else {
            // SAFETY: kill with signal 0 only checks for existence and permission.
            let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
            if rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
                PidState::AliveUnverified
            } else {
                PidState::Dead
            }
        }
    }
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn read_btime_ms() -> Option<i64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s * 1000)
}

/// Field 22 of /proc/<pid>/stat, or None when the process does not exist (or is a zombie,
/// which holds nothing any more).
pub fn proc_starttime(pid: i64) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_starttime(&stat)
}

/// The comm field may hold spaces and parentheses, so fields are counted after the last ')'.
fn parse_stat_starttime(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field 22 is index 19.
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

fn read_cmdline(pid: &str) -> Option<Vec<String>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

fn read_environ(pid: &str) -> Vec<(String, String)> {
    let Ok(raw) = fs::read(format!("/proc/{pid}/environ")) else {
        return Vec::new();
    };
    raw.split(|b| *b == 0)
        .filter_map(|kv| {
            let s = String::from_utf8_lossy(kv);
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Classify a process by its argv. The gateway replaces its argv with the title
/// `openclaw-gateway`; an un-retitled gateway shows `gateway` next to an OpenClaw entry script.
pub fn classify_argv(argv: &[String]) -> Option<ProcKind> {
    let first = argv.first()?;
    if first == "openclaw-gateway" || first.starts_with("openclaw-gateway ") {
        return Some(ProcKind::Gateway);
    }
    let is_openclaw_entry = |a: &String| {
        let base = a.rsplit('/').next().unwrap_or(a);
        matches!(base, "openclaw" | "openclaw.mjs" | "openclaw.js")
            || a.contains("/node_modules/openclaw/")
    };
    if argv.iter().any(|a| a == "gateway") && argv.iter().take(3).any(is_openclaw_entry) {
        return Some(ProcKind::Gateway);
    }
    if argv
        .iter()
        .take(3)
        .any(|a| a.ends_with("worker-service.cjs"))
    {
        return Some(ProcKind::Worker);
    }
    // The CLI retitles itself `openclaw` (a starting gateway, or a client) and its agent
    // child `openclaw-agent`; an un-retitled client shows `agent` next to the entry script.
    // Other helpers of the gateway (its spawn broker) hold no sessions.
    if matches!(first.as_str(), "openclaw" | "openclaw-agent")
        || (argv.iter().any(|a| a == "agent") && argv.iter().take(3).any(is_openclaw_entry))
    {
        return Some(ProcKind::Openclaw);
    }
    None
}

/// The innermost pid of `/proc/<pid>/status`'s `NSpid` line (the pid in its own namespace).
fn ns_pid(pid: &str) -> Option<i64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// Device and inode of `dir` as process `pid` sees it.
fn dir_id_of(pid: &str, dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let rel = dir.strip_prefix("/").ok()?;
    let m = fs::metadata(Path::new("/proc").join(pid).join("root").join(rel)).ok()?;
    m.is_dir().then(|| (m.dev(), m.ino()))
}

fn scan_processes(host: &Host, dirs: DirOf) -> (Vec<ProcInfo>, Vec<ForeignProc>) {
    let Ok(dir) = fs::read_dir("/proc") else {
        return (Vec::new(), Vec::new());
    };
    let my_pidns = fs::read_link("/proc/self/ns/pid").ok();
    let my_mntns = fs::read_link("/proc/self/ns/mnt").ok();
    let mut out = Vec::new();
    let mut foreign = Vec::new();
    for ent in dir.flatten() {
        let name = ent.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let pid_n: i64 = pid.parse().unwrap_or(0);
        let pidns = fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
        let in_other_pidns = my_pidns.is_some() && pidns.is_some() && pidns != my_pidns;
        let mut nsp = None;
        if in_other_pidns {
            if let (Some(n), Some(st)) = (ns_pid(pid), proc_starttime(pid_n)) {
                nsp = Some(n);
                foreign.push(ForeignProc {
                    ns_pid: n,
                    starttime: st,
                });
            }
        }
        let Some(argv) = read_cmdline(pid) else {
            continue;
        };
        let Some(kind) = classify_argv(&argv) else {
            continue;
        };
        let Some(starttime) = proc_starttime(pid_n) else {
            continue;
        };
        let env = read_environ(pid);
        // A process that exited between the reads has no environment to judge by: skip it
        // rather than count it as an owner whose dir cannot be read.
        if proc_starttime(pid_n) != Some(starttime) {
            continue;
        }
        let get = |k: &str| env.iter().find(|(ek, _)| ek == k).map(|(_, v)| v.as_str());
        let (dir, port) = dirs(kind, &get);
        let mntns = fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
        out.push(ProcInfo {
            kind,
            pid: pid_n,
            starttime,
            started_at: host.ticks_to_ms(starttime),
            argv: argv.join(" "),
            dir_id: dir.as_deref().and_then(|d| dir_id_of(pid, d)),
            foreign_mnt: my_mntns.is_none() || mntns.is_none() || mntns != my_mntns,
            dir,
            port,
            ns_pid: nsp,
        });
    }
    out.sort_by_key(|p| p.pid);
    (out, foreign)
}

/// Result of a loopback health probe.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub url: String,
    pub answered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The JSON body when the endpoint answers with JSON (a worker's /api/health).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// GET `path` on 127.0.0.1:`port` with a short timeout. A plain HTTP/1.1 request over std's
/// TcpStream: the probe needs no TLS, redirects or pooling, and stays within a few ms.
pub fn http_health(port: u16, path: &str) -> Health {
    let url = format!("http://127.0.0.1:{port}{path}");
    let fail = |e: String| Health {
        url: url.clone(),
        answered: false,
        status: None,
        body: None,
        error: Some(e),
    };
    // A read or write that runs out of time is EAGAIN/EWOULDBLOCK on Linux ("Resource
    // temporarily unavailable"): say what happened instead.
    let why = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("timed out after {} ms", HEALTH_TIMEOUT.as_millis())
        }
        _ => e.to_string(),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = match TcpStream::connect_timeout(&addr, HEALTH_TIMEOUT) {
        Ok(s) => s,
        Err(e) => return fail(why(e)),
    };
    let _ = stream.set_read_timeout(Some(HEALTH_TIMEOUT));
    let _ = stream.set_write_timeout(Some(HEALTH_TIMEOUT));
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: sessionctl\r\n\r\n"
    );
    if let Err(e) = stream.write_all(req.as_bytes()) {
        return fail(why(e));
    }
    let mut buf = Vec::new();
    // Health bodies are small; cap what we read so a misbehaving peer cannot flood us.
    if let Err(e) = stream.take(64 * 1024).read_to_end(&mut buf) {
        if buf.is_empty() {
            return fail(why(e));
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status else {
        return fail("not an HTTP answer".into());
    };
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(b.trim()).ok());
    Health {
        url,
        answered: true,
        status: Some(status),
        body,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_health_endpoint_times_out_in_words() {
        // Accepts the connection, never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let h = http_health(port, "/healthz");
        drop(listener);
        assert!(!h.answered, "{h:?}");
        assert_eq!(
            h.error.as_deref(),
            Some(format!("timed out after {} ms", HEALTH_TIMEOUT.as_millis()).as_str()),
            "{h:?}"
        );
    }

    #[test]
    fn stat_parsing_survives_odd_comm() {
        let stat = "7288 (openclaw-gatewa) S 7255 7288 7255 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 11 0 57697 1 2";
        assert_eq!(parse_stat_starttime(stat), Some(57697));
        let odd = "42 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 1 2";
        assert_eq!(parse_stat_starttime(odd), Some(999));
        let zombie = "42 (x) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 1 2";
        assert_eq!(parse_stat_starttime(zombie), None);
    }

    #[test]
    fn own_process_is_alive_with_matching_starttime() {
        let host = Host::probe_with(None);
        let me = std::process::id() as i64;
        let st = proc_starttime(me).expect("own /proc entry");
        assert_eq!(host.check_pid(me, Some(st)), PidState::Alive);
        assert_eq!(host.check_pid(me, Some(st + 1)), PidState::Reused);
        assert_eq!(host.check_pid(me, None), PidState::AliveUnverified);
        assert_eq!(host.check_pid(0, None), PidState::Invalid);
        assert_eq!(host.check_pid(-5, None), PidState::Invalid);
    }

    #[test]
    fn argv_classification() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            classify_argv(&v("openclaw-gateway")),
            Some(ProcKind::Gateway)
        );
        assert_eq!(
            classify_argv(&v(
                "node /usr/lib/node_modules/openclaw/openclaw.mjs gateway run --port 1"
            )),
            Some(ProcKind::Gateway)
        );
        assert_eq!(
            classify_argv(&v("node /x/node_modules/.bin/openclaw agent --message hi")),
            Some(ProcKind::Openclaw)
        );
        assert_eq!(classify_argv(&v("openclaw")), Some(ProcKind::Openclaw));
        assert_eq!(
            classify_argv(&v("openclaw-agent")),
            Some(ProcKind::Openclaw)
        );
        assert_eq!(
            classify_argv(&v("bun /p/plugin/scripts/worker-service.cjs --daemon")),
            Some(ProcKind::Worker)
        );
        assert_eq!(classify_argv(&v("vim gateway")), None);
        assert_eq!(
            classify_argv(&v(
                "/opt/node24/bin/node /x/node_modules/openclaw/dist/spawn-broker.js"
            )),
            None,
            "the gateway's spawn broker holds no sessions"
        );
    }

    #[test]
    fn health_probe_of_closed_port_fails_fast() {
        // Bind then drop to find a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let h = http_health(port, "/healthz");
        assert!(!h.answered);
        assert!(h.error.is_some());
    }
}
