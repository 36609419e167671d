//! What a `close` run did, as a table or JSON: each group closed (or not), the actions,
//! the refusals of named ids and the sessions the re-check dropped.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use crate::cli::Format;
use crate::close::{self, ActionResult, ItemResult, Selection};
use crate::journal::SessionRef;
use crate::report::{escape_control, ref_label, stamped, write_doc};
use crate::scan;

#[derive(Serialize)]
struct Doc<'a> {
    run: Option<&'a str>,
    dry_run: bool,
    resumed: &'a [ActionResult],
    items: &'a [ItemResult],
    refused: Vec<Value>,
    skipped: Vec<Value>,
    summary: Value,
}

fn describe_ref(s: &SessionRef) -> String {
    match &s.session_key {
        Some(k) => format!(
            "{} {} ({})",
            s.backend,
            escape_control(k),
            escape_control(&ref_label(s))
        ),
        None => format!("{} {}", s.backend, escape_control(&ref_label(s))),
    }
}

fn write_item<W: Write>(w: &mut W, r: &ItemResult) -> io::Result<()> {
    let who: Vec<String> = r
        .sessions
        .iter()
        .map(|s| format!("{} {}", s.backend, escape_control(&ref_label(s))))
        .collect();
    writeln!(
        w,
        "{} {} ({})",
        if r.closed { "closed" } else { "incomplete" },
        escape_control(&r.group),
        who.join(", ")
    )?;
    for a in &r.actions {
        let mark = if !a.ok {
            "failed "
        } else if a.skipped {
            "skipped"
        } else {
            "ok     "
        };
        let what = match &a.target {
            Some(t) => format!("deliver to {}", escape_control(t)),
            None => a.kind.to_string(),
        };
        writeln!(w, "  {mark} {what}: {}", escape_control(&a.detail))?;
    }
    for n in &r.notes {
        writeln!(w, "  note    {}", escape_control(n))?;
    }
    Ok(())
}

/// A named id `close` will not close, and the record it names: a key can name sessions in
/// several state dirs (and their linked rows), one closed and another refused.
pub(super) struct Refusal<'a> {
    query: &'a str,
    session: Option<&'a crate::model::Session>,
    why: &'a str,
}

impl Refusal<'_> {
    /// `<query>: <backend> <label> in <dir>: <why>`, escaped for a terminal.
    pub fn text(&self) -> String {
        match self.session {
            Some(s) => format!(
                "{}: {} {} in {}: {}",
                escape_control(self.query),
                s.backend.name(),
                escape_control(&crate::report::label(s.backend, &s.id)),
                escape_control(&session_dir(s).display().to_string()),
                escape_control(self.why)
            ),
            None => format!(
                "{}: {}",
                escape_control(self.query),
                escape_control(self.why)
            ),
        }
    }

    pub fn json(&self) -> Value {
        let mut v = json!({"id": self.query, "why": self.why});
        if let Some(s) = self.session {
            v["backend"] = json!(s.backend);
            v["session_id"] = json!(s.id);
            v["label"] = json!(crate::report::label(s.backend, &s.id));
            v["dir"] = json!(session_dir(s));
        }
        v
    }
}

/// The dir a record belongs to (an OpenClaw state dir, a data dir), else its database.
fn session_dir(s: &crate::model::Session) -> &Path {
    s.detail.dir().unwrap_or(&s.store)
}

/// `select`'s refusals with the record each one is about, found the way `select` finds
/// them (each named id's matches, in order, that `eligible` turns down). Should the two
/// ever disagree, the refusals are shown as `select` gave them.
pub(super) fn refusals<'a>(
    r: &'a scan::Report,
    sel: &Selection,
    refused: &'a [(String, String)],
) -> Vec<Refusal<'a>> {
    let mut out: Vec<(&str, Option<&crate::model::Session>)> = Vec::new();
    for q in &sel.ids {
        let hits: Vec<&crate::model::Session> =
            r.sessions.iter().filter(|s| scan::matches(s, q)).collect();
        if hits.is_empty() {
            out.push((q, None));
        }
        for h in hits {
            if close::eligible(h, sel, true).is_err() {
                out.push((q, Some(h)));
            }
        }
    }
    let agrees =
        out.len() == refused.len() && out.iter().zip(refused).all(|((q, _), (id, _))| q == id);
    refused
        .iter()
        .enumerate()
        .map(|(k, (id, why))| Refusal {
            query: id,
            session: if agrees { out[k].1 } else { None },
            why,
        })
        .collect()
}

/// What a run did, for its report.
pub(super) struct Done<'a> {
    pub run: Option<&'a str>,
    /// Actions earlier runs owed that this run settled (or failed again).
    pub resumed: &'a [ActionResult],
    pub results: &'a [ItemResult],
    pub refusals: &'a [Refusal<'a>],
    /// Planned sessions the re-check dropped, with why.
    pub dropped: &'a [(SessionRef, String)],
}

impl Done<'_> {
    /// Groups closed, and those an action failed for.
    pub fn counts(&self) -> (usize, usize) {
        let closed = self.results.iter().filter(|r| r.closed).count();
        (closed, self.results.len() - closed)
    }
}

/// The report of a run (not a dry run) on `out`, as `format` says.
pub(super) fn write<W: Write>(out: &mut W, format: Format, now: i64, d: &Done) -> io::Result<()> {
    let (closed, failed) = d.counts();
    match format {
        Format::Json | Format::Ndjson => {
            let doc = Doc {
                run: d.run,
                dry_run: false,
                resumed: d.resumed,
                items: d.results,
                refused: d.refusals.iter().map(Refusal::json).collect(),
                skipped: d
                    .dropped
                    .iter()
                    .map(|(s, why)| json!({"session": s, "why": why}))
                    .collect(),
                summary: json!({"closed": closed, "failed": failed, "refused": d.refusals.len(), "skipped": d.dropped.len()}),
            };
            write_doc(out, format, &stamped(now, doc))?;
        }
        Format::Table => {
            for r in d.resumed {
                writeln!(
                    out,
                    "resumed {}: {}",
                    escape_control(&r.action),
                    escape_control(&r.detail)
                )?;
            }
            for r in d.results {
                write_item(out, r)?;
            }
            for r in d.refusals {
                writeln!(out, "not closed {}", r.text())?;
            }
            for (s, why) in d.dropped {
                writeln!(out, "skipped {}: {}", describe_ref(s), escape_control(why))?;
            }
            if d.results.is_empty() && d.refusals.is_empty() && d.dropped.is_empty() {
                writeln!(out, "No orphans to close.")?;
            } else {
                write!(
                    out,
                    "Closed {closed} of {} session group(s)",
                    d.results.len()
                )?;
                if let Some(r) = d.run {
                    write!(out, "; run {r} (undo: sessionctl journal undo {r})")?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()
}
