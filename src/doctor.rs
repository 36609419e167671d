//! `doctor`: why do new sessions hang? Findings about the claude-mem pool, its worker and
//! logs, and OpenClaw's gateways and locks, each with its evidence and the command that
//! fixes it. Everything here reads; nothing writes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::backend::claude_mem::DataDirScan;
use crate::backend::openclaw::StateDirScan;
use crate::config::Config;
use crate::model::{Backend, PidState, VerdictKind};
use crate::scan::Report;
use crate::timefmt::human_age;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier, e.g. `pool-saturated`.
    pub code: &'static str,
    pub title: String,
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn finding(
    severity: Severity,
    code: &'static str,
    title: impl Into<String>,
    evidence: Vec<String>,
    fix: Option<String>,
) -> Finding {
    Finding {
        severity,
        code,
        title: title.into(),
        evidence,
        fix,
    }
}

/// claude-mem's pool size: `CLAUDE_MEM_MAX_CONCURRENT_AGENTS` (env, else the data dir's
/// settings.json), `parseInt(…) || 2`, never above the hard cap of 10.
pub fn pool_capacity(cfg: &Config, data_dir: &Path) -> (usize, String) {
    let parse = |s: &str| {
        let digits: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse::<usize>().ok().filter(|n| *n > 0)
    };
    if let Some(v) = cfg.env.get("CLAUDE_MEM_MAX_CONCURRENT_AGENTS") {
        if let Some(n) = parse(v) {
            return (n.min(10), "CLAUDE_MEM_MAX_CONCURRENT_AGENTS".into());
        }
    }
    let settings = data_dir.join("settings.json");
    if let Ok(bytes) = crate::backend::read_small(&settings, crate::backend::SMALL_FILE) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let val = match &v["CLAUDE_MEM_MAX_CONCURRENT_AGENTS"] {
                serde_json::Value::String(s) => parse(s),
                serde_json::Value::Number(n) => n.as_u64().map(|n| n as usize).filter(|n| *n > 0),
                _ => None,
            };
            if let Some(n) = val {
                return (n.min(10), settings.display().to_string());
            }
        }
    }
    (2, "default".into())
}

pub fn diagnose(cfg: &Config, r: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &r.problems {
        out.push(finding(
            Severity::Error,
            "unreadable",
            format!("{} cannot be read", p.path.display()),
            vec![p.message.clone()],
            None,
        ));
    }
    for cm in &r.claude_mem {
        let pressure = pool(cfg, r, cm, &mut out);
        logs(cfg, cm, pressure, &mut out);
        worker(cfg, r, cm, &mut out);
    }
    for oc in &r.openclaw {
        gateways(r, oc, &mut out);
    }
    let orphans: Vec<_> = r
        .sessions
        .iter()
        .filter(|s| s.verdict == VerdictKind::Orphan)
        .collect();
    let oc_orphans = orphans
        .iter()
        .filter(|s| s.backend == Backend::Openclaw)
        .count();
    if oc_orphans > 0 {
        out.push(finding(
            Severity::Warning,
            "openclaw-orphans",
            format!("{oc_orphans} OpenClaw session(s) left running with no owner"),
            orphans
                .iter()
                .filter(|s| s.backend == Backend::Openclaw)
                .map(|s| {
                    format!(
                        "{} ({}): {}",
                        s.session_key.as_deref().unwrap_or(&s.id),
                        s.reason.name(),
                        s.summary
                    )
                })
                .collect(),
            Some("sessionctl close --yes".into()),
        ));
    }
    looked(cfg, r, &mut out);
    systemd_unit(&mut out);
    // Fixes name the same dirs this run was pointed at.
    let prefix = invocation(cfg);
    for f in &mut out {
        if let Some(fix) = &mut f.fix {
            if let Some(rest) = fix.strip_prefix("sessionctl ") {
                *fix = format!("{prefix} {rest}");
            }
        }
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// Where the run looked and found nothing. A doctor that read nothing is not "healthy":
/// when no wanted backend was found at all that is a warning, with the dirs running
/// gateways and workers use; a single missing backend whose processes run elsewhere is
/// worth a note.
fn looked(cfg: &Config, r: &Report, out: &mut Vec<Finding>) {
    let nothing = r.problems.is_empty()
        && cfg
            .backends
            .iter()
            .filter(|b| b.discovered())
            .all(|b| r.missing.iter().any(|m| m.backend == *b));
    let lines = crate::report::missing_lines(r);
    let mut flags: Vec<String> = Vec::new();
    for m in &r.missing {
        if let Some((_, d)) = m.elsewhere.first() {
            flags.push(format!("{} {}", m.flag(), crate::report::shell_quote(d)));
        }
    }
    if nothing {
        out.push(finding(
            Severity::Warning,
            "nothing-found",
            "nothing to diagnose: no OpenClaw state dir and no claude-mem database where sessionctl looked",
            lines,
            Some(if flags.is_empty() {
                "point sessionctl at them: --openclaw-state-dir DIR, --claude-mem-dir DIR (or OPENCLAW_STATE_DIR, CLAUDE_MEM_DATA_DIR)".into()
            } else {
                format!("sessionctl doctor {}", flags.join(" "))
            }),
        ));
    } else if !flags.is_empty() {
        out.push(finding(
            Severity::Info,
            "other-dirs",
            "gateways or workers run for dirs this run does not read",
            lines,
            Some(format!("sessionctl doctor {}", flags.join(" "))),
        ));
    }
}

/// `sessionctl` plus the dir flags of this run, shell-quoted.
fn invocation(cfg: &Config) -> String {
    let q = |p: &Path| {
        let s = p.display().to_string();
        if s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
        {
            s
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut out = String::from("sessionctl");
    for d in &cfg.openclaw_state_dirs {
        out.push_str(&format!(" --openclaw-state-dir {}", q(d)));
    }
    if let Some(d) = &cfg.claude_mem_dir {
        out.push_str(&format!(" --claude-mem-dir {}", q(d)));
    }
    out
}

/// Returns whether the pool is under pressure now (full, or orphans hold slots).
fn pool(cfg: &Config, r: &Report, cm: &DataDirScan, out: &mut Vec<Finding>) -> bool {
    let rows: Vec<_> = r
        .sessions
        .iter()
        .filter(|s| s.backend == Backend::ClaudeMem && s.store == cm.db)
        .collect();
    let (cap, source) = pool_capacity(cfg, &cm.data_dir);
    let count = |k: VerdictKind| rows.iter().filter(|s| s.verdict == k).count();
    let (live, orphan, stale, unknown) = (
        count(VerdictKind::Live),
        count(VerdictKind::Orphan),
        count(VerdictKind::Stale),
        count(VerdictKind::Unknown),
    );
    let oldest = rows
        .iter()
        .filter(|s| s.verdict == VerdictKind::Orphan)
        .filter_map(|s| s.last_activity_at)
        .min()
        .map(|t| human_age(r.now_ms - t));
    let mut ev = vec![
        format!("{} active row(s) in {}: {live} live, {orphan} orphan, {stale} stale, {unknown} unknown", rows.len(), cm.db.display()),
        format!("capacity {cap} (from {source})"),
    ];
    if let Some(o) = &oldest {
        ev.push(format!("oldest orphan idle for {o}"));
    }
    let ids: Vec<String> = rows
        .iter()
        .filter(|s| s.verdict == VerdictKind::Orphan)
        .map(|s| format!("cm:{}", s.id))
        .collect();
    if orphan >= cap && orphan > 0 {
        out.push(finding(
            Severity::Error,
            "pool-saturated",
            format!("claude-mem pool saturated by {orphan} orphan(s) (capacity {cap}): new sessions wait for a slot"),
            ev,
            Some(format!("sessionctl close --yes {}", ids.join(" "))),
        ));
    } else if rows.len() - unknown >= cap {
        out.push(finding(
            Severity::Warning,
            "pool-full",
            format!(
                "claude-mem pool is full ({} of {cap} active)",
                rows.len() - unknown
            ),
            ev,
            (orphan > 0).then(|| format!("sessionctl close --yes {}", ids.join(" "))),
        ));
    } else if orphan > 0 {
        out.push(finding(
            Severity::Warning,
            "pool-orphans",
            format!("{orphan} orphan row(s) hold claude-mem pool slots ({orphan} of {cap})"),
            ev,
            Some(format!("sessionctl close --yes {}", ids.join(" "))),
        ));
    } else {
        out.push(finding(
            Severity::Info,
            "pool",
            format!("claude-mem pool: {} of {cap} in use", live + stale),
            ev,
            None,
        ));
        return false;
    }
    true
}

/// The pool messages claude-mem logs, from its worker's logger.
const POOL_PATTERNS: [(&str, &str); 3] = [
    ("pool-wait", "Pool limit reached ("),
    ("pool-timeout", "Timed out waiting for agent pool slot"),
    ("hard-cap", "Hard cap exceeded"),
];

/// Logs are history: they explain pressure the rows show, and alone do not make the
/// host unhealthy once the pool has room again.
fn logs(cfg: &Config, cm: &DataDirScan, pressure: bool, out: &mut Vec<Finding>) {
    let mut dirs = vec![cm.data_dir.join("logs")];
    if let Some(home) = cfg.env.home() {
        let legacy = home.join(".claude-mem").join("logs");
        if !dirs.contains(&legacy) {
            dirs.push(legacy);
        }
    }
    let day_ago = SystemTime::now() - Duration::from_secs(24 * 3600);
    let mut files: Vec<PathBuf> = Vec::new();
    for d in &dirs {
        let Ok(rd) = fs::read_dir(d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let recent = e
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .is_some_and(|t| t >= day_ago);
            if p.is_file() && recent {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        out.push(finding(
            Severity::Info,
            "no-logs",
            "no claude-mem logs from the last 24 h were found; pool waits can only be judged from rows and processes",
            dirs.iter().map(|d| format!("looked in {}", d.display())).collect(),
            None,
        ));
        return;
    }
    files.sort();
    let mut counts = [0usize; 3];
    let mut newest: [Option<String>; 3] = Default::default();
    for f in &files {
        // Logs can be large: stream them line by line, never whole.
        let Ok(file) = crate::backend::open_regular(f) else {
            continue;
        };
        use std::io::BufRead;
        for line in std::io::BufReader::new(file)
            .split(b'\n')
            .map_while(Result::ok)
        {
            let line = String::from_utf8_lossy(&line);
            let line = line.as_ref();
            for (k, (_, pat)) in POOL_PATTERNS.iter().enumerate() {
                if line.contains(pat) {
                    counts[k] += 1;
                    newest[k] = Some(line_time(line).unwrap_or_else(|| f.display().to_string()));
                }
            }
        }
    }
    let total: usize = counts.iter().sum();
    let ev: Vec<String> = POOL_PATTERNS
        .iter()
        .enumerate()
        .filter(|(k, _)| counts[*k] > 0)
        .map(|(k, (_, pat))| {
            format!(
                "{} × \"{}…\", newest {}",
                counts[k],
                pat.trim_end_matches(" ("),
                newest[k].clone().unwrap_or_default()
            )
        })
        .chain(files.iter().map(|f| format!("read {}", f.display())))
        .collect();
    if total == 0 {
        out.push(finding(
            Severity::Info,
            "logs",
            "no pool waits or timeouts in claude-mem's logs of the last 24 h",
            ev,
            None,
        ));
    } else {
        let sev = match (pressure, counts[1] + counts[2] > 0) {
            (false, _) => Severity::Info,
            (true, true) => Severity::Error,
            (true, false) => Severity::Warning,
        };
        out.push(finding(
            sev,
            "pool-waits",
            format!(
                "claude-mem logged {} pool wait(s), {} timeout(s) and {} hard-cap refusal(s) in the last 24 h",
                counts[0], counts[1], counts[2]
            ),
            ev,
            Some("sessionctl close --yes   # frees the slots orphans hold".into()),
        ));
    }
}

/// The timestamp a claude-mem log line starts with (`[2026-11-25 20:17:45.060] …`).
fn line_time(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?.split(']').next()?;
    (inner.len() >= 19 && inner.as_bytes()[4] == b'-').then(|| inner.to_string())
}

fn worker(cfg: &Config, r: &Report, cm: &DataDirScan, out: &mut Vec<Finding>) {
    for pf in &cm.pid_files {
        let Some(pid) = pf.pid else { continue };
        match pf.state {
            Some(PidState::Dead) => out.push(finding(
                Severity::Warning,
                "worker-dead",
                format!("claude-mem worker pid {pid} is not running; its pid file is stale"),
                vec![format!("{} names pid {pid}", pf.path.display())],
                Some(format!("rm {}   # then start the worker again (it is started by the OpenClaw plugin or `claude-mem start`)", pf.path.display())),
            )),
            Some(PidState::Reused) => out.push(finding(
                Severity::Warning,
                "worker-pid-reused",
                format!("pid {pid} of claude-mem's worker.pid now belongs to another process"),
                vec![format!("{}: startToken {} differs from /proc", pf.path.display(), pf.start_token.map(|t| t.to_string()).unwrap_or_default())],
                Some(format!("rm {}", pf.path.display())),
            )),
            _ => {}
        }
    }
    let answering: Vec<_> = cm.health.iter().filter(|h| h.answered).collect();
    for h in &answering {
        let version = h
            .body
            .as_ref()
            .and_then(|b| b["version"].as_str())
            .unwrap_or("?");
        out.push(finding(
            Severity::Info,
            "worker-health",
            format!("a claude-mem worker answers {} (version {version})", h.url),
            vec![],
            None,
        ));
    }
    let alive_pidfile = cm
        .pid_files
        .iter()
        .any(|p| p.state == Some(PidState::Alive));
    if alive_pidfile && answering.is_empty() {
        out.push(finding(
            Severity::Warning,
            "worker-silent",
            "the claude-mem worker runs but its health endpoint does not answer",
            cm.health
                .iter()
                .map(|h| format!("{}: {}", h.url, h.error.clone().unwrap_or_default()))
                .collect(),
            Some("restart the claude-mem worker".into()),
        ));
    }
    // The OpenClaw plugin talks to `workerPort` (default 37777); 12.4+ workers listen on
    // 37700 + uid % 100 unless CLAUDE_MEM_WORKER_PORT says otherwise.
    let worker_port = answering
        .first()
        .and_then(|h| h.url.rsplit(':').next())
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse::<u16>().ok())
        .or_else(|| {
            cm.pid_files
                .iter()
                .find(|p| p.state == Some(PidState::Alive))
                .and_then(|p| p.port)
        });
    if let Some(wp) = worker_port {
        for oc in &r.openclaw {
            if let Some((plugin_port, src)) = plugin_worker_port(cfg, &oc.state_dir) {
                if plugin_port != wp {
                    out.push(finding(
                        Severity::Error,
                        "worker-port-mismatch",
                        format!("OpenClaw's claude-mem plugin talks to port {plugin_port}, but the worker listens on {wp}"),
                        vec![src],
                        Some(format!(
                            "set plugins.entries[\"claude-mem\"].config.workerPort = {wp} in openclaw.json, or start the worker with CLAUDE_MEM_WORKER_PORT={plugin_port}"
                        )),
                    ));
                }
            }
        }
    }
}

/// The claude-mem plugin's `workerPort` in OpenClaw's config, when the plugin is configured.
fn plugin_worker_port(cfg: &Config, state: &Path) -> Option<(u16, String)> {
    let path = cfg
        .env
        .get("OPENCLAW_CONFIG_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| state.join("openclaw.json"));
    let text =
        String::from_utf8(crate::backend::read_small(&path, 16 * crate::backend::SMALL_FILE).ok()?)
            .ok()?;
    let v = crate::json5::parse(&text).ok()?;
    let entry = &v["plugins"]["entries"]["claude-mem"];
    if entry.is_null() {
        return None;
    }
    match entry["config"]["workerPort"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
    {
        Some(p) => Some((
            p,
            format!(
                "{}: plugins.entries[\"claude-mem\"].config.workerPort = {p}",
                path.display()
            ),
        )),
        None => Some((
            37777,
            format!(
                "{}: claude-mem plugin without workerPort (its default is 37777)",
                path.display()
            ),
        )),
    }
}

fn gateways(r: &Report, oc: &StateDirScan, out: &mut Vec<Finding>) {
    let live = oc.owners.live();
    owners(r, oc, &live, out);
    let mut pids: Vec<i64> = live.iter().map(|g| g.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    if pids.len() > 1 {
        out.push(finding(
            Severity::Error,
            "two-gateways",
            format!(
                "{} gateways run on one state dir {}",
                pids.len(),
                oc.state_dir.display()
            ),
            pids.iter().map(|p| format!("gateway pid {p}")).collect(),
            Some(format!(
                "stop all but one: kill {}",
                pids[1..]
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ));
    }
    for l in &oc.locks {
        if matches!(l.state, Some(PidState::Dead | PidState::Reused)) {
            out.push(finding(
                Severity::Warning,
                "stale-gateway-lock",
                format!(
                    "gateway lock of pid {} is left behind; that gateway is gone",
                    l.pid.unwrap_or_default()
                ),
                vec![l.path.display().to_string()],
                Some(format!("rm {}", l.path.display())),
            ));
        }
    }
    // Session locks whose owner is gone, running session or not.
    let host_check = |pid: i64, st: Option<u64>| r.host.check_pid(pid, st);
    for lock in session_locks(&oc.state_dir) {
        let Ok(text) = crate::backend::read_small(&lock, crate::backend::SMALL_FILE)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
        else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(pid) = v["pid"].as_i64() else {
            continue;
        };
        let state = host_check(pid, v["starttime"].as_u64());
        if matches!(state, PidState::Dead | PidState::Reused) {
            let sid = lock
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".jsonl.lock"))
                .unwrap_or_default()
                .to_string();
            let running = r
                .sessions
                .iter()
                .any(|s| s.backend == Backend::Openclaw && s.id == sid);
            out.push(finding(
                Severity::Warning,
                "stale-session-lock",
                format!("session lock of dead pid {pid} is left behind"),
                vec![lock.display().to_string()],
                Some(if running {
                    format!("sessionctl close --yes {sid}")
                } else {
                    format!("rm {}", lock.display())
                }),
            ));
        }
    }
    // 2026.9 refuses to start beside a legacy sessions.json (exit 78).
    if let Ok(rd) = fs::read_dir(oc.state_dir.join("agents")) {
        for a in rd.flatten() {
            let json = a.path().join("sessions").join("sessions.json");
            let db = a.path().join("agent").join("openclaw-agent.sqlite");
            if json.is_file() && db.is_file() {
                out.push(finding(
                    Severity::Error,
                    "legacy-sessions-json",
                    "a legacy sessions.json sits beside the SQLite session store; OpenClaw 2026.9 refuses to start (exit 78)",
                    vec![json.display().to_string(), db.display().to_string()],
                    Some(format!("mv {} {}.legacy", json.display(), json.display())),
                ));
            }
        }
    }
}

/// Who makes the state dir look owned. Anyone can start a process titled
/// `openclaw-gateway` with `OPENCLAW_STATE_DIR` set to any dir, which keeps sessionctl from
/// closing that dir's sessions (a denial of cleanup, never a wrong close): name the pid,
/// its uid and its executable, so an impostor is easy to tell from the real gateway.
fn owners(
    r: &Report,
    oc: &StateDirScan,
    live: &[crate::classify::RunningOwner],
    out: &mut Vec<Finding>,
) {
    for o in live {
        let uid = proc_uid(o.pid).map_or_else(|| "?".to_string(), |u| u.to_string());
        let exe = match fs::read_link(format!("/proc/{}/exe", o.pid)) {
            Ok(p) => p.display().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                "? (not readable: another user's process)".to_string()
            }
            Err(_) => "?".to_string(),
        };
        let mut evidence = vec![format!("pid {}, uid {uid}, exe {exe}", o.pid)];
        if let Some(p) = r.host.processes.iter().find(|p| p.pid == o.pid) {
            evidence.push(format!("argv: {}", p.argv));
        }
        evidence.push(match &o.path {
            Some(p) => format!("owner evidence: {} {}", o.kind, p.display()),
            None => format!("owner evidence: {}", o.kind),
        });
        out.push(finding(
            Severity::Info,
            "state-dir-owner",
            format!(
                "{} is owned by pid {} (uid {uid}, {exe}); sessionctl leaves its sessions and store to it",
                oc.state_dir.display(),
                o.pid
            ),
            evidence,
            Some(format!(
                "if pid {} is not your OpenClaw gateway, stop it (kill {}); its sessions can then be closed",
                o.pid, o.pid
            )),
        ));
    }
}

/// The real uid of a process, from `/proc/<pid>/status`.
fn proc_uid(pid: i64) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn session_locks(state: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(agents) = fs::read_dir(state.join("agents")) else {
        return out;
    };
    for a in agents.flatten() {
        let Ok(rd) = fs::read_dir(a.path().join("sessions")) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".jsonl.lock"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The gateway's systemd user unit, where `systemctl --user` works; silent elsewhere.
fn systemd_unit(out: &mut Vec<Finding>) {
    let Ok(o) = std::process::Command::new("systemctl")
        .args(["--user", "is-active", "openclaw-gateway.service"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return;
    };
    let state = String::from_utf8_lossy(&o.stdout).trim().to_string();
    match state.as_str() {
        "failed" => out.push(finding(
            Severity::Warning,
            "gateway-unit-failed",
            "the openclaw-gateway.service user unit has failed",
            vec!["systemctl --user is-active openclaw-gateway.service: failed".into()],
            Some("systemctl --user restart openclaw-gateway.service".into()),
        )),
        "active" | "activating" | "inactive" => out.push(finding(
            Severity::Info,
            "gateway-unit",
            format!("openclaw-gateway.service is {state}"),
            vec![],
            None,
        )),
        _ => {}
    }
}
