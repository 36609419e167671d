//! `doctor`: why do new sessions hang? Findings each backend makes about
//! its own programs (a linked-row backend's pool, worker and logs), and OpenClaw's gateways and locks, each with its evidence and the command that
//! fixes it. Everything here reads; nothing writes.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backend::openclaw::StateDirScan;
use crate::config::Config;
use crate::model::{Backend, PidState, VerdictKind};
use crate::scan::Report;

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

pub(crate) fn finding(
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
    for s in &r.linked {
        s.doctor(cfg, r, &mut out);
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
            format!(
                "nothing to diagnose: {} where sessionctl looked",
                looked_for(|d| d.absent).join(" and ")
            ),
            lines,
            Some(if flags.is_empty() {
                format!(
                    "point sessionctl at them: {} (or {})",
                    looked_for(|d| Some(d.flag))
                        .iter()
                        .map(|f| format!("{f} DIR"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    looked_for(|d| d.dir_env).join(", ")
                )
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

/// What the backends that are looked for (not declared) say of themselves, in order.
fn looked_for(
    what: impl Fn(&crate::backend::Descriptor) -> Option<&'static str>,
) -> Vec<&'static str> {
    crate::backend::all()
        .filter(|d| d.backend.discovered())
        .filter_map(what)
        .collect()
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
    for b in crate::backend::all() {
        for d in (b.given)(cfg) {
            out.push_str(&format!(" {} {}", b.flag, q(&d)));
        }
    }
    out
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
