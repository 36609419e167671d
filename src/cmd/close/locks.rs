//! Exclusion: one `close` per journal (a lock file beside it), and one writer per store
//! (a lock on each dir of every backend's stores), whatever the journal.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;

/// How long a second `close` waits for the first to finish.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// An exclusive advisory lock held for the life of the value: one `close` per user.
pub struct RunLock(#[allow(dead_code)] File);

pub fn lock_path(journal: &Path) -> PathBuf {
    journal
        .parent()
        .unwrap_or(Path::new("."))
        .join("close.lock")
}

pub fn acquire(path: &Path) -> Result<RunLock, String> {
    let dir = crate::journal::trusted_journal_dir(path)?;
    let name = path.file_name().unwrap_or_default();
    let f = dir
        .open_rw_private(name)
        .map_err(|e| format!("close lock: {}: cannot open: {e}", path.display()))?;
    let start = Instant::now();
    loop {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(RunLock(f));
        }
        if start.elapsed() >= LOCK_WAIT {
            return Err(format!(
                "close lock: {}: another `sessionctl close` is running (waited {} s); try again when it is done",
                path.display(),
                LOCK_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long a run waits for another sessionctl that is changing the same stores.
pub const STORE_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Lock every dir this run may change (each backend's: state dirs, data dirs, the dirs of
/// declared databases), in path order (two runs never wait for each other crosswise).
pub fn lock_stores(cfg: &Config) -> Result<Vec<crate::fsx::DirLock>, String> {
    let dirs: Vec<PathBuf> = crate::backend::all()
        .flat_map(|b| (b.lock_dirs)(cfg))
        .collect();
    let mut dirs: Vec<PathBuf> = dirs
        .into_iter()
        .map(|d| fs::canonicalize(&d).unwrap_or(d))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(crate::fsx::lock_dir(&d, STORE_LOCK_WAIT)?);
    }
    Ok(out)
}
