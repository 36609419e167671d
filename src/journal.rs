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

impl RunHeader {
    /// The header of a new run of this process (`mode` is `close` or `undo`), begun at
    /// `at_ms` on `host`.
    pub fn new(mode: &str, at_ms: i64, host: &crate::probe::Host) -> RunHeader {
        RunHeader {
            run: new_run_id(),
            at: iso_ms(at_ms),
            mode: mode.into(),
            host: host.hostname.clone(),
            boot_id: host.boot_id.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            argv: std::env::args().collect(),
            dry_run: None,
        }
    }
}

/// What an action does. Every store change carries the prior values that undo restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// POST / run the session_end payload to a hook target.
    Deliver,
    /// A linked row ended (`<backend>-end`: how the backend's own program ends it, or by
    /// the assignments its `[[backend.sql]]` entry declares).
    RowEnd(crate::backend::Backend),
    /// OpenClaw file store: a sessions.json entry marked failed/aborted.
    OpenclawEntryEnd,
    /// OpenClaw SQLite store: session_nodes + session_windows marked failed.
    OpenclawRowEnd,
    /// A dead owner's `<sessionId>.jsonl.lock` removed.
    LockRemove,
    /// The OpenClaw store left to the live gateway that owns it (nothing is written): the
    /// record that lets the next scan call the session `delivered`.
    LeftToGateway,
    /// A session_end owed by a gateway that died without a clean stop, for a session the
    /// store already shows finished (nothing is written; the deliveries follow).
    EndOwed,
    /// Undo of one of the above.
    Restore,
}

impl Kind {
    /// The end of a linked row (any backend's): its store is found through
    /// [`crate::backend::linked::from_intent`].
    pub fn is_row_end(self) -> bool {
        matches!(self, Kind::RowEnd(_))
    }

    /// Every kind there is.
    fn all() -> impl Iterator<Item = Kind> {
        use crate::backend::Backend;
        [
            Kind::Deliver,
            Kind::OpenclawEntryEnd,
            Kind::OpenclawRowEnd,
            Kind::LockRemove,
            Kind::LeftToGateway,
            Kind::EndOwed,
            Kind::Restore,
        ]
        .into_iter()
        .chain(
            Backend::ALL
                .into_iter()
                .filter(|b| b.describe().end_kind.is_some())
                .map(Kind::RowEnd),
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Deliver => "deliver",
            Kind::RowEnd(b) => b.describe().end_kind.unwrap_or("row-end"),
            Kind::OpenclawEntryEnd => "openclaw-entry-end",
            Kind::OpenclawRowEnd => "openclaw-row-end",
            Kind::LockRemove => "lock-remove",
            Kind::LeftToGateway => "left-to-gateway",
            Kind::EndOwed => "end-owed",
            Kind::Restore => "restore",
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Kind::all()
            .find(|k| k.name() == s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown variant `{s}`")))
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
    /// A linked row that is not found by its session id alone (`sql-end`): its table, id
    /// column and id, so that undo needs no config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Value>,
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

    /// The run that handled a session whose store is left to its live gateway: it
    /// recorded `left` (see [`crate::close::left_to_gateway_id`]) as done, and every
    /// `session_end` delivery any run planned for (key, sessionId) has been made.
    pub fn handled(&self, left: &str, key: &str, sid: &str) -> Option<String> {
        self.handled_by_any(&[left.to_string()], key, sid)
    }

    /// [`History::handled`] where any of `records` (the end-owed record, the store write
    /// that ended the session, or leaving it to its gateway) counts.
    pub fn handled_by_any(&self, records: &[String], key: &str, sid: &str) -> Option<String> {
        let left = records.iter().find(|r| self.succeeded(r))?.as_str();
        let suffix = format!(":{key}:{sid}");
        let all_delivered = self
            .intents()
            .filter(|i| i.kind == Kind::Deliver && i.action.ends_with(&suffix))
            .all(|i| self.succeeded(&i.action));
        if !all_delivered {
            return None;
        }
        self.intents()
            .filter(|i| i.action == left)
            .find(|i| {
                self.outcome_of(&i.run, &i.action)
                    .is_some_and(|o| o.ok && !o.skipped)
            })
            .map(|i| i.run.clone())
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

/// `lines` as journal text, one JSON object a line.
pub fn render(lines: &[Line]) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut buf, l)?;
        buf.push(b'\n');
    }
    Ok(buf)
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
        self.append_rendered(&[render(lines)?])
    }

    /// Append lines [`render`]ed in parts, in the parts' order: one write, one sync.
    pub fn append_rendered(&mut self, parts: &[Vec<u8>]) -> io::Result<()> {
        self.file.write_all(&parts.concat())?;
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

/// How far the journal and the backups of rewritten files may grow: `[journal]` in the
/// config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The journal is compacted once it is larger than this (`max_size`).
    pub max_size: u64,
    /// Backups of rewritten files, all runs together, besides the newest run's
    /// (`max_backups_size`).
    pub max_backups_size: u64,
    /// How long a run stays undoable, and its backups kept (`keep`).
    pub keep_ms: i64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            max_size: 64 << 20,
            max_backups_size: 1 << 30,
            keep_ms: 30 * 86_400_000,
        }
    }
}

/// `1048576`, `500KB`, `64MiB`, `1GiB` (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024)
/// into bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 64MiB, 500MB or 1GiB)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}` has an unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// What [`compact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compacted {
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub runs_kept: usize,
    pub runs_dropped: usize,
    /// Where the journal as it was is kept (until the next compaction).
    pub previous: PathBuf,
}

impl History {
    /// The runs a compacted journal must keep: every run with an intent still pending, or
    /// a delivery a target refused and none has made since (the next `close` owes them);
    /// every run younger than `keep_ms` that `journal undo` could still restore something
    /// of; and the undo runs that restored part of a kept run (so it is not restored twice).
    pub fn runs_to_keep(&self, keep_ms: i64, now_ms: i64) -> HashSet<String> {
        let mut keep: HashSet<String> = HashSet::new();
        let restored: HashSet<&str> = self
            .intents()
            .filter(|u| u.kind == Kind::Restore)
            .filter(|u| {
                self.outcome_of(&u.run, &u.action)
                    .is_some_and(|o| o.ok && !o.skipped)
            })
            .filter_map(|u| u.undoes.as_deref())
            .collect();
        let young: HashSet<&str> = self
            .runs()
            .filter(|r| crate::timefmt::parse_iso_ms(&r.at).is_none_or(|at| now_ms - at <= keep_ms))
            .map(|r| r.run.as_str())
            .collect();
        for i in self.intents() {
            let o = self.outcome_of(&i.run, &i.action);
            let owed = match o {
                None => true,
                Some(o) => {
                    i.kind == Kind::Deliver && !o.ok && !o.skipped && !self.succeeded(&i.action)
                }
            };
            let undoable = young.contains(i.run.as_str())
                && !matches!(i.kind, Kind::Deliver | Kind::Restore)
                && o.is_some_and(|o| o.ok && !o.skipped)
                && !restored.contains(format!("{}/{}", i.run, i.action).as_str());
            if owed || undoable {
                keep.insert(i.run.clone());
            }
        }
        for u in self.intents().filter(|u| u.kind == Kind::Restore) {
            if let Some((run, _)) = u.undoes.as_deref().and_then(|t| t.split_once('/')) {
                if keep.contains(run) {
                    keep.insert(u.run.clone());
                }
            }
        }
        keep
    }
}

/// Rotate the journal once it is larger than `r.max_size`: keep the lines of the runs
/// [`History::runs_to_keep`] names, byte for byte and in order; the journal as it was
/// stays beside it as `<journal>.1` (replacing an older one). Only under the close lock:
/// the new file replaces the old one with a rename, so a reader sees one or the other.
pub fn compact(path: &Path, r: &Retention, now_ms: i64) -> io::Result<Option<Compacted>> {
    let bytes_before = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if bytes_before <= r.max_size {
        return Ok(None);
    }
    let history = History::read(path)?;
    let keep = history.runs_to_keep(r.keep_ms, now_ms);
    let runs: HashSet<&str> = history.runs().map(|h| h.run.as_str()).collect();
    let runs_dropped = runs.iter().filter(|r| !keep.contains(**r)).count();
    drop(runs);
    drop(history);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal.ndjson".into());
    let tmp = path.with_file_name(format!(".{name}.compact-{}.tmp", std::process::id()));
    let previous = path.with_file_name(format!("{name}.1"));
    let res = (|| -> io::Result<u64> {
        use std::os::unix::fs::OpenOptionsExt;
        // 0600 at most, whatever the umask; never through a link (create_new).
        let mut out = io::BufWriter::new(
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(crate::fsx::PRIVATE_FILE)
                .open(&tmp)?,
        );
        let mut written = 0u64;
        for line in BufReader::new(File::open(path)?).split(b'\n') {
            let line = line?;
            let run = match serde_json::from_slice::<Line>(&line) {
                Ok(Line::Run(h)) => h.run,
                Ok(Line::Intent(i)) => i.run,
                Ok(Line::Outcome(o)) => o.run,
                Err(_) => continue,
            };
            if keep.contains(&run) {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
                written += line.len() as u64 + 1;
            }
        }
        let f = out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        // The old journal stays readable as `.1` (a second name, no copy); the rename
        // below swaps the new one in atomically.
        match fs::remove_file(&previous) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::hard_link(path, &previous)?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(written)
    })();
    let bytes_after = match res {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    Ok(Some(Compacted {
        bytes_before,
        bytes_after,
        runs_kept: keep.len(),
        runs_dropped,
        previous,
    }))
}

/// What [`prune_backups`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: Vec<String>,
    pub bytes: u64,
}

/// Remove the backups (`<backups>/<run>/`) of runs older than `r.keep_ms`, then the oldest
/// others while all together are larger than `r.max_backups_size`; never `current`'s
/// (the newest run's, for a byte-exact undo of it). Without its backups a run is still
/// undone, entry by entry instead of byte for byte.
pub fn prune_backups(
    backups: &Path,
    current: Option<&str>,
    r: &Retention,
    now_ms: i64,
) -> io::Result<Pruned> {
    let rd = match fs::read_dir(backups) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Pruned::default()),
        Err(e) => return Err(e),
    };
    // (modified ms, run, bytes); only plain directories of plain files, never a link.
    let mut dirs: Vec<(i64, String, u64)> = Vec::new();
    for e in rd.flatten() {
        let Ok(m) = fs::symlink_metadata(e.path()) else {
            continue;
        };
        let run = e.file_name().to_string_lossy().into_owned();
        if !m.is_dir() || Some(run.as_str()) == current {
            continue;
        }
        // A run's age: its newest file (the dir's own time for an empty one).
        let mut bytes = 0;
        let mut newest = None::<i64>;
        for f in fs::read_dir(e.path())?.flatten() {
            if let Ok(fm) = fs::symlink_metadata(f.path()) {
                bytes += fm.len();
                newest = Some(newest.unwrap_or(i64::MIN).max(mtime_ms(&fm)));
            }
        }
        dirs.push((newest.unwrap_or_else(|| mtime_ms(&m)), run, bytes));
    }
    dirs.sort();
    let mut total: u64 = dirs.iter().map(|d| d.2).sum();
    let mut pruned = Pruned::default();
    for (at, run, bytes) in dirs {
        if now_ms - at > r.keep_ms || total > r.max_backups_size {
            fs::remove_dir_all(backups.join(&run))?;
            total -= bytes;
            pruned.bytes += bytes;
            pruned.runs.push(run);
        }
    }
    Ok(pruned)
}

fn mtime_ms(m: &fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    m.mtime() * 1000 + m.mtime_nsec() / 1_000_000
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
    format!("{compact}-{:016x}", crate::fsx::random_u64())
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
            row: None,
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
    fn sizes() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("2 GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("3KiB").unwrap(), 3072);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    const DAY: i64 = 86_400_000;

    fn header_at(run: &str, at: i64, mode: &str) -> Line {
        let mut h = header(run);
        h.at = iso_ms(at);
        h.mode = mode.into();
        Line::Run(h)
    }

    fn store_intent(run: &str, action: &str) -> Line {
        let mut i = intent(run, action);
        i.kind = Kind::RowEnd(crate::backend::Backend::Sql);
        i.payload = None;
        Line::Intent(i)
    }

    fn restore_intent(run: &str, undoes: &str) -> Line {
        let mut i = intent(run, &format!("restore:{undoes}"));
        i.kind = Kind::Restore;
        i.payload = None;
        i.undoes = Some(undoes.into());
        Line::Intent(i)
    }

    fn outcome_line(run: &str, action: &str, ok: bool) -> Line {
        Line::Outcome(Outcome {
            run: run.into(),
            action: action.into(),
            at: "x".into(),
            ok,
            skipped: false,
            detail: "d".into(),
            by_run: None,
            prior: None,
            new: None,
            data: None,
        })
    }

    /// Compaction keeps pending work, refused deliveries never made since, runs that can
    /// still be undone (young enough, something not restored yet) and the undo runs of
    /// those; it drops the rest, keeps the kept lines byte for byte and in order, and the
    /// old journal stays as `.1`.
    #[test]
    fn compact_keeps_what_is_still_needed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal.ndjson");
        let now = 1_800_000_000_000;
        let old = now - 40 * DAY;
        let young = now - DAY;
        let lines = vec![
            // Too old to undo, nothing owed: dropped.
            header_at("old", old, "close"),
            store_intent("old", "cm:1"),
            outcome_line("old", "cm:1", true),
            // Young and undoable: kept.
            header_at("young", young, "close"),
            store_intent("young", "cm:2"),
            outcome_line("young", "cm:2", true),
            // Old, but a delivery is still pending: kept.
            header_at("pend", old, "close"),
            Line::Intent(intent("pend", "deliver:a")),
            // Old, a refused delivery no run has made since: kept.
            header_at("fail", old, "close"),
            Line::Intent(intent("fail", "deliver:b")),
            outcome_line("fail", "deliver:b", false),
            // Old, refused, but delivered later by "young2": dropped with it.
            header_at("fail2", old, "close"),
            Line::Intent(intent("fail2", "deliver:c")),
            outcome_line("fail2", "deliver:c", false),
            // Young, deliveries only: nothing to undo, dropped.
            header_at("young2", young, "close"),
            Line::Intent(intent("young2", "deliver:c")),
            outcome_line("young2", "deliver:c", true),
            // Young, wholly undone: dropped, with its undo run.
            header_at("undone", young, "close"),
            store_intent("undone", "cm:3"),
            outcome_line("undone", "cm:3", true),
            header_at("u1", young, "undo"),
            restore_intent("u1", "undone/cm:3"),
            outcome_line("u1", "restore:undone/cm:3", true),
            // Young, half undone: kept, with its undo run.
            header_at("part", young, "close"),
            store_intent("part", "cm:4"),
            outcome_line("part", "cm:4", true),
            store_intent("part", "cm:5"),
            outcome_line("part", "cm:5", true),
            header_at("u2", young, "undo"),
            restore_intent("u2", "part/cm:4"),
            outcome_line("u2", "restore:part/cm:4", true),
        ];
        let mut j = Journal::start(&p, header("first")).unwrap();
        j.append_all(&lines).unwrap();
        drop(j);
        // "first" has no intents: nothing owed, nothing to undo.
        let before = fs::read(&p).unwrap();
        let r = Retention {
            max_size: before.len() as u64,
            max_backups_size: 0,
            keep_ms: 30 * DAY,
        };
        assert_eq!(compact(&p, &r, now).unwrap(), None, "not over the limit");
        assert_eq!(fs::read(&p).unwrap(), before);

        let r = Retention { max_size: 100, ..r };
        let c = compact(&p, &r, now).unwrap().expect("compacted");
        let h = History::read(&p).unwrap();
        let mut kept: Vec<&str> = h.runs().map(|r| r.run.as_str()).collect();
        kept.sort();
        assert_eq!(kept, vec!["fail", "part", "pend", "u2", "young"]);
        assert_eq!((c.runs_kept, c.runs_dropped), (5, 6));
        assert_eq!(c.bytes_before, before.len() as u64);
        let after = fs::read(&p).unwrap();
        assert_eq!(c.bytes_after, after.len() as u64);
        assert_eq!(
            fs::read(&c.previous).unwrap(),
            before,
            "old journal kept as .1"
        );
        // Byte for byte, in order: the kept lines are a subsequence of the old ones.
        let old_lines: Vec<&[u8]> = before.split(|b| *b == b'\n').collect();
        let mut it = old_lines.iter();
        for l in after.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            assert!(it.any(|o| *o == l), "{}", String::from_utf8_lossy(l));
        }
        // What the journal is for still works on the compacted one.
        assert_eq!(h.pending().len(), 1);
        assert!(h.has_failed_deliveries());
        assert!(h.outcome_of("u2", "restore:part/cm:4").is_some());
        // A second compaction of a journal that holds only what is needed keeps it all.
        let c2 = compact(&p, &r, now).unwrap().expect("still over 100 bytes");
        assert_eq!(c2.runs_dropped, 0);
        assert_eq!(fs::read(&p).unwrap(), after);
    }

    #[test]
    fn prune_backups_by_age_then_size() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path().join("backups");
        let now = crate::timefmt::now_ms();
        let write = |run: &str, bytes: usize, age_ms: i64| {
            fs::create_dir_all(b.join(run)).unwrap();
            let f = b.join(run).join("1.before");
            fs::write(&f, vec![b'x'; bytes]).unwrap();
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis((now - age_ms) as u64);
            File::options()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        write("r-ancient", 10, 40 * DAY); // older than keep
        write("r-old", 400, 3 * DAY);
        write("r-mid", 400, 2 * DAY);
        write("r-new", 400, DAY);
        write("r-current", 5000, 0); // this run's: never removed
        let r = Retention {
            max_size: 0,
            max_backups_size: 900,
            keep_ms: 30 * DAY,
        };
        let p = prune_backups(&b, Some("r-current"), &r, now).unwrap();
        assert_eq!(p.runs, vec!["r-ancient", "r-old"]);
        assert_eq!(p.bytes, 410);
        let mut left: Vec<String> = fs::read_dir(&b)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["r-current", "r-mid", "r-new"]);
        // Nothing more to do the second time.
        assert_eq!(
            prune_backups(&b, Some("r-current"), &r, now).unwrap(),
            Pruned::default()
        );
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
