//! Ending and restoring rows of a `[[backend.sql]]` table. Every identifier was checked
//! against `PRAGMA table_info` when the rows were read, and is quoted; every value is
//! bound. One transaction per database, as the owner of its directory.

use std::path::Path;

use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use super::config::{Assign, Entry};
use crate::backend::linked::{
    id_text, json_value, sql_value, stored, Ended, Restored, RowStore, ToEnd,
};
use crate::backend::write::{in_batch_tx, in_tx, Change};
use crate::backend::Backend;
use crate::journal::Kind;

/// A quoted SQLite identifier.
pub fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// How one entry's rows are ended; what undo needs of it is journaled (see
/// [`RowStore::locator`]), so undo never reads the config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqlRows {
    pub name: String,
    pub table: String,
    pub id_column: String,
    pub active: Vec<(String, Value)>,
    pub end: Vec<(String, Assign)>,
}

impl SqlRows {
    pub fn of(e: &Entry) -> SqlRows {
        SqlRows {
            name: e.name.clone(),
            table: e.table.clone(),
            id_column: e.id_column.clone(),
            active: e.active.clone(),
            end: e.end.clone(),
        }
    }

    /// The rows a journaled `sql-end` is about (restores only: no active condition, no
    /// assignments; the columns are those of the journaled values).
    pub fn from_locator(loc: Option<&Value>) -> Result<SqlRows, String> {
        let loc = loc.ok_or("sql-end record without its row locator")?;
        let field = |k: &str| {
            loc[k]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("sql-end record without `{k}`"))
        };
        Ok(SqlRows {
            name: field("backend")?,
            table: field("table")?,
            id_column: field("id_column")?,
            ..SqlRows::default()
        })
    }

    fn columns(&self) -> Vec<&str> {
        self.end.iter().map(|(c, _)| c.as_str()).collect()
    }

    /// `"a" = ?n AND "b" = ?n+1 …` for the active condition, numbered from `from`.
    fn active_sql(&self, from: usize) -> String {
        self.active
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{} = ?{}", q(c), from + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Read `cols` of one row as a JSON object (None: no such row).
    fn read(
        &self,
        conn: &Connection,
        cols: &[&str],
        row: &Value,
    ) -> rusqlite::Result<Option<Value>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = ?1",
            cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", "),
            q(&self.table),
            q(&self.id_column)
        );
        conn.prepare_cached(&sql)?
            .query_row([sql_value(row)], |r| {
                let mut m = Map::new();
                for (i, c) in cols.iter().enumerate() {
                    m.insert((*c).to_string(), json_value(r.get_ref(i)?));
                }
                Ok(Value::Object(m))
            })
            .optional()
    }

    /// Is the row still active (every condition holds)? None: no such row.
    fn is_active(&self, conn: &Connection, row: &Value) -> rusqlite::Result<Option<bool>> {
        let sql = format!(
            "SELECT ({}) FROM {} WHERE {} = ?1",
            self.active_sql(2),
            q(&self.table),
            q(&self.id_column)
        );
        let mut args = vec![sql_value(row)];
        args.extend(self.active.iter().map(|(_, v)| sql_value(v)));
        conn.prepare_cached(&sql)?
            .query_row(params_from_iter(args), |r| {
                Ok(r.get::<_, Option<bool>>(0)?.unwrap_or(false))
            })
            .optional()
    }
}

/// The keys of a journaled object of column values, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

impl RowStore for SqlRows {
    fn kind(&self) -> Kind {
        Kind::RowEnd(Backend::Sql)
    }

    fn store_id(&self) -> String {
        format!("sql {} {}", self.name, q(&self.table))
    }

    fn locator(&self, row: &Value) -> Option<Value> {
        Some(json!({
            "backend": self.name,
            "table": self.table,
            "id_column": self.id_column,
            "id": row,
        }))
    }

    fn describe(&self, db: &Path, row: &Value, now: i64) -> String {
        let shown = |v: &Value| match v {
            Value::String(s) => format!("'{}'", s.replace('\'', "''")),
            other => other.to_string(),
        };
        let set: Vec<String> = self
            .end
            .iter()
            .map(|(c, a)| format!("{} = {}", q(c), shown(&a.value(now))))
            .collect();
        let cond: Vec<String> = self
            .active
            .iter()
            .map(|(c, v)| format!("{} = {}", q(c), shown(v)))
            .collect();
        format!(
            "sql {} {}: UPDATE {} SET {} WHERE {} = {} AND {}",
            self.name,
            db.display(),
            q(&self.table),
            set.join(", "),
            q(&self.id_column),
            shown(row),
            cond.join(" AND ")
        )
    }

    fn prior(&self, conn: &Connection, row: &Value) -> rusqlite::Result<Option<Value>> {
        self.read(conn, &self.columns(), row)
    }

    fn new_values(&self, now: i64) -> Value {
        Value::Object(
            self.end
                .iter()
                .map(|(c, a)| (c.clone(), a.value(now)))
                .collect(),
        )
    }

    /// Each row is updated only while its active condition holds; a row whose prior was
    /// read for the intent is also required to still hold it, so what the outcome records
    /// as prior is exactly what was overwritten. Others are read inside the transaction.
    fn end(&self, db: &Path, rows: &ToEnd, now: i64) -> Ended {
        let new = self.new_values(now);
        let cols = self.columns();
        let set: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", q(c), i + 2))
            .collect();
        let n_set = cols.len();
        let upd = format!(
            "UPDATE {} SET {} WHERE {} = ?1 AND {}",
            q(&self.table),
            set.join(", "),
            q(&self.id_column),
            self.active_sql(n_set + 2)
        );
        let guard: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} IS ?{}", q(c), n_set + self.active.len() + 2 + i))
            .collect();
        let upd_seen = format!("{upd} AND {}", guard.join(" AND "));
        let base_args = |row: &Value| {
            let mut a = vec![sql_value(row)];
            a.extend(cols.iter().map(|c| sql_value(&new[*c])));
            a.extend(self.active.iter().map(|(_, v)| sql_value(v)));
            a
        };
        in_batch_tx(db, |tx| {
            let mut out = Vec::with_capacity(rows.len());
            for (row, seen) in rows {
                let seen = seen.filter(|p| cols.iter().all(|c| p.get(*c).is_some()));
                if let Some(p) = seen {
                    let mut args = base_args(row);
                    args.extend(cols.iter().map(|c| sql_value(&p[*c])));
                    if tx
                        .prepare_cached(&upd_seen)?
                        .execute(params_from_iter(args))?
                        == 1
                    {
                        out.push(Change::Done {
                            prior: p.clone(),
                            new: new.clone(),
                        });
                        continue;
                    }
                }
                // No prior seen, or the row changed since: read what it holds now.
                let Some(prior) = self.read(tx, &cols, row)? else {
                    out.push(Change::Skipped("row no longer exists".into()));
                    continue;
                };
                if self.is_active(tx, row)? != Some(true) {
                    out.push(Change::Skipped("row is no longer active".into()));
                    continue;
                }
                let n = tx
                    .prepare_cached(&upd)?
                    .execute(params_from_iter(base_args(row)))?;
                out.push(Change::ended(n, prior, &new));
            }
            Ok(out)
        })
    }

    fn holds(&self, db: &Path, row: &Value, new: &Value) -> Result<bool, String> {
        let cols = keys(new);
        if cols.is_empty() {
            return Ok(false);
        }
        let conn = crate::backend::open_read_only(db)?;
        let now = self
            .read(&conn, &cols, row)
            .map_err(|e| crate::backend::sqlite_message(&e))?;
        let want: Map<String, Value> = cols
            .iter()
            .map(|c| ((*c).to_string(), stored(&new[*c])))
            .collect();
        Ok(now == Some(Value::Object(want)))
    }

    fn restore(&self, db: &Path, row: &Value, prior: &Value, new: &Value) -> Restored {
        let cols = keys(new);
        if cols.is_empty() || cols.iter().any(|c| prior.get(*c).is_none()) {
            return Err(format!(
                "journaled values of row {} are incomplete; left alone",
                id_text(row)
            ));
        }
        let set: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", q(c), i + 2))
            .collect();
        let guard: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} IS ?{}", q(c), cols.len() + 2 + i))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = ?1 AND {}",
            q(&self.table),
            set.join(", "),
            q(&self.id_column),
            guard.join(" AND ")
        );
        let mut args = vec![sql_value(row)];
        args.extend(cols.iter().map(|c| sql_value(&prior[*c])));
        args.extend(cols.iter().map(|c| sql_value(&new[*c])));
        let n = in_tx(db, |tx| tx.execute(&sql, params_from_iter(args)))?;
        Ok(Change::restored(n, prior, new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> SqlRows {
        SqlRows {
            name: "runs".into(),
            table: "agent runs".into(),
            id_column: "run\"id".into(),
            active: vec![("state".into(), json!("running"))],
            end: vec![
                ("state".into(), Assign::Const(json!("ended"))),
                ("ended_at".into(), Assign::NowS),
                ("clean".into(), Assign::Const(json!(false))),
            ],
        }
    }

    /// A row whose prior was seen is ended by the guarded UPDATE; one that changed since
    /// (still active) is read again and its real prior recorded; one no longer active, or
    /// gone, is left alone. Odd identifiers are quoted, never spliced. Undo restores only
    /// what still holds the end's values.
    #[test]
    fn end_records_the_real_prior_and_restore_is_guarded() {
        let d = tempfile::tempdir().unwrap();
        let db = d.path().join("runs.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            r#"CREATE TABLE "agent runs" ("run""id" TEXT PRIMARY KEY, state TEXT, ended_at INTEGER, clean INTEGER);
               INSERT INTO "agent runs" VALUES ('a', 'running', NULL, 1), ('b', 'running', 5, 1),
                 ('c', 'ended', 9, 1);"#,
        )
        .unwrap();
        drop(conn);
        let s = rows();
        let seen = json!({"state": "running", "ended_at": null, "clean": 1});
        let now = 1_795_650_000_123;
        let (a, b, c, x) = (json!("a"), json!("b"), json!("c"), json!("x"));
        let out = s
            .end(
                &db,
                &[(&a, Some(&seen)), (&b, Some(&seen)), (&c, None), (&x, None)],
                now,
            )
            .unwrap();
        let new = json!({"state": "ended", "ended_at": 1_795_650_000, "clean": false});
        assert_eq!(
            out[0],
            Change::Done {
                prior: seen.clone(),
                new: new.clone()
            }
        );
        assert_eq!(
            out[1],
            Change::Done {
                prior: json!({"state": "running", "ended_at": 5, "clean": 1}),
                new: new.clone()
            }
        );
        assert_eq!(out[2], Change::Skipped("row is no longer active".into()));
        assert_eq!(out[3], Change::Skipped("row no longer exists".into()));
        // `false` was stored as 0, and still counts as what the end wrote.
        assert!(s.holds(&db, &a, &new).unwrap());
        // Undo by the journaled locator alone.
        let undo = SqlRows::from_locator(s.locator(&a).as_ref()).unwrap();
        assert_eq!(
            undo.restore(&db, &a, &seen, &new).unwrap(),
            Change::Done {
                prior: new.clone(),
                new: seen.clone()
            }
        );
        assert!(!s.holds(&db, &a, &new).unwrap());
        // Row b changed after its end: left alone.
        let conn = Connection::open(&db).unwrap();
        conn.execute(
            r#"UPDATE "agent runs" SET ended_at = 7 WHERE "run""id" = 'b'"#,
            [],
        )
        .unwrap();
        assert_eq!(
            undo.restore(&db, &b, &seen, &new).unwrap(),
            Change::Skipped("row changed since it was ended; left alone".into())
        );
        let got: Vec<(String, String, Option<i64>, i64)> = conn
            .prepare(r#"SELECT "run""id", state, ended_at, clean FROM "agent runs" ORDER BY 1"#)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got,
            vec![
                ("a".into(), "running".into(), None, 1),
                ("b".into(), "ended".into(), Some(7), 0),
                ("c".into(), "ended".into(), Some(9), 1),
            ]
        );
    }
}
