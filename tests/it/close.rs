//! `close` end to end on the real captures: the 2026.7.35 (file store) and 2026.9.6
//! (SQLite store) after-kill states, each with a claude-mem 13.25.3 database whose rows
//! 3, 4, 5 are orphans (6 observer, 7 manual, 1, 2, 8 not active) and no worker. Hook
//! targets are a command that appends each payload as one line to `<sandbox>/cmd.jsonl`
//! and a loopback HTTP receiver ([`HttpStub::receiver`]).
//!
//! The scenario ([`Host`]) is shared with `close_faults.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

pub const SLOW_KEY: &str = "agent:main:e2e-slow";
pub const SLOW_ID_735: &str = "ae3ade86-9fb7-4837-a009-6fcc1c41c22b";
pub const SLOW_ID_96: &str = "b56abc17-9f9c-4e50-ab34-f5a9769de19c";
/// A session of the captures that finished (`done`) before the kill.
pub const E2E1_KEY: &str = "agent:main:e2e-1";
/// The other session of the captures that finished before the kill.
pub const E2E2_KEY: &str = "agent:main:e2e-2";
pub const TG_KEY: &str = "agent:main:telegram:direct:4242";
pub const DEFAULT_GROUP: &str = "openclaw-default-1764100600000";
pub const CM_VERSION: &str = "13.25.3";
/// The value of the HTTP target's Authorization header (read from `$HOOK_TOKEN`).
pub const HOOK_TOKEN: &str = "Bearer test-hook-token-7f3a";

// ---------------------------------------------------------------------------------------
// The scenario

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// 2026.7.35 after-kill: sessions.json, e2e-slow running with a dead owner's lock.
    File735,
    /// 2026.9.6 after-kill: openclaw-agent.sqlite (read through its WAL).
    Sqlite96,
}

impl Base {
    pub fn slow_id(self) -> &'static str {
        match self {
            Base::File735 => SLOW_ID_735,
            Base::Sqlite96 => SLOW_ID_96,
        }
    }

    /// e2e-1 and e2e-2 (key, sessionId): finished in the store, started by the gateway
    /// that was killed (7.35: pid 7288, 9.6: pid 6908), so owed the session_end its drain
    /// would have sent (the hook log has their session_start and no session_end).
    pub fn owed(self) -> [(&'static str, &'static str); 2] {
        match self {
            Base::File735 => [
                (E2E1_KEY, "585fb36c-7dbd-4f4f-ba32-cb269ac5e837"),
                (E2E2_KEY, "25e06c1d-b1e8-4c34-b699-5f2a6f363915"),
            ],
            Base::Sqlite96 => [
                (E2E1_KEY, "e4e13683-30f8-4078-a2a2-4c97f3180534"),
                (E2E2_KEY, "f840368b-0b26-47a3-b571-af417743b490"),
            ],
        }
    }
}

/// A hook target for the config file.
#[derive(Debug, Clone)]
pub enum T {
    Cmd {
        name: String,
        argv: Vec<String>,
        timeout: String,
    },
    Http {
        name: String,
        url: String,
        timeout: String,
        retries: u32,
    },
}

/// One sandbox: an OpenClaw after-kill copy plus a claude-mem data dir, a config file, a
/// journal, and `cmd.jsonl` for the command target.
pub struct Host {
    pub fx: Fixture,
    pub base: Base,
    /// The claude-mem data dir.
    pub cm: PathBuf,
    pub journal: PathBuf,
    pub config: PathBuf,
    /// Where the `rec` command target appends payloads.
    pub cmd_out: PathBuf,
}

impl Host {
    /// The scenario with the claude-mem DB in WAL mode, as the worker keeps it.
    pub fn new(base: Base) -> Host {
        Host::with_cm_journal_mode(base, "wal")
    }

    /// `mode`: `wal` or `delete` (rollback journal).
    pub fn with_cm_journal_mode(base: Base, mode: &str) -> Host {
        let fx = match base {
            Base::File735 => Fixture::openclaw("2026.7.35", "after-kill"),
            Base::Sqlite96 => Fixture::openclaw("2026.9.6", "after-kill"),
        };
        let root = fx.root().to_path_buf();
        let cm = root.join("cm");
        build_claude_mem(&cm, mode);
        let h = Host {
            cm,
            journal: root.join("xdg-state/sessionctl/journal.ndjson"),
            config: root.join("sessionctl.toml"),
            cmd_out: root.join("cmd.jsonl"),
            fx,
            base,
        };
        h.configure(&[]);
        h
    }

    pub fn root(&self) -> &Path {
        self.fx.root()
    }

    pub fn state(&self) -> PathBuf {
        self.fx.state()
    }

    pub fn cm_db(&self) -> PathBuf {
        self.cm.join("claude-mem.db")
    }

    pub fn sessions_dir(&self) -> PathBuf {
        self.state().join("agents/main/sessions")
    }

    /// 2026.7.35: sessions.json.
    pub fn sessions_json(&self) -> PathBuf {
        self.sessions_dir().join("sessions.json")
    }

    /// 2026.7.35: e2e-slow's transcript lock (names dead pid 7288).
    pub fn slow_lock(&self) -> PathBuf {
        self.sessions_dir()
            .join(format!("{SLOW_ID_735}.jsonl.lock"))
    }

    /// 2026.9.6: the agent database.
    pub fn agent_db(&self) -> PathBuf {
        self.state().join("agents/main/agent/openclaw-agent.sqlite")
    }

    /// The `rec` command target: `sh -c 'cat >> "$0"' <cmd.jsonl>`.
    pub fn rec(&self) -> T {
        self.cmd_target("rec", &["/bin/sh", "-c", "cat >> \"$0\""], "5s")
    }

    /// A command target; the path of `cmd.jsonl` is appended to `argv` (as `$0` of a
    /// `sh -c` script).
    pub fn cmd_target(&self, name: &str, argv: &[&str], timeout: &str) -> T {
        let mut argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        argv.push(self.cmd_out.to_string_lossy().into_owned());
        T::Cmd {
            name: name.into(),
            argv,
            timeout: timeout.into(),
        }
    }

    /// The `hook` HTTP target with an Authorization header from `$HOOK_TOKEN`.
    pub fn hook(&self, url: &str, timeout: &str, retries: u32) -> T {
        T::Http {
            name: "hook".into(),
            url: url.into(),
            timeout: timeout.into(),
            retries,
        }
    }

    /// Write the config file with these targets.
    pub fn configure(&self, targets: &[T]) {
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let mut text = String::new();
        for t in targets {
            match t {
                T::Cmd {
                    name,
                    argv,
                    timeout,
                } => {
                    let argv: Vec<String> = argv.iter().map(|a| q(a)).collect();
                    text.push_str(&format!(
                        "[[targets]]\nname = {}\ntype = \"command\"\nargv = [{}]\ntimeout = {}\n\n",
                        q(name),
                        argv.join(", "),
                        q(timeout)
                    ));
                }
                T::Http {
                    name,
                    url,
                    timeout,
                    retries,
                } => {
                    text.push_str(&format!(
                        "[[targets]]\nname = {}\ntype = \"http\"\nurl = {}\ntimeout = {}\nretries = {retries}\n[targets.headers]\nAuthorization = \"HOOK_TOKEN\"\n\n",
                        q(name),
                        q(url),
                        q(timeout)
                    ));
                }
            }
        }
        fs::write(&self.config, text).unwrap();
    }

    /// Global flags naming this sandbox's stores, config and journal, then `args`.
    pub fn args(&self, args: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--openclaw-state-dir".into(),
            self.state().to_string_lossy().into_owned(),
            "--claude-mem-dir".into(),
            self.cm.to_string_lossy().into_owned(),
            "--config".into(),
            self.config.to_string_lossy().into_owned(),
            "--journal".into(),
            self.journal.to_string_lossy().into_owned(),
        ];
        a.extend(args.iter().map(|s| s.to_string()));
        a
    }

    /// Run sessionctl with the global flags (and `$HOOK_TOKEN`).
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut e: Vec<(&str, &str)> = vec![("HOOK_TOKEN", HOOK_TOKEN)];
        e.extend_from_slice(env);
        self.fx.run(self.args(args), &e)
    }

    /// A `std::process::Command` for the same invocation (for signals and timing).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        self.fx
            .sandbox
            .command(self.args(args), &[("HOOK_TOKEN", HOOK_TOKEN)])
    }

    /// `close <args> --format json`, parsed.
    pub fn close_json(&self, args: &[&str]) -> (Out, Value) {
        self.close_json_env(args, &[])
    }

    pub fn close_json_env(&self, args: &[&str], env: &[(&str, &str)]) -> (Out, Value) {
        let mut a = vec!["close"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--format", "json"]);
        let out = self.run_env(&a, env);
        let v: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out:?}"));
        (out, v)
    }

    /// Make claude-mem row 3 the row of e2e-slow's current session: its content id
    /// `openclaw-<key>-<ms>` carries the session's start (as the plugin names it when
    /// the session starts). The fixture's row 3 is a year older than the OpenClaw capture,
    /// i.e. it belongs to an earlier session of the same key.
    pub fn link_row3_to_current_slow(&self) {
        let started = match self.base {
            Base::File735 => read_json(&self.sessions_json())[SLOW_KEY]["sessionStartedAt"]
                .as_i64()
                .expect("sessionStartedAt of e2e-slow"),
            Base::Sqlite96 => {
                let e: Value =
                    serde_json::from_str(&self.nodes()[SLOW_KEY].text("entry_json")).unwrap();
                e["sessionStartedAt"].as_i64().expect("sessionStartedAt")
            }
        };
        self.link_row(3, SLOW_KEY, started);
    }

    /// Give claude-mem row `id` the content id the plugin gives the session of `key` that
    /// started at `started` (epoch ms).
    pub fn link_row(&self, id: i64, key: &str, started: i64) {
        let conn = rusqlite::Connection::open(self.cm_db()).unwrap();
        let n = conn
            .execute(
                "UPDATE sdk_sessions SET content_session_id = ?1 WHERE id = ?2",
                rusqlite::params![format!("openclaw-{key}-{started}"), id],
            )
            .unwrap();
        assert_eq!(n, 1, "no claude-mem row {id}");
    }

    /// Payloads the `rec` command target received, one per line.
    pub fn cmd_lines(&self) -> Vec<Value> {
        match fs::read_to_string(&self.cmd_out) {
            Ok(text) => text
                .lines()
                .map(|l| {
                    serde_json::from_str(l)
                        .unwrap_or_else(|e| panic!("cmd.jsonl line is not JSON ({e}): {l:?}"))
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The owed session_end of e2e-1 / e2e-2 as the drain sends it: with `sessionFile` and
    /// `transcriptArchived: false` where the transcript exists (2026.7), without (2026.9).
    pub fn assert_owed_payload(&self, p: &Value, key: &str, reason: &str) {
        let sid = self
            .base
            .owed()
            .into_iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("{key} is not an owed session"))
            .1;
        match self.base {
            Base::File735 => assert_payload_with_transcript(
                p,
                key,
                sid,
                reason,
                &self.sessions_dir().join(format!("{sid}.jsonl")),
            ),
            Base::Sqlite96 => assert_payload(p, key, Some(sid), reason),
        }
    }

    /// Every sdk_sessions row, keyed by id, with all columns.
    pub fn cm_rows(&self) -> BTreeMap<i64, Row> {
        let conn = rusqlite::Connection::open(self.cm_db()).unwrap();
        by_first_column(query_rows(&conn, "SELECT * FROM sdk_sessions ORDER BY id"))
    }

    /// session_nodes rows of the 9.6 store, keyed by session_key (read-only, through the WAL).
    pub fn nodes(&self) -> BTreeMap<String, Row> {
        let conn = open_ro(&self.agent_db());
        query_rows(&conn, "SELECT * FROM session_nodes ORDER BY session_key")
            .into_iter()
            .map(|r| (r.text("session_key"), r))
            .collect()
    }

    /// session_windows rows of the 9.6 store, keyed by session_id.
    pub fn windows(&self) -> BTreeMap<String, Row> {
        let conn = open_ro(&self.agent_db());
        query_rows(&conn, "SELECT * FROM session_windows ORDER BY session_id")
            .into_iter()
            .map(|r| (r.text("session_id"), r))
            .collect()
    }

    /// The journal's lines that parse as JSON.
    pub fn journal_lines(&self) -> Vec<Value> {
        fs::read(&self.journal)
            .map(|b| {
                b.split(|c| *c == b'\n')
                    .filter_map(|l| serde_json::from_slice(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Outcome lines of the journal whose action starts with `prefix`.
    pub fn outcomes(&self, prefix: &str) -> Vec<Value> {
        self.journal_lines()
            .into_iter()
            .filter(|l| {
                l["type"] == "outcome"
                    && l["action"].as_str().is_some_and(|a| a.starts_with(prefix))
            })
            .collect()
    }
}

/// `<cm>/claude-mem.db` from the real 13.25.3 schema and the shared orphan rows.
fn build_claude_mem(cm: &Path, mode: &str) {
    drop(build_claude_mem_db(cm, CM_VERSION, Some(mode)));
}

pub fn open_ro(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{}: {e}", db.display()))
}

/// One database row: (column, value) in column order, values in their SQLite types.
#[derive(Clone, PartialEq)]
pub struct Row(pub Vec<(String, rusqlite::types::Value)>);

/// Compact: long texts are cut, with their length and a hash so that differences show.
impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use rusqlite::types::Value as V;
        let mut m = f.debug_map();
        for (c, v) in &self.0 {
            match v {
                V::Text(t) if t.chars().count() > 60 => {
                    let hash = t.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
                    });
                    let head: String = t.chars().take(60).collect();
                    m.entry(
                        c,
                        &format_args!("{head:?}… ({} chars, fnv {hash:016x})", t.chars().count()),
                    );
                }
                V::Text(t) => {
                    m.entry(c, t);
                }
                V::Integer(i) => {
                    m.entry(c, i);
                }
                V::Null => {
                    m.entry(c, &format_args!("NULL"));
                }
                other => {
                    m.entry(c, other);
                }
            }
        }
        m.finish()
    }
}

impl Row {
    pub fn get(&self, col: &str) -> &rusqlite::types::Value {
        &self
            .0
            .iter()
            .find(|(c, _)| c == col)
            .unwrap_or_else(|| panic!("no column {col} in {self:?}"))
            .1
    }

    pub fn text(&self, col: &str) -> String {
        match self.get(col) {
            rusqlite::types::Value::Text(s) => s.clone(),
            v => panic!("{col} is not text: {v:?}"),
        }
    }

    pub fn int(&self, col: &str) -> Option<i64> {
        match self.get(col) {
            rusqlite::types::Value::Integer(i) => Some(*i),
            rusqlite::types::Value::Null => None,
            v => panic!("{col} is not an integer: {v:?}"),
        }
    }

    /// The row without these columns.
    pub fn without(&self, cols: &[&str]) -> Row {
        Row(self
            .0
            .iter()
            .filter(|(c, _)| !cols.contains(&c.as_str()))
            .cloned()
            .collect())
    }
}

/// Assert two rows are equal, naming the columns that differ.
pub fn assert_row_eq(got: &Row, want: &Row, what: &str) {
    if got == want {
        return;
    }
    let diffs: Vec<String> = want
        .0
        .iter()
        .map(|(c, w)| {
            let g = got.0.iter().find(|(gc, _)| gc == c).map(|(_, v)| v);
            (c, w, g)
        })
        .filter(|(_, w, g)| Some(*w) != *g)
        .map(|(c, w, g)| format!("{c}: {g:?}, expected {w:?}"))
        .collect();
    panic!(
        "{what}: columns differ:\n  {}\nrow: {got:?}",
        diffs.join("\n  ")
    );
}

pub fn query_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Row> {
    let mut st = conn.prepare(sql).unwrap();
    let cols: Vec<String> = st.column_names().iter().map(|c| c.to_string()).collect();
    st.query_map([], |r| {
        Ok(Row(cols
            .iter()
            .enumerate()
            .map(|(i, c)| Ok((c.clone(), r.get::<_, rusqlite::types::Value>(i)?)))
            .collect::<rusqlite::Result<Vec<_>>>()?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn by_first_column(rows: Vec<Row>) -> BTreeMap<i64, Row> {
    rows.into_iter()
        .map(|r| match &r.0[0].1 {
            rusqlite::types::Value::Integer(i) => (*i, r),
            v => panic!("first column is not an integer id: {v:?}"),
        })
        .collect()
}

/// The item of a close/dry-run document for `group`.
pub fn item<'a>(doc: &'a Value, group: &str) -> &'a Value {
    let items = doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {doc:#}"));
    let found: Vec<&Value> = items.iter().filter(|i| i["group"] == group).collect();
    assert_eq!(found.len(), 1, "expected one item {group} in {doc:#}");
    found[0]
}

pub fn groups(doc: &Value) -> BTreeSet<String> {
    doc["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {doc:#}"))
        .iter()
        .map(|i| i["group"].as_str().unwrap().to_string())
        .collect()
}

/// The actions of an item of kind `kind` (and, for deliveries, to `target`).
pub fn actions<'a>(item: &'a Value, kind: &str, target: Option<&str>) -> Vec<&'a Value> {
    item["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions in {item:#}"))
        .iter()
        .filter(|a| a["kind"] == kind && target.is_none_or(|t| a["target"] == t))
        .collect()
}

/// The one action of `kind` (to `target`); panics unless there is exactly one.
pub fn action<'a>(item: &'a Value, kind: &str, target: Option<&str>) -> &'a Value {
    let found = actions(item, kind, target);
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} action ({target:?}) in {item:#}"
    );
    found[0]
}

/// How many received payloads (command lines or HTTP bodies) name each session key.
pub fn per_key(payloads: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in payloads {
        let k = p["event"]["sessionKey"]
            .as_str()
            .unwrap_or_else(|| panic!("payload without event.sessionKey: {p}"))
            .to_string();
        *m.entry(k).or_default() += 1;
    }
    m
}

/// One payload per group that has a session key: e2e-slow and telegram:direct:4242.
pub fn one_each() -> BTreeMap<String, usize> {
    BTreeMap::from([(SLOW_KEY.to_string(), 1), (TG_KEY.to_string(), 1)])
}

/// [`one_each`] plus one payload for each owed finished session (e2e-1, e2e-2).
pub fn one_each_and_owed() -> BTreeMap<String, usize> {
    let mut m = one_each();
    m.extend([E2E1_KEY, E2E2_KEY].map(|k| (k.to_string(), 1)));
    m
}

pub fn status(rows: &BTreeMap<i64, Row>, id: i64) -> String {
    rows[&id].text("status")
}

/// The claude-mem rows 3, 4, 5 ended as the worker's markSessionCompleted ends them, at
/// an instant in `[t0, t1]`; every other column of them, and every other row, unchanged.
pub fn assert_cm_closed(
    before: &BTreeMap<i64, Row>,
    after: &BTreeMap<i64, Row>,
    closed: &[i64],
    t0: i64,
    t1: i64,
) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (id, row) in after {
        if !closed.contains(id) {
            assert_eq!(row, &before[id], "claude-mem row {id} must be untouched");
            continue;
        }
        assert_eq!(row.text("status"), "completed", "row {id}: {row:?}");
        let at = row.text("completed_at");
        assert!(
            is_iso_ms(&at),
            "row {id}: completed_at {at:?} is not YYYY-MM-DDTHH:MM:SS.mmmZ"
        );
        let epoch = row
            .int("completed_at_epoch")
            .expect("completed_at_epoch set");
        assert_eq!(
            parse_iso_ms(&at),
            epoch,
            "row {id}: completed_at and completed_at_epoch name different instants"
        );
        assert!(
            (t0..=t1).contains(&epoch),
            "row {id}: completed_at_epoch {epoch} not within the run [{t0}, {t1}]"
        );
        let cols = ["status", "completed_at", "completed_at_epoch"];
        assert_eq!(
            row.without(&cols),
            before[id].without(&cols),
            "row {id}: only status/completed_at/completed_at_epoch may change"
        );
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly.
pub fn is_iso_ms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The JSON type of a value, for shape comparisons.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shape(obj: &Value) -> BTreeMap<String, &'static str> {
    obj.as_object()
        .unwrap_or_else(|| panic!("not an object: {obj}"))
        .iter()
        .map(|(k, v)| (k.clone(), json_type(v)))
        .collect()
}

/// The real 2026.7.35 drain's session_end payloads (`graceful/session_end.jsonl`).
fn real_drain() -> Vec<Value> {
    let p = openclaw_snapshot("2026.7.35", "graceful").join("session_end.jsonl");
    fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A payload has exactly the keys and JSON types of the real drain's payload for a
/// session without a transcript file (minus sessionId when none is known), and the values
/// expected for `key`/`sid`.
pub fn assert_payload(p: &Value, key: &str, sid: Option<&str>, reason: &str) {
    let drain = real_drain();
    let reference = drain
        .iter()
        .find(|l| l["event"].get("sessionFile").is_none())
        .expect("a drained session without a transcript in session_end.jsonl");
    assert!(
        drain
            .iter()
            .any(|l| l["event"]["transcriptArchived"] == false
                && l["event"]["sessionFile"].is_string()),
        "the reference capture also shows the transcript variant"
    );
    let mut event = shape(&reference["event"]);
    let mut ctx = shape(&reference["ctx"]);
    assert_eq!(
        event.keys().map(String::as_str).collect::<Vec<_>>(),
        ["messageCount", "reason", "sessionId", "sessionKey"]
    );
    assert_eq!(
        ctx.keys().map(String::as_str).collect::<Vec<_>>(),
        ["agentId", "sessionId", "sessionKey"]
    );
    if sid.is_none() {
        event.remove("sessionId");
        ctx.remove("sessionId");
    }
    let top: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["ctx", "event"]), "payload {p}");
    assert_eq!(shape(&p["event"]), event, "event keys/types of {p}");
    assert_eq!(shape(&p["ctx"]), ctx, "ctx keys/types of {p}");
    assert_eq!(p["event"]["sessionKey"], key, "{p}");
    assert_eq!(p["ctx"]["sessionKey"], key, "{p}");
    assert_eq!(p["event"]["messageCount"], 0, "{p}");
    assert_eq!(p["event"]["reason"], reason, "{p}");
    assert_eq!(p["ctx"]["agentId"], "main", "{p}");
    if let Some(sid) = sid {
        assert_eq!(p["event"]["sessionId"], sid, "{p}");
        assert_eq!(p["ctx"]["sessionId"], sid, "{p}");
    }
}

/// [`assert_payload`] for a session whose transcript exists: the keys and JSON types of the
/// real drain's payload with a transcript, `sessionFile` = `file`, `transcriptArchived: false`.
pub fn assert_payload_with_transcript(p: &Value, key: &str, sid: &str, reason: &str, file: &Path) {
    let reference = real_drain()
        .into_iter()
        .find(|l| l["event"]["sessionFile"].is_string())
        .expect("a drained session with a transcript in session_end.jsonl");
    assert_eq!(shape(&p["event"]), shape(&reference["event"]), "{p}");
    assert_eq!(shape(&p["ctx"]), shape(&reference["ctx"]), "{p}");
    assert!(file.is_file(), "precondition: {} exists", file.display());
    assert_eq!(p["event"]["sessionFile"], file.to_str().unwrap(), "{p}");
    assert_eq!(p["event"]["transcriptArchived"], false, "{p}");
    let mut rest = p.clone();
    let event = rest["event"].as_object_mut().unwrap();
    event.shift_remove("sessionFile");
    event.shift_remove("transcriptArchived");
    assert_payload(&rest, key, Some(sid), reason);
}

/// sessions.json as 2026.7.35 would leave it after ending e2e-slow at `now`: the entry's
/// updatedAt and status replaced in place, abortedLastRun true and endedAt appended — every
/// other byte as before (2-space JSON, no final newline).
pub fn expected_735_sessions(before: &str, old_updated: i64, now: i64) -> String {
    let start = before
        .find(&format!("\n  \"{SLOW_KEY}\": {{\n"))
        .expect("e2e-slow entry in sessions.json");
    let (head, entry) = before.split_at(start);
    let replace_once = |s: &str, from: &str, to: &str| -> String {
        assert!(s.contains(from), "{from:?} not in the e2e-slow entry");
        s.replacen(from, to, 1)
    };
    let e = replace_once(
        entry,
        &format!("\n    \"updatedAt\": {old_updated},\n"),
        &format!("\n    \"updatedAt\": {now},\n"),
    );
    let e = replace_once(
        &e,
        "\n    \"status\": \"running\",\n",
        "\n    \"status\": \"failed\",\n",
    );
    let e = replace_once(
        &e,
        "\n    \"abortedLastRun\": false\n  }",
        &format!("\n    \"abortedLastRun\": true,\n    \"endedAt\": {now}\n  }}"),
    );
    format!("{head}{e}")
}

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

// ---------------------------------------------------------------------------------------
// 1. A full close

fn full_close(base: Base) {
    let h = Host::new(base);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&stub.url("/hook"), "2s", 1)]);
    let cm_before = h.cm_rows();
    let (sessions_before, lock_before) = match base {
        Base::File735 => {
            fs::set_permissions(h.sessions_json(), fs::Permissions::from_mode(0o640)).unwrap();
            assert!(h.slow_lock().exists());
            (
                fs::read_to_string(h.sessions_json()).unwrap(),
                fs::read(h.slow_lock()).unwrap(),
            )
        }
        Base::Sqlite96 => (String::new(), Vec::new()),
    };
    let (nodes_before, windows_before) = match base {
        Base::Sqlite96 => (h.nodes(), h.windows()),
        Base::File735 => Default::default(),
    };

    let t0 = now_ms();
    // (Each batch's connection is slow to close: see below.)
    let (out, doc) = h.close_json_env(
        &["--yes"],
        &[("SESSIONCTL_TEST_PAUSE", "closing-batch:300")],
    );
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(doc["run"].is_string(), "{doc:#}");
    // Each batch's connection closes on a thread of its own, and the run waits for it
    // before exiting, however long it takes: as the databases' last connection, it checkpointed its WAL into the
    // database and removed it, leaving no -wal or -shm behind (the 2026.9 store's captured
    // crash WAL included).
    let mut dbs = vec![h.cm_db()];
    if base == Base::Sqlite96 {
        dbs.push(h.agent_db());
    }
    for db in dbs {
        for side in ["-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{side}", db.display()));
            assert!(!p.exists(), "{} left behind", p.display());
        }
    }
    assert_eq!(
        groups(&doc),
        BTreeSet::from([
            E2E1_KEY.into(),
            E2E2_KEY.into(),
            SLOW_KEY.into(),
            TG_KEY.into(),
            DEFAULT_GROUP.into()
        ]),
        "{out:?}"
    );
    for i in doc["items"].as_array().unwrap() {
        assert_eq!(i["closed"], true, "{i:#}");
        for a in i["actions"].as_array().unwrap() {
            assert_eq!(a["ok"], true, "{a:#}");
            assert_eq!(a["skipped"], false, "{a:#}");
        }
    }
    assert!(item(&doc, DEFAULT_GROUP)["payload"].is_null(), "{doc:#}");
    assert!(actions(item(&doc, DEFAULT_GROUP), "deliver", None).is_empty());
    // The owed finished sessions: their session_end only, no store write.
    for (key, sid) in base.owed() {
        let i = item(&doc, key);
        assert_eq!(
            i["sessions"],
            json!([{"backend": "openclaw", "id": sid, "session_key": key}]),
            "{i:#}"
        );
        let mut kinds: Vec<&str> = i["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap())
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["deliver", "deliver", "end-owed"], "{i:#}");
    }
    assert_eq!(doc["summary"]["closed"], 5, "{doc:#}");
    let owed_journaled: Vec<Value> = h.outcomes("end-owed:");
    assert_eq!(owed_journaled.len(), 2, "{owed_journaled:#?}");
    assert!(
        owed_journaled.iter().all(|o| o["ok"] == true),
        "{owed_journaled:#?}"
    );

    // Each target got exactly one payload per group with a session key.
    let lines = h.cmd_lines();
    let bodies = stub.bodies();
    assert_eq!(
        per_key(&lines),
        one_each_and_owed(),
        "command target: {lines:#?}"
    );
    assert_eq!(
        per_key(&bodies),
        one_each_and_owed(),
        "http target: {bodies:#?}"
    );
    for r in stub.received() {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hook");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("authorization"), Some(HOOK_TOKEN));
    }
    for got in [&lines, &bodies] {
        for p in got.iter() {
            let key = p["event"]["sessionKey"].as_str().unwrap();
            let sid = (key == SLOW_KEY).then(|| base.slow_id());
            if key == E2E1_KEY || key == E2E2_KEY {
                h.assert_owed_payload(p, key, "shutdown");
            } else {
                assert_payload(p, key, sid, "shutdown");
            }
            assert_eq!(
                &item(&doc, key)["payload"],
                p,
                "reported payload = delivered payload"
            );
        }
    }

    // claude-mem: rows 3, 4, 5 completed; 6, 7 and 1, 2, 8 byte for byte as before.
    let cm_after = h.cm_rows();
    assert_cm_closed(&cm_before, &cm_after, &[3, 4, 5], t0, t1);
    let now = cm_after[&3].int("completed_at_epoch").unwrap();
    for id in [4, 5] {
        assert_eq!(
            cm_after[&id].int("completed_at_epoch"),
            Some(now),
            "one timestamp per run"
        );
    }

    match base {
        Base::File735 => {
            let text = fs::read_to_string(h.sessions_json()).unwrap();
            let doc_before: Value = serde_json::from_str(&sessions_before).unwrap();
            let doc_after: Value = serde_json::from_str(&text).unwrap();
            let (b, a) = (&doc_before[SLOW_KEY], &doc_after[SLOW_KEY]);
            assert_eq!(a["status"], "failed");
            assert_eq!(a["abortedLastRun"], true);
            assert_eq!(a["endedAt"], a["updatedAt"]);
            assert_eq!(a["endedAt"], now, "the same instant as the claude-mem rows");
            let mut rest_a = a.as_object().unwrap().clone();
            let mut rest_b = b.as_object().unwrap().clone();
            for k in ["status", "abortedLastRun", "endedAt", "updatedAt"] {
                rest_a.shift_remove(k);
                rest_b.shift_remove(k);
            }
            assert_eq!(rest_a, rest_b, "other members of the entry unchanged");
            for (k, v) in doc_before.as_object().unwrap() {
                if k != SLOW_KEY {
                    assert_eq!(&doc_after[k], v, "entry {k} unchanged");
                }
            }
            let old_updated = b["updatedAt"].as_i64().unwrap();
            assert_eq!(
                text,
                expected_735_sessions(&sessions_before, old_updated, now),
                "sessions.json: 2-space JSON, no final newline, only the entry's four members changed"
            );
            assert!(!text.ends_with('\n'));
            assert_eq!(mode_of(&h.sessions_json()), 0o640, "file mode kept");
            assert!(!h.slow_lock().exists(), "dead owner's lock removed");
            assert!(!lock_before.is_empty());
            // No temp file left beside sessions.json.
            let names: Vec<String> = fs::read_dir(h.sessions_dir())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                names
                    .iter()
                    .all(|n| !n.contains("sessionctl") && !n.ends_with(".tmp")),
                "{names:?}"
            );
        }
        Base::Sqlite96 => {
            let (nodes, windows) = (h.nodes(), h.windows());
            assert_eq!(
                nodes.keys().collect::<Vec<_>>(),
                nodes_before.keys().collect::<Vec<_>>()
            );
            for (k, row) in &nodes {
                if k != SLOW_KEY {
                    assert_eq!(row, &nodes_before[k], "session_nodes {k} unchanged");
                }
            }
            let (b, a) = (&nodes_before[SLOW_KEY], &nodes[SLOW_KEY]);
            assert_eq!(a.text("status"), "failed");
            assert_eq!(a.int("updated_at"), Some(now));
            let eb: Value = serde_json::from_str(&b.text("entry_json")).unwrap();
            let ea: Value = serde_json::from_str(&a.text("entry_json")).unwrap();
            assert_eq!(ea["status"], "failed");
            assert_eq!(ea["abortedLastRun"], true);
            assert_eq!(ea["endedAt"], now);
            assert_eq!(ea["updatedAt"], now);
            assert!(ea.get("lifecycleRunId").is_none(), "{ea:#}");
            assert!(eb.get("lifecycleRunId").is_some(), "fixture precondition");
            let mut rest_a = ea.as_object().unwrap().clone();
            let mut rest_b = eb.as_object().unwrap().clone();
            for k in [
                "status",
                "abortedLastRun",
                "endedAt",
                "updatedAt",
                "lifecycleRunId",
            ] {
                rest_a.shift_remove(k);
                rest_b.shift_remove(k);
            }
            assert_eq!(rest_a, rest_b, "other members of entry_json unchanged");
            // entry_valid is reset to 0 by OpenClaw's own trigger on entry_json updates
            // (the gateway's writes do the same).
            let cols = ["status", "entry_json", "updated_at", "entry_valid"];
            assert_eq!(
                a.without(&cols),
                b.without(&cols),
                "other columns unchanged"
            );

            let sid = SLOW_ID_96;
            for (k, row) in &windows {
                if k != sid {
                    assert_eq!(row, &windows_before[k], "session_windows {k} unchanged");
                }
            }
            let (wb, wa) = (&windows_before[sid], &windows[sid]);
            assert_eq!(wb.text("status"), "running", "fixture precondition");
            assert_eq!(wa.text("status"), "failed");
            assert_eq!(wa.int("ended_at"), Some(now));
            let cols = ["status", "ended_at", "updated_at"];
            assert_eq!(
                wa.without(&cols),
                wb.without(&cols),
                "other columns unchanged"
            );
        }
    }

    // A second run finds nothing and sends nothing.
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("No orphans to close."), "{out:?}");
    assert_eq!(h.cmd_lines().len(), 4, "no new payloads");
    assert_eq!(stub.count(), 4, "no new payloads");
    assert_eq!(h.cm_rows(), cm_after);
}

#[test]
fn full_close_file_store_735() {
    full_close(Base::File735);
}

#[test]
fn full_close_sqlite_store_96() {
    full_close(Base::Sqlite96);
}

// ---------------------------------------------------------------------------------------
// 2. Dry run

fn dry_run_writes_nothing(base: Base) {
    let h = Host::new(base);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&stub.url("/hook"), "2s", 1)]);
    let before = tree_snapshot(h.root());

    let out = h.run(&["close", "--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(SLOW_KEY), "{out:?}");
    let (out, doc) = h.close_json(&["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out_n = h.run(&["close", "-n", "--yes"]);
    assert_eq!(out_n.code, 0, "{out_n:?}");

    assert_tree_unchanged(&before, &tree_snapshot(h.root()), "close --dry-run");
    assert!(!h.journal.exists(), "no journal for a dry run");
    assert!(
        !h.journal.parent().unwrap().exists(),
        "no journal directory (nor lock file) for a dry run"
    );
    assert_eq!(stub.count(), 0, "a dry run delivers nothing");

    assert_eq!(doc["dry_run"], true, "{doc:#}");
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{doc:#}");
    assert!(
        !out.stdout.contains(HOOK_TOKEN),
        "the header value never shows: {out:?}"
    );
    assert_eq!(
        groups(&doc),
        BTreeSet::from([
            E2E1_KEY.into(),
            E2E2_KEY.into(),
            SLOW_KEY.into(),
            TG_KEY.into(),
            DEFAULT_GROUP.into()
        ])
    );
    assert_eq!(doc["refused"], json!([]));
    let kinds = |g: &str| -> Vec<String> {
        let mut k: Vec<String> = item(&doc, g)["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert!(
                    a["describe"].is_string() && a["action"].is_string(),
                    "{a:#}"
                );
                a["kind"].as_str().unwrap().to_string()
            })
            .collect();
        k.sort();
        k
    };
    let slow_kinds: &[&str] = match base {
        Base::File735 => &[
            "claude-mem-end",
            "deliver",
            "deliver",
            "lock-remove",
            "openclaw-entry-end",
        ],
        Base::Sqlite96 => &["claude-mem-end", "deliver", "deliver", "openclaw-row-end"],
    };
    assert_eq!(kinds(SLOW_KEY), slow_kinds, "{doc:#}");
    assert_eq!(kinds(TG_KEY), ["claude-mem-end", "deliver", "deliver"]);
    assert_eq!(kinds(DEFAULT_GROUP), ["claude-mem-end"]);
    for (key, sid) in base.owed() {
        // Owed: its session_end only, no store write.
        assert_eq!(kinds(key), ["deliver", "deliver", "end-owed"], "{doc:#}");
        let s = &item(&doc, key)["sessions"];
        assert_eq!(s.as_array().unwrap().len(), 1, "{s:#}");
        assert_eq!(s[0]["id"], sid, "{s:#}");
        assert_eq!(s[0]["verdict"], "owed", "{s:#}");
        assert_eq!(s[0]["reason"], "end-owed", "{s:#}");
        h.assert_owed_payload(&item(&doc, key)["payload"], key, "shutdown");
    }
    assert_payload(
        &item(&doc, SLOW_KEY)["payload"],
        SLOW_KEY,
        Some(base.slow_id()),
        "shutdown",
    );
    assert_payload(&item(&doc, TG_KEY)["payload"], TG_KEY, None, "shutdown");
    assert!(item(&doc, DEFAULT_GROUP)["payload"].is_null());

    // --reason overrides the reason in every payload.
    let (out, doc) = h.close_json(&["--dry-run", "--reason", "idle"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_payload(
        &item(&doc, SLOW_KEY)["payload"],
        SLOW_KEY,
        Some(base.slow_id()),
        "idle",
    );
    assert_payload(&item(&doc, TG_KEY)["payload"], TG_KEY, None, "idle");
    for (key, _) in base.owed() {
        h.assert_owed_payload(&item(&doc, key)["payload"], key, "idle");
    }
    assert_tree_unchanged(
        &before,
        &tree_snapshot(h.root()),
        "close --dry-run --reason",
    );
}

#[test]
fn dry_run_writes_nothing_735() {
    dry_run_writes_nothing(Base::File735);
}

#[test]
fn dry_run_writes_nothing_96() {
    dry_run_writes_nothing(Base::Sqlite96);
}

// ---------------------------------------------------------------------------------------
// 3. Live and stale sessions

/// Point e2e-slow's transcript lock at a running child, created now (format kept).
fn own_slow_lock(h: &Host, child: &ChildGuard) {
    rewrite_lock(
        &h.slow_lock(),
        &[
            ("pid", child.pid.to_string()),
            ("createdAt", format!("\"{}\"", iso_ms(now_ms()))),
            ("starttime", child.starttime().to_string()),
        ],
    );
}

#[test]
fn live_session_is_never_touched() {
    let child = ChildGuard::sleep();
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    own_slow_lock(&h, &child);
    h.link_row3_to_current_slow();
    let sessions = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();

    // --idle: the capture's activity must not turn stale however late the test runs.
    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes", "--idle", "3650d"]);
    let t1 = now_ms();
    assert!(pid_alive(child.pid));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        groups(&doc),
        BTreeSet::from([
            E2E1_KEY.into(),
            E2E2_KEY.into(),
            TG_KEY.into(),
            DEFAULT_GROUP.into()
        ]),
        "only rows 4 and 5 (and the session_ends the dead gateway owes e2e-1/e2e-2): row 3 belongs to the live e2e-slow\n{out:?}"
    );
    assert_cm_closed(&cm_before, &h.cm_rows(), &[4, 5], t0, t1);
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "sessions.json untouched"
    );
    assert_eq!(
        fs::read(h.slow_lock()).unwrap(),
        lock,
        "live lock untouched"
    );
    assert_eq!(
        per_key(&h.cmd_lines()),
        BTreeMap::from([
            (E2E1_KEY.to_string(), 1),
            (E2E2_KEY.to_string(), 1),
            (TG_KEY.to_string(), 1)
        ])
    );
    assert!(
        h.cmd_lines()
            .iter()
            .all(|p| p["event"]["sessionId"] != SLOW_ID_735),
        "a session_end naming the live session was sent\n{out:?}"
    );

    let cm_mid = h.cm_rows();
    let (out, doc) = h.close_json(&["--yes", "--idle", "3650d", SLOW_KEY]);
    assert_eq!(out.code, 1, "{out:?}");
    // The key names the OpenClaw session and its claude-mem row 3: both refused as live.
    let refused = doc["refused"].as_array().unwrap();
    assert!(!refused.is_empty(), "{doc:#}");
    for r in refused {
        assert_eq!(r["id"], SLOW_KEY, "{doc:#}");
        assert!(r["why"].as_str().unwrap().contains("live"), "{doc:#}");
    }
    assert!(doc["items"].as_array().unwrap().is_empty(), "{doc:#}");
    assert_eq!(fs::read(h.sessions_json()).unwrap(), sessions);
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock);
    assert_eq!(h.cm_rows(), cm_mid);
    assert_eq!(h.cmd_lines().len(), 3);
}

/// The fixture's row 3 was made a year before e2e-slow's current session started: it
/// belongs to an earlier session of the same key, so it is an orphan even while the current
/// session lives, and may be closed. Its session_end must not name the live session.
#[test]
fn closing_a_replaced_row_never_names_the_live_session() {
    let mut child = ChildGuard::sleep();
    let h = Host::new(Base::File735);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&stub.url("/hook"), "2s", 1)]);
    own_slow_lock(&h, &child);
    let sessions = fs::read(h.sessions_json()).unwrap();

    let (out, doc) = h.close_json(&["--yes", "--idle", "3650d"]);
    assert!(pid_alive(child.pid));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "live entry untouched"
    );
    assert_eq!(
        status(&h.cm_rows(), 3),
        "completed",
        "the replaced row is closed\n{out:?}"
    );
    let mut sent = h.cmd_lines();
    sent.extend(stub.bodies());
    sent.extend(
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["payload"].clone())
            .filter(|p| !p.is_null()),
    );
    for p in &sent {
        assert_ne!(
            p["event"]["sessionId"], SLOW_ID_735,
            "a session_end naming the LIVE session {SLOW_ID_735} was sent for the replaced row 3: {p}\n{out:?}"
        );
        assert_ne!(p["ctx"]["sessionId"], SLOW_ID_735, "{p}");
    }

    // Once its owner is gone, e2e-slow is an orphan; its own session_end goes out now,
    // once per target (an earlier, wrongly addressed one must not stand in for it).
    child.kill_and_wait();
    let out = h.run(&["close", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
    let naming = |v: Vec<Value>| {
        v.iter()
            .filter(|p| p["event"]["sessionId"] == SLOW_ID_735)
            .count()
    };
    assert_eq!(naming(h.cmd_lines()), 1, "rec\n{out:?}");
    assert_eq!(naming(stub.bodies()), 1, "hook\n{out:?}");
}

/// Link claude-mem row 4 to e2e-1's session; its session id and stored sessionFile.
fn link_row4(h: &Host) -> (String, Option<String>) {
    let base = h.base;
    let (entry, sid, status) = match base {
        Base::File735 => {
            let e = read_json(&h.sessions_json())[E2E1_KEY].clone();
            let sid = e["sessionId"].as_str().unwrap().to_string();
            let st = e["status"].as_str().unwrap().to_string();
            (e, sid, st)
        }
        Base::Sqlite96 => {
            let n = &h.nodes()[E2E1_KEY];
            let e: Value = serde_json::from_str(&n.text("entry_json")).unwrap();
            (e, n.text("current_session_id"), n.text("status"))
        }
    };
    assert_eq!(status, "done", "{entry}");
    h.link_row(4, E2E1_KEY, entry["sessionStartedAt"].as_i64().unwrap());
    let file = entry["sessionFile"].as_str().map(String::from);
    (sid, file)
}

/// A claude-mem row of a session that finished (its OpenClaw entry is `done`, so only the
/// row is an orphan): `check` names the ended session in its evidence, and `close` sends the
/// payload the drain sends for such a session, with its sessionId and, where the
/// transcript exists (2026.7), `sessionFile` + `transcriptArchived: false`. The 2026.9 store
/// is looked up per key for exactly such rows.
fn row_of_a_finished_session(base: Base) {
    let h = Host::new(base);
    row_of_a_finished_session_on(h);
}

fn row_of_a_finished_session_on(h: Host) {
    let base = h.base;
    h.configure(&[h.rec()]);
    let (sid, file) = link_row4(&h);
    let out = h.run(&["list", "--format", "json"]);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let row4 = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["backend"] == "claude-mem" && s["id"] == "4")
        .unwrap_or_else(|| panic!("row 4 not listed: {out:?}"));
    assert_eq!(row4["verdict"], "orphan", "{row4:#}");
    assert!(
        row4["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["note"] == "linked OpenClaw session ended (done)"),
        "no evidence of the ended session: {row4:#}"
    );

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(groups(&doc).contains(E2E1_KEY), "{doc:#}");
    let sent: Vec<Value> = h
        .cmd_lines()
        .into_iter()
        .filter(|p| p["event"]["sessionKey"] == E2E1_KEY)
        .collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let p = &sent[0];
    assert_eq!(status(&h.cm_rows(), 4), "completed");
    let transcript = file.as_deref().filter(|f| Path::new(f).is_file());
    assert_eq!(
        transcript.is_some(),
        base == Base::File735,
        "2026.7 keeps a transcript file, 2026.9 none: {file:?}"
    );
    match transcript {
        Some(f) => assert_payload_with_transcript(p, E2E1_KEY, &sid, "shutdown", Path::new(f)),
        None => assert_payload(p, E2E1_KEY, Some(&sid), "shutdown"),
    }

    if transcript.is_some() {
        // Without the transcript the drain names no file, and neither does close.
        let h = Host::new(base);
        h.configure(&[h.rec()]);
        let (_, file) = link_row4(&h);
        fs::remove_file(file.unwrap()).unwrap();
        let (out, _) = h.close_json(&["--yes"]);
        assert_eq!(out.code, 0, "{out:?}");
        let p = h
            .cmd_lines()
            .into_iter()
            .find(|p| p["event"]["sessionKey"] == E2E1_KEY)
            .expect("a payload for e2e-1");
        assert_payload(&p, E2E1_KEY, Some(&sid), "shutdown");
    }
}

/// A 2026.9 store without the `(status, session_key)` index: the status is read from the
/// row itself, with the same verdict.
#[test]
fn row_of_a_finished_session_store_without_status_index() {
    let h = Host::new(Base::Sqlite96);
    let conn = rusqlite::Connection::open(h.agent_db()).unwrap();
    conn.execute_batch("DROP INDEX idx_agent_session_nodes_status")
        .unwrap();
    drop(conn);
    row_of_a_finished_session_on(h);
}

/// A gateway runs on the state dir again (restarted moments ago): the OpenClaw store is
/// its, e2e-slow waits for its recovery (not closed), and the row of the finished e2e-1 is
/// closed with `reason: "restart"`, as the drain of a restart would have sent it.
#[test]
fn payload_reason_is_restart_while_a_gateway_runs() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let (sid, _) = link_row4(&h);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let _gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &h.state())]);

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The only OpenClaw sessions in the run are the finished e2e-1/e2e-2 the dead gateway
    // owed a session_end: delivered, with no write to the store (checked below).
    let openclaw_closed: BTreeSet<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["sessions"].as_array().unwrap())
        .filter(|s| s["backend"] == "openclaw")
        .map(|s| s["session_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        openclaw_closed,
        BTreeSet::from([E2E1_KEY, E2E2_KEY]),
        "OpenClaw sessions closed under a running gateway\n{out:?}"
    );
    for i in doc["items"].as_array().unwrap() {
        for a in i["actions"].as_array().unwrap() {
            assert!(
                !["openclaw-entry-end", "openclaw-row-end", "lock-remove"]
                    .contains(&a["kind"].as_str().unwrap()),
                "a store write under a running gateway: {a:#}"
            );
        }
    }
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "the running gateway's store was written"
    );
    let sent: Vec<Value> = h
        .cmd_lines()
        .into_iter()
        .filter(|p| p["event"]["sessionKey"] == E2E1_KEY)
        .collect();
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!(sent[0]["event"]["reason"], "restart", "{}", sent[0]);
    assert_eq!(sent[0]["event"]["sessionId"], sid.as_str(), "{}", sent[0]);
    h.assert_owed_payload(&sent[0], E2E1_KEY, "restart");
    let sent2: Vec<Value> = h
        .cmd_lines()
        .into_iter()
        .filter(|p| p["event"]["sessionKey"] == E2E2_KEY)
        .collect();
    assert_eq!(sent2.len(), 1, "{out:?}");
    h.assert_owed_payload(&sent2[0], E2E2_KEY, "restart");
    assert_eq!(
        per_key(&h.cmd_lines()),
        BTreeMap::from([(E2E1_KEY.to_string(), 1), (E2E2_KEY.to_string(), 1)]),
        "nothing for e2e-slow, which waits for the gateway's recovery\n{out:?}"
    );
    assert_eq!(status(&h.cm_rows(), 4), "completed");

    // With --reason the operator's word wins.
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    link_row4(&h);
    let _gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &h.state())]);
    let (out, _) = h.close_json(&["--yes", "--reason", "shutdown"]);
    let p = h
        .cmd_lines()
        .into_iter()
        .find(|p| p["event"]["sessionKey"] == E2E1_KEY)
        .unwrap_or_else(|| panic!("no payload for e2e-1: {out:?}"));
    assert_eq!(p["event"]["reason"], "shutdown", "{p}");
}

/// A gateway-restarted orphan under a live gateway: `close` delivers its session_end and
/// leaves the store to the gateway. After that one run the session is `delivered`, not
/// an orphan: `check` exits 0, and a second `close` has nothing to do and sends nothing.
#[test]
fn a_delivered_orphan_under_a_live_gateway_stops_counting() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let sessions = fs::read(h.sessions_json()).unwrap();
    let _gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &h.state())]);
    let past_grace = [("SESSIONCTL_TEST_RECOVERY_GRACE_MS", "0")];
    let list = |h: &Host| -> Value {
        let out = h.run_env(
            &["list", "--format", "json", "--backend", "openclaw"],
            &past_grace,
        );
        serde_json::from_str(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"))
    };
    let slow = |doc: &Value| by_key(doc, SLOW_KEY).clone();

    let before = slow(&list(&h));
    assert_eq!(before["verdict"], "orphan", "{before}");
    // The capture's lock is from an earlier boot: `rebooted`, an orphan that the live
    // gateway's store keeps `running` all the same (as `gateway-restarted` ones).
    assert!(
        matches!(
            before["reason"].as_str(),
            Some("rebooted" | "gateway-restarted")
        ),
        "{before}"
    );
    let out = h.run_env(&["check", "--backend", "openclaw"], &past_grace);
    assert_eq!(out.code, 1, "{out:?}");

    let out = h.run_env(&["close", "--yes", "--backend", "openclaw"], &past_grace);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "the live gateway's store was written"
    );
    let sent = |h: &Host| {
        h.cmd_lines()
            .into_iter()
            .filter(|p| p["event"]["sessionKey"] == SLOW_KEY)
            .count()
    };
    assert_eq!(sent(&h), 1, "{out:?}");

    let after = slow(&list(&h));
    assert_eq!(after["verdict"], "delivered", "{after}");
    assert!(
        after["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("left to gateway pid"),
        "{after}"
    );
    let out = h.run_env(&["check", "--backend", "openclaw"], &past_grace);
    assert_eq!(out.code, 0, "check after one close: {out:?}");
    let out = h.run_env(&["close", "--yes", "--backend", "openclaw"], &past_grace);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("No orphans to close."), "{out:?}");
    assert_eq!(sent(&h), 1, "a second close sent session_end again");
}

/// A sessionId prefix names one session or none: an ambiguous one and a too-short one
/// are refused, with why, and nothing is closed.
#[test]
fn close_refuses_an_ambiguous_or_too_short_prefix() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let mut doc: Value = read_json(&h.sessions_json());
    let mut twin = doc[SLOW_KEY].clone();
    let sid = twin["sessionId"].as_str().unwrap().to_string();
    let twin_sid = format!("{}0000-4000-8000-000000000001", &sid[..9]);
    twin["sessionId"] = json!(twin_sid);
    doc["agent:main:twin"] = twin;
    fs::write(
        h.sessions_json(),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    let before = fs::read(h.sessions_json()).unwrap();

    let out = h.run(&["close", "--yes", &sid[..8]]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("is ambiguous: 2 sessionIds start with it"),
        "{out:?}"
    );
    let out = h.run(&["close", "--yes", &sid[..4]]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("too short"), "{out:?}");
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        before,
        "something was closed"
    );
    assert!(h.cmd_lines().is_empty(), "something was delivered");
    // The full sessionId still names exactly one.
    let out = h.run(&["close", "--yes", &sid]);
    assert_eq!(out.code, 0, "{out:?}");
    let after: Value = read_json(&h.sessions_json());
    assert_eq!(after[SLOW_KEY]["status"], "failed");
    assert_eq!(after["agent:main:twin"]["status"], "running");
}

#[test]
fn row_of_a_finished_session_735() {
    row_of_a_finished_session(Base::File735);
}

#[test]
fn row_of_a_finished_session_96() {
    row_of_a_finished_session(Base::Sqlite96);
}

#[test]
fn stale_session_needs_include_stale() {
    let child = ChildGuard::sleep();
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    own_slow_lock(&h, &child);
    // Every activity time of the entry 2 h ago (layout kept: 2-space JSON, no newline).
    let two_h_ago = now_ms() - 2 * 3600 * 1000;
    let mut doc: Value = read_json(&h.sessions_json());
    for k in [
        "updatedAt",
        "sessionStartedAt",
        "lastInteractionAt",
        "startedAt",
    ] {
        if doc[SLOW_KEY].get(k).is_some() {
            doc[SLOW_KEY][k] = json!(two_h_ago);
        }
    }
    fs::write(
        h.sessions_json(),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
    h.link_row3_to_current_slow();
    let sessions_bytes = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();

    let (out, report) = h.fx.json(h.args(&["list", "--idle", "1h"]), &[]);
    let s = sessions(&report)
        .iter()
        .find(|s| s["backend"] == "openclaw" && s["session_key"] == SLOW_KEY)
        .unwrap_or_else(|| panic!("e2e-slow not listed\n{out:?}"));
    assert_eq!(s["verdict"], "stale", "precondition\n{out:?}");

    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes", "--idle", "1h"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        groups(&doc),
        BTreeSet::from([
            E2E1_KEY.into(),
            E2E2_KEY.into(),
            TG_KEY.into(),
            DEFAULT_GROUP.into()
        ]),
        "{out:?}"
    );
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions_bytes,
        "stale entry untouched"
    );
    assert_cm_closed(&cm_before, &h.cm_rows(), &[4, 5], t0, t1);

    let cm_mid = h.cm_rows();
    let t0 = now_ms();
    let (out, doc) = h.close_json(&["--yes", "--idle", "1h", "--include-stale"]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(groups(&doc), BTreeSet::from([SLOW_KEY.into()]), "{out:?}");
    let after = read_json(&h.sessions_json());
    assert_eq!(after[SLOW_KEY]["status"], "failed", "{out:?}");
    assert_eq!(after[SLOW_KEY]["abortedLastRun"], true);
    let ended = after[SLOW_KEY]["endedAt"].as_i64().unwrap();
    assert!((t0..=t1).contains(&ended));
    // Row 3 follows its (stale) upstream session.
    assert_cm_closed(&cm_mid, &h.cm_rows(), &[3], t0, t1);
    // The lock's owner still runs: its lock is not ours to remove.
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock);
    assert_eq!(per_key(&h.cmd_lines()), one_each_and_owed());
    assert!(pid_alive(child.pid));
}

// ---------------------------------------------------------------------------------------
// 4. Undo

pub fn run_ids(h: &Host) -> Vec<String> {
    let (out, doc) = h.fx.json(h.args(&["journal"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    doc["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs in {doc:#}"))
        .iter()
        .map(|r| r["run"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn undo_restores_file_store_and_claude_mem() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    fs::set_permissions(h.sessions_json(), fs::Permissions::from_mode(0o640)).unwrap();
    let sessions = fs::read(h.sessions_json()).unwrap();
    let lock = fs::read(h.slow_lock()).unwrap();
    let cm_before = h.cm_rows();

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = doc["run"].as_str().unwrap().to_string();
    assert_ne!(fs::read(h.sessions_json()).unwrap(), sessions);

    assert_eq!(run_ids(&h), vec![run.clone()]);
    let table = h.run(&["journal"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains(&run), "{table:?}");

    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("4 hook deliveries cannot be unsent"),
        "{out:?}"
    );
    assert_eq!(
        fs::read(h.sessions_json()).unwrap(),
        sessions,
        "sessions.json byte for byte"
    );
    assert_eq!(mode_of(&h.sessions_json()), 0o640);
    assert_eq!(fs::read(h.slow_lock()).unwrap(), lock, "lock byte for byte");
    assert_eq!(h.cm_rows(), cm_before, "claude-mem rows row for row");
    let runs = run_ids(&h);
    assert_eq!(runs.len(), 2, "the undo is a run of its own: {runs:?}");

    let before_second = tree_snapshot(h.root());
    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("Nothing to restore") && out.stdout.contains("already undone"),
        "{out:?}"
    );
    let mut after_second = tree_snapshot(h.root());
    // Only the journal may have grown.
    let jrel = h.journal.strip_prefix(h.root()).unwrap().to_path_buf();
    after_second.insert(jrel.clone(), before_second[&jrel].clone());
    assert_tree_unchanged(&before_second, &after_second, "second undo");
    assert_eq!(h.cmd_lines().len(), 4, "undo sends nothing");
    // The owed session_ends were delivered and cannot be unsent: not owed again.
    let (out, doc) = h.fx.json(h.args(&["check"]), &[]);
    assert_eq!(summary_count(&doc, "owed"), 0, "{out:?}");
}

#[test]
fn undo_restores_sqlite_store_and_claude_mem() {
    let h = Host::new(Base::Sqlite96);
    h.configure(&[h.rec()]);
    let (nodes, windows, cm_before) = (h.nodes(), h.windows(), h.cm_rows());

    let (out, doc) = h.close_json(&["--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let run = doc["run"].as_str().unwrap().to_string();
    assert_ne!(h.nodes(), nodes);
    assert_eq!(run_ids(&h), vec![run.clone()]);

    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("cannot be unsent"), "{out:?}");
    assert_eq!(h.cm_rows(), cm_before, "claude-mem rows row for row");
    assert_eq!(h.windows(), windows, "session_windows row for row");
    let after = h.nodes();
    for (k, row) in &nodes {
        assert_row_eq(&after[k], row, &format!("session_nodes {k} after undo"));
    }

    let out = h.run(&["journal", "undo", &run, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Nothing to restore"), "{out:?}");
    assert_eq!(h.nodes(), after);
    assert_eq!(h.cm_rows(), cm_before);
}

// ---------------------------------------------------------------------------------------
// 5. No terminal

#[test]
fn without_a_terminal_close_needs_yes() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let before = tree_snapshot(h.root());
    let out = h.run(&["close"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--yes"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_tree_unchanged(&before, &tree_snapshot(h.root()), "close without --yes");

    let cm_before = h.cm_rows();
    let t0 = now_ms();
    let out = h.run_env(&["close", "--format", "json"], &[("SESSIONCTL_YES", "1")]);
    let t1 = now_ms();
    assert_eq!(out.code, 0, "{out:?}");
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["closed"], 5, "{doc:#}");
    assert_cm_closed(&cm_before, &h.cm_rows(), &[3, 4, 5], t0, t1);
    assert_eq!(per_key(&h.cmd_lines()), one_each_and_owed());
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
}

// ---------------------------------------------------------------------------------------
// 6. The interactive picker, on a real pseudo-terminal

#[test]
fn interactive_picker_closes_the_chosen_groups() {
    if !Pty::available() {
        eprintln!(
            "SKIPPED interactive_picker_closes_the_chosen_groups: util-linux `script` is not installed (Debian: bsdutils)"
        );
        return;
    }
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let cm_before = h.cm_rows();
    let t0 = now_ms();
    let mut pty = Pty::spawn(
        &h.fx.sandbox,
        &h.args(&["close"]),
        &[("HOOK_TOKEN", HOOK_TOKEN)],
    );
    pty.wait_for("Orphans to close", Duration::from_secs(15));
    pty.wait_for(DEFAULT_GROUP, Duration::from_secs(5));
    // All five groups (the owed e2e-1/e2e-2 first) are listed, in group order, pre-selected.
    let screen = pty.output();
    let offered: Vec<&str> = screen
        .split(['\r', '\n'])
        .filter(|l| l.contains("] "))
        .collect();
    let pos = |g: &str| {
        offered
            .iter()
            .position(|l| l.contains(g))
            .unwrap_or_else(|| panic!("{g} not offered:\n{screen}"))
    };
    assert!(
        pos(E2E1_KEY) < pos(E2E2_KEY)
            && pos(E2E2_KEY) < pos(SLOW_KEY)
            && pos(SLOW_KEY) < pos(TG_KEY)
            && pos(TG_KEY) < pos(DEFAULT_GROUP),
        "{screen}"
    );
    for g in [E2E1_KEY, E2E2_KEY] {
        assert!(offered[pos(g)].contains("owed (end-owed)"), "{screen}");
    }
    for g in [E2E1_KEY, E2E2_KEY, SLOW_KEY, TG_KEY, DEFAULT_GROUP] {
        assert!(
            offered[pos(g)].contains("[x]"),
            "{g} is not pre-selected:\n{screen}"
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        pty.send(b"\x1b[B"); // down: e2e-2, e2e-slow, telegram:direct:4242
        std::thread::sleep(Duration::from_millis(150));
    }
    pty.send(b" "); // deselect it
    std::thread::sleep(Duration::from_millis(150));
    pty.send(b"\r"); // accept
    pty.wait_for("Close 4 session group(s)?", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(150));
    pty.send(b"y");
    let (code, screen) = pty.wait(Duration::from_secs(20));
    let t1 = now_ms();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Closed 4 of 4"), "{screen}");
    let cm_after = h.cm_rows();
    assert_eq!(
        status(&cm_after, 4),
        "active",
        "the deselected group stays open"
    );
    assert_cm_closed(&cm_before, &cm_after, &[3, 5], t0, t1);
    assert_eq!(
        per_key(&h.cmd_lines()),
        BTreeMap::from([
            (E2E1_KEY.to_string(), 1),
            (E2E2_KEY.to_string(), 1),
            (SLOW_KEY.to_string(), 1)
        ])
    );
    assert_eq!(read_json(&h.sessions_json())[SLOW_KEY]["status"], "failed");
}

/// Escape leaves the picker: nothing is closed, nothing is written, exit 0.
#[test]
fn interactive_escape_closes_nothing() {
    if !Pty::available() {
        eprintln!(
            "SKIPPED interactive_escape_closes_nothing: util-linux `script` is not installed (Debian: bsdutils)"
        );
        return;
    }
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let before = tree_snapshot(h.root());
    let mut pty = Pty::spawn(
        &h.fx.sandbox,
        &h.args(&["close"]),
        &[("HOOK_TOKEN", HOOK_TOKEN)],
    );
    pty.wait_for(DEFAULT_GROUP, Duration::from_secs(15));
    std::thread::sleep(Duration::from_millis(200));
    pty.send(b"\x1b");
    let (code, screen) = pty.wait(Duration::from_secs(20));
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("nothing closed"), "{screen}");
    assert!(!h.journal.exists(), "no journal: nothing was done");
    // Taking the run lock may have created its (empty) lock file; nothing else may change.
    let mut after = tree_snapshot(h.root());
    let state_home = Path::new("xdg-state");
    for (p, e) in &after {
        if p.starts_with(state_home) {
            assert!(
                matches!(e, Entry::Dir) || *e == Entry::File(Vec::new()),
                "{}",
                p.display()
            );
        }
    }
    after.retain(|p, _| !p.starts_with(state_home));
    assert_tree_unchanged(&before, &after, "close, then Esc in the picker");
}
