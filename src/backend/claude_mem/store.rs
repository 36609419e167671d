//! claude-mem row repairs: rows ended as the worker ends them, and their exact reversal
//! for `journal undo`, each guarded by what the row held when it was read.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::backend::linked::{Ended, Restored, RowStore, ToEnd};
use crate::backend::write::{in_batch_tx, in_tx, Change};
use crate::backend::Backend;
use crate::journal::Kind;
use crate::timefmt::iso_ms;

/// claude-mem's rows, as `close` and `journal undo` write them.
#[derive(Debug)]
pub struct Rows;

fn row_i64(row: &Value) -> Result<i64, String> {
    row.as_i64()
        .ok_or_else(|| format!("bad claude-mem row id {row}"))
}

impl RowStore for Rows {
    fn kind(&self) -> Kind {
        Kind::RowEnd(Backend::ClaudeMem)
    }

    fn store_id(&self) -> String {
        "claude-mem".into()
    }

    // The row id is the journaled session id; the table is always `sdk_sessions`.
    fn locator(&self, _row: &Value) -> Option<Value> {
        None
    }

    fn describe(&self, db: &Path, row: &Value, now: i64) -> String {
        format!(
            "claude-mem {}: UPDATE sdk_sessions SET status='completed', completed_at='{}', completed_at_epoch={now} WHERE id={row} AND status='active'",
            db.display(),
            iso_ms(now),
        )
    }

    fn prior(&self, conn: &Connection, row: &Value) -> rusqlite::Result<Option<Value>> {
        match row.as_i64() {
            Some(id) => claude_mem_prior(conn, id),
            None => Ok(None),
        }
    }

    fn priors(&self, conn: &Connection, rows: &[&Value]) -> rusqlite::Result<Vec<Option<Value>>> {
        let ids: Vec<Option<i64>> = rows.iter().map(|r| r.as_i64()).collect();
        let known: Vec<i64> = ids.iter().flatten().copied().collect();
        let mut got = claude_mem_priors(conn, &known)?.into_iter();
        Ok(ids
            .iter()
            .map(|id| id.and_then(|_| got.next().flatten()))
            .collect())
    }

    fn new_values(&self, now: i64) -> Value {
        claude_mem_new(now)
    }

    fn assumed_prior(&self) -> Option<Value> {
        Some(json!({"status": "active"}))
    }

    fn end(&self, db: &Path, rows: &ToEnd, now: i64) -> Ended {
        let rows: Vec<(i64, Option<&Value>)> = rows
            .iter()
            .map(|(r, p)| Ok((row_i64(r)?, *p)))
            .collect::<Result<_, String>>()?;
        claude_mem_end(db, &rows, now)
    }

    fn holds(&self, db: &Path, row: &Value, new: &Value) -> Result<bool, String> {
        holds_our_completion(db, row_i64(row)?, new)
    }

    fn restore(&self, db: &Path, row: &Value, prior: &Value, new: &Value) -> Restored {
        claude_mem_restore(db, row_i64(row)?, prior, new)
    }
}

/// Does the row still hold the completion `new` wrote (status `completed`, the same
/// `completed_at_epoch`)? Resume asks it to know whether a write landed; undo, whether
/// the row is still ours to restore.
fn holds_our_completion(db: &Path, row: i64, new: &Value) -> Result<bool, String> {
    let conn = crate::backend::open_read_only(db)?;
    let got: Option<(Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT status, completed_at_epoch FROM sdk_sessions WHERE id = ?1",
            [row],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    Ok(
        matches!(got, Some((Some(s), e)) if s == "completed" && e == new["completed_at_epoch"].as_i64()),
    )
}

/// End claude-mem rows as the worker's `markSessionCompleted` does
/// (`status='completed'`, ISO `completed_at`, epoch-ms `completed_at_epoch`), narrowed
/// with `AND status = 'active'`, all in one transaction.
///
/// Rows come with the prior values read for their intent lines. Rows whose priors agree
/// are ended by one set-based UPDATE that also requires those priors (`... WHERE id IN
/// (the ids) AND status = 'active' AND completed_at IS ? AND completed_at_epoch IS ?
/// RETURNING id`): a row it returns held exactly what its intent line says, so it needs no
/// read of its own. A row it does not return, or one without a prior, is read and ended
/// on its own, as before.
pub fn claude_mem_end(
    db: &Path,
    rows: &[(i64, Option<&Value>)],
    now: i64,
) -> Result<Vec<Change>, String> {
    let new = claude_mem_new(now);
    let now_iso = iso_ms(now);
    // A prior that names every column the UPDATE changes, with the row active.
    let complete = |p: &&Value| {
        p["status"] == "active"
            && p.get("completed_at").is_some()
            && p.get("completed_at_epoch").is_some()
    };
    // Rows with the same prior, in id order: neighbouring rows share table and index
    // pages, so the transaction dirties far fewer pages than in the plan's order.
    type Prior = (Option<String>, Option<i64>);
    let mut groups: std::collections::BTreeMap<Prior, Vec<usize>> = Default::default();
    let mut singles: Vec<usize> = Vec::new();
    for (i, (_, seen)) in rows.iter().enumerate() {
        match seen.filter(complete) {
            Some(p) => groups
                .entry((
                    p["completed_at"].as_str().map(str::to_string),
                    p["completed_at_epoch"].as_i64(),
                ))
                .or_default()
                .push(i),
            None => singles.push(i),
        }
    }
    in_batch_tx(db, |tx| {
        let mut out = vec![Change::Skipped(String::new()); rows.len()];
        let mut set = tx.prepare(
            "UPDATE sdk_sessions SET status = 'completed', completed_at = ?1, completed_at_epoch = ?2 \
             WHERE id IN (SELECT value FROM json_each(?3)) AND status = 'active' \
             AND completed_at IS ?4 AND completed_at_epoch IS ?5 RETURNING id",
        )?;
        for ((at, epoch), mut members) in groups {
            members.sort_by_key(|&i| rows[i].0);
            let ids: Vec<i64> = members.iter().map(|&i| rows[i].0).collect();
            let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
            let done: std::collections::HashSet<i64> = set
                .query_map(params![now_iso, now, ids_json, at, epoch], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for i in members {
                let (id, seen) = rows[i];
                match seen {
                    Some(p) if done.contains(&id) => {
                        out[i] = Change::Done {
                            prior: p.clone(),
                            new: new.clone(),
                        }
                    }
                    // The row changed since its prior was read: read what it holds now.
                    _ => singles.push(i),
                }
            }
        }
        singles.sort_by_key(|&i| rows[i].0);
        let mut upd = tx.prepare(
            "UPDATE sdk_sessions SET status = 'completed', completed_at = ?1, completed_at_epoch = ?2 \
             WHERE id = ?3 AND status = 'active'",
        )?;
        for i in singles {
            let id = rows[i].0;
            let slot = &mut out[i];
            let Some(prior) = claude_mem_prior(tx, id)? else {
                *slot = Change::Skipped("row no longer exists".into());
                continue;
            };
            if prior["status"] != "active" {
                *slot = Change::Skipped(format!(
                    "row is now {}",
                    prior["status"].as_str().unwrap_or("?")
                ));
                continue;
            }
            let n = upd.execute(params![now_iso, now, id])?;
            *slot = Change::ended(n, prior, &new);
        }
        Ok(out)
    })
}

/// Undo of [`claude_mem_end`]: restore the prior columns where the row still holds what we wrote.
pub fn claude_mem_restore(
    db: &Path,
    row: i64,
    prior: &Value,
    new: &Value,
) -> Result<Change, String> {
    let n = in_tx(db, |tx| {
        tx.execute(
            "UPDATE sdk_sessions SET status = ?1, completed_at = ?2, completed_at_epoch = ?3 \
             WHERE id = ?4 AND status = 'completed' AND completed_at_epoch IS ?5",
            params![
                prior["status"].as_str(),
                prior["completed_at"].as_str(),
                prior["completed_at_epoch"].as_i64(),
                row,
                new["completed_at_epoch"].as_i64()
            ],
        )
    })?;
    Ok(Change::restored(n, prior, new))
}

/// What [`claude_mem_end`] writes: the worker's own completion values.
pub fn claude_mem_new(now: i64) -> Value {
    json!({"status": "completed", "completed_at": iso_ms(now), "completed_at_epoch": now})
}

/// What each of `rows` holds now (the columns [`claude_mem_end`] changes), in one query:
/// None for a row that is gone.
pub fn claude_mem_priors(conn: &Connection, rows: &[i64]) -> rusqlite::Result<Vec<Option<Value>>> {
    let mut sorted = rows.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let ids_json = serde_json::to_string(&sorted).unwrap_or_else(|_| "[]".into());
    let mut found: std::collections::HashMap<i64, Value> = std::collections::HashMap::new();
    let mut q = conn.prepare(
        "SELECT s.id, s.status, s.completed_at, s.completed_at_epoch \
         FROM json_each(?1) j JOIN sdk_sessions s ON s.id = j.value",
    )?;
    let mut it = q.query([ids_json])?;
    while let Some(r) = it.next()? {
        found.insert(
            r.get(0)?,
            json!({
                "status": r.get::<_, Option<String>>(1)?,
                "completed_at": r.get::<_, Option<String>>(2)?,
                "completed_at_epoch": r.get::<_, Option<i64>>(3)?,
            }),
        );
    }
    Ok(rows.iter().map(|id| found.get(id).cloned()).collect())
}

/// What a claude-mem row holds now (the columns [`claude_mem_end`] changes).
pub fn claude_mem_prior(conn: &Connection, row: i64) -> rusqlite::Result<Option<Value>> {
    conn.prepare_cached(
        "SELECT status, completed_at, completed_at_epoch FROM sdk_sessions WHERE id = ?1",
    )?
    .query_row([row], |r| {
        Ok(json!({
            "status": r.get::<_, Option<String>>(0)?,
            "completed_at": r.get::<_, Option<String>>(1)?,
            "completed_at_epoch": r.get::<_, Option<i64>>(2)?,
        }))
    })
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temp dir holding `claude-mem.db` with rows 1 (active), 2 (active, with a
    /// completion already set), 3 (completed) and `extra`.
    fn table_with(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("claude-mem.db");
        Connection::open(&db)
            .unwrap()
            .execute_batch(&format!(
                "CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, status TEXT, completed_at TEXT, completed_at_epoch INTEGER);
                 INSERT INTO sdk_sessions VALUES (1, 'active', NULL, NULL), (2, 'active', 'x', 7),
                   (3, 'completed', 'y', 8), {extra};"
            ))
            .unwrap();
        (d, db)
    }

    /// Rows whose prior was seen for the intent are ended by a guarded UPDATE; a row that
    /// changed since, or whose prior was not seen, is read in the transaction, and the
    /// outcome's prior is always what the row held when it was written.
    #[test]
    fn claude_mem_end_records_the_real_prior() {
        let (d, db) = table_with("(4, 'active', NULL, NULL)");
        let _keep = d;
        let seen_active =
            json!({"status": "active", "completed_at": null, "completed_at_epoch": null});
        let now = 1_795_650_000_123;
        let out = claude_mem_end(
            &db,
            // Not in id order: the changes come back in the order asked.
            &[
                (3, Some(&seen_active)), // completed meanwhile
                (1, Some(&seen_active)), // unchanged since the intent
                (5, Some(&seen_active)), // gone
                (2, Some(&seen_active)), // completed_at changed since
                (4, None),               // prior never read
            ],
            now,
        )
        .unwrap();
        let out = [&out[1], &out[3], &out[0], &out[4], &out[2]]; // ids 1..=5
        let prior = |c: &Change| match c {
            Change::Done { prior, new } => {
                assert_eq!(new, &claude_mem_new(now));
                Some(prior.clone())
            }
            Change::Skipped(_) => None,
        };
        assert_eq!(prior(out[0]), Some(seen_active.clone()));
        assert_eq!(
            prior(out[1]),
            Some(json!({"status": "active", "completed_at": "x", "completed_at_epoch": 7}))
        );
        assert!(
            matches!(&out[2], Change::Skipped(w) if w == "row is now completed"),
            "{:?}",
            out[2]
        );
        assert_eq!(prior(out[3]), Some(seen_active));
        assert!(
            matches!(&out[4], Change::Skipped(w) if w == "row no longer exists"),
            "{:?}",
            out[4]
        );
        let conn = Connection::open(&db).unwrap();
        let rows: Vec<(i64, String, Option<String>, Option<i64>)> = conn
            .prepare(
                "SELECT id, status, completed_at, completed_at_epoch FROM sdk_sessions ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let done = |id| (id, "completed".to_string(), Some(iso_ms(now)), Some(now));
        assert_eq!(
            rows,
            vec![
                done(1),
                done(2),
                (3, "completed".into(), Some("y".into()), Some(8)),
                done(4)
            ]
        );
    }

    /// The batched prior read answers per row, in the order asked, for rows in any order,
    /// repeated, or gone; rows with different priors are ended by their own set UPDATE.
    #[test]
    fn priors_in_one_query_and_groups_by_prior() {
        let (d, db) = table_with("(0, 'failed', NULL, NULL)");
        let _keep = d;
        let conn = Connection::open(&db).unwrap();
        let got = claude_mem_priors(&conn, &[3, 9, 1, 3]).unwrap();
        let p = |st: &str, at: Value, ep: Value| {
            Some(json!({"status": st, "completed_at": at, "completed_at_epoch": ep}))
        };
        assert_eq!(
            got,
            vec![
                p("completed", json!("y"), json!(8)),
                None,
                p("active", Value::Null, Value::Null),
                p("completed", json!("y"), json!(8)),
            ]
        );
        let via_trait = Rows
            .priors(&conn, &[&json!(2), &json!("not an id"), &json!(1)])
            .unwrap();
        assert_eq!(
            via_trait,
            vec![
                p("active", json!("x"), json!(7)),
                None,
                p("active", Value::Null, Value::Null)
            ]
        );
        drop(conn);
        let (p1, p2) = (via_trait[2].clone().unwrap(), via_trait[0].clone().unwrap());
        let now = 1_795_650_000_123;
        let out = claude_mem_end(&db, &[(2, Some(&p2)), (1, Some(&p1))], now).unwrap();
        assert_eq!(
            out,
            vec![
                Change::Done {
                    prior: p2,
                    new: claude_mem_new(now)
                },
                Change::Done {
                    prior: p1,
                    new: claude_mem_new(now)
                },
            ]
        );
    }
}
