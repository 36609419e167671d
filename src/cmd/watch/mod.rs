//! `sessionctl watch`: a foreground daemon that repairs after every gateway or linked-row
//! worker death, within seconds and without anyone asking.
//!
//! One `poll(2)` waits on everything: a pidfd per gateway and worker (readable once the
//! process has exited), an inotify fd on the gateway lock dirs and the workers' pid
//! file dirs (a new gateway or worker writes there), a signalfd for SIGTERM and SIGINT,
//! and a timeout for the next scheduled action (a close pass, the slow backstop rescan).
//! Nothing runs while nothing happens.
//!
//! It never closes anything itself: a pass is `close --yes` (the same function, with the
//! same journal, targets, locks, re-check and verdicts), so it cannot end a session a live
//! gateway owns, or one whose gateway restarted less than 120 s ago (`recovery-pending`).
//! A crash of `watch` loses nothing: the journal holds what a pass left half done, and the
//! next pass (the first one after a restart of `watch`) settles it.
//!
//! `daemon.rs` is the loop and its schedule, `inotify.rs` and `signals.rs` the two kernel
//! interfaces it waits on, `backends.rs` everything it knows about gateways and the linked-row
//! backends' workers, and `crate::lifetimes` the `lifetimes.ndjson` it writes.

use std::io;
use std::path::Path;
use std::time::Duration;

use crate::config::Config;

#[cfg(target_os = "linux")]
mod backends;
#[cfg(target_os = "linux")]
mod daemon;
#[cfg(target_os = "linux")]
mod inotify;
#[cfg(target_os = "linux")]
mod signals;

#[cfg(target_os = "linux")]
pub fn run(cfg: &Config, grace: Duration, textfile: Option<&Path>) -> io::Result<u8> {
    daemon::run(cfg, grace, textfile)
}

#[cfg(not(target_os = "linux"))]
pub fn run(_cfg: &Config, _grace: Duration, _textfile: Option<&Path>) -> io::Result<u8> {
    eprintln!("sessionctl: watch needs Linux (pidfd, inotify, signalfd); run `sessionctl close --yes` from a timer instead");
    Ok(super::EXIT_ERROR)
}
