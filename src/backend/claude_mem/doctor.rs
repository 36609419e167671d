//! claude-mem's doctor findings: its agent pool (capacity, orphans holding slots, waits in
//! its logs), its worker (pid files, health endpoint) and the port OpenClaw's plugin
//! talks to.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::DataDirScan;
use crate::config::Config;
use crate::doctor::{finding, Finding, Severity};
use crate::model::{Backend, PidState, VerdictKind};
use crate::scan::Report;
use crate::timefmt::human_age;

/// Every claude-mem finding for one data dir.
pub fn findings(cfg: &Config, r: &Report, cm: &DataDirScan, out: &mut Vec<Finding>) {
    let pressure = pool(cfg, r, cm, out);
    logs(cfg, cm, pressure, out);
    worker(cfg, r, cm, out);
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
    let v = crate::json5::parse(&path, &text).ok()?;
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

/// The worker of a data dir as `gateways` shows it: its pid files and health answers, as
/// JSON and as text.
pub fn workers(cm: &DataDirScan) -> (serde_json::Value, String) {
    use crate::report::escape_control;
    use std::fmt::Write;
    let path = |p: &Path| escape_control(&p.display().to_string()).into_owned();
    fn opt<T: ToString>(v: Option<T>) -> String {
        v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
    }
    let doc = serde_json::json!({
        "data_dir": cm.data_dir,
        "pid_files": cm.pid_files,
        "health": cm.health,
    });
    let mut w = String::new();
    let _ = writeln!(w, "\nclaude-mem data dir {}", path(&cm.data_dir));
    for p in &cm.pid_files {
        let _ = writeln!(
            w,
            "  {} pid {} ({}) port {} started {}",
            path(&p.path),
            opt(p.pid),
            p.state
                .map(|s| format!("{s:?}").to_lowercase())
                .unwrap_or_else(|| "-".into()),
            opt(p.port),
            opt(p.started_at.map(crate::timefmt::iso_ms))
        );
    }
    if cm.pid_files.is_empty() {
        let _ = writeln!(w, "  no worker.pid");
    }
    for hh in &cm.health {
        let ver = hh
            .body
            .as_ref()
            .and_then(|b| b.get("version"))
            .and_then(|v| v.as_str());
        let _ = writeln!(
            w,
            "  {} {}",
            escape_control(&hh.url),
            if hh.answered {
                format!(
                    "answers{}",
                    // The version is whatever the process on that port answered.
                    ver.map(|v| format!(" (version {})", escape_control(v)))
                        .unwrap_or_default()
                )
            } else {
                "does not answer".into()
            }
        );
    }
    (doc, w)
}
