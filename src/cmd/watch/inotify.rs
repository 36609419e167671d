//! inotify on the gateway lock dirs and the worker pid file dirs (or, while one is
//! missing, on the nearest dir above it that exists).

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::backends::{is_gateway_lock, is_pid_file};

/// What a watched directory's events can mean.
#[derive(Debug, Default)]
struct Interest {
    /// `gateway.*.lock` files are written and removed here.
    gateway_locks: bool,
    /// `worker.pid` is written and removed here.
    pid_file: bool,
    /// Names of missing dirs on the way to a wanted one: when one appears, the watches
    /// are set up again.
    next: Vec<OsString>,
}

pub struct Inotify {
    pub fd: OwnedFd,
    watches: HashMap<i32, (PathBuf, Interest)>,
}

/// What a batch of inotify events asks for.
#[derive(Debug, Default)]
pub struct Seen {
    pub rescan: bool,
    pub rebuild: bool,
}

const CONTENT_MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;
const ANCESTOR_MASK: u32 = libc::IN_CREATE
    | libc::IN_MOVED_TO
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR;

impl Inotify {
    /// How many dirs are watched (directly or as the way to one).
    pub fn count(&self) -> usize {
        self.watches.len()
    }

    pub fn new() -> io::Result<Inotify> {
        // SAFETY: no preconditions.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Inotify {
            // SAFETY: just opened, owned here.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            watches: HashMap::new(),
        })
    }

    /// Watch each wanted dir, or, while it is missing, the nearest dir above it that
    /// exists (for the creation of the next one on the way). Returns how many dirs are
    /// watched directly.
    pub fn set(&mut self, wanted: &[(PathBuf, bool)]) -> usize {
        for wd in self.watches.keys() {
            // SAFETY: valid inotify fd; a stale wd only returns EINVAL.
            unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), *wd) };
        }
        self.watches.clear();
        let mut plan: BTreeMap<PathBuf, (u32, Interest)> = BTreeMap::new();
        let mut direct = 0;
        for (dir, locks) in wanted {
            let mut here = dir.clone();
            let mut next: Option<OsString> = None;
            loop {
                if here.is_dir() {
                    let e = plan.entry(here.clone()).or_default();
                    match &next {
                        None => {
                            e.0 |= CONTENT_MASK;
                            if *locks {
                                e.1.gateway_locks = true;
                            } else {
                                e.1.pid_file = true;
                            }
                        }
                        Some(n) => {
                            e.0 |= ANCESTOR_MASK;
                            if !e.1.next.contains(n) {
                                e.1.next.push(n.clone());
                            }
                        }
                    }
                    break;
                }
                let (Some(parent), Some(name)) = (here.parent(), here.file_name()) else {
                    break;
                };
                next = Some(name.to_os_string());
                here = parent.to_path_buf();
            }
        }
        for (path, (mask, interest)) in plan {
            let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
                continue;
            };
            // SAFETY: valid fd and NUL-terminated path.
            let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
            if wd < 0 {
                continue;
            }
            direct += usize::from(interest.gateway_locks || interest.pid_file);
            // Two paths of one directory (a symlink) share a wd: keep both interests.
            match self.watches.get_mut(&wd) {
                Some((_, old)) => {
                    old.gateway_locks |= interest.gateway_locks;
                    old.pid_file |= interest.pid_file;
                    old.next.extend(interest.next);
                }
                None => {
                    self.watches.insert(wd, (path, interest));
                }
            }
        }
        direct
    }

    /// Read every queued event.
    pub fn drain(&self) -> Seen {
        let mut seen = Seen::default();
        // inotify_event is 4-byte aligned: read into u32s.
        let mut buf = [0u32; 1024];
        loop {
            // SAFETY: reading at most the buffer's size into it.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    std::mem::size_of_val(&buf),
                )
            };
            if n <= 0 {
                break;
            }
            // SAFETY: the kernel wrote `n` bytes; viewed as bytes.
            let bytes =
                unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, n as usize) };
            let head = std::mem::size_of::<libc::inotify_event>();
            let mut at = 0;
            while at + head <= bytes.len() {
                // SAFETY: a whole header lies at `at` (checked above).
                let ev: libc::inotify_event = unsafe {
                    std::ptr::read_unaligned(bytes[at..].as_ptr() as *const libc::inotify_event)
                };
                let end = (at + head + ev.len as usize).min(bytes.len());
                let raw = &bytes[at + head..end];
                let name = OsStr::from_bytes(
                    &raw[..raw.iter().position(|b| *b == 0).unwrap_or(raw.len())],
                );
                at = end;
                self.judge(ev.wd, ev.mask, name, &mut seen);
            }
        }
        seen
    }

    fn judge(&self, wd: i32, mask: u32, name: &OsStr, seen: &mut Seen) {
        if mask & libc::IN_Q_OVERFLOW != 0 {
            seen.rescan = true;
            seen.rebuild = true;
            return;
        }
        let Some((_, interest)) = self.watches.get(&wd) else {
            return;
        };
        if mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
            seen.rebuild = true;
            seen.rescan = true;
            return;
        }
        if interest.next.iter().any(|n| n == name) {
            seen.rebuild = true;
            seen.rescan = true;
        }
        let n = name.as_bytes();
        if interest.gateway_locks && is_gateway_lock(n) {
            seen.rescan = true;
        }
        if interest.pid_file && is_pid_file(n) {
            seen.rescan = true;
        }
    }
}
