//! `[[backend.sql]]` entries of the config file: each declares a table of "active" rows
//! that name an OpenClaw session key. Checked here as far as the text allows (names,
//! values, assignments); the table and its columns are checked against the database
//! itself (`PRAGMA table_info`) when it is read.
//!
//! ```toml
//! [[backend.sql]]
//! name = "runs"                    # label prefix: runs:<id>
//! database = "~/app/runs.db"
//! table = "agent_runs"
//! id_column = "run_id"
//! key_column = "session_key"
//! key_pattern = "{key}"            # optional: e.g. "openclaw-{key}-{ms}"
//! last_activity_column = "touched_s"
//! last_activity_unit = "s"         # "ms" (default) or "s"
//! active = { state = "running" }   # column = value, all must hold
//! end = { state = "ended", ended_at = "now_s" }   # constants, now_ms, now_s, now_iso
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// One `[[backend.sql]]` entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub database: PathBuf,
    pub table: String,
    pub id_column: String,
    pub key_column: String,
    pub key_pattern: Option<Pattern>,
    /// `column = value` pairs that all hold for an active row (values bound, never spliced).
    pub active: Vec<(String, Value)>,
    pub last_activity_column: String,
    /// The last-activity column holds seconds (else milliseconds).
    pub last_activity_seconds: bool,
    /// What ending a row writes.
    pub end: Vec<(String, Assign)>,
}

/// A value an end writes into a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Assign {
    Const(Value),
    /// The run's time in epoch milliseconds.
    NowMs,
    /// The run's time in epoch seconds.
    NowS,
    /// The run's time as ISO 8601 (`2026-11-25T20:17:45.060Z`).
    NowIso,
}

impl Assign {
    pub fn value(&self, now: i64) -> Value {
        match self {
            Assign::Const(v) => v.clone(),
            Assign::NowMs => Value::from(now),
            Assign::NowS => Value::from(now.div_euclid(1000)),
            Assign::NowIso => Value::from(crate::timefmt::iso_ms(now)),
        }
    }
}

/// How a column's text yields the OpenClaw session key: literal text around one `{key}`,
/// and at most one `{ms}` (13 digits, the epoch ms the row was linked at).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Key,
    Ms,
}

impl Pattern {
    pub fn parse(p: &str) -> Result<Pattern, String> {
        let mut parts = Vec::new();
        let mut rest = p;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("key_pattern `{p}`: `{{` without `}}`"))?;
                    parts.push(match &rest[..=end] {
                        "{key}" => Part::Key,
                        "{ms}" => Part::Ms,
                        other => {
                            return Err(format!(
                                "key_pattern `{p}`: unknown placeholder {other} (only {{key}} and {{ms}})"
                            ))
                        }
                    });
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(Part::Lit(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(Part::Lit(rest.to_string()));
                    rest = "";
                }
            }
        }
        let count = |x: &Part| parts.iter().filter(|p| *p == x).count();
        if count(&Part::Key) != 1 {
            return Err(format!("key_pattern `{p}` must hold {{key}} exactly once"));
        }
        if count(&Part::Ms) > 1 {
            return Err(format!("key_pattern `{p}` may hold {{ms}} once at most"));
        }
        Ok(Pattern { parts })
    }

    /// The key (and the `{ms}` time) a value holds, or None when it does not fit. Parts
    /// before `{key}` are matched from the start, parts after it from the end: a key may
    /// hold any character, the literal text around it included.
    pub fn apply(&self, v: &str) -> Option<(String, Option<i64>)> {
        let k = self.parts.iter().position(|p| *p == Part::Key)?;
        let mut ms = None;
        let mut s = v;
        for p in &self.parts[..k] {
            s = match p {
                Part::Lit(l) => s.strip_prefix(l.as_str())?,
                Part::Ms => {
                    let (d, r) = (s.get(..13)?, &s[13..]);
                    ms = Some(digits(d)?);
                    r
                }
                Part::Key => unreachable!(),
            };
        }
        for p in self.parts[k + 1..].iter().rev() {
            s = match p {
                Part::Lit(l) => s.strip_suffix(l.as_str())?,
                Part::Ms => {
                    let cut = s.len().checked_sub(13)?;
                    let d = s.get(cut..)?;
                    ms = Some(digits(d)?);
                    &s[..cut]
                }
                Part::Key => unreachable!(),
            };
        }
        (!s.is_empty()).then(|| (s.to_string(), ms))
    }
}

fn digits(d: &str) -> Option<i64> {
    (d.len() == 13 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| d.parse().ok())
        .flatten()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    #[serde(default)]
    sql: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: Option<String>,
    database: Option<String>,
    table: Option<String>,
    id_column: Option<String>,
    key_column: Option<String>,
    key_pattern: Option<String>,
    active: Option<toml::Table>,
    last_activity_column: Option<String>,
    last_activity_unit: Option<String>,
    end: Option<toml::Table>,
}

/// Is `name` a backend's name or label prefix? A label `<name>:<id>` could not be told
/// apart from that backend's.
fn reserved(name: &str) -> bool {
    crate::backend::all().any(|d| d.name == name || d.label == Some(name))
}

/// The entries of a config file's `backend` table. Err: one line naming the entry (its
/// name, else its number) and what is wrong.
pub fn parse(backend: &toml::Value, home: Option<&Path>) -> Result<Vec<Entry>, String> {
    let raw: RawBackend = backend
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| format!("backend: {}", e.message()))?;
    let mut out: Vec<Entry> = Vec::new();
    for (i, r) in raw.sql.into_iter().enumerate() {
        let which = match &r.name {
            Some(n) => format!("backend.sql `{n}`"),
            None => format!("backend.sql #{}", i + 1),
        };
        let e = entry(r, home).map_err(|m| format!("{which}: {m}"))?;
        if out.iter().any(|o| o.name == e.name) {
            return Err(format!("{which}: defined twice"));
        }
        out.push(e);
    }
    Ok(out)
}

fn entry(r: RawEntry, home: Option<&Path>) -> Result<Entry, String> {
    let need = |v: Option<String>, what: &str| -> Result<String, String> {
        match v {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(format!("{what} is empty")),
            None => Err(format!("{what} is missing")),
        }
    };
    let name = need(r.name, "name")?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        || !name.as_bytes()[0].is_ascii_alphanumeric()
    {
        return Err(
            "name must be lowercase letters, digits, `-` and `_`, starting with a letter or digit"
                .into(),
        );
    }
    if reserved(&name) {
        return Err(format!(
            "name `{name}` is taken: its labels would read as another backend's"
        ));
    }
    let database = super::super::expand_home(&need(r.database, "database")?, home);
    let table = need(r.table, "table")?;
    let id_column = need(r.id_column, "id_column")?;
    let key_column = need(r.key_column, "key_column")?;
    let key_pattern = r.key_pattern.as_deref().map(Pattern::parse).transpose()?;
    let last_activity_column = need(r.last_activity_column, "last_activity_column")?;
    let last_activity_seconds = match r.last_activity_unit.as_deref() {
        None | Some("ms") => false,
        Some("s") => true,
        Some(u) => {
            return Err(format!(
                "last_activity_unit must be \"ms\" or \"s\", not \"{u}\""
            ))
        }
    };
    let active = r.active.ok_or("active is missing (column = value pairs)")?;
    if active.is_empty() {
        return Err("active is empty: without a condition every row would be active".into());
    }
    let active: Vec<(String, Value)> = active
        .into_iter()
        .map(|(c, v)| {
            Ok((
                c.clone(),
                scalar(&v).ok_or(format!("active.{c}: {}", not_scalar(&v)))?,
            ))
        })
        .collect::<Result<_, String>>()?;
    let end = r.end.ok_or("end is missing (column = value pairs)")?;
    let end: Vec<(String, Assign)> = end
        .into_iter()
        .map(|(c, v)| {
            let a = match v.as_str() {
                Some("now_ms") => Assign::NowMs,
                Some("now_s") => Assign::NowS,
                Some("now_iso") => Assign::NowIso,
                _ => Assign::Const(scalar(&v).ok_or(format!("end.{c}: {}", not_scalar(&v)))?),
            };
            Ok((c, a))
        })
        .collect::<Result<_, String>>()?;
    // An end must make the row inactive, or it would be found active (and ended) again.
    let ends_it = end
        .iter()
        .any(|(c, a)| match active.iter().find(|(ac, _)| ac == c) {
            Some((_, v)) => *a != Assign::Const(v.clone()),
            None => false,
        });
    if !ends_it {
        return Err(format!(
            "end must change a column of the active condition ({}) to another value, or ended rows would stay active",
            active
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Entry {
        name,
        database,
        table,
        id_column,
        key_column,
        key_pattern,
        active,
        last_activity_column,
        last_activity_seconds,
        end,
    })
}

/// A TOML string, integer, float or boolean as JSON (what binds as an SQLite value).
fn scalar(v: &toml::Value) -> Option<Value> {
    match v {
        toml::Value::String(s) => Some(Value::from(s.clone())),
        toml::Value::Integer(i) => Some(Value::from(*i)),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        toml::Value::Boolean(b) => Some(Value::from(*b)),
        _ => None,
    }
}

fn not_scalar(v: &toml::Value) -> String {
    format!(
        "a {} is not a value (a string, number or boolean, or now_ms, now_s, now_iso)",
        v.type_str()
    )
}

/// Read the `backend` table of the config file `path`. Ok(None): no file where the default
/// is looked for, or no `backend` table. A file that is not TOML is left to the config
/// loader's own error, unless it is about backends.
pub fn read(path: &Path, explicit: bool, home: Option<&Path>) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "cannot read: {}",
                super::super::openclaw::io_msg(&e)
            ))
        }
    };
    let doc: toml::Table = match toml::from_str(&text) {
        Ok(d) => d,
        Err(e) if text.contains("backend") => {
            return Err(format!("not valid TOML: {}", e.message()))
        }
        Err(_) => return Ok(Vec::new()),
    };
    let mut entries = match doc.get("backend") {
        Some(b) => parse(b, home)?,
        None => return Ok(Vec::new()),
    };
    // A relative database is the config file's neighbour, wherever sessionctl runs from
    // (systemd runs it from `/`).
    let dir = path.parent().unwrap_or(Path::new("."));
    for e in &mut entries {
        if e.database.is_relative() {
            e.database = dir.join(&e.database);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(t: &str) -> Result<Vec<Entry>, String> {
        let doc: toml::Table = toml::from_str(t).unwrap();
        parse(&doc["backend"], Some(Path::new("/home/u")))
    }

    const GOOD: &str = r#"
[[backend.sql]]
name = "runs"
database = "~/app/runs.db"
table = "agent_runs"
id_column = "run_id"
key_column = "session_key"
last_activity_column = "touched_s"
last_activity_unit = "s"
active = { state = "running" }
end = { state = "ended", ended_at = "now_s", note = "closed by sessionctl" }
"#;

    #[test]
    fn a_full_entry_reads_as_written() {
        let e = &parse_text(GOOD).unwrap()[0];
        assert_eq!(e.name, "runs");
        assert_eq!(e.database, PathBuf::from("/home/u/app/runs.db"));
        assert_eq!(e.active, vec![("state".into(), Value::from("running"))]);
        assert!(e.last_activity_seconds);
        assert!(e.end.contains(&("ended_at".into(), Assign::NowS)));
        assert!(e
            .end
            .contains(&("note".into(), Assign::Const("closed by sessionctl".into()))));
        assert_eq!(
            Assign::NowS.value(1_795_650_000_999),
            Value::from(1_795_650_000)
        );
        assert_eq!(
            Assign::NowIso.value(1_795_650_000_999),
            Value::from(crate::timefmt::iso_ms(1_795_650_000_999))
        );
    }

    #[test]
    fn each_mistake_is_one_line_naming_the_entry() {
        let cases = [
            ("name = \"runs\"", "name = \"cm\"", "backend.sql `cm`: name `cm` is taken"),
            ("table = \"agent_runs\"\n", "", "backend.sql `runs`: table is missing"),
            (
                "end = { state = \"ended\", ended_at = \"now_s\", note = \"closed by sessionctl\" }",
                "end = { ended_at = \"now_s\" }",
                "backend.sql `runs`: end must change a column of the active condition (state)",
            ),
            (
                "end = { state = \"ended\", ended_at = \"now_s\", note = \"closed by sessionctl\" }",
                "end = { state = \"running\" }",
                "backend.sql `runs`: end must change",
            ),
            (
                "end = { state = \"ended\", ended_at = \"now_s\", note = \"closed by sessionctl\" }",
                "end = { state = [1] }",
                "backend.sql `runs`: end.state: a array is not a value",
            ),
            (
                "last_activity_unit = \"s\"",
                "last_activity_unit = \"h\"",
                "backend.sql `runs`: last_activity_unit must be \"ms\" or \"s\", not \"h\"",
            ),
            (
                "table = \"agent_runs\"",
                "table = \"agent_runs\"\nkey_pattern = \"x-{id}\"",
                "backend.sql `runs`: key_pattern `x-{id}`: unknown placeholder {id}",
            ),
            (
                "active = { state = \"running\" }",
                "active = {}",
                "backend.sql `runs`: active is empty",
            ),
            ("name = \"runs\"\n", "", "backend.sql #1: name is missing"),
            ("table = \"agent_runs\"", "tabel = \"x\"", "backend: unknown field `tabel`"),
        ];
        for (from, to, want) in cases {
            let t = GOOD.replacen(from, to, 1);
            let err = parse_text(&t).unwrap_err();
            assert!(err.starts_with(want), "{from} -> {to}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let twice = format!("{GOOD}{GOOD}");
        assert_eq!(
            parse_text(&twice).unwrap_err(),
            "backend.sql `runs`: defined twice"
        );
    }

    #[test]
    fn a_relative_database_is_beside_the_config_file() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("config.toml");
        std::fs::write(&cfg, GOOD.replace("~/app/runs.db", "data/runs.db")).unwrap();
        let e = read(&cfg, true, Some(Path::new("/home/u"))).unwrap();
        assert_eq!(e[0].database, d.path().join("data/runs.db"));
        assert_eq!(read(&d.path().join("none.toml"), false, None), Ok(vec![]));
        assert!(read(&d.path().join("none.toml"), true, None)
            .unwrap_err()
            .starts_with("cannot read"));
        std::fs::write(&cfg, "[[backend.sql]\nname = 1").unwrap();
        assert!(read(&cfg, true, None)
            .unwrap_err()
            .starts_with("not valid TOML"));
    }

    #[test]
    fn patterns_yield_the_key_and_time() {
        let p = Pattern::parse("openclaw-{key}-{ms}").unwrap();
        assert_eq!(
            p.apply("openclaw-agent:main:e2e-slow-1764100000000"),
            Some(("agent:main:e2e-slow".into(), Some(1_764_100_000_000)))
        );
        assert_eq!(p.apply("openclaw-agent:main:x-176410000000"), None);
        assert_eq!(p.apply("other-agent:main:x-1764100000000"), None);
        assert_eq!(p.apply("openclaw--1764100000000"), None);
        let p = Pattern::parse("{key}").unwrap();
        assert_eq!(p.apply("agent:main:a"), Some(("agent:main:a".into(), None)));
        let p = Pattern::parse("run/{ms}/{key}").unwrap();
        assert_eq!(
            p.apply("run/1764100000000/agent:x:y"),
            Some(("agent:x:y".into(), Some(1_764_100_000_000)))
        );
        assert!(Pattern::parse("{key}{key}").is_err());
        assert!(Pattern::parse("x").is_err());
        assert!(Pattern::parse("{key").is_err());
    }
}
