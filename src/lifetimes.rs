//! `lifetimes.ndjson` beside the journal: the gateway and worker lifetimes
//! `sessionctl watch` saw. `watch` writes it ([`Lifetimes`]: a `start` record when it finds
//! a process, an `end` record, with how it ended, when the process exits); every scan reads
//! the gateway lifetimes of a state dir from it ([`watched_gateways`]) and merges them with
//! the gateway's own records on disk ([`merge`]). A lifetime `watch` saw end is exact
//! evidence: its start time from `/proc`, how it ended read at the moment it exited —
//! before a restarted gateway could overwrite the lock it left behind.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::classify::Lifetime;

pub const FILE: &str = "lifetimes.ndjson";
pub const FILE_OLD: &str = "lifetimes.ndjson.1";
/// `lifetimes.ndjson` is rotated (to `.1`, replacing the previous one) past this size:
/// a few thousand lifetimes, and never more than twice this on disk.
pub const MAX: u64 = 1 << 20;
/// A record of the gateway's own and one `watch` wrote are the same lifetime when they name
/// the same pid and start within this of each other (a lock's `createdAt` comes seconds
/// after the process started; pids are reused across boots).
const SAME_LIFETIME_MS: i64 = 600_000;

pub struct Lifetimes {
    dir: crate::fsx::Dir,
    pub path: PathBuf,
}

/// One lifetime, as its records name it: boot id, kind, pid, /proc starttime.
pub type Key = (Option<String>, String, i64, u64);

pub fn key_of(v: &Value) -> Option<Key> {
    Some((
        v["boot_id"].as_str().map(str::to_string),
        v["kind"].as_str()?.to_string(),
        v["pid"].as_i64()?,
        v["starttime"].as_u64()?,
    ))
}

impl Lifetimes {
    /// The file beside `journal`, in a directory no other user controls.
    pub fn open(journal: &Path) -> Result<Lifetimes, String> {
        let dir = crate::journal::trusted_journal_dir(journal)?;
        let path = journal.parent().unwrap_or(Path::new(".")).join(FILE);
        Ok(Lifetimes { dir, path })
    }

    /// One `watch` per journal: two would record every lifetime twice.
    pub fn lock(&self) -> Result<File, String> {
        let lock = self.path.with_file_name("watch.lock");
        let f = self
            .dir
            .open_rw_private(OsStr::new("watch.lock"))
            .map_err(|e| format!("watch lock: {}: cannot open: {e}", lock.display()))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(format!(
                "watch lock: {}: another `sessionctl watch` runs with this journal",
                lock.display()
            ));
        }
        Ok(f)
    }

    pub fn append(&self, v: &Value) -> io::Result<()> {
        let name = OsStr::new(FILE);
        let mut f = self.dir.open_append_private(name)?;
        if f.metadata()?.len() > MAX {
            drop(f);
            self.dir.rename(name, OsStr::new(FILE_OLD))?;
            f = self.dir.open_append_private(name)?;
        }
        let mut line = serde_json::to_vec(v).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write of a whole line, O_APPEND: a reader never sees half a record.
        f.write_all(&line)
    }

    /// Every record of both files, oldest first; lines that are not JSON are skipped.
    pub fn records(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for name in [FILE_OLD, FILE] {
            let Ok(f) = self.dir.open_read(OsStr::new(name)) else {
                continue;
            };
            let mut text = String::new();
            if f.take(4 * MAX).read_to_string(&mut text).is_err() {
                continue;
            }
            out.extend(
                text.lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok()),
            );
        }
        out
    }

    /// Start records without an end record (oldest first).
    pub fn open_records(&self) -> Vec<Value> {
        let mut open: std::collections::BTreeMap<Key, Value> = Default::default();
        for v in self.records() {
            let Some(k) = key_of(&v) else { continue };
            match v["type"].as_str() {
                Some("start") => {
                    open.insert(k, v);
                }
                Some("end") => {
                    open.remove(&k);
                }
                _ => {}
            }
        }
        open.into_values().collect()
    }
}

/// The gateway lifetimes of `state` that `watch` (with the journal `journal`) saw end, with
/// a known outcome (`crash` or `clean_stop`), oldest first. Nothing when there is no such
/// file, or its directory is not one sessionctl trusts (the journal's own check says so).
pub fn watched_gateways(journal: &Path, state: &Path) -> Vec<Lifetime> {
    let parent = journal.parent().unwrap_or(Path::new("."));
    if !parent.join(FILE).exists() && !parent.join(FILE_OLD).exists() {
        return Vec::new();
    }
    let Ok(l) = Lifetimes::open(journal) else {
        return Vec::new();
    };
    let canonical = state.canonicalize().ok();
    let same_dir = |d: &str| {
        let d = Path::new(d);
        d == state || (canonical.is_some() && d.canonicalize().ok() == canonical)
    };
    let mut out: Vec<Lifetime> = l
        .records()
        .into_iter()
        .filter(|v| v["type"] == "end" && v["kind"] == "gateway")
        .filter(|v| v["dir"].as_str().is_some_and(same_dir))
        .filter_map(|v| {
            let outcome = v["outcome"].as_str()?;
            if outcome != "crash" && outcome != "clean_stop" {
                return None;
            }
            Some(Lifetime {
                // The gateway's own records use its pid in its own namespace.
                pid: v["ns_pid"].as_i64().or(v["pid"].as_i64())?,
                started_ms: v["started_at"]
                    .as_str()
                    .and_then(crate::timefmt::parse_iso_ms)?,
                clean: outcome == "clean_stop",
                outcome: Some(outcome.to_string()),
                reason: v["reason"].as_str().map(str::to_string),
                source: l.path.clone(),
            })
        })
        .collect();
    out.sort_by_key(|l| l.started_ms);
    out
}

/// The lifetimes on disk (the gateway's own `gateway_boot_lifecycle`, or the locks dead
/// gateways left) with those `watch` recorded that the disk does not hold (same pid,
/// started within 10 minutes: the same lifetime, and the gateway's own record wins),
/// oldest first.
pub fn merge(mut on_disk: Vec<Lifetime>, watched: Vec<Lifetime>) -> Vec<Lifetime> {
    let known = on_disk.clone();
    for w in watched {
        let same = |l: &Lifetime| {
            l.pid == w.pid && (l.started_ms - w.started_ms).abs() <= SAME_LIFETIME_MS
        };
        if !known.iter().any(same) && !on_disk.iter().any(same) {
            on_disk.push(w);
        }
    }
    on_disk.sort_by_key(|l| l.started_ms);
    on_disk
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pid: i64, started_ms: i64, clean: bool, source: &str) -> Lifetime {
        Lifetime {
            pid,
            started_ms,
            clean,
            outcome: None,
            reason: None,
            source: PathBuf::from(source),
        }
    }

    #[test]
    fn merge_keeps_the_gateways_own_record_and_adds_what_only_watch_saw() {
        let disk = vec![l(10, 1_000_000, false, "db"), l(30, 9_000_000, true, "db")];
        let watched = vec![
            // The same lifetime as the disk's (the lock's createdAt came 15 s later).
            l(10, 985_000, true, "w"),
            // Only watch saw it (its lock was overwritten by the restarted gateway).
            l(20, 5_000_000, false, "w"),
            // Same pid as the disk's 10, but an hour later: another process.
            l(10, 4_600_000, true, "w"),
        ];
        let m = merge(disk, watched);
        let got: Vec<(i64, i64, bool, &str)> = m
            .iter()
            .map(|l| (l.pid, l.started_ms, l.clean, l.source.to_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, 1_000_000, false, "db"),
                (10, 4_600_000, true, "w"),
                (20, 5_000_000, false, "w"),
                (30, 9_000_000, true, "db"),
            ]
        );
    }
}
