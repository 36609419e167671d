//! The write-ahead journal: append-only NDJSON. A run header, an `intent` line before each
//! action (with the prior values it will change), an `outcome` line after it. A re-run reads
//! it to finish what a crashed run intended and to never deliver twice; `journal undo`
//! reads it to restore what a run changed.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::timefmt::{iso_ms, now_ms};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Line {
    Run(RunHeader),
    Intent(Intent),
    Outcome(Outcome),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunHeader {
    pub run: String,
    pub at: String,
    /// `close` or `undo`.
    pub mode: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub boot_id: Option<String>,
    pub version: String,
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// What an action does. Every store change carries the prior values that undo restores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// POST / run the session_end payload to a hook target.
    Deliver,
    /// claude-mem: `sdk_sessions` row ended as the worker ends it.
    ClaudeMemEnd,
    /// OpenClaw file store: a sessions.json entry marked failed/aborted.
    OpenclawEntryEnd,
    /// OpenClaw SQLite store: session_nodes + session_windows marked failed.
    OpenclawRowEnd,
    /// A dead owner's `<sessionId>.jsonl.lock` removed.
    LockRemove,
    /// Undo of one of the above.
    Restore,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deliver => "deliver",
            Kind::ClaudeMemEnd => "claude-mem-end",
            Kind::OpenclawEntryEnd => "openclaw-entry-end",
            Kind::OpenclawRowEnd => "openclaw-row-end",
            Kind::LockRemove => "lock-remove",
            Kind::Restore => "restore",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SessionRef {
    pub backend: String,
    pub id: String,
    #[serde(default)]
    pub session_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Intent {
    pub run: String,
    /// Stable across runs: the same action on the same thing has the same id, so a re-run
    /// knows what was already done.
    pub action: String,
    pub kind: Kind,
    pub at: String,
    pub session: SessionRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Values before the change (row columns, the entry, the lock file's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Value>,
    /// Values the change writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// For undo: the run and action being restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub run: String,
    pub action: String,
    pub at: String,
    pub ok: bool,
    /// True when the action was left alone on purpose (row changed meanwhile, live owner).
    #[serde(default)]
    pub skipped: bool,
    pub detail: String,
    /// Set when a later run recorded this outcome while resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_run: Option<String>,
    /// The values the change found and wrote (what undo restores and checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// Extra facts, such as backup copies of a rewritten file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// The journal's lines, read forgivingly: a corrupt or truncated line (a crash mid-write)
/// is skipped and counted, and the rest stays usable.
#[derive(Debug, Default)]
pub struct History {
    pub lines: Vec<Line>,
    pub bad_lines: Vec<usize>,
    /// (run, action) -> index in `lines` of its last outcome.
    last_outcome: HashMap<(String, String), usize>,
    /// Actions some run recorded as done.
    done: HashSet<String>,
}

impl History {
    pub fn read(path: &Path) -> io::Result<History> {
        use std::os::unix::fs::OpenOptionsExt;
        // Never through a link another user planted where the journal should be.
        let f = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(History::default()),
            Err(e) => return Err(e),
        };
        let mut h = History::default();
        for (i, line) in BufReader::new(f).split(b'\n').enumerate() {
            let line = line?;
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            match serde_json::from_slice::<Line>(&line) {
                Ok(l) => {
                    if let Line::Outcome(o) = &l {
                        h.last_outcome
                            .insert((o.run.clone(), o.action.clone()), h.lines.len());
                        if o.ok && !o.skipped {
                            h.done.insert(o.action.clone());
                        }
                    }
                    h.lines.push(l)
                }
                Err(_) => h.bad_lines.push(i + 1),
            }
        }
        Ok(h)
    }

    pub fn runs(&self) -> impl Iterator<Item = &RunHeader> {
        self.lines.iter().filter_map(|l| match l {
            Line::Run(r) => Some(r),
            _ => None,
        })
    }

    pub fn intents(&self) -> impl Iterator<Item = &Intent> {
        self.lines.iter().filter_map(|l| match l {
            Line::Intent(i) => Some(i),
            _ => None,
        })
    }

    /// The outcome recorded for (run, action), the last one if several.
    pub fn outcome_of(&self, run: &str, action: &str) -> Option<&Outcome> {
        let i = *self
            .last_outcome
            .get(&(run.to_string(), action.to_string()))?;
        match &self.lines[i] {
            Line::Outcome(o) => Some(o),
            _ => None,
        }
    }

    /// Has any run recorded this action as done?
    pub fn succeeded(&self, action: &str) -> bool {
        self.done.contains(action)
    }

    /// A delivery some run tried and a target refused, never delivered since.
    pub fn has_failed_deliveries(&self) -> bool {
        self.last_outcome.iter().any(|((_, action), &i)| {
            action.starts_with("deliver:")
                && !self.done.contains(action)
                && matches!(&self.lines[i], Line::Outcome(o) if !o.ok && !o.skipped)
        })
    }

    /// Intents with no outcome yet: what a crashed run meant to do.
    pub fn pending(&self) -> Vec<&Intent> {
        self.intents()
            .filter(|i| self.outcome_of(&i.run, &i.action).is_none())
            .collect()
    }
}

/// An open journal for one run.
pub struct Journal {
    pub run: String,
    file: File,
}

impl Journal {
    /// Open (creating directories and the file) for appending, and write the run header.
    pub fn start(path: &Path, header: RunHeader) -> io::Result<Journal> {
        // Only in a directory no other user controls, never through a link, 0600.
        let dir = trusted_journal_dir(path).map_err(io::Error::other)?;
        let mut file = dir.open_append_private(path.file_name().unwrap_or_default())?;
        // A crash may have left a line without its newline: start on a fresh line.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            use std::os::unix::fs::FileExt;
            file.read_exact_at(&mut last, len - 1)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        let mut j = Journal {
            run: header.run.clone(),
            file,
        };
        j.append(&Line::Run(header))?;
        Ok(j)
    }

    /// Append one line and make it durable before the action it announces happens.
    pub fn append(&mut self, line: &Line) -> io::Result<()> {
        self.append_all(std::slice::from_ref(line))
    }

    /// Append lines with one write and one fsync: a batch of intents is durable before any
    /// of its actions starts, without paying a disk flush per line.
    pub fn append_all(&mut self, lines: &[Line]) -> io::Result<()> {
        let mut buf = Vec::new();
        for l in lines {
            serde_json::to_writer(&mut buf, l)?;
            buf.push(b'\n');
        }
        self.file.write_all(&buf)?;
        self.file.sync_data()
    }

    pub fn intent(&mut self, i: Intent) -> io::Result<()> {
        self.append(&Line::Intent(i))
    }

    pub fn outcome(
        &mut self,
        run: &str,
        action: &str,
        ok: bool,
        skipped: bool,
        detail: impl Into<String>,
    ) -> io::Result<()> {
        self.outcome_with(run, action, ok, skipped, &detail.into(), None, None, None)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn outcome_with(
        &mut self,
        run: &str,
        action: &str,
        ok: bool,
        skipped: bool,
        detail: &str,
        prior: Option<Value>,
        new: Option<Value>,
        data: Option<Value>,
    ) -> io::Result<()> {
        let line = self.outcome_line(run, action, ok, skipped, detail, prior, new, data);
        self.append(&line)
    }

    /// An outcome line, to append now or with its batch.
    #[allow(clippy::too_many_arguments)]
    pub fn outcome_line(
        &self,
        run: &str,
        action: &str,
        ok: bool,
        skipped: bool,
        detail: &str,
        prior: Option<Value>,
        new: Option<Value>,
        data: Option<Value>,
    ) -> Line {
        let by_run = (run != self.run).then(|| self.run.clone());
        Line::Outcome(Outcome {
            run: run.to_string(),
            action: action.to_string(),
            at: iso_ms(now_ms()),
            ok,
            skipped,
            detail: detail.to_string(),
            by_run,
            prior,
            new,
            data,
        })
    }
}

/// The journal's directory, opened only when no other user controls it or any directory
/// above it (see [`crate::fsx::Dir::trusted`]); the error says why and what to do.
pub fn trusted_journal_dir(journal: &Path) -> Result<crate::fsx::Dir, String> {
    let dir = journal.parent().unwrap_or(Path::new("."));
    crate::fsx::Dir::trusted(dir).map_err(|e| {
        format!(
            "{}: not used as the journal directory: {e}, and could replace what sessionctl writes there; run as that user, or pass --journal in a directory of your own",
            dir.display()
        )
    })
}

/// A run id that sorts by time: `20261125T212747Z-4f2a`.
pub fn new_run_id() -> String {
    let ms = now_ms();
    let iso = iso_ms(ms);
    let compact: String = iso[..19]
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!(
        "{compact}Z-{:04x}",
        (std::process::id() as u64 ^ ms as u64) & 0xffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(run: &str) -> RunHeader {
        RunHeader {
            run: run.into(),
            at: "2026-11-25T00:00:00.000Z".into(),
            mode: "close".into(),
            host: None,
            boot_id: None,
            version: "0".into(),
            argv: vec![],
            dry_run: None,
        }
    }

    fn intent(run: &str, action: &str) -> Intent {
        Intent {
            run: run.into(),
            action: action.into(),
            kind: Kind::Deliver,
            at: "x".into(),
            session: SessionRef::default(),
            target: Some("t".into()),
            path: None,
            prior: None,
            new: None,
            payload: Some(serde_json::json!({"event": {}})),
            undoes: None,
        }
    }

    #[test]
    fn pending_and_succeeded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j/journal.ndjson");
        let mut j = Journal::start(&p, header("r1")).unwrap();
        j.intent(intent("r1", "a")).unwrap();
        j.outcome("r1", "a", true, false, "ok").unwrap();
        j.intent(intent("r1", "b")).unwrap();
        drop(j);
        let h = History::read(&p).unwrap();
        assert!(h.succeeded("a"));
        assert!(!h.succeeded("b"));
        let pending: Vec<&str> = h.pending().iter().map(|i| i.action.as_str()).collect();
        assert_eq!(pending, vec!["b"]);
        assert_eq!(h.runs().count(), 1);
    }

    #[test]
    fn truncated_last_line_is_skipped_and_the_rest_usable() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.ndjson");
        let mut j = Journal::start(&p, header("r1")).unwrap();
        j.intent(intent("r1", "a")).unwrap();
        j.outcome("r1", "a", true, false, "ok").unwrap();
        drop(j);
        // A crash mid-write: half a line, no newline.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"type":"intent","run":"r1","act"#).unwrap();
        drop(f);
        let h = History::read(&p).unwrap();
        assert_eq!(h.bad_lines, vec![4]);
        assert!(h.succeeded("a"));
        // The next run starts on a fresh line and is readable.
        let mut j = Journal::start(&p, header("r2")).unwrap();
        j.intent(intent("r2", "c")).unwrap();
        drop(j);
        let h = History::read(&p).unwrap();
        assert_eq!(h.bad_lines, vec![4]);
        assert_eq!(h.runs().count(), 2);
        assert_eq!(h.pending().len(), 1);
    }

    #[test]
    fn garbage_lines_in_the_middle() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.ndjson");
        let mut j = Journal::start(&p, header("r1")).unwrap();
        j.append(&Line::Intent(intent("r1", "a"))).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"\xff\xfe not json\n{\"type\":\"nope\"}\n")
            .unwrap();
        drop(f);
        let h = History::read(&p).unwrap();
        assert_eq!(h.bad_lines, vec![3, 4]);
        assert_eq!(h.pending().len(), 1);
    }

    #[test]
    fn run_ids_sort_by_time() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261125T212747Z-4f2a".len(), "{id}");
        assert!(id.starts_with("20"));
    }
}
