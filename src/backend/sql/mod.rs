//! `sql`: a backend from config alone. Each `[[backend.sql]]` entry declares a table of
//! rows that are "active" while a condition holds and that name an OpenClaw session key —
//! what many session_end consumers keep (OpenClaw issue #57790: users of such a plugin
//! wrote cron SQL to end its rows by age). sessionctl lists those rows, judges each by its
//! linked OpenClaw session ([`classify`]), and ends orphans by the entry's assignments
//! ([`store`]), journaled and undone like a built-in backend's rows.

pub mod classify;
pub mod config;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::linked::{id_text, id_value};
use super::{columns, lenient_i64, lenient_string, open_read_only, sane_ms, tables};
use crate::config::Config;
use crate::model::{Backend, Detail, Problem, Reason, Session, StoreKind, VerdictKind};
pub use classify::{classify_sql, SqlRow};
use config::Entry;
use store::{q, SqlRows};

/// The details of one `sql` row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SqlDetail {
    /// The `[[backend.sql]]` entry's name.
    pub name: String,
    pub table: String,
    /// The id column's value (a number or a string).
    pub row_id: Value,
    /// The key column's text, when `key_pattern` derived the key from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_value: Option<String>,
    /// The epoch ms a `{ms}` in the key pattern held.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timefmt::ser_opt_ms"
    )]
    pub linked_at: Option<i64>,
    /// How the entry ends a row.
    #[serde(skip)]
    pub rows: Arc<SqlRows>,
}

/// One entry as read.
#[derive(Debug)]
pub struct SqlScan {
    pub name: String,
    pub db: PathBuf,
    pub rows: Vec<(Session, SqlRow, Option<String>)>,
    pub problems: Vec<Problem>,
}

fn problem(path: &Path, message: impl Into<String>) -> Problem {
    Problem {
        backend: Backend::Sql,
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The entries of the config file (a problem for a config that declares them wrongly).
pub fn entries(cfg: &Config) -> (Vec<Entry>, Option<Problem>) {
    let (path, explicit) = &cfg.config_file;
    match config::read(path, *explicit, cfg.env.home().as_deref()) {
        Ok(e) => (e, None),
        Err(m) => (Vec::new(), Some(problem(path, m))),
    }
}

/// The databases the config declares, for the locks and hot-journal recovery of `close`.
pub fn databases(cfg: &Config) -> Vec<PathBuf> {
    entries(cfg).0.into_iter().map(|e| e.database).collect()
}

/// Read every entry's active rows; one entry's problem never hides another's rows.
pub fn scan(cfg: &Config) -> (Vec<SqlScan>, Vec<Problem>) {
    let (entries, p) = entries(cfg);
    let scans = entries.iter().map(read_entry).collect();
    (scans, p.into_iter().collect())
}

/// Read every entry (see [`super::linked::Read`]).
pub fn read(cfg: &Config, _host: &crate::probe::Host) -> super::linked::Read {
    let (scans, problems) = scan(cfg);
    let mut out = super::linked::Read {
        problems,
        ..Default::default()
    };
    for mut scan in scans {
        out.notes
            .push(format!("sql: {}: {}", scan.name, scan.db.display()));
        out.problems.append(&mut scan.problems);
        out.scans.push(Box::new(scan));
    }
    out
}

impl super::linked::Scan for SqlScan {
    fn backend(&self) -> Backend {
        Backend::Sql
    }

    fn keys(&self) -> Vec<Option<&str>> {
        self.rows.iter().map(|(_, _, k)| k.as_deref()).collect()
    }

    fn judge(
        &mut self,
        upstream: &super::linked::Upstreams,
        _facts: &crate::classify::HostFacts,
        _opts: &crate::classify::Options,
    ) -> Vec<Session> {
        super::linked::judge_rows(std::mem::take(&mut self.rows), upstream, classify_sql)
    }
}

fn read_entry(e: &Entry) -> SqlScan {
    let mut scan = SqlScan {
        name: e.name.clone(),
        db: e.database.clone(),
        rows: Vec::new(),
        problems: Vec::new(),
    };
    if let Err(m) = read_rows(e, &mut scan.rows) {
        scan.rows.clear();
        scan.problems.push(problem(
            &e.database,
            format!("backend.sql `{}`: {m}", e.name),
        ));
    }
    scan
}

/// Check the entry's table and columns against the database itself, then read its active
/// rows. Err: one line (the caller names the entry).
fn read_rows(e: &Entry, out: &mut Vec<(Session, SqlRow, Option<String>)>) -> Result<(), String> {
    let conn = open_read_only(&e.database)?;
    if !tables(&conn)?.contains(&e.table) {
        return Err(format!("no table `{}` in the database", e.table));
    }
    let cols = columns(&conn, &e.table)?;
    let mut named: Vec<(&str, &str)> = vec![
        ("id_column", &e.id_column),
        ("key_column", &e.key_column),
        ("last_activity_column", &e.last_activity_column),
    ];
    named.extend(e.active.iter().map(|(c, _)| ("active", c.as_str())));
    named.extend(e.end.iter().map(|(c, _)| ("end", c.as_str())));
    if let Some((what, c)) = named.iter().find(|(_, c)| !cols.iter().any(|x| x == c)) {
        return Err(format!(
            "table `{}` has no column `{c}` ({what}; it has {})",
            e.table,
            cols.join(", ")
        ));
    }
    let rows_spec = Arc::new(SqlRows::of(e));
    let cond: Vec<String> = e
        .active
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{} = ?{}", q(c), i + 1))
        .collect();
    let sql = format!(
        "SELECT {}, {}, {} FROM {} WHERE {} ORDER BY {}",
        q(&e.id_column),
        q(&e.key_column),
        q(&e.last_activity_column),
        q(&e.table),
        cond.join(" AND "),
        q(&e.id_column)
    );
    let status = e
        .active
        .first()
        .map(|(_, v)| id_text(v))
        .unwrap_or_default();
    let args = e.active.iter().map(|(_, v)| super::linked::sql_value(v));
    let scale = if e.last_activity_seconds { 1000 } else { 1 };
    let mut st = conn.prepare(&sql).map_err(|e| super::sqlite_message(&e))?;
    let mut rows = st
        .query(rusqlite::params_from_iter(args))
        .map_err(|e| super::sqlite_message(&e))?;
    while let Some(r) = rows.next().map_err(|e| super::sqlite_message(&e))? {
        let get = |i| r.get_ref(i).map_err(|e| super::sqlite_message(&e));
        let Some(row_id) = id_value(get(0)?) else {
            continue;
        };
        let raw = lenient_string(get(1)?).filter(|k| !k.is_empty());
        let (key, linked_at) = match (&e.key_pattern, &raw) {
            (Some(p), Some(v)) => p.apply(v).map_or((None, None), |(k, ms)| (Some(k), ms)),
            (None, Some(v)) => (Some(v.clone()), None),
            (_, None) => (None, None),
        };
        let last = sane_ms(lenient_i64(get(2)?).and_then(|v| v.checked_mul(scale)));
        let session = Session {
            backend: Backend::Sql,
            id: format!("{}:{}", e.name, id_text(&row_id)),
            session_key: key.clone(),
            content_session_id: None,
            status: status.clone(),
            store: e.database.clone(),
            store_kind: StoreKind::Sql,
            started_at: None,
            last_activity_at: last,
            verdict: VerdictKind::Unknown,
            reason: Reason::Unverifiable,
            summary: String::new(),
            evidence: Vec::new(),
            detail: Detail::Sql(SqlDetail {
                name: e.name.clone(),
                table: e.table.clone(),
                row_id,
                key_value: raw.filter(|_| e.key_pattern.is_some()),
                linked_at,
                rows: rows_spec.clone(),
            }),
        };
        out.push((
            session,
            SqlRow {
                linked: key.is_some(),
            },
            key,
        ));
    }
    Ok(())
}
