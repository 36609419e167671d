//! File-system writes that stay safe when sessionctl runs as root over directories other
//! users control (the model is logrotate and systemd-tmpfiles):
//!
//! - files are created `O_CREAT|O_EXCL|O_NOFOLLOW` with unpredictable names, relative to a
//!   directory fd, and renamed into place with `renameat` on that fd; a planted link is
//!   never followed and a predictable name never matters;
//! - a write into a directory owned by another user is done *as that user*: a thread drops
//!   to the directory owner's uid/gid for the write, so root can do nothing there that the
//!   owner could not ([`as_owner`]);
//! - sessionctl's own files (journal, its lock, backups) live in a directory that only the
//!   running user (or root) controls, all the way from `/` ([`Dir::trusted`]); what it
//!   creates is 0600 and its directories 0700, whatever the umask.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// Mode of the files sessionctl creates for itself.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of the directories sessionctl creates for itself.
pub const PRIVATE_DIR: u32 = 0o700;

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

pub fn egid() -> u32 {
    // SAFETY: getegid has no preconditions.
    unsafe { libc::getegid() }
}

/// 64 random bits: getrandom(2), else /dev/urandom, else (no usable source, which Linux
/// does not have) a mix of the time, the pid and a per-process counter.
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most buf.len() bytes into buf, which we own.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == buf.len() as isize {
        return u64::from_ne_bytes(buf);
    }
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

/// 64 random bits as 16 hex digits ([`random_u64`]).
pub fn random_hex() -> String {
    format!("{:016x}", random_u64())
}

/// An open directory: every operation is relative to its fd, so a path component swapped
/// for a link after it was opened changes nothing.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Open `path` as a directory. Symlinks on the way are followed: use it where the
    /// caller acts as the directory's owner ([`as_owner`]) or the path is trusted.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = cstr(path.as_os_str())?;
        // SAFETY: `c` is a valid NUL-terminated path.
        let fd = cvt(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            // SAFETY: `fd` was just opened and is owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// Open (creating what is missing, 0700) a directory for sessionctl's own files, and
    /// refuse it unless every directory on the way from `/` belongs to root or to the
    /// running user and no other user can replace anything in it (group- or world-writable
    /// only with the sticky bit, as `/tmp`). Symlinks on the way are followed only when
    /// root or the running user owns them.
    pub fn trusted(path: &Path) -> Result<Dir, String> {
        let me = euid();
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| format!("cannot read the current directory: {e}"))?
                .join(path)
        };
        let mut todo: Vec<OsString> = components(&abs);
        todo.reverse();
        let root = || Dir::open(Path::new("/")).map_err(|e| format!("cannot open /: {e}"));
        let mut dir = root()?;
        let mut links = 0;
        check_trusted(&dir, me)?;
        while let Some(name) = todo.pop() {
            if name == ".." {
                let parent = dir.path.parent().unwrap_or(Path::new("/")).to_path_buf();
                dir = Dir::open(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                continue;
            }
            let here = dir.path.join(&name);
            match dir.lstat(&name) {
                Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
                    if st.st_uid != 0 && st.st_uid != me {
                        return Err(format!(
                            "{} is a symlink owned by uid {}, which sessionctl does not follow",
                            here.display(),
                            st.st_uid
                        ));
                    }
                    links += 1;
                    if links > 32 {
                        return Err(format!("{}: too many levels of symlinks", here.display()));
                    }
                    let target = dir
                        .readlink(&name)
                        .map_err(|e| format!("{}: {e}", here.display()))?;
                    let target = PathBuf::from(target);
                    let mut rest = components(&target);
                    rest.reverse();
                    todo.extend(rest);
                    if target.is_absolute() {
                        dir = root()?;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    dir.mkdir(&name, PRIVATE_DIR)
                        .or_else(|e| {
                            if e.kind() == io::ErrorKind::AlreadyExists {
                                Ok(())
                            } else {
                                Err(e)
                            }
                        })
                        .map_err(|e| format!("{}: cannot create: {e}", here.display()))?;
                }
                Err(e) => return Err(format!("{}: {e}", here.display())),
            }
            let next = dir
                .open_dir(&name)
                .map_err(|e| format!("{}: {e}", here.display()))?;
            check_trusted(&next, me)?;
            dir = next;
        }
        Ok(dir)
    }

    fn open_dir(&self, name: &OsStr) -> io::Result<Dir> {
        let c = cstr(name)?;
        // SAFETY: valid dir fd and NUL-terminated name.
        let fd = cvt(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            // SAFETY: just opened, owned here.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: self.path.join(name),
        })
    }

    fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name)?;
        // SAFETY: valid dir fd and NUL-terminated name.
        cvt(unsafe { libc::mkdirat(self.fd.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) })?;
        // The umask may have narrowed or (as 0) not; set exactly what was asked.
        let d = self.open_dir(name)?;
        // SAFETY: valid fd.
        cvt(unsafe { libc::fchmod(d.fd.as_raw_fd(), mode as libc::mode_t) })?;
        Ok(())
    }

    fn fstat(&self) -> io::Result<libc::stat> {
        // SAFETY: a zeroed stat is a valid out-parameter; fd is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        cvt(unsafe { libc::fstat(self.fd.as_raw_fd(), &mut st) })?;
        Ok(st)
    }

    /// `fstatat` without following a final symlink.
    pub fn lstat(&self, name: &OsStr) -> io::Result<libc::stat> {
        let c = cstr(name)?;
        // SAFETY: as above.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        cvt(unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        Ok(st)
    }

    fn readlink(&self, name: &OsStr) -> io::Result<OsString> {
        let c = cstr(name)?;
        let mut buf = vec![0u8; 4096];
        // SAFETY: buffer and length match.
        let n = unsafe {
            libc::readlinkat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        buf.truncate(n as usize);
        Ok(OsString::from_vec(buf))
    }

    /// Create `name` exclusively (never through a link), with exactly `mode`.
    pub fn create_new(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        self.open_with(
            name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode,
        )
    }

    /// Create `name` exclusively with `bytes` already in it: they are written to a new temp
    /// file that is then hard-linked as `name` (`linkat` fails if `name` exists, as
    /// `O_EXCL` does), so no reader ever sees `name` empty or half written.
    pub fn create_new_with(&self, name: &OsStr, bytes: &[u8], mode: u32) -> io::Result<()> {
        use std::io::Write;
        let stem = name.to_string_lossy();
        let (tmp, mut f) = self.temp(&stem, mode)?;
        let res = f.write_all(bytes).and_then(|_| {
            let (a, b) = (cstr(&tmp)?, cstr(name)?);
            // SAFETY: valid dir fds and NUL-terminated names.
            cvt(unsafe {
                libc::linkat(
                    self.fd.as_raw_fd(),
                    a.as_ptr(),
                    self.fd.as_raw_fd(),
                    b.as_ptr(),
                    0,
                )
            })
            .map(|_| ())
        });
        let _ = self.unlink(&tmp);
        res
    }

    /// Open `name` for appending, creating it (exactly 0600) when missing; never through a
    /// link, and only a regular file of the running user.
    pub fn open_append_private(&self, name: &OsStr) -> io::Result<File> {
        self.open_private(name, libc::O_RDWR | libc::O_APPEND)
    }

    /// Open `name` read-write, creating it (exactly 0600) when missing; never through a
    /// link, and only a regular file of the running user.
    pub fn open_rw_private(&self, name: &OsStr) -> io::Result<File> {
        self.open_private(name, libc::O_RDWR)
    }

    fn open_private(&self, name: &OsStr, access: libc::c_int) -> io::Result<File> {
        let f = match self.open_with(
            name,
            access | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            PRIVATE_FILE,
        ) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.open_with(name, access | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0)?
            }
            other => other?,
        };
        own_regular_file(&f, &self.path.join(name))?;
        Ok(f)
    }

    /// Open `name` for reading, never through a link.
    pub fn open_read(&self, name: &OsStr) -> io::Result<File> {
        self.open_with(
            name,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK,
            0,
        )
    }

    fn open_with(&self, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let c = cstr(name)?;
        // SAFETY: valid dir fd and NUL-terminated name.
        let fd = cvt(unsafe {
            libc::openat(self.fd.as_raw_fd(), c.as_ptr(), flags, mode as libc::c_uint)
        })?;
        // SAFETY: just opened, owned here.
        let f = unsafe { File::from_raw_fd(fd) };
        if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
            // SAFETY: valid fd. Exactly `mode`, whatever the umask.
            cvt(unsafe { libc::fchmod(f.as_raw_fd(), mode as libc::mode_t) })?;
        }
        Ok(f)
    }

    /// A new file with an unpredictable name `.<stem>.<random>.tmp`, created exclusively.
    pub fn temp(&self, stem: &str, mode: u32) -> io::Result<(OsString, File)> {
        for _ in 0..16 {
            let name = OsString::from(format!(".{stem}.{}.tmp", random_hex()));
            match self.create_new(&name, mode) {
                Ok(f) => return Ok((name, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary name",
        ))
    }

    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (a, b) = (cstr(from)?, cstr(to)?);
        // SAFETY: valid fds and names.
        cvt(unsafe {
            libc::renameat(
                self.fd.as_raw_fd(),
                a.as_ptr(),
                self.fd.as_raw_fd(),
                b.as_ptr(),
            )
        })?;
        Ok(())
    }

    pub fn unlink(&self, name: &OsStr) -> io::Result<()> {
        let c = cstr(name)?;
        // SAFETY: valid fd and name.
        cvt(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) })?;
        Ok(())
    }

    pub fn sync(&self) -> io::Result<()> {
        // SAFETY: valid fd.
        cvt(unsafe { libc::fsync(self.fd.as_raw_fd()) })?;
        Ok(())
    }

    /// Write `bytes` to a new temp file (mode `mode`, and `owner` set with `fchown` on it
    /// when given), fsync, and rename it over `name`; then fsync the directory.
    /// `before_rename` runs between the two (a last check).
    pub fn replace(
        &self,
        name: &OsStr,
        bytes: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
        before_rename: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        use std::io::Write;
        let stem = name.to_string_lossy();
        let (tmp, mut f) = self.temp(&stem, mode)?;
        let res = (|| {
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
            f.write_all(bytes)?;
            // Errors of the last write() may only surface at close; sync_all reports them.
            f.sync_all()?;
            drop(f);
            before_rename()?;
            self.rename(&tmp, name)?;
            self.sync()
        })();
        if res.is_err() {
            let _ = self.unlink(&tmp);
        }
        res
    }
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn check_trusted(d: &Dir, me: u32) -> Result<(), String> {
    let st = d
        .fstat()
        .map_err(|e| format!("{}: {e}", d.path.display()))?;
    if st.st_uid != 0 && st.st_uid != me {
        return Err(format!(
            "{} belongs to uid {}, not to this user or root",
            d.path.display(),
            st.st_uid
        ));
    }
    if st.st_mode & 0o022 != 0 && st.st_mode & libc::S_ISVTX == 0 {
        return Err(format!(
            "{} is writable by other users (mode {:o})",
            d.path.display(),
            st.st_mode & 0o7777
        ));
    }
    Ok(())
}

fn own_regular_file(f: &File, path: &Path) -> io::Result<()> {
    let m = f.metadata()?;
    use std::os::unix::fs::MetadataExt;
    if !m.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    if m.uid() != euid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} belongs to uid {}", path.display(), m.uid()),
        ));
    }
    Ok(())
}

/// Who a write into a store directory is done as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// The identity a write into `dir` must take: None when sessionctl writes as itself (it is
/// not root, or root owns the directory), the directory's owner when root writes into
/// another user's directory. A root-owned directory any user can write (no sticky bit)
/// is refused.
pub fn write_identity(dir: &Path) -> Result<Option<Owner>, String> {
    if euid() != 0 {
        return Ok(None);
    }
    let st = stat(dir).map_err(|e| format!("{}: cannot stat: {e}", dir.display()))?;
    if st.st_uid != 0 {
        return Ok(Some(Owner {
            uid: st.st_uid,
            gid: st.st_gid,
        }));
    }
    if st.st_mode & 0o002 != 0 && st.st_mode & libc::S_ISVTX == 0 {
        return Err(format!(
            "{}: writable by every user (mode {:o}); sessionctl does not write there as root",
            dir.display(),
            st.st_mode & 0o7777
        ));
    }
    Ok(None)
}

fn stat(p: &Path) -> io::Result<libc::stat> {
    let c = cstr(p.as_os_str())?;
    // SAFETY: zeroed stat as out-parameter, valid path.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    cvt(unsafe { libc::stat(c.as_ptr(), &mut st) })?;
    Ok(st)
}

/// Run `f` as `owner` (when given): on a thread of its own that drops to the owner's uid,
/// gid and groups for good, with raw system calls (per thread, unlike the libc wrappers,
/// which change every thread of the process). The thread ends with `f`, and with it the
/// lowered identity. Without an owner, `f` runs here.
pub fn as_owner<T: Send>(owner: Option<Owner>, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    let Some(o) = owner else { return Ok(f()) };
    std::thread::scope(|s| {
        s.spawn(move || {
            drop_to(o).map_err(|e| format!("cannot switch to uid {} gid {}: {e}", o.uid, o.gid))?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

fn drop_to(o: Owner) -> io::Result<()> {
    let groups = [o.gid as libc::gid_t];
    // SAFETY: raw credential syscalls on this thread only; arguments are plain ids and a
    // one-element array that outlives the call.
    unsafe {
        if libc::syscall(libc::SYS_setgroups, 1 as libc::c_long, groups.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::syscall(libc::SYS_setresgid, o.gid, o.gid, o.gid) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::syscall(libc::SYS_setresuid, o.uid, o.uid, o.uid) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// An exclusive `flock` on a directory, held for the life of the value. Every sessionctl
/// takes it on each state dir and data dir it is about to change, whatever its journal:
/// root's timer and the user's timer exclude each other on the stores themselves. A lock
/// on the directory needs no file in it, so root and the owner both can take it.
#[derive(Debug)]
pub struct DirLock {
    _fd: OwnedFd,
}

/// Take [`DirLock`] on `path`, waiting up to `wait`. None when the directory does not exist
/// or its file system has no `flock` (nothing to exclude there, or no way to).
pub fn lock_dir(path: &Path, wait: std::time::Duration) -> Result<Option<DirLock>, String> {
    let d = match Dir::open(path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot open to lock: {e}", path.display())),
    };
    let start = std::time::Instant::now();
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(d.fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(DirLock { _fd: d.fd }));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => {}
            Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP) | Some(libc::EINVAL) => return Ok(None),
            _ => return Err(format!("{}: cannot lock: {e}", path.display())),
        }
        if start.elapsed() >= wait {
            return Err(format!(
                "{}: another sessionctl is changing it (waited {} s); try again when it is done",
                path.display(),
                wait.as_secs()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Debug builds only: sleep at a named step when `SESSIONCTL_TEST_PAUSE=<step>:<ms>`, so a
/// test can act inside a race window.
pub fn test_pause(step: &str) {
    if !cfg!(debug_assertions) {
        return;
    }
    if let Ok(v) = std::env::var("SESSIONCTL_TEST_PAUSE") {
        if let Some((s, ms)) = v.split_once(':') {
            if s == step {
                if let Ok(ms) = ms.parse::<u64>() {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
        }
    }
}

/// Lexically normalize a path (resolve `.` and `..` without touching the disk).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Two paths name the same directory (canonically when both exist, lexically otherwise).
pub fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => normalize(a) == normalize(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn temp_names_are_unpredictable_and_links_are_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let dir = Dir::open(d.path()).unwrap();
        std::os::unix::fs::symlink(&victim, d.path().join("link")).unwrap();
        assert!(dir.create_new(OsStr::new("link"), 0o600).is_err());
        assert!(dir.open_read(OsStr::new("link")).is_err());
        dir.replace(OsStr::new("link"), b"new", 0o640, None, || Ok(()))
            .unwrap();
        // The link itself was replaced; its target is untouched.
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let m = std::fs::symlink_metadata(d.path().join("link")).unwrap();
        assert!(m.file_type().is_file());
        assert_eq!(m.mode() & 0o777, 0o640);
        let a = random_hex();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_hex());
    }

    #[test]
    fn create_new_with_is_exclusive_and_never_empty() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open(d.path()).unwrap();
        dir.create_new_with(OsStr::new("lock"), b"{\"pid\":1}", 0o600)
            .unwrap();
        assert_eq!(
            std::fs::read(d.path().join("lock")).unwrap(),
            b"{\"pid\":1}"
        );
        let again = dir.create_new_with(OsStr::new("lock"), b"x", 0o600);
        assert_eq!(again.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        std::os::unix::fs::symlink(d.path().join("nowhere"), d.path().join("link")).unwrap();
        let through = dir.create_new_with(OsStr::new("link"), b"x", 0o600);
        assert_eq!(through.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(!d.path().join("nowhere").exists(), "created through a link");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            2,
            "no temp file left"
        );
    }

    #[test]
    fn private_files_ignore_the_umask() {
        let d = tempfile::tempdir().unwrap();
        // SAFETY: umask only affects this process's file creation.
        let old = unsafe { libc::umask(0) };
        let sub = Dir::trusted(&d.path().join("b")).unwrap();
        let f = sub.open_append_private(OsStr::new("j")).unwrap();
        // SAFETY: restore.
        unsafe { libc::umask(old) };
        drop(f);
        let m = std::fs::metadata(d.path().join("b")).unwrap();
        assert_eq!(m.mode() & 0o777, 0o700);
        let m = std::fs::metadata(d.path().join("b/j")).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
    }

    #[test]
    fn a_world_writable_dir_is_not_trusted() {
        let d = tempfile::tempdir().unwrap();
        let w = d.path().join("w");
        std::fs::create_dir(&w).unwrap();
        std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = Dir::trusted(&w.join("sub")).unwrap_err();
        assert!(err.contains("writable by other users"), "{err}");
        std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Dir::trusted(&w.join("sub")).unwrap();
        assert!(w.join("sub").is_dir());
    }
}
