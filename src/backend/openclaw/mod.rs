//! OpenClaw: state dir discovery, both session stores (the file store of 2026.7 and the
//! per-agent SQLite store of 2026.8+), gateway lock files and the gateway-owner lease.

mod entries;
mod file_store;
mod gateways;
pub mod man;
mod sqlite_store;
pub mod store;

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

use file_store::{read_file_store, scalar_of};
use gateways::{gather_gateways, lifetimes_from_locks};
pub use gateways::{lock_dir_candidates, read_lifetimes, GatewayLock, Lease};
pub use sqlite_store::{load_links, turn_times};
use sqlite_store::{read_sqlite_ended, read_sqlite_store};

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

/// Every session entry of a state dir, running or not, that linked rows may follow.
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
    /// The sessions of the keys linked rows name (any status): read with the file
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
    /// them (not even for a linked row of the key).
    pub live_turns: Vec<String>,
}

fn problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem {
        backend: Backend::Openclaw,
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The session keys linked rows name, once they are read: a call waits for the readers
/// of the linked-row backends (only a file store's reader calls it, while it parses).
pub type LinkKeys<'k> = dyn Fn() -> &'k HashSet<String> + Sync + 'k;

/// The agents' SQLite stores of every state dir discovery finds, for `close` to roll back
/// their hot journals before reading.
pub fn databases(cfg: &Config) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (dir, _) in discover(cfg) {
        if let Ok(rd) = fs::read_dir(dir.join("agents")) {
            out.extend(
                rd.flatten()
                    .map(|a| a.path().join("agent").join("openclaw-agent.sqlite")),
            );
        }
    }
    out
}

/// Read one state dir: every agent's store plus the gateway evidence.
///
/// `link_keys` gives the session keys linked rows name: only their sessions go into
/// `links` (the file stores' at once, the SQLite stores' by [`load_links`]).
pub fn scan_state_dir(
    dir: &Path,
    explicit: bool,
    cfg: &Config,
    host: &Host,
    link_keys: &LinkKeys<'_>,
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
            // Agents' stores are independent: each is read into its own part, merged in
            // agent order. File stores are read side by side (a 100k-entry store is hundreds
            // of ms of JSON parsing); SQLite stores one after the other (side by side they
            // were slower: SQLite's threads contend).
            let read = |agent: &PathBuf| {
                let mut part = StateDirScan {
                    state_dir: scan.state_dir.clone(),
                    ..StateDirScan::default()
                };
                read_agent(&mut part, agent, host, link_keys, since);
                part
            };
            let file_stores = agents.iter().any(|a| {
                a.join("sessions").join("sessions.json").exists()
                    && !a.join("agent").join("openclaw-agent.sqlite").exists()
            });
            let parts: Vec<StateDirScan> = if file_stores {
                crate::par::map(&agents, read)
            } else {
                agents.iter().map(read).collect()
            };
            for part in parts {
                // Every field named: a new one read per agent cannot be forgotten here.
                let StateDirScan {
                    state_dir: _,
                    sessions,
                    links,
                    link_dbs,
                    problems,
                    ended,
                    // gateway evidence: gathered once above, never per agent
                    locks: _,
                    leases: _,
                    owners: _,
                    lifetimes: _,
                    // set by the scan from `ended`, after every agent is read
                    live_turns: _,
                } = part;
                scan.sessions.extend(sessions);
                scan.links.extend(links);
                scan.link_dbs.extend(link_dbs);
                scan.problems.extend(problems);
                scan.ended.extend(ended);
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
    link_keys: &LinkKeys<'_>,
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
        sqlite_ok = read_sqlite_store(scan, &agent_id, &db);
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

#[cfg(test)]
mod tests {
    use super::*;

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
