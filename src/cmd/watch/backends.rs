//! BACKEND KNOWLEDGE of `watch`, all in this one file: which directories it watches for
//! each backend, which file names there mean a process came or went, which processes it
//! tracks, and how it tells how a gateway or worker ended. The rest of `watch` knows
//! gateways and workers only as tracked processes with a kind and a dir. (Meant to come
//! from the `Backend` interface once there is one.)

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::Config;
use crate::model::Backend;
use crate::probe::{ProcInfo, ProcKind};

/// The dirs whose sessions `watch` repairs.
pub struct Dirs {
    /// OpenClaw state dirs.
    pub state_dirs: Vec<PathBuf>,
    /// The claude-mem data dir.
    pub cm_dir: Option<PathBuf>,
}

impl Dirs {
    /// Found as every command finds them (the same discovery and global options).
    pub fn discover(cfg: &Config) -> Dirs {
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
        Dirs { state_dirs, cm_dir }
    }

    /// For the start line: `state dir X, claude-mem dir Y`.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .state_dirs
            .iter()
            .map(|d| format!("state dir {}", d.display()))
            .collect();
        if let Some(cm) = &self.cm_dir {
            out.push(format!("claude-mem dir {}", cm.display()));
        }
        out
    }

    /// Where gateways write their locks, for each state dir (as the scanner reads them),
    /// and where workers write worker.pid: `(dir, true)` for a lock dir, `(dir, false)` for
    /// a pid file dir.
    pub fn watched(&self, cfg: &Config) -> Vec<(PathBuf, bool)> {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let mut out: Vec<(PathBuf, bool)> = Vec::new();
        let mut add = |d: PathBuf, locks: bool| {
            if !out.iter().any(|(o, l)| *o == d && *l == locks) {
                out.push((d, locks));
            }
        };
        for state in &self.state_dirs {
            for d in crate::backend::openclaw::lock_dir_candidates(state, cfg, uid) {
                add(d, true);
            }
        }
        if self.cm_dir.is_some() {
            for p in pid_files(cfg, &self.cm_dir) {
                if let Some(d) = p.parent() {
                    add(d.to_path_buf(), false);
                }
            }
        }
        out
    }

    /// Is `p` a gateway or worker for one of these dirs?
    pub fn serves(&self, p: &ProcInfo) -> bool {
        match p.kind {
            ProcKind::Gateway => self.state_dirs.iter().any(|d| p.serves(d) != Some(false)),
            ProcKind::Worker => self
                .cm_dir
                .as_ref()
                .is_some_and(|d| p.serves(d) != Some(false)),
            ProcKind::Openclaw => false,
        }
    }

    /// Does a claude-mem `worker.pid` name `pid` now?
    pub fn pid_file_names(&self, cfg: &Config, pid: i64) -> bool {
        pid_files(cfg, &self.cm_dir).iter().any(|p| {
            crate::backend::read_small(p, 64 * 1024)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["pid"].as_i64())
                == Some(pid)
        })
    }
}

/// `worker.pid`: in the data dir from claude-mem 12.6, in `~/.claude-mem` before.
fn pid_files(cfg: &Config, cm_dir: &Option<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(cm) = cm_dir {
        out.push(cm.join("worker.pid"));
    }
    if let Some(home) = cfg.env.home() {
        out.push(home.join(".claude-mem").join("worker.pid"));
    }
    out
}

/// A file name in a lock dir that a gateway writes or removes.
pub fn is_gateway_lock(name: &[u8]) -> bool {
    name.starts_with(b"gateway.") && name.ends_with(b".lock")
}

/// A file name in a pid file dir that a worker writes or removes.
pub fn is_pid_file(name: &[u8]) -> bool {
    name == b"worker.pid"
}

/// For log lines: `gateway`, `claude-mem worker`.
pub fn what(k: ProcKind) -> &'static str {
    match k {
        ProcKind::Worker => "claude-mem worker",
        _ => "gateway",
    }
}

/// For `lifetimes.ndjson`: `gateway`, `worker`.
pub fn kind_name(k: ProcKind) -> &'static str {
    match k {
        ProcKind::Worker => "worker",
        _ => "gateway",
    }
}

/// How it ended: `(outcome, from, reason)`.
pub type Outcome = (String, Option<String>, Option<String>);

pub fn unknown() -> Outcome {
    ("unknown".to_string(), None, None)
}

/// How a worker that just exited ended: a crash leaves its `worker.pid` naming it, a clean
/// stop removes the file (`named_at_start`: a pid file named it when it was found).
pub fn worker_outcome(dirs: &Dirs, cfg: &Config, pid: i64, named_at_start: bool) -> Outcome {
    if dirs.pid_file_names(cfg, pid) {
        ("crash".into(), Some("worker.pid".into()), None)
    } else if named_at_start {
        ("clean_stop".into(), Some("worker.pid".into()), None)
    } else {
        unknown()
    }
}

/// How the gateway that ran as `pid` (its own namespace's pid) from `started_ms` on `dir`
/// ended, by its own record: the row of `gateway_boot_lifecycle` in
/// `<dir>/state/openclaw.sqlite` (`outcome` `clean_stop`, or NULL after a crash). Without
/// one, and `at_exit` (it exited just now, before a restarted gateway could overwrite its
/// lock), a lock still naming it: a clean stop deletes its lock, a crash leaves it.
pub fn gateway_outcome(
    cfg: &Config,
    dir: &Path,
    pid: i64,
    started_ms: Option<i64>,
    at_exit: bool,
) -> Outcome {
    if let Some(o) = boot_record(dir, pid, started_ms) {
        return o;
    }
    if at_exit && lock_names(cfg, dir, pid) {
        return ("crash".into(), Some("gateway-lock".into()), None);
    }
    unknown()
}

fn boot_record(dir: &Path, pid: i64, started_ms: Option<i64>) -> Option<Outcome> {
    let rows: Vec<(i64, Option<String>, Option<String>)> =
        crate::backend::openclaw::read_lifetimes(dir)?
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
    }?;
    Some((
        best.1.unwrap_or_else(|| "crash".into()),
        Some("gateway_boot_lifecycle".into()),
        best.2,
    ))
}

/// Does a `gateway.*.lock` in one of `dir`'s lock dirs name `pid`?
fn lock_names(cfg: &Config, dir: &Path, pid: i64) -> bool {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    crate::backend::openclaw::lock_dir_candidates(dir, cfg, uid)
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.flatten())
        .filter(|e| is_gateway_lock(e.file_name().as_encoded_bytes()))
        .any(|e| {
            crate::backend::read_small(&e.path(), 64 * 1024)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["pid"].as_i64())
                == Some(pid)
        })
}
