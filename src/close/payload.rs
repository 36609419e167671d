//! The `session_end` payload of a session group, as OpenClaw's own drain sends it.

use std::path::Path;

use serde_json::{Map, Value};

use super::Selection;
use crate::model::{Backend, Detail, Session, VerdictKind};
use crate::scan::Report;

/// Lookups `payload` needs for every group, built once per plan.
pub struct KeyIndex<'a> {
    /// Keys whose OpenClaw session runs and is not an orphan, or ended after a turn in a
    /// gateway that runs now.
    live_keys: std::collections::HashSet<&'a str>,
    /// Key -> (session id, state dir, stored sessionFile) from the stores' link index
    /// (first state dir wins).
    links: std::collections::HashMap<&'a str, (&'a str, &'a Path, Option<&'a str>)>,
}

impl<'a> KeyIndex<'a> {
    pub fn new(r: &'a Report) -> KeyIndex<'a> {
        let live_keys = r
            .sessions
            .iter()
            .filter(|s| s.backend == Backend::Openclaw && s.verdict != VerdictKind::Orphan)
            .filter_map(|s| s.session_key.as_deref())
            .chain(
                r.openclaw
                    .iter()
                    .flat_map(|x| x.live_turns.iter().map(String::as_str)),
            )
            .collect();
        let mut links = std::collections::HashMap::new();
        for x in &r.openclaw {
            for l in &x.links {
                links.entry(l.session_key.as_str()).or_insert((
                    l.session_id.as_str(),
                    x.state_dir.as_path(),
                    l.session_file.as_deref(),
                ));
            }
        }
        KeyIndex { live_keys, links }
    }
}

/// The payload OpenClaw's own shutdown drain sends (keys and types as in the captured
/// `session_end.jsonl`): event `{sessionId, sessionKey, messageCount, reason}` plus
/// `sessionFile`/`transcriptArchived` when a transcript exists; ctx `{sessionId,
/// sessionKey, agentId}`. Unknown fields are omitted. None when no OpenClaw session key
/// is known (linked rows made without one).
pub fn payload(
    ix: &KeyIndex,
    r: &Report,
    oc: Option<&Session>,
    recs: &[&Session],
    sel: &Selection,
) -> Option<Value> {
    let (key, sid, agent, state_dir, session_file) = match oc {
        Some(s) => {
            let Detail::Openclaw(d) = &s.detail else {
                return None;
            };
            let file = d
                .session_file
                .as_ref()
                .filter(|f| f.inside_state_dir && f.exists)
                .map(|f| f.stored.clone());
            (
                s.session_key.clone()?,
                Some(s.id.clone()),
                Some(d.agent_id.clone()),
                Some(d.state_dir.clone()),
                file,
            )
        }
        None => {
            let key = recs
                .iter()
                .find_map(|s| s.session_key.clone())
                .filter(|k| k != "default")?;
            // The key's current OpenClaw session runs and is not an orphan, or a gateway
            // running now had a turn of it (a 2026.9 restart re-ran it): a session_end naming
            // the key now would tell downstream that a live session ended. Send nothing.
            if ix.live_keys.contains(key.as_str()) {
                return None;
            }
            // The store may still know the key's (ended or orphaned) session id and its
            // transcript, which the drain names for every session it ends.
            let found = ix.links.get(key.as_str());
            let sid = found.map(|f| f.0.to_string());
            let file = found.and_then(|&(_, dir, file)| {
                let f = crate::backend::openclaw::stored_path(dir, file?);
                f.exists.then_some(f.stored)
            });
            let agent = agent_of(&key);
            (key, sid, agent, found.map(|f| f.1.to_path_buf()), file)
        }
    };
    let successor = oc.is_some_and(|s| {
        matches!(&s.detail, Detail::Openclaw(d) if d.owed.as_ref().is_some_and(|o| o.successor))
    });
    let reason = sel.reason.clone().unwrap_or_else(|| {
        let restarted = successor
            || r.openclaw
                .iter()
                .filter(|x| state_dir.as_ref().is_none_or(|d| &x.state_dir == d))
                .any(|x| !x.owners.live().is_empty());
        if restarted { "restart" } else { "shutdown" }.to_string()
    });
    // Built member by member: `json!` would serialize a copy of every nested map.
    let text = |s: &str| Value::String(s.to_string());
    let mut event = Map::new();
    if let Some(sid) = &sid {
        event.insert("sessionId".into(), text(sid));
    }
    event.insert("sessionKey".into(), text(&key));
    // OpenClaw's own drain reports 0 here, even for sessions with a transcript.
    event.insert("messageCount".into(), Value::from(0));
    event.insert("reason".into(), Value::String(reason));
    if let Some(f) = session_file {
        event.insert("sessionFile".into(), Value::String(f));
        event.insert("transcriptArchived".into(), Value::Bool(false));
    }
    let mut ctx = Map::new();
    if let Some(sid) = sid {
        ctx.insert("sessionId".into(), Value::String(sid));
    }
    ctx.insert("sessionKey".into(), Value::String(key));
    if let Some(a) = agent {
        ctx.insert("agentId".into(), Value::String(a));
    }
    let mut payload = Map::new();
    payload.insert("event".into(), Value::Object(event));
    payload.insert("ctx".into(), Value::Object(ctx));
    Some(Value::Object(payload))
}

/// The agent id in a session key `agent:<id>:…`.
fn agent_of(key: &str) -> Option<String> {
    let mut parts = key.split(':');
    (parts.next() == Some("agent"))
        .then(|| parts.next().map(String::from))
        .flatten()
}
