//! claude-mem: data dir discovery, `sdk_sessions` read by column name on every known schema,
//! last activity from `user_prompts`, and the worker's pid files and health endpoint.

pub mod classify;
pub mod doctor;
pub mod man;
pub mod store;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::openclaw::io_msg;
use super::{columns, expand_home, lenient_i64, lenient_string, open_read_only, tables};
use crate::classify::{Claim, OwnerFacts, RunningOwner};
use crate::config::Config;
use crate::model::{Backend, Detail, PidState, Problem, Reason, Session, StoreKind, VerdictKind};
use crate::probe::{http_health, Health, Host, ProcKind};
use crate::timefmt::parse_iso_ms;
pub use classify::{classify_claude_mem, ClaudeMemRow};

/// The data dir as claude-mem resolves it: `CLAUDE_MEM_DATA_DIR`, else that key in
/// `~/.claude-mem/settings.json` (always the home file), else `~/.claude-mem`.
pub fn data_dir_from_env<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Option<PathBuf> {
    let home = get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    if let Some(d) = get("CLAUDE_MEM_DATA_DIR").filter(|v| !v.is_empty()) {
        return Some(expand_home(d, home.as_deref()));
    }
    let home = home?;
    let default = home.join(".claude-mem");
    if let Some(d) = settings_value(&default.join("settings.json"), "CLAUDE_MEM_DATA_DIR") {
        return Some(expand_home(&d, Some(&home)));
    }
    Some(default)
}

/// A string setting from a claude-mem settings.json (values are strings there).
fn settings_value(path: &Path, key: &str) -> Option<String> {
    let bytes = super::read_small(path, super::SMALL_FILE).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match v.get(key)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `[claude_mem]` in the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `data_dir`, as written.
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    pub fn check(&self) -> Result<(), String> {
        if self
            .data_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return Err("claude_mem.data_dir is empty".into());
        }
        Ok(())
    }

    /// The data dir a config file's `[claude_mem]` names (discovery does not consult it
    /// yet).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn of(c: &crate::targets::Config) -> Option<&Path> {
        c.sections.iter().find_map(|s| match s {
            super::ConfigSection::ClaudeMem(s) => s.data_dir.as_deref(),
        })
    }
}

/// The database in a data dir.
pub const DB_FILE: &str = "claude-mem.db";

/// The data dir to inspect and whether it was asked for explicitly.
pub fn discover(cfg: &Config) -> Option<(PathBuf, bool)> {
    if let Some(d) = &cfg.claude_mem_dir {
        return Some((d.clone(), true));
    }
    let explicit = cfg.env.get("CLAUDE_MEM_DATA_DIR").is_some();
    data_dir_from_env(&|k| cfg.env.get(k)).map(|d| (d, explicit))
}

/// The details of one claude-mem row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaudeMemDetail {
    pub data_dir: PathBuf,
    pub row_id: i64,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_counter: Option<i64>,
    /// The epoch ms embedded in an OpenClaw content id.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timefmt::ser_opt_ms"
    )]
    pub linked_at: Option<i64>,
}

/// claude-mem's own `observer-sessions` bookkeeping rows are never closed.
pub fn never_closed(d: &ClaudeMemDetail) -> Option<&'static str> {
    (d.project == "observer-sessions")
        .then_some("claude-mem's own observer bookkeeping is never closed")
}

/// A `worker.pid` file.
#[derive(Debug, Clone, Serialize)]
pub struct PidFile {
    pub path: PathBuf,
    pub pid: Option<i64>,
    pub port: Option<u16>,
    #[serde(serialize_with = "crate::timefmt::ser_opt_ms")]
    pub started_at: Option<i64>,
    /// /proc starttime recorded by 12.5+ (`startToken`).
    pub start_token: Option<u64>,
    pub state: Option<PidState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PidFile {
    fn empty(path: &Path) -> PidFile {
        PidFile {
            path: path.into(),
            pid: None,
            port: None,
            started_at: None,
            start_token: None,
            state: None,
            error: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct DataDirScan {
    pub data_dir: PathBuf,
    pub db: PathBuf,
    pub rows: Vec<(Session, ClaudeMemRow, Option<String>)>,
    pub pid_files: Vec<PidFile>,
    pub health: Vec<Health>,
    pub owners: OwnerFacts,
    pub problems: Vec<Problem>,
}

fn problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem {
        backend: Backend::ClaudeMem,
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Read the data dir that discovery finds (see [`super::linked::Read`]).
pub fn read(cfg: &Config, host: &Host) -> super::linked::Read {
    let mut out = super::linked::Read::default();
    let missing = |what: String, looked: Option<&Path>| {
        super::Missing::new(Backend::ClaudeMem, what, host, looked)
    };
    let Some((dir, explicit)) = discover(cfg) else {
        out.missing.push(missing(
            "no data dir: neither CLAUDE_MEM_DATA_DIR nor HOME is set".into(),
            None,
        ));
        return out;
    };
    out.notes
        .push(format!("claude-mem: data dir {}", dir.display()));
    match scan_data_dir(&dir, explicit, cfg, host) {
        Some(mut scan) => {
            // A data dir without a database (never an error when discovered): nothing was
            // read.
            if scan.problems.is_empty() && scan.rows.is_empty() && !scan.db.exists() {
                out.missing.push(missing(
                    format!("no database at {}", scan.db.display()),
                    Some(&dir),
                ));
            }
            out.problems.append(&mut scan.problems);
            out.scans.push(Box::new(scan));
        }
        None => out.missing.push(missing(
            format!(
                "no data dir at {} (CLAUDE_MEM_DATA_DIR unset)",
                dir.display()
            ),
            Some(&dir),
        )),
    }
    out
}

impl super::linked::Scan for DataDirScan {
    fn backend(&self) -> Backend {
        Backend::ClaudeMem
    }

    fn keys(&self) -> Vec<Option<&str>> {
        self.rows.iter().map(|(_, _, k)| k.as_deref()).collect()
    }

    fn judge(
        &mut self,
        upstream: &super::linked::Upstreams,
        facts: &crate::classify::HostFacts,
        opts: &crate::classify::Options,
    ) -> Vec<Session> {
        let rows = std::mem::take(&mut self.rows);
        super::linked::judge_rows(rows, upstream, |row, up| {
            classify_claude_mem(row, up, &self.owners, facts, opts)
        })
    }

    fn doctor(&self, cfg: &Config, r: &crate::scan::Report, out: &mut Vec<crate::doctor::Finding>) {
        doctor::findings(cfg, r, self, out);
    }

    fn workers(&self) -> Option<(serde_json::Value, String)> {
        Some(doctor::workers(self))
    }
}

pub fn scan_data_dir(dir: &Path, explicit: bool, cfg: &Config, host: &Host) -> Option<DataDirScan> {
    let mut scan = DataDirScan {
        data_dir: dir.to_path_buf(),
        db: dir.join(DB_FILE),
        ..DataDirScan::default()
    };
    match super::check_dir(dir, explicit, "data dir") {
        Ok(true) => {}
        Ok(false) => return None,
        Err(m) => {
            scan.problems.push(problem(dir, m));
            return Some(scan);
        }
    }
    let db = scan.db.clone();
    match fs::metadata(&db) {
        Ok(_) => match super::contained(dir, &db) {
            Ok(()) => read_db(&mut scan, &db),
            Err(m) => scan.problems.push(problem(&db, m)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if explicit {
                scan.problems
                    .push(problem(&db, "no claude-mem database here"));
            }
        }
        Err(e) => scan
            .problems
            .push(problem(&db, format!("cannot read: {}", io_msg(&e)))),
    }
    gather_workers(&mut scan, cfg, host);
    Some(scan)
}

fn read_db(scan: &mut DataDirScan, db: &Path) {
    let conn = match open_read_only(db) {
        Ok(c) => c,
        Err(m) => return scan.problems.push(problem(db, m)),
    };
    let tabs = match tables(&conn) {
        Ok(t) => t,
        Err(m) => return scan.problems.push(problem(db, m)),
    };
    if !tabs.iter().any(|t| t == "sdk_sessions") {
        return scan.problems.push(problem(
            db,
            "unsupported claude-mem schema: no sdk_sessions table",
        ));
    }
    let cols = columns(&conn, "sdk_sessions").unwrap_or_default();
    let has = |c: &str| cols.iter().any(|x| x == c);
    // Renamed in claude-mem 8.2.6: claude_session_id -> content_session_id,
    // sdk_session_id -> memory_session_id.
    let cid = ["content_session_id", "claude_session_id"]
        .into_iter()
        .find(|c| has(c));
    let mut missing: Vec<&str> = ["id", "project", "status", "started_at_epoch"]
        .into_iter()
        .filter(|c| !has(c))
        .collect();
    if cid.is_none() {
        missing.push("content_session_id");
    }
    let Some(cid) = cid.filter(|_| missing.is_empty()) else {
        return scan.problems.push(problem(
            db,
            format!(
                "unsupported claude-mem schema: sdk_sessions lacks {}",
                missing.join(", ")
            ),
        ));
    };
    let opt = |c: &str| {
        if has(c) {
            format!("s.{c}")
        } else {
            "NULL".into()
        }
    };
    let mid = ["memory_session_id", "sdk_session_id"]
        .into_iter()
        .find(|c| has(c))
        .map(|c| format!("s.{c}"))
        .unwrap_or_else(|| "NULL".into());
    let ucols = columns(&conn, "user_prompts").unwrap_or_default();
    let ucid = ["content_session_id", "claude_session_id"]
        .into_iter()
        .find(|c| ucols.iter().any(|x| x == c));
    let last_prompt = match ucid {
        Some(u) if ucols.iter().any(|x| x == "created_at_epoch") => {
            format!("(SELECT MAX(u.created_at_epoch) FROM user_prompts u WHERE u.{u} = s.{cid})")
        }
        _ => "NULL".into(),
    };
    let sql = format!(
        "SELECT s.id, s.{cid}, {mid}, s.project, s.status, s.started_at_epoch, {}, {}, {last_prompt}
         FROM sdk_sessions s WHERE s.status = 'active'",
        opt("platform_source"),
        opt("prompt_counter"),
    );
    let data_dir = scan.data_dir.clone();
    // One connection, one pass. (Reading the rows in parts on several connections side by
    // side was measured slower, 109 against 93 ms for 10k of 1M rows: the threads contend,
    // likely on SQLite's process-wide memory accounting, which the heap limit needs.)
    match read_rows(&conn, &format!("{sql} ORDER BY s.id"), db, &data_dir) {
        Ok(mut rows) => scan.rows.append(&mut rows),
        Err(e) => scan.problems.push(problem(db, super::sqlite_message(&e))),
    }
}

/// One active row as the scan keeps it: the record, its classifier facts, its linked key.
type Row = (Session, ClaudeMemRow, Option<String>);

/// The rows `sql` selects (the columns [`read_db`] names, in its order).
fn read_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    db: &Path,
    data_dir: &Path,
) -> rusqlite::Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let id = lenient_i64(r.get_ref(0)?).unwrap_or(-1);
        let content = lenient_string(r.get_ref(1)?).unwrap_or_default();
        let project = lenient_string(r.get_ref(3)?).unwrap_or_default();
        let started = super::sane_ms(lenient_i64(r.get_ref(5)?));
        let last_prompt = super::sane_ms(lenient_i64(r.get_ref(8)?));
        let link = parse_content_id(&content);
        let last = [started, last_prompt].into_iter().flatten().max();
        let session = Session {
            backend: Backend::ClaudeMem,
            id: id.to_string(),
            session_key: link.as_ref().map(|(k, _)| k.clone()),
            content_session_id: Some(content.clone()),
            status: lenient_string(r.get_ref(4)?).unwrap_or_default(),
            store: db.to_path_buf(),
            store_kind: StoreKind::ClaudeMemDb,
            started_at: started,
            last_activity_at: last,
            verdict: VerdictKind::Unknown,
            reason: Reason::Unverifiable,
            summary: String::new(),
            evidence: Vec::new(),
            detail: Detail::ClaudeMem(ClaudeMemDetail {
                data_dir: data_dir.to_path_buf(),
                row_id: id,
                project: project.clone(),
                memory_session_id: lenient_string(r.get_ref(2)?),
                platform_source: lenient_string(r.get_ref(6)?),
                prompt_counter: lenient_i64(r.get_ref(7)?),
                linked_at: link.as_ref().map(|(_, ms)| *ms),
            }),
        };
        let facts = ClaudeMemRow {
            project,
            openclaw_linked: link.is_some(),
            last_activity_ms: last,
        };
        out.push((session, facts, link.map(|(k, _)| k)));
    }
    Ok(out)
}

fn read_pid_file(path: &Path, host: &Host) -> Option<PidFile> {
    let bytes = match super::read_small(path, super::SMALL_FILE) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(PidFile {
                error: Some(format!("cannot read pid file: {}", io_msg(&e))),
                ..PidFile::empty(path)
            })
        }
    };
    let mut pf = PidFile::empty(path);
    let v: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            pf.error = Some("pid file is not a JSON object".into());
            return Some(pf);
        }
    };
    let num = |k: &str| match &v[k] {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    pf.pid = num("pid");
    pf.port = num("port").and_then(|p| u16::try_from(p).ok());
    pf.start_token = num("startToken").and_then(|t| u64::try_from(t).ok());
    pf.started_at = v["startedAt"].as_str().and_then(parse_iso_ms);
    match pf.pid {
        Some(p) => {
            let mut st = host.check_pid(p, pf.start_token);
            // 10.x records no startToken: accept the pid when it is a claude-mem worker that
            // started within seconds of the recorded startedAt.
            if st == PidState::AliveUnverified {
                if let (Some(proc_), Some(at)) =
                    (host.processes.iter().find(|x| x.pid == p), pf.started_at)
                {
                    if proc_.kind == ProcKind::Worker
                        && proc_.started_at.is_some_and(|s| (s - at).abs() < 10_000)
                    {
                        st = PidState::Alive;
                    }
                }
            }
            if st == PidState::Invalid {
                pf.error = Some(format!("pid file names pid {p}, which cannot be an owner"));
            }
            pf.state = Some(st);
        }
        None => pf.error = Some("pid file has no numeric pid".into()),
    }
    Some(pf)
}

fn gather_workers(scan: &mut DataDirScan, cfg: &Config, host: &Host) {
    // worker.pid lives in the data dir from 12.6, in ~/.claude-mem up to 12.5.
    let mut paths = vec![scan.data_dir.join("worker.pid")];
    if let Some(home) = cfg.env.home() {
        let legacy = home.join(".claude-mem").join("worker.pid");
        if !paths.iter().any(|p| p == &legacy) {
            paths.push(legacy);
        }
    }
    for p in paths {
        let Some(pf) = read_pid_file(&p, host) else {
            continue;
        };
        if let Some(err) = &pf.error {
            scan.problems.push(problem(&p, err.clone()));
        } else if let (Some(pid), Some(state)) = (pf.pid, pf.state) {
            scan.owners.claims.push(Claim {
                kind: "worker-pid-file",
                path: Some(p.clone()),
                pid,
                starttime: pf.start_token,
                created_ms: pf.started_at,
                state,
                owner_start_ms: pf
                    .start_token
                    .and_then(|t| host.ticks_to_ms(t))
                    .or(pf.started_at),
            });
        }
        scan.pid_files.push(pf);
    }
    for p in host.processes.iter().filter(|p| p.kind == ProcKind::Worker) {
        match p.serves(&scan.data_dir) {
            Some(true) => scan.owners.running.push(RunningOwner {
                kind: "worker-process",
                pid: p.pid,
                start_ms: p.started_at,
                path: None,
            }),
            Some(false) => {}
            None => scan.owners.unverified.push(format!(
                "claude-mem worker pid {} runs, but its data dir cannot be read",
                p.pid
            )),
        }
    }
    // Health: ports this data dir names first, then the defaults (37777 up to 12.3,
    // 37700 + uid % 100 from 12.4).
    let mut own_ports: Vec<u16> = scan.pid_files.iter().filter_map(|p| p.port).collect();
    if let Some(p) = cfg
        .env
        .get("CLAUDE_MEM_WORKER_PORT")
        .and_then(|p| p.parse().ok())
    {
        own_ports.push(p);
    }
    if let Some(p) = settings_value(
        &scan.data_dir.join("settings.json"),
        "CLAUDE_MEM_WORKER_PORT",
    )
    .and_then(|p| p.parse().ok())
    {
        own_ports.push(p);
    }
    let defaults = [37777u16, 37700 + (host.uid % 100) as u16];
    let mut probed: Vec<u16> = Vec::new();
    for (port, own) in own_ports
        .iter()
        .map(|p| (*p, true))
        .chain(defaults.iter().map(|p| (*p, false)))
    {
        if probed.contains(&port) {
            continue;
        }
        probed.push(port);
        let h = http_health(port, "/api/health");
        if h.answered {
            let pid = h
                .body
                .as_ref()
                .and_then(|b| b.get("pid"))
                .and_then(|p| p.as_i64());
            let known = pid.is_some_and(|pid| {
                scan.owners.running.iter().any(|o| o.pid == pid)
                    || scan
                        .owners
                        .claims
                        .iter()
                        .any(|c| c.pid == pid && c.state == PidState::Alive)
                    || host
                        .processes
                        .iter()
                        .any(|x| x.pid == pid && x.serves(&scan.data_dir) == Some(false))
            });
            if !known {
                match (own, pid.and_then(|p| crate::probe::proc_starttime(p).map(|st| (p, st)))) {
                    (true, Some((pid, st))) => scan.owners.running.push(RunningOwner {
                        kind: "worker-health",
                        pid,
                        start_ms: host.ticks_to_ms(st),
                        path: None,
                    }),
                    _ => scan.owners.unverified.push(format!(
                        "a claude-mem worker answers on 127.0.0.1:{port}{}, but it cannot be tied to this data dir",
                        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                    )),
                }
            }
        }
        scan.health.push(h);
    }
}

/// `openclaw-<sessionKey>-<13 digits>` → (key, epoch ms). `openclaw-default-<ms>` gives the
/// key `default`, which no OpenClaw store holds.
pub fn parse_content_id(cid: &str) -> Option<(String, i64)> {
    let rest = cid.strip_prefix("openclaw-")?;
    if rest.len() < 15 {
        return None;
    }
    let (key, tail) = rest.split_at(rest.len() - 14);
    let digits = tail.strip_prefix('-')?;
    if digits.len() != 13 || !digits.bytes().all(|b| b.is_ascii_digit()) || key.is_empty() {
        return None;
    }
    Some((key.to_string(), digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn config_section_is_read_and_checked_here() {
        let d = tempfile::tempdir().unwrap();
        let load = |text: &str| {
            let p = d.path().join("config.toml");
            std::fs::write(&p, text).unwrap();
            crate::targets::load(&p, true, &|_| None).map_err(|e| e.message)
        };
        let cfg =
            load("idle = \"6h\"\n[claude_mem]\ndata_dir = \"/home/u/.claude-mem\"\n").unwrap();
        assert_eq!(
            super::Settings::of(&cfg),
            Some(std::path::Path::new("/home/u/.claude-mem"))
        );
        let msg = load("[claude_mem]\ndir = \"/x\"\n").unwrap_err();
        assert!(
            msg.contains("line 2, column 1: unknown field `dir`"),
            "{msg}"
        );
        let msg = load("[claude_mem]\ndata_dir = \"\"\n").unwrap_err();
        assert_eq!(msg, "claude_mem.data_dir is empty");
        let msg = load("concurency = 1\n").unwrap_err();
        assert!(msg.contains("`openclaw`, `claude_mem`, `journal`"), "{msg}");
    }

    use super::*;

    #[test]
    fn content_ids() {
        assert_eq!(
            parse_content_id("openclaw-agent:main:e2e-slow-1764100000000"),
            Some(("agent:main:e2e-slow".into(), 1_764_100_000_000))
        );
        assert_eq!(
            parse_content_id("openclaw-agent:main:telegram:direct:4242-1764100300000"),
            Some(("agent:main:telegram:direct:4242".into(), 1_764_100_300_000))
        );
        assert_eq!(
            parse_content_id("openclaw-default-1764100600000"),
            Some(("default".into(), 1_764_100_600_000))
        );
        assert_eq!(parse_content_id("manual-debug-2025-11-25"), None);
        assert_eq!(
            parse_content_id("b7e2c0de-1111-4a4a-9c9c-000000000001"),
            None
        );
        assert_eq!(parse_content_id("openclaw-x-123"), None);
        assert_eq!(parse_content_id("openclaw--1764100600000"), None);
    }
}
