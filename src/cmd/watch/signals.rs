//! SIGTERM and SIGINT through a signalfd, so that one `poll` waits for them too.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct Signals {
    pub fd: OwnedFd,
}

impl Signals {
    pub fn block() -> io::Result<Signals> {
        // SAFETY: plain libc calls on a zeroed, then initialised, sigset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Signals {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The pending signal's name, if one is pending.
    pub fn take(&self) -> Option<&'static str> {
        // SAFETY: an all-zero signalfd_siginfo is valid.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reading at most `size` bytes into `info`.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                &mut info as *mut libc::signalfd_siginfo as *mut libc::c_void,
                size,
            )
        };
        let name = match info.ssi_signo as i32 {
            libc::SIGINT => "SIGINT",
            _ => "SIGTERM",
        };
        (n == size as isize).then_some(name)
    }
}
