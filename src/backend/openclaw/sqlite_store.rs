//! The per-agent SQLite store of 2026.8+ (`agents/<id>/agent/openclaw-agent.sqlite`): running
//! sessions, finished ones a dead gateway owes, and the links linked rows look up.

use super::*;

/// Look up `keys` (session keys that linked rows name) in the SQLite stores noted in
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

pub(super) fn lookup_links(
    scan: &mut StateDirScan,
    db: &Path,
    keys: &[&str],
) -> Result<(), String> {
    let conn = open_read_only(db)?;
    let msg = |e: rusqlite::Error| crate::backend::sqlite_message(&e);
    // One read transaction for all lookups: otherwise every statement takes and drops the
    // file locks and re-checks the WAL (two fcntl and a stat per lookup).
    let tx = conn.unchecked_transaction().map_err(msg)?;
    // All keys at once (a JSON array bound as one value): one statement per store instead
    // of two per key.
    let keys_json = serde_json::to_string(keys).map_err(|e| e.to_string())?;
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
    let status_of = match &statuses {
        Some(v) => format!(
            "(SELECT s.status FROM session_nodes s INDEXED BY idx_agent_session_nodes_status \
             WHERE s.status IN ({}) AND s.session_key = n.session_key)",
            (2..v.len() + 2)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "n.status".into(),
    };
    let mut q = tx
        .prepare(&format!(
            "SELECT n.session_key, n.current_session_id, {status_of} \
             FROM json_each(?1) j JOIN session_nodes n ON n.session_key = j.value ORDER BY j.key"
        ))
        .map_err(msg)?;
    let args = std::iter::once(rusqlite::types::Value::Text(keys_json))
        .chain(statuses.unwrap_or_default());
    let mut rows = q.query(rusqlite::params_from_iter(args)).map_err(msg)?;
    while let Some(r) = rows.next().map_err(msg)? {
        scan.links.push(LinkEntry {
            session_key: lenient_string(r.get_ref(0).map_err(msg)?).unwrap_or_default(),
            session_id: lenient_string(r.get_ref(1).map_err(msg)?).unwrap_or_default(),
            status: lenient_string(r.get_ref(2).map_err(msg)?).unwrap_or_default(),
            session_file: None,
        });
    }
    Ok(())
}

/// The distinct non-NULL values of `session_nodes.status`, one index seek each, as stored
/// (bound back as they are, whatever their type); None when there are more than 64.
pub(super) fn distinct_statuses(
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

/// Read the SQLite store. Returns true when it had a schema sessionctl understands.
pub(super) fn read_sqlite_store(scan: &mut StateDirScan, agent_id: &str, db: &Path) -> bool {
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

    // The link index is looked up later, per key, for the keys linked rows name
    // (`load_links`): reading every node would visit every leaf page of a large store.
    scan.link_dbs.push((agent_id.to_string(), db.to_path_buf()));

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
                .map(crate::backend::sane_ms)
                .collect();
            found.push((key, sid, entry_json, times));
        }
        Ok::<(), rusqlite::Error>(())
    });
    if let Err(e) = res {
        return fail(scan, crate::backend::sqlite_message(&e));
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
    .filter_map(|s| crate::backend::sane_ms(s.as_ms()))
    .collect()
}

/// The SQLite store's entries that are no longer running and were updated since `since`
/// (a superset of those with a turn since then: `updated_at` is never older than a turn).
pub(super) fn read_sqlite_ended(scan: &mut StateDirScan, agent_id: &str, db: &Path, since: i64) {
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
        scan.problems
            .push(problem(db, crate::backend::sqlite_message(&e)));
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

/// A SQLite-era entry the restarted gateway's recovery has queued: interrupted
/// (`abortedLastRun`) and no run active (`lifecycleRunId` absent).
pub(super) fn queued(e: &crate::backend::lenient::Entry) -> bool {
    e.aborted_last_run && e.lifecycle_run_id.as_str().is_none_or(str::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One statement looks up every key: found keys come back in the order asked, with
    /// their current session and status (through the status index, or the column where the
    /// index is missing); unknown keys are simply absent.
    #[test]
    fn links_for_many_keys_in_one_statement() {
        for with_index in [true, false] {
            let d = tempfile::tempdir().unwrap();
            let db = d.path().join("openclaw-agent.sqlite");
            let c = rusqlite::Connection::open(&db).unwrap();
            c.execute_batch(
                "CREATE TABLE session_nodes (session_key TEXT UNIQUE, current_session_id TEXT,
                   entry_json TEXT, status TEXT, updated_at INTEGER);
                 INSERT INTO session_nodes VALUES ('agent:main:a', 's-a', '{}', 'done', 1),
                   ('agent:main:b', 's-b', '{}', 'running', 2), ('agent:main:c', 's-c', '{}', NULL, 3);",
            )
            .unwrap();
            if with_index {
                c.execute_batch(
                    "CREATE INDEX idx_agent_session_nodes_status ON session_nodes(status, session_key);",
                )
                .unwrap();
            }
            drop(c);
            let mut scan = StateDirScan::default();
            let keys = [
                "agent:main:c",
                "agent:main:zz",
                "agent:main:a",
                "agent:main:b",
            ];
            lookup_links(&mut scan, &db, &keys).unwrap();
            let got: Vec<(&str, &str, &str)> = scan
                .links
                .iter()
                .map(|l| {
                    (
                        l.session_key.as_str(),
                        l.session_id.as_str(),
                        l.status.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                got,
                vec![
                    ("agent:main:c", "s-c", ""),
                    ("agent:main:a", "s-a", "done"),
                    ("agent:main:b", "s-b", "running"),
                ],
                "with_index: {with_index}"
            );
        }
    }
}
