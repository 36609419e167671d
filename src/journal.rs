//! The write-ahead journal: append-only NDJSON. A run header, an `intent` line before each
//! action (with the prior values it will change), an `outcome` line after it. A re-run reads
//! it to finish what a crashed run intended and to never deliver twice; `journal undo`
//! reads it to restore what a run changed.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
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
        let f = match File::open(path) {
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
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        // A crash may have left a line without its newline: start on a fresh line.
        if let Ok(m) = file.metadata() {
            if m.len() > 0 {
                let mut last = [0u8; 1];
                use std::io::{Read, Seek, SeekFrom};
                let mut r = File::open(path)?;
                r.seek(SeekFrom::End(-1))?;
                r.read_exact(&mut last)?;
                if last[0] != b'\n' {
                    file.write_all(b"\n")?;
                }
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

/// A run id that sorts by time and is unique: `20261125T212747.123Z-9f3a1c2b7d4e5f60`, the
/// UTC time to the millisecond, then 64 bits from the OS's random source. Two runs in the
/// same millisecond (cron on many hosts writing one journal, a re-run right after a
/// crash) still get different ids.
///
/// Test builds only: `SESSIONCTL_RUN_ID` forces the id, to prove that a resume does not
/// depend on a new run's id differing from a crashed run's.
pub fn new_run_id() -> String {
    if cfg!(debug_assertions) {
        if let Ok(id) = std::env::var("SESSIONCTL_RUN_ID") {
            return id;
        }
    }
    let ms = now_ms();
    let iso = iso_ms(ms);
    // 2026-11-25T21:27:47.123Z -> 20261125T212747.123Z
    let compact: String = iso.chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{compact}-{:016x}", random_u64())
}

/// 64 random bits: getrandom(2), else /dev/urandom, else (no usable source, which Linux
/// does not have) a mix of the time, the pid and a per-process counter.
fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf, which we own.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == buf.len() as isize {
        return u64::from_ne_bytes(buf);
    }
    use std::io::Read;
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok()
    {
        return u64::from_ne_bytes(buf);
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let c = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // splitmix64 over the three, so nearby inputs give unrelated outputs.
    let mut z =
        nanos ^ (u64::from(std::process::id()) << 32) ^ c.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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
        assert_eq!(
            id.len(),
            "20261125T212747.123Z-9f3a1c2b7d4e5f60".len(),
            "{id}"
        );
        assert!(id.starts_with("20"));
        let (time, rand) = id.split_once('-').unwrap();
        assert!(time.ends_with('Z') && time.as_bytes()[8] == b'T', "{id}");
        assert!(rand.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        // A later id sorts after an earlier one (the time prefix decides).
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = new_run_id();
        assert!(later > id, "{later} after {id}");
    }

    /// Many ids within the same millisecond (and from several threads at once) never
    /// collide: the old `pid ^ ms` suffix gave one id per millisecond and process.
    #[test]
    fn run_ids_are_unique_within_one_millisecond() {
        let ids: Vec<String> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..2500).map(|_| new_run_id()).collect::<Vec<_>>()))
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "duplicate run ids");
        // Prove the calls really shared milliseconds, so the test tests something.
        let mut per_ms: HashMap<&str, usize> = HashMap::new();
        for id in &ids {
            *per_ms.entry(id.split_once('-').unwrap().0).or_default() += 1;
        }
        assert!(
            per_ms.values().any(|n| *n > 1),
            "no two ids shared a millisecond: {} ids over {} ms",
            ids.len(),
            per_ms.len()
        );
    }
}
