//! OpenClaw: state dir discovery, both session stores (the file store of 2026.7 and the
//! per-agent SQLite store of 2026.8+), gateway lock files and the gateway-owner lease.

use std::collections::HashSet;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::lenient::{Entry, EntryMap, Scalar};
use super::{columns, inside, lenient_i64, lenient_string, open_read_only, same_dir, tables};
use crate::classify::{Claim, Lifetime, OpenclawSession, OwnerFacts, RunningOwner};
use crate::config::Config;
use crate::model::{
    Backend, Detail, LockFile, OpenclawDetail, PidState, Problem, Reason, Session, StoreKind,
    StoredPath, VerdictKind,
};
use crate::probe::{Host, ProcKind};
use crate::timefmt::parse_iso_ms;

const LEGACY_DIRS: &[&str] = &[".clawdbot", ".moltbot", ".moldbot"];

/// The state dir a process with this environment uses, as OpenClaw resolves it:
/// `OPENCLAW_STATE_DIR`, legacy `CLAWDBOT_STATE_DIR`, else `~/.openclaw` (home is
/// `OPENCLAW_HOME` or `HOME`), else an existing legacy dir.
pub fn state_dir_from_env<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("OPENCLAW_STATE_DIR").or_else(|| nonempty("CLAWDBOT_STATE_DIR")) {
        return Some(PathBuf::from(d));
    }
    let home = PathBuf::from(nonempty("OPENCLAW_HOME").or_else(|| nonempty("HOME"))?);
    let primary = home.join(".openclaw");
    if primary.is_dir() {
        return Some(primary);
    }
    LEGACY_DIRS
        .iter()
        .map(|d| home.join(d))
        .find(|p| p.is_dir())
        .or(Some(primary))
}

/// State dirs to inspect, and whether each was asked for explicitly (then a missing dir is
/// an error; a default that does not exist just means OpenClaw is not used here).
pub fn discover(cfg: &Config) -> Vec<(PathBuf, bool)> {
    if !cfg.openclaw_state_dirs.is_empty() {
        let mut out: Vec<(PathBuf, bool)> = Vec::new();
        for d in &cfg.openclaw_state_dirs {
            if !out.iter().any(|(p, _)| same_dir(p, d)) {
                out.push((d.clone(), true));
            }
        }
        return out;
    }
    let explicit =
        cfg.env.get("OPENCLAW_STATE_DIR").is_some() || cfg.env.get("CLAWDBOT_STATE_DIR").is_some();
    state_dir_from_env(&|k| cfg.env.get(k))
        .map(|d| vec![(d, explicit)])
        .unwrap_or_default()
}

/// One `gateway.*.lock` file.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayLock {
    pub path: PathBuf,
    pub pid: Option<i64>,
    /// /proc starttime ticks of the gateway (`startTime`).
    pub starttime: Option<u64>,
    #[serde(serialize_with = "crate::timefmt::ser_opt_ms")]
    pub created_at: Option<i64>,
    pub port: Option<u16>,
    pub state: Option<PidState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A `gateway-owner` lease in `<state>/state/openclaw.sqlite` (2026.9).
#[derive(Debug, Clone, Serialize)]
pub struct Lease {
    pub path: PathBuf,
    pub pid: i64,
    pub starttime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser_opt_ms")]
    pub expires_at: Option<i64>,
    pub state: PidState,
}

/// Every session entry of a state dir, running or not, for linking claude-mem rows.
#[derive(Debug, Clone)]
pub struct LinkEntry {
    pub session_key: String,
    pub session_id: String,
    pub status: String,
    /// `sessionFile` as stored (file store only; the SQLite store's link index does not read
    /// entry_json). Checked with [`stored_path`] only when a payload needs it.
    pub session_file: Option<String>,
}

#[derive(Debug, Default)]
pub struct StateDirScan {
    pub state_dir: PathBuf,
    pub sessions: Vec<(Session, OpenclawSession)>,
    /// The sessions of the keys claude-mem rows name (any status): read with the file
    /// stores, looked up in the SQLite stores by [`load_links`].
    pub links: Vec<LinkEntry>,
    /// SQLite stores whose links are looked up per key by [`load_links`]: (agent id, DB).
    pub link_dbs: Vec<(String, PathBuf)>,
    pub locks: Vec<GatewayLock>,
    pub leases: Vec<Lease>,
    pub owners: OwnerFacts,
    pub problems: Vec<Problem>,
    /// Gateway lifetimes on record, oldest first.
    pub lifetimes: Vec<Lifetime>,
    /// Entries no longer running with a turn since the oldest lifetime that did not end
    /// cleanly: the sessions a crashed gateway may owe a session_end (with turn times).
    pub ended: Vec<(Session, Vec<i64>)>,
    /// Keys of those that a gateway running now had a turn of: no session_end may name
    /// them (not even for a claude-mem row of the key).
    pub live_turns: Vec<String>,
}

fn problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem {
        backend: Backend::Openclaw,
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Read one state dir: every agent's store plus the gateway evidence.
///
/// `link_keys` are the session keys claude-mem rows name: only their sessions go into
/// `links` (the file stores' at once, the SQLite stores' by [`load_links`]).
pub fn scan_state_dir(
    dir: &Path,
    explicit: bool,
    cfg: &Config,
    host: &Host,
    link_keys: &HashSet<String>,
) -> Option<StateDirScan> {
    let mut scan = StateDirScan {
        state_dir: dir.to_path_buf(),
        ..StateDirScan::default()
    };
    match super::check_dir(dir, explicit, "state dir") {
        Ok(true) => {}
        Ok(false) => return None,
        Err(m) => {
            scan.problems.push(problem(dir, m));
            return Some(scan);
        }
    }
    // Gateway evidence first: which lifetimes died without a clean stop decides which
    // finished sessions are read at all.
    gather_gateways(&mut scan, cfg, host);
    // (Only with --owed, until it is the default.)
    if cfg.owed {
        scan.lifetimes = crate::lifetimes::merge(
            read_lifetimes(&scan.state_dir).unwrap_or_else(|| lifetimes_from_locks(&scan)),
            crate::lifetimes::watched_gateways(&cfg.journal, &scan.state_dir),
        );
    }
    let since = scan
        .lifetimes
        .iter()
        .filter(|l| !l.clean)
        .map(|l| l.started_ms)
        .min();
    let agents_dir = dir.join("agents");
    match fs::read_dir(&agents_dir) {
        Ok(rd) => {
            let mut agents: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            agents.sort();
            for agent in agents {
                read_agent(&mut scan, &agent, host, link_keys, since);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => scan.problems.push(problem(
            &agents_dir,
            format!("cannot list agents: {}", io_msg(&e)),
        )),
    }
    Some(scan)
}

pub fn io_msg(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

fn read_agent(
    scan: &mut StateDirScan,
    agent: &Path,
    host: &Host,
    link_keys: &HashSet<String>,
    since: Option<i64>,
) {
    let agent_id = agent
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let db = agent.join("agent").join("openclaw-agent.sqlite");
    let json = agent.join("sessions").join("sessions.json");
    let mut sqlite_ok = false;
    // Present at all (even as a dangling link, a loop or a FIFO): read it, and let the
    // reader say what is wrong, rather than skip it in silence.
    let present = |p: &Path| fs::symlink_metadata(p).is_ok();
    let contained = |scan: &mut StateDirScan, p: &Path| match super::contained(&scan.state_dir, p) {
        Ok(()) => true,
        Err(m) => {
            scan.problems.push(problem(p, m));
            false
        }
    };
    if present(&db) {
        if !contained(scan, &db) {
            return;
        }
        sqlite_ok = read_sqlite_store(scan, &agent_id, &db, !link_keys.is_empty());
        if let (true, Some(since)) = (sqlite_ok, since) {
            read_sqlite_ended(scan, &agent_id, &db, since);
        }
    }
    if present(&json) {
        if !contained(scan, &json) {
            return;
        }
        if sqlite_ok {
            // 2026.9 refuses to start beside a legacy sessions.json; the SQLite store is the
            // one the gateway uses, so the file is not read as a second truth.
            return;
        }
        read_file_store(scan, &agent_id, &json, host, link_keys, since);
    }
}

/// Look up `keys` (session keys that claude-mem rows name) in the SQLite stores noted in
/// `scan.link_dbs`, adding a [`LinkEntry`] for each one found. A key `agent:<id>:…` is
/// looked up only in agent `<id>`'s store, any other key in every store. Only columns
/// stored before `entry_json` are read from `session_nodes`, and the status comes from its
/// `(status, session_key)` index: a column after the large `entry_json` would be reached
/// through its overflow pages.
pub fn load_links(scan: &mut StateDirScan, keys: &[&str]) {
    for (agent_id, db) in std::mem::take(&mut scan.link_dbs) {
        let prefix = format!("agent:{agent_id}:");
        let mine: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| k.starts_with(&prefix) || !k.starts_with("agent:"))
            .collect();
        if mine.is_empty() {
            continue;
        }
        if let Err(m) = lookup_links(scan, &db, &mine) {
            scan.problems.push(problem(&db, m));
        }
    }
}

fn lookup_links(scan: &mut StateDirScan, db: &Path, keys: &[&str]) -> Result<(), String> {
    let conn = open_read_only(db)?;
    let msg = |e: rusqlite::Error| super::sqlite_message(&e);
    // One read transaction for all lookups: otherwise every statement takes and drops the
    // file locks and re-checks the WAL (two fcntl and a stat per lookup).
    let tx = conn.unchecked_transaction().map_err(msg)?;
    let mut node = tx
        .prepare("SELECT current_session_id FROM session_nodes WHERE session_key = ?1")
        .map_err(msg)?;
    // The status index holds (status, session_key): with the few distinct statuses known
    // (one index seek each), each key's status is a handful of seeks in that index. A store
    // without that index (or with too many statuses) has the column itself read, through
    // the overflow pages.
    let has_index = tx
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'idx_agent_session_nodes_status'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(msg)?
        .is_some();
    let statuses = if has_index {
        distinct_statuses(&tx).map_err(msg)?
    } else {
        None
    };
    let status_sql = match &statuses {
        Some(v) => format!(
            "SELECT status FROM session_nodes INDEXED BY idx_agent_session_nodes_status \
             WHERE status IN ({}) AND session_key = ?1",
            (2..v.len() + 2)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "SELECT status FROM session_nodes WHERE session_key = ?1".into(),
    };
    let mut status = tx.prepare(&status_sql).map_err(msg)?;
    let fixed = statuses.unwrap_or_default();
    for &key in keys {
        let found = node
            .query_row([key], |r| {
                Ok(lenient_string(r.get_ref(0)?).unwrap_or_default())
            })
            .optional()
            .map_err(msg)?;
        let Some(session_id) = found else {
            continue;
        };
        let args = std::iter::once(rusqlite::types::Value::Text(key.to_string()))
            .chain(fixed.iter().cloned());
        let st = status
            .query_row(rusqlite::params_from_iter(args), |r| {
                Ok(lenient_string(r.get_ref(0)?))
            })
            .optional()
            .map_err(msg)?
            .flatten()
            .unwrap_or_default();
        scan.links.push(LinkEntry {
            session_key: key.to_string(),
            session_id,
            status: st,
            session_file: None,
        });
    }
    Ok(())
}

/// The distinct non-NULL values of `session_nodes.status`, one index seek each, as stored
/// (bound back as they are, whatever their type); None when there are more than 64.
fn distinct_statuses(
    conn: &rusqlite::Connection,
) -> rusqlite::Result<Option<Vec<rusqlite::types::Value>>> {
    use rusqlite::types::Value;
    let mut first =
        conn.prepare("SELECT MIN(status) FROM session_nodes WHERE status IS NOT NULL")?;
    let mut next = conn.prepare("SELECT MIN(status) FROM session_nodes WHERE status > ?1")?;
    let mut out = Vec::new();
    let mut cur: Value = first.query_row([], |r| r.get(0))?;
    while cur != Value::Null {
        if out.len() == 64 {
            return Ok(None);
        }
        let v = cur;
        cur = next.query_row([&v], |r| r.get(0))?;
        out.push(v);
    }
    Ok(Some(out))
}

/// A stored `sessionFile` as sessionctl sees it: followed only inside the state dir.
pub fn stored_path(state_dir: &Path, stored: &str) -> StoredPath {
    let p = Path::new(stored);
    let ok = inside(state_dir, p);
    let full = if p.is_absolute() {
        p.to_path_buf()
    } else {
        state_dir.join(p)
    };
    StoredPath {
        stored: stored.to_string(),
        inside_state_dir: ok,
        exists: ok && full.is_file(),
    }
}

fn base_session(
    scan: &StateDirScan,
    agent_id: &str,
    key: &str,
    e: &Entry,
    store: &Path,
    kind: StoreKind,
) -> Session {
    let session_id = e.session_id.as_str().unwrap_or_default().to_string();
    let session_file = e
        .session_file
        .as_str()
        .map(|stored| stored_path(&scan.state_dir, stored));
    Session {
        backend: Backend::Openclaw,
        id: session_id,
        session_key: Some(key.to_string()),
        content_session_id: None,
        status: e.status.as_str().unwrap_or("running").to_string(),
        store: store.to_path_buf(),
        store_kind: kind,
        started_at: e.started_ms(),
        last_activity_at: e.last_activity_ms(),
        verdict: VerdictKind::Unknown,
        reason: Reason::Unverifiable,
        summary: String::new(),
        evidence: Vec::new(),
        detail: Detail::Openclaw(OpenclawDetail {
            state_dir: scan.state_dir.clone(),
            agent_id: agent_id.to_string(),
            session_file,
            lock: None,
            run_id: e.lifecycle_run_id.as_str().map(String::from),
            updated_at: e.updated_at.as_ms(),
            owed: None,
            drained_by: None,
        }),
    }
}

/// A sessionId that is safe to use as a file name.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn read_file_store(
    scan: &mut StateDirScan,
    agent_id: &str,
    path: &Path,
    host: &Host,
    link_keys: &HashSet<String>,
    since: Option<i64>,
) {
    let file = match super::open_regular(path) {
        Ok(f) => f,
        Err(e) => {
            scan.problems
                .push(problem(path, format!("cannot read: {}", io_msg(&e))));
            return;
        }
    };
    let map: EntryMap = match serde_json::from_reader(BufReader::new(file)) {
        Ok(m) => m,
        Err(e) => {
            scan.problems.push(problem(path, json_msg(&e)));
            return;
        }
    };
    let sessions_dir = path.parent().unwrap_or(Path::new("."));
    for (key, e) in map.0 {
        if !e.is_object {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` is not a JSON object; skipped"),
            ));
            continue;
        }
        let Some(sid) = e.session_id.as_str().filter(|s| !s.is_empty()) else {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` has no sessionId; skipped"),
            ));
            continue;
        };
        let status = e.status.as_str().unwrap_or("").to_string();
        if link_keys.contains(key.as_str()) {
            scan.links.push(LinkEntry {
                session_key: key.clone(),
                session_id: sid.to_string(),
                status: status.clone(),
                session_file: e.session_file.as_str().map(String::from),
            });
        }
        if status != "running" {
            if let Some(since) = since {
                let turns = turn_times(&e);
                if turns.iter().any(|t| *t >= since) {
                    let s = base_session(scan, agent_id, &key, &e, path, StoreKind::File);
                    scan.ended.push((s, turns));
                }
            }
            continue;
        }
        let mut s = base_session(scan, agent_id, &key, &e, path, StoreKind::File);
        let mut facts = OpenclawSession {
            last_activity_ms: s.last_activity_at,
            lock: None,
            // 2026.7 recovery marks interrupted sessions failed and re-runs none.
            queued: false,
        };
        if safe_id(sid) {
            let lock_path = sessions_dir.join(format!("{sid}.jsonl.lock"));
            if let Some(lf) = read_session_lock(&lock_path) {
                if let Some(err) = &lf.error {
                    scan.problems.push(problem(&lock_path, err.clone()));
                }
                if let Detail::Openclaw(d) = &mut s.detail {
                    d.lock = Some(lf);
                }
            }
        } else {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` has an unusable sessionId; its lock file is not looked up"),
            ));
        }
        if let Detail::Openclaw(d) = &s.detail {
            if let Some(lf) = &d.lock {
                if let Some(pid) = lf.pid {
                    facts.lock = Some(Claim {
                        kind: "session-lock",
                        path: Some(lf.path.clone()),
                        pid,
                        starttime: lf.starttime,
                        created_ms: lf.created_at,
                        state: host.check_pid(pid, lf.starttime),
                        owner_start_ms: lf.starttime.and_then(|t| host.ticks_to_ms(t)),
                    });
                }
            }
        }
        scan.sessions.push((s, facts));
    }
}

pub fn json_msg(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!(
            "truncated JSON (ends at line {} column {})",
            e.line(),
            e.column()
        ),
        Category::Syntax => format!("invalid JSON at line {} column {}", e.line(), e.column()),
        Category::Data => format!("unexpected JSON shape: {e}"),
        Category::Io => format!("cannot read: {e}"),
    }
}

/// Parse a `<sessionId>.jsonl.lock`; None when there is no such file.
fn read_session_lock(path: &Path) -> Option<LockFile> {
    let bytes = match super::read_small(path, super::SMALL_FILE) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(LockFile {
                path: path.to_path_buf(),
                pid: None,
                starttime: None,
                created_at: None,
                error: Some(format!("cannot read lock file: {}", io_msg(&e))),
            })
        }
    };
    let mut lf = LockFile {
        path: path.to_path_buf(),
        pid: None,
        starttime: None,
        created_at: None,
        error: None,
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(m)) => {
            let sc = |k: &str| m.get(k).map(scalar_of).unwrap_or_default();
            lf.pid = sc("pid").as_i64();
            lf.starttime = sc("starttime")
                .as_u64()
                .or_else(|| sc("startTime").as_u64());
            lf.created_at = sc("createdAt")
                .as_str()
                .and_then(parse_iso_ms)
                .or_else(|| sc("createdAt").as_ms());
            match lf.pid {
                None => lf.error = Some("lock file has no numeric pid".into()),
                Some(p) if p <= 0 || p > i64::from(i32::MAX) => {
                    lf.error = Some(format!("lock file names pid {p}, which cannot be an owner"))
                }
                _ => {}
            }
        }
        Ok(_) => lf.error = Some("lock file is not a JSON object".into()),
        Err(_) => lf.error = Some("lock file is not JSON".into()),
    }
    Some(lf)
}

fn scalar_of(v: &serde_json::Value) -> Scalar {
    match v {
        serde_json::Value::String(s) => Scalar::Str(s.clone()),
        serde_json::Value::Number(n) => n.as_f64().map(Scalar::Num).unwrap_or_default(),
        _ => Scalar::Other,
    }
}

/// Read the SQLite store. Returns true when it had a schema sessionctl understands.
fn read_sqlite_store(scan: &mut StateDirScan, agent_id: &str, db: &Path, links: bool) -> bool {
    let conn = match open_read_only(db) {
        Ok(c) => c,
        Err(m) => {
            scan.problems.push(problem(db, m));
            return false;
        }
    };
    let fail = |scan: &mut StateDirScan, m: String| {
        scan.problems.push(problem(db, m));
        false
    };
    let tabs = match tables(&conn) {
        Ok(t) => t,
        Err(m) => return fail(scan, m),
    };
    let ncols = columns(&conn, "session_nodes").unwrap_or_default();
    let wcols = columns(&conn, "session_windows").unwrap_or_default();
    let need_n = [
        "session_key",
        "current_session_id",
        "entry_json",
        "status",
        "updated_at",
    ];
    let missing: Vec<&str> = need_n
        .iter()
        .copied()
        .filter(|c| !ncols.iter().any(|x| x == c))
        .collect();
    if !tabs.iter().any(|t| t == "session_nodes") || !missing.is_empty() {
        let mut shown: Vec<&str> = tabs
            .iter()
            .map(String::as_str)
            .filter(|t| !t.starts_with("sqlite_"))
            .collect();
        shown.truncate(8);
        let what = if tabs.iter().any(|t| t == "session_nodes") {
            format!("session_nodes lacks {}", missing.join(", "))
        } else {
            format!(
                "no session_nodes table (tables: {})",
                if shown.is_empty() {
                    "none".into()
                } else {
                    shown.join(", ")
                }
            )
        };
        return fail(
            scan,
            format!("unsupported OpenClaw session store schema: {what}"),
        );
    }
    let has_w = ["session_id", "status"]
        .iter()
        .all(|c| wcols.iter().any(|x| x == c));
    let wcol = |c: &str| {
        if has_w && wcols.iter().any(|x| x == c) {
            format!("w.{c}")
        } else {
            "NULL".into()
        }
    };
    let ncol = |c: &str| {
        if ncols.iter().any(|x| x == c) {
            format!("n.{c}")
        } else {
            "NULL".into()
        }
    };
    let join = if has_w {
        "LEFT JOIN session_windows w ON w.session_id = n.current_session_id"
    } else {
        ""
    };

    // The link index is looked up later, per key, for the keys claude-mem rows name
    // (`load_links`): reading every node would visit every leaf page of a large store.
    if links {
        scan.link_dbs.push((agent_id.to_string(), db.to_path_buf()));
    }

    // Running sessions: by the status index, plus (rare) nodes without a status whose
    // window says running. Two queries, so each can use its index.
    let cols = format!(
        "n.session_key, n.current_session_id, n.entry_json, n.updated_at, {}, {}, {}, {}",
        ncol("last_interaction_at"),
        ncol("last_activity_at"),
        wcol("started_at"),
        wcol("updated_at"),
    );
    let mut sqls = vec![format!(
        "SELECT {cols} FROM session_nodes n {join} WHERE n.status = 'running'"
    )];
    if has_w {
        sqls.push(format!(
            "SELECT {cols} FROM session_windows w JOIN session_nodes n ON n.current_session_id = w.session_id \
             WHERE w.status = 'running' AND n.status IS NULL"
        ));
    }
    let mut found = Vec::new();
    let res = sqls.iter().try_for_each(|sql| {
        let mut st = conn.prepare(sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let key = lenient_string(r.get_ref(0)?).unwrap_or_default();
            let sid = lenient_string(r.get_ref(1)?).unwrap_or_default();
            let entry_json = lenient_string(r.get_ref(2)?).unwrap_or_default();
            let times: Vec<Option<i64>> = (3..=6)
                .map(|i| r.get_ref(i).ok().and_then(lenient_i64))
                .map(super::sane_ms)
                .collect();
            found.push((key, sid, entry_json, times));
        }
        Ok::<(), rusqlite::Error>(())
    });
    if let Err(e) = res {
        return fail(scan, super::sqlite_message(&e));
    }
    for (key, sid, entry_json, times) in found {
        let mut e: Entry = match serde_json::from_str(&entry_json) {
            Ok(e) => e,
            Err(err) => {
                scan.problems.push(problem(
                    db,
                    format!("entry_json of `{key}`: {}", json_msg(&err)),
                ));
                Entry::default()
            }
        };
        if e.session_id.as_str().is_none_or(str::is_empty) {
            e.session_id = Scalar::Str(sid.clone());
        }
        e.status = Scalar::Str("running".into());
        let mut s = base_session(scan, agent_id, &key, &e, db, StoreKind::Sqlite);
        if s.id.is_empty() {
            scan.problems.push(problem(
                db,
                format!("session `{key}` has no session id; skipped"),
            ));
            continue;
        }
        // updated_at, last_interaction_at, last_activity_at, session_windows.started_at
        let la = [s.last_activity_at, times[0], times[1], times[2], times[3]]
            .into_iter()
            .flatten()
            .filter(|t| (0..7_258_118_400_000).contains(t))
            .max();
        s.last_activity_at = la;
        if s.started_at.is_none() {
            s.started_at = times[3];
        }
        let facts = OpenclawSession {
            last_activity_ms: la,
            lock: None,
            queued: queued(&e),
        };
        scan.sessions.push((s, facts));
    }
    true
}

/// When a session had turns: its start and interaction times (not `updatedAt` or
/// `endedAt`, which a later gateway's recovery bumps when it marks the session failed).
pub fn turn_times(e: &Entry) -> Vec<i64> {
    [
        &e.session_started_at,
        &e.started_at,
        &e.last_interaction_at,
        &e.last_activity_at,
    ]
    .iter()
    .filter_map(|s| super::sane_ms(s.as_ms()))
    .collect()
}

/// The SQLite store's entries that are no longer running and were updated since `since`
/// (a superset of those with a turn since then: `updated_at` is never older than a turn).
fn read_sqlite_ended(scan: &mut StateDirScan, agent_id: &str, db: &Path, since: i64) {
    let Ok(conn) = open_read_only(db) else { return };
    let sql = "SELECT session_key, current_session_id, entry_json, status FROM session_nodes \
               WHERE status IS NOT 'running' AND updated_at >= ?1";
    let mut found = Vec::new();
    let res = (|| {
        let mut st = conn.prepare(sql)?;
        let mut rows = st.query([since])?;
        while let Some(r) = rows.next()? {
            found.push((
                lenient_string(r.get_ref(0)?).unwrap_or_default(),
                lenient_string(r.get_ref(1)?).unwrap_or_default(),
                lenient_string(r.get_ref(2)?).unwrap_or_default(),
                lenient_string(r.get_ref(3)?).unwrap_or_default(),
            ));
        }
        Ok::<(), rusqlite::Error>(())
    })();
    if let Err(e) = res {
        scan.problems.push(problem(db, super::sqlite_message(&e)));
        return;
    }
    for (key, sid, entry_json, status) in found {
        let Ok(mut e) = serde_json::from_str::<Entry>(&entry_json) else {
            continue;
        };
        if e.session_id.as_str().is_none_or(str::is_empty) {
            e.session_id = Scalar::Str(sid);
        }
        e.status = Scalar::Str(status);
        let turns = turn_times(&e);
        if !turns.iter().any(|t| *t >= since) {
            continue;
        }
        let s = base_session(scan, agent_id, &key, &e, db, StoreKind::Sqlite);
        if !s.id.is_empty() {
            scan.ended.push((s, turns));
        }
    }
}

/// The gateway lifetimes in `<state>/state/openclaw.sqlite` (`gateway_boot_lifecycle`,
/// both eras), oldest first; None when that table cannot be read. Only these columns are
/// read: the database also holds key material.
pub fn read_lifetimes(state: &Path) -> Option<Vec<Lifetime>> {
    let db = state.join("state").join("openclaw.sqlite");
    if !db.is_file() || super::contained(state, &db).is_err() {
        return None;
    }
    let conn = open_read_only(&db).ok()?;
    let cols = columns(&conn, "gateway_boot_lifecycle").ok()?;
    if !["pid", "started_at_ms", "outcome"]
        .iter()
        .all(|c| cols.iter().any(|x| x == c))
    {
        return None;
    }
    let reason = if cols.iter().any(|c| c == "reason") {
        "reason"
    } else {
        "NULL"
    };
    let mut st = conn
        .prepare(&format!(
            "SELECT pid, started_at_ms, outcome, {reason} FROM gateway_boot_lifecycle \
             ORDER BY started_at_ms LIMIT 100000"
        ))
        .ok()?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get_ref(0).ok().and_then(lenient_i64),
                r.get_ref(1).ok().and_then(lenient_i64),
                r.get_ref(2).ok().and_then(lenient_string),
                r.get_ref(3).ok().and_then(lenient_string),
            ))
        })
        .ok()?;
    let mut out = Vec::new();
    for (pid, started, outcome, reason) in rows.flatten() {
        if let (Some(pid), Some(started)) = (pid, super::sane_ms(started)) {
            out.push(Lifetime {
                pid,
                started_ms: started,
                clean: outcome.as_deref() == Some("clean_stop"),
                outcome,
                reason,
                source: db.clone(),
            });
        }
    }
    Some(out)
}

/// Without a lifecycle table: every dead gateway's lock left behind is a lifetime that
/// did not end cleanly (a clean stop deletes its lock), from the lock's `createdAt`.
fn lifetimes_from_locks(scan: &StateDirScan) -> Vec<Lifetime> {
    let mut out: Vec<Lifetime> = scan
        .locks
        .iter()
        .filter(|l| matches!(l.state, Some(PidState::Dead | PidState::Reused)))
        .filter_map(|l| {
            Some(Lifetime {
                pid: l.pid?,
                started_ms: l.created_at?,
                clean: false,
                outcome: None,
                reason: None,
                source: l.path.clone(),
            })
        })
        .collect();
    out.sort_by_key(|l| l.started_ms);
    out
}

/// A SQLite-era entry the restarted gateway's recovery has queued: interrupted
/// (`abortedLastRun`) and no run active (`lifecycleRunId` absent).
fn queued(e: &super::lenient::Entry) -> bool {
    e.aborted_last_run && e.lifecycle_run_id.as_str().is_none_or(str::is_empty)
}

/// Directories where gateway locks live: `<state>/tmp/openclaw-<uid>/` (2026.9) and
/// `$TMPDIR/openclaw-<uid>/` (2026.7), plus `/tmp/openclaw-<uid>/` when TMPDIR is elsewhere.
///
/// The gateway names the dir after its own uid: root checking another user's state dir
/// looks under that user's uid (the state dir's owner) as well as its own.
fn lock_dirs(state: &Path, cfg: &Config, uid: u32) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for d in lock_dir_candidates(state, cfg, uid) {
        if d.is_dir() && !out.iter().any(|o| same_dir(o, &d)) {
            out.push(d);
        }
    }
    out
}

/// Every place [`lock_dirs`] looks, whether it exists or not (`watch` waits for them).
pub fn lock_dir_candidates(state: &Path, cfg: &Config, uid: u32) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut uids = vec![uid];
    if let Ok(m) = fs::metadata(state) {
        if m.uid() != uid {
            uids.push(m.uid());
        }
    }
    let tmp = cfg
        .env
        .get("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let mut dirs = Vec::new();
    for u in uids {
        let leaf = format!("openclaw-{u}");
        dirs.push(state.join("tmp").join(&leaf));
        dirs.push(tmp.join(&leaf));
        dirs.push(PathBuf::from("/tmp").join(&leaf));
    }
    dirs
}

fn gather_gateways(scan: &mut StateDirScan, cfg: &Config, host: &Host) {
    let state = scan.state_dir.clone();
    let state_tmp = state.join("tmp");
    for dir in lock_dirs(&state, cfg, host.uid) {
        let in_state = dir.starts_with(&state_tmp);
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("gateway.") && n.ends_with(".lock"))
            })
            .collect();
        files.sort();
        for f in files {
            let (lock, owner) = parse_gateway_lock(&f, host);
            if let Some(err) = &lock.error {
                if in_state || owner.as_ref().is_some_and(|o| same_dir(o, &state)) {
                    scan.problems.push(problem(&f, err.clone()));
                }
                continue;
            }
            let belongs = in_state || owner.as_ref().is_some_and(|o| same_dir(o, &state));
            if !belongs {
                continue;
            }
            if let Some(pid) = lock.pid {
                scan.owners.claims.push(Claim {
                    kind: "gateway-lock",
                    path: Some(f.clone()),
                    pid,
                    starttime: lock.starttime,
                    created_ms: lock.created_at,
                    state: lock.state.unwrap_or(PidState::Invalid),
                    owner_start_ms: lock.starttime.and_then(|t| host.ticks_to_ms(t)),
                });
            }
            scan.locks.push(lock);
        }
    }
    read_lease(scan, host);
    for p in host
        .processes
        .iter()
        .filter(|p| p.kind == ProcKind::Gateway)
    {
        match p.serves(&state) {
            Some(true) => scan.owners.running.push(RunningOwner {
                kind: "gateway-process",
                pid: p.pid,
                start_ms: p.started_at,
                path: None,
            }),
            Some(false) => {}
            None => scan.owners.unverified.push(match (&p.dir, p.ns_pid) {
                (Some(d), _) => format!(
                    "gateway pid {} runs in another mount namespace (a container?) for {}, which cannot be matched to this state dir",
                    p.pid,
                    d.display()
                ),
                _ => format!(
                    "gateway pid {} runs, but its state dir cannot be read",
                    p.pid
                ),
            }),
        }
    }
    // A gateway that has not set its title yet (its first seconds) or a client that may run
    // an agent itself: while one runs for this state dir, nothing in it is proven orphaned.
    for p in host
        .processes
        .iter()
        .filter(|p| p.kind == ProcKind::Openclaw)
    {
        if p.serves(&state) == Some(true) {
            scan.owners.unverified.push(format!(
                "OpenClaw process pid {} (`{}`) runs for this state dir: a starting gateway, or a client that may run an agent itself",
                p.pid,
                p.argv.split(' ').next().unwrap_or_default()
            ));
        }
    }
    if !host.proc_available {
        // Without /proc a gateway cannot be verified; a lock whose port answers /healthz
        // says one may be running.
        for l in &scan.locks {
            if let Some(port) = l.port {
                if crate::probe::http_health(port, "/healthz").answered {
                    scan.owners.unverified.push(format!(
                        "a gateway answers /healthz on port {port} (no /proc to verify it)"
                    ));
                }
            }
        }
    }
}

/// Parse a gateway lock (one-line JSON in 2026.7; pretty JSON plus a whitespace trailer in
/// 2026.9). Returns the lock and the state dir it names, if any.
fn parse_gateway_lock(path: &Path, host: &Host) -> (GatewayLock, Option<PathBuf>) {
    let mut lock = GatewayLock {
        path: path.to_path_buf(),
        pid: None,
        starttime: None,
        created_at: None,
        port: None,
        state: None,
        error: None,
    };
    let bytes = match super::read_small(path, super::SMALL_FILE) {
        Ok(b) => b,
        Err(e) => {
            lock.error = Some(format!("cannot read gateway lock: {}", io_msg(&e)));
            return (lock, None);
        }
    };
    let m = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(m)) => m,
        Ok(_) => {
            lock.error = Some("gateway lock is not a JSON object".into());
            return (lock, None);
        }
        Err(_) => {
            lock.error = Some("gateway lock is not JSON".into());
            return (lock, None);
        }
    };
    let sc = |k: &str| m.get(k).map(scalar_of).unwrap_or_default();
    lock.pid = sc("pid").as_i64();
    lock.starttime = sc("startTime")
        .as_u64()
        .or_else(|| sc("starttime").as_u64());
    lock.created_at = sc("createdAt").as_str().and_then(parse_iso_ms);
    lock.port = sc("port").as_u64().and_then(|p| u16::try_from(p).ok());
    match lock.pid {
        Some(p) => {
            let st = host.check_pid(p, lock.starttime);
            if st == PidState::Invalid {
                lock.error = Some(format!(
                    "gateway lock names pid {p}, which cannot be an owner"
                ));
            }
            lock.state = Some(st);
        }
        None => lock.error = Some("gateway lock has no numeric pid".into()),
    }
    let owner = sc("stateDir").as_str().map(PathBuf::from).or_else(|| {
        sc("configPath")
            .as_str()
            .and_then(|c| Path::new(c).parent().map(Path::to_path_buf))
    });
    (lock, owner)
}

/// The 2026.9 gateway-owner lease. The global DB also holds key material: only
/// `state_leases` is read, and only its owner fields leave this function.
fn read_lease(scan: &mut StateDirScan, host: &Host) {
    let db = scan.state_dir.join("state").join("openclaw.sqlite");
    if !db.is_file() {
        return;
    }
    let Ok(conn) = open_read_only(&db) else {
        return;
    };
    let cols = columns(&conn, "state_leases").unwrap_or_default();
    if !["scope", "payload_json"]
        .iter()
        .all(|c| cols.iter().any(|x| x == c))
    {
        return;
    }
    let exp = if cols.iter().any(|c| c == "expires_at") {
        "expires_at"
    } else {
        "NULL"
    };
    let created = if cols.iter().any(|c| c == "updated_at") {
        "updated_at"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT payload_json, {exp}, {created} FROM state_leases WHERE scope = 'gateway-owner' \
         AND length(payload_json) < 65536 LIMIT 16"
    );
    let Ok(mut st) = conn.prepare(&sql) else {
        return;
    };
    let Ok(mut rows) = st.query([]) else { return };
    while let Ok(Some(r)) = rows.next() {
        let payload = r
            .get_ref(0)
            .ok()
            .and_then(lenient_string)
            .unwrap_or_default();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload) else {
            continue;
        };
        let owner = &v["owner"];
        let Some(pid) = owner.get("pid").map(scalar_of).and_then(|s| s.as_i64()) else {
            continue;
        };
        let starttime = owner
            .get("startedAt")
            .map(scalar_of)
            .and_then(|s| s.as_u64());
        let lease_host = owner.get("host").and_then(|h| h.as_str()).map(String::from);
        if let (Some(lh), Some(me)) = (&lease_host, &host.hostname) {
            if lh != me {
                // Another host's gateway (a state dir on a shared home over NFS): its pid
                // means nothing here. While its lease is current it may own this state
                // dir, and nothing sessionctl can check says otherwise.
                let expires = r.get_ref(1).ok().and_then(lenient_i64);
                if expires.is_none_or(|e| e > crate::timefmt::now_ms()) {
                    scan.owners.unverified.push(format!(
                        "a gateway on host {} (pid {pid} there) holds the gateway-owner lease in {}{}",
                        crate::report::escape_control(lh),
                        db.display(),
                        expires
                            .map(|e| format!(" until {}", crate::timefmt::iso_ms(e)))
                            .unwrap_or_default()
                    ));
                }
                continue;
            }
        }
        let state = host.check_pid(pid, starttime);
        let lease = Lease {
            path: db.clone(),
            pid,
            starttime,
            host: lease_host,
            expires_at: r.get_ref(1).ok().and_then(lenient_i64),
            state,
        };
        if state != PidState::Invalid {
            scan.owners.claims.push(Claim {
                kind: "gateway-lease",
                path: Some(db.clone()),
                pid,
                starttime,
                created_ms: None,
                state,
                owner_start_ms: starttime.and_then(|t| host.ticks_to_ms(t)),
            });
        }
        scan.leases.push(lease);
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

    #[test]
    fn state_dir_resolution() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().to_str().unwrap().to_string();
        let env = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.clone())
        };
        let get = env(vec![
            ("OPENCLAW_STATE_DIR", "/srv/oc".into()),
            ("HOME", home.clone()),
        ]);
        let r = state_dir_from_env(&|k| get(k).map(|s| &*Box::leak(s.into_boxed_str())));
        assert_eq!(r, Some(PathBuf::from("/srv/oc")));
        // Legacy dir is used only when ~/.openclaw does not exist.
        fs::create_dir(d.path().join(".moltbot")).unwrap();
        let get = env(vec![("HOME", home.clone())]);
        let r = state_dir_from_env(&|k| get(k).map(|s| &*Box::leak(s.into_boxed_str())));
        assert_eq!(r, Some(d.path().join(".moltbot")));
        fs::create_dir(d.path().join(".openclaw")).unwrap();
        let r = state_dir_from_env(&|k| get(k).map(|s| &*Box::leak(s.into_boxed_str())));
        assert_eq!(r, Some(d.path().join(".openclaw")));
        // OPENCLAW_HOME replaces HOME.
        let get = env(vec![
            ("HOME", "/nowhere".into()),
            ("OPENCLAW_HOME", home.clone()),
        ]);
        let r = state_dir_from_env(&|k| get(k).map(|s| &*Box::leak(s.into_boxed_str())));
        assert_eq!(r, Some(d.path().join(".openclaw")));
    }
}
