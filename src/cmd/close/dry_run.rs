//! `close --dry-run`: the plan, the refusals and the deliveries earlier runs still owe,
//! as a table or JSON; nothing is changed.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{json, Value};

use super::report::Refusal;
use crate::cli::Format;
use crate::close::Plan;
use crate::cmd::{stdout, EXIT_FINDINGS, EXIT_OK};
use crate::config::Config;
use crate::report::{escape_control, ref_label, stamped, write_doc};
use crate::targets;
use crate::timefmt::now_ms;

/// One item of a dry run's JSON, borrowed from the plan.
#[derive(Serialize)]
struct DryItem<'a> {
    group: &'a str,
    sessions: Vec<DrySession<'a>>,
    payload: &'a Option<Value>,
    actions: Vec<DryAction<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct DrySession<'a> {
    backend: crate::model::Backend,
    id: &'a str,
    label: String,
    session_key: &'a Option<String>,
    verdict: crate::model::VerdictKind,
    reason: crate::model::Reason,
    summary: &'a str,
}

#[derive(Serialize)]
struct DryAction<'a> {
    action: &'a str,
    kind: &'static str,
    describe: &'a str,
}

pub(super) fn print(
    cfg: &Config,
    plan: &Plan,
    refusals: &[Refusal],
    retries: &[(&crate::journal::Intent, Result<usize, String>)],
    targets: &[targets::Target],
) -> io::Result<u8> {
    let mut out = stdout();
    let items: Vec<DryItem> = plan
        .items
        .iter()
        .map(|i| DryItem {
            group: &i.group,
            sessions: i
                .sessions
                .iter()
                .map(|s| DrySession {
                    backend: s.backend,
                    id: &s.id,
                    label: crate::report::label(s.backend, &s.id),
                    session_key: &s.session_key,
                    verdict: s.verdict,
                    reason: s.reason,
                    summary: &s.summary,
                })
                .collect(),
            payload: &i.payload,
            actions: i
                .actions
                .iter()
                .map(|a| DryAction {
                    action: &a.id,
                    kind: a.kind.name(),
                    describe: &a.describe,
                })
                .collect(),
            notes: &i.notes,
        })
        .collect();
    match cfg.format {
        Format::Json | Format::Ndjson => {
            let doc = json!({
                "dry_run": true,
                "targets": targets.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                "items": items,
                "refused": refusals.iter().map(Refusal::json).collect::<Vec<_>>(),
                "retries": retries.iter().map(|(i, r)| {
                    let mut session = json!(i.session);
                    session["label"] = json!(ref_label(&i.session));
                    json!({
                        "action": i.action,
                        "run": i.run,
                        "target": i.target,
                        "session": session,
                        "will": if r.is_ok() { "retry" } else { "fail" },
                        "why": r.as_ref().err(),
                    })
                }).collect::<Vec<_>>(),
            });
            write_doc(&mut out, cfg.format, &stamped(now_ms(), doc))?;
        }
        Format::Table => {
            // What the real run does first: the deliveries earlier runs still owe.
            for (i, r) in retries {
                let who = match &i.session.session_key {
                    Some(k) => format!(
                        "{} ({} {})",
                        escape_control(k),
                        escape_control(&i.session.backend),
                        escape_control(&ref_label(&i.session))
                    ),
                    None => format!(
                        "{} {}",
                        escape_control(&i.session.backend),
                        escape_control(&ref_label(&i.session))
                    ),
                };
                let target = escape_control(i.target.as_deref().unwrap_or("-")).into_owned();
                match r {
                    Ok(_) => writeln!(
                        out,
                        "would retry delivery to {target} for {who}, owed since run {}",
                        escape_control(&i.run)
                    )?,
                    Err(why) => writeln!(
                        out,
                        "would fail delivery to {target} for {who}: {}",
                        escape_control(why)
                    )?,
                }
            }
            if plan.items.is_empty() {
                writeln!(out, "No orphans to close.")?;
            }
            for i in &plan.items {
                writeln!(out, "would close {}", escape_control(&i.group))?;
                for s in &i.sessions {
                    writeln!(
                        out,
                        "  {} {}: {} ({}) — {}",
                        s.backend.name(),
                        escape_control(&crate::report::label(s.backend, &s.id)),
                        s.verdict.name(),
                        s.reason.name(),
                        escape_control(&s.summary)
                    )?;
                }
                match &i.payload {
                    // serde escapes C0 controls in JSON, but not C1 or bidi characters.
                    Some(p) => writeln!(
                        out,
                        "  payload {}",
                        escape_control(&serde_json::to_string(p).unwrap_or_default())
                    )?,
                    None => writeln!(out, "  payload none (no OpenClaw session key is known)")?,
                }
                for a in &i.actions {
                    writeln!(out, "  plan    {}", escape_control(&a.describe))?;
                }
                for n in &i.notes {
                    writeln!(out, "  note    {}", escape_control(n))?;
                }
            }
            for r in refusals {
                writeln!(out, "would not close {}", r.text())?;
            }
            writeln!(out, "Dry run: nothing was changed.")?;
        }
    }
    out.flush()?;
    Ok(if plan.refused.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}
