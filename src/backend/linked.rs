//! What every linked-row backend shares. OpenClaw is the upstream: it owns sessions,
//! gateways and their lifetimes. A linked-row (downstream) backend keeps rows that name an
//! OpenClaw session key — a table its own program keeps, or any table declared as a
//! `[[backend.sql]]` — and each row is judged first by that session
//! ([`crate::classify::upstream_first`]), ended by assignments in one SQLite transaction
//! per store, and restored from the priors its journal intent holds.
//!
//! A backend says how its rows are written through [`RowStore`]; `close` plans, journals,
//! executes and undoes them without knowing which backend they belong to.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use serde_json::Value;

use crate::backend::write::Change;
use crate::backend::Missing;
use crate::classify::{HostFacts, Options, Upstream};
use crate::config::Config;
use crate::doctor::Finding;
use crate::journal::{Intent, Kind};
use crate::model::{Evidence, Problem, Session, Verdict};
use crate::scan::Report;

/// Session key -> the verdict and start of its running OpenClaw session, or its ended
/// status, across state dirs.
pub type Upstreams = HashMap<String, (Upstream, Option<i64>)>;

/// What one linked-row backend read: its stores (each with rows waiting for their
/// upstream), what it looked for and did not find, and the `-v` notes of where it looked.
#[derive(Default)]
pub struct Read {
    pub scans: Vec<Box<dyn Scan>>,
    pub problems: Vec<Problem>,
    pub missing: Vec<Missing>,
    pub notes: Vec<String>,
}

/// One store of a linked-row backend as read, before and after its rows are judged.
pub trait Scan: Send + Sync {
    fn backend(&self) -> super::Backend;
    /// The OpenClaw session keys its rows name, as stored.
    fn keys(&self) -> Vec<Option<&str>>;
    /// Judge every row by its linked session (`upstream`) and the backend's own evidence,
    /// and hand the rows over, in the order they were read.
    fn judge(&mut self, upstream: &Upstreams, facts: &HostFacts, opts: &Options) -> Vec<Session>;
    /// `doctor`'s findings about this store and its programs.
    fn doctor(&self, _cfg: &Config, _r: &Report, _out: &mut Vec<Finding>) {}
    /// Its workers for `gateways`: as JSON (under the backend's `workers_key`), and as text.
    fn workers(&self) -> Option<(serde_json::Value, String)> {
        None
    }
}

/// `rows` judged by `classify`, each by its linked session first.
pub fn judge_rows<R>(
    rows: Vec<(Session, R, Option<String>)>,
    upstream: &Upstreams,
    classify: impl Fn(&R, &Upstream) -> (Verdict, Vec<Evidence>),
) -> Vec<Session> {
    rows.into_iter()
        .map(|(mut s, row, key)| {
            let up = upstream_of(key.as_deref(), s.detail.linked_at(), upstream);
            let (v, ev) = classify(&row, &up);
            s.set_verdict(v);
            s.evidence = ev;
            s
        })
        .collect()
}

/// The rows to end, each with the prior read for its intent (when there is one).
pub type ToEnd<'a> = [(&'a Value, Option<&'a Value>)];
/// Each row's change, in the order asked, or the store's error for all of them.
pub type Ended = Result<Vec<Change>, String>;
/// One row's change, or why it could not be made.
pub type Restored = Result<Change, String>;

/// How one backend's rows are ended and restored. Row ids are JSON values (a number or a
/// string), bound back as the SQLite value they were read as.
pub trait RowStore: std::fmt::Debug + Send + Sync {
    /// The journal kind of ending one row (`<backend>-end`).
    fn kind(&self) -> Kind;
    /// Which rows of a database these are (a database may hold several tables that
    /// entries declare): rows of one store are ended in one transaction.
    fn store_id(&self) -> String;
    /// Where the rows are, beyond the database path, for the journal: what `journal undo`
    /// needs to find a row again without the config that named it. None: fixed by the
    /// backend (a built-in backend's own table).
    fn locator(&self, row: &Value) -> Option<Value>;
    /// A row as the dry run describes its end.
    fn describe(&self, db: &Path, row: &Value, now: i64) -> String;
    /// What the row holds now in the columns the end changes (None: it is gone).
    fn prior(&self, conn: &Connection, row: &Value) -> rusqlite::Result<Option<Value>>;
    /// [`RowStore::prior`] of many rows of one database, in their order: a backend may
    /// read them in one query.
    fn priors(&self, conn: &Connection, rows: &[&Value]) -> rusqlite::Result<Vec<Option<Value>>> {
        rows.iter().map(|r| self.prior(conn, r)).collect()
    }
    /// What the end writes, when known before the row is read.
    fn new_values(&self, now: i64) -> Value;
    /// The prior an intent names when the row cannot be read before acting.
    fn assumed_prior(&self) -> Option<Value> {
        None
    }
    /// End `rows` (each with the prior read for its intent, when there is one) in one
    /// transaction; a row that is no longer active, or changed since, is left alone.
    fn end(&self, db: &Path, rows: &ToEnd, now: i64) -> Ended;
    /// Does the row still hold what the end wrote (`new`)?
    fn holds(&self, db: &Path, row: &Value, new: &Value) -> Result<bool, String>;
    /// Put `prior` back where the row still holds `new`.
    fn restore(&self, db: &Path, row: &Value, prior: &Value, new: &Value) -> Restored;
}

/// One row's end, as `close` plans it.
#[derive(Debug, Clone)]
pub struct RowEnd {
    pub store: Arc<dyn RowStore>,
    pub db: std::path::PathBuf,
    pub row: Value,
}

/// The store and row a journaled end is about (a built-in backend's records carry the row
/// id as the session id; `sql-end` records carry a locator with table, columns and id).
pub fn from_intent(i: &Intent) -> Result<(Arc<dyn RowStore>, Value), String> {
    let Kind::RowEnd(backend) = i.kind else {
        return Err(format!("{} is not a row end", i.kind.name()));
    };
    let store = super::row_store(backend, i.row.as_ref())?;
    let row = match i.row.as_ref().and_then(|r| r.get("id")) {
        Some(id) => id.clone(),
        None => i
            .session
            .id
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "bad row id in journal".to_string())?,
    };
    Ok((store, row))
}

/// The OpenClaw session keys the linked rows name, as the scan needs them: `default` is no
/// session's own key.
pub fn linked_key(key: Option<&str>) -> Option<&str> {
    key.filter(|k| *k != "default")
}

/// What the linked OpenClaw session says for a row: `upstream` maps a key to its running
/// session's verdict and start (or its ended status). A key whose current session began
/// well after the row was created (`linked_at`, when the row's key carries it) belongs to
/// an earlier, ended session.
pub fn upstream_of(key: Option<&str>, linked_at: Option<i64>, upstream: &Upstreams) -> Upstream {
    let Some(k) = linked_key(key) else {
        return Upstream::NotLinked;
    };
    match upstream.get(k) {
        None => Upstream::NotFound,
        Some((Upstream::Running(_), Some(st))) if linked_at.is_some_and(|l| *st > l + 60_000) => {
            Upstream::Ended("replaced by a newer session".into())
        }
        Some((u, _)) => u.clone(),
    }
}

/// An SQLite value read from a row id column, as JSON (None: not an id).
pub fn id_value(v: rusqlite::types::ValueRef<'_>) -> Option<Value> {
    use rusqlite::types::ValueRef::*;
    match v {
        Integer(i) => Some(Value::from(i)),
        Text(t) => Some(Value::from(String::from_utf8_lossy(t).into_owned())),
        _ => None,
    }
}

/// A JSON scalar as the SQLite value it binds as.
pub fn sql_value(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Bool(b) => S::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => S::Integer(i),
            None => S::Real(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => S::Text(s.clone()),
        other => S::Text(other.to_string()),
    }
}

/// An SQLite value as JSON (blobs as their length: never written back).
pub fn json_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef::*;
    match v {
        Null => Value::Null,
        Integer(i) => Value::from(i),
        Real(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        Blob(b) => Value::from(format!("<blob of {} bytes>", b.len())),
    }
}

/// A JSON value as SQLite stores and returns it (`true` reads back as 1).
pub fn stored(v: &Value) -> Value {
    json_value((&sql_value(v)).into())
}

/// A row id as a person reads it (`42`, `run-7`).
pub fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
