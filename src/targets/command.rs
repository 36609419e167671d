//! Command delivery: the payload on stdin of a program run without a shell, in its own
//! process group, with a bounded environment and a timeout.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{format_duration, io_message, Tried};

/// How much of a command's stderr is kept to describe its failure.
const STDERR_TAIL: usize = 2048;
/// After a command exits, how long its stdout/stderr readers may take to reach EOF. A
/// grandchild it left in the background can hold the pipes open for ever.
const READ_GRACE: Duration = Duration::from_millis(250);

/// What a command target gets of sessionctl's environment, whatever else is in it (the
/// secrets HTTP headers are read from, for one): enough to run a program and format text
/// as the user would.
pub const COMMAND_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_*", "TZ", "TMPDIR", "USER", "LOGNAME",
];

/// The environment of a command target: the variables of `vars` named in [`COMMAND_ENV`]
/// (`LC_*`: every `LC_` variable, `LC_ALL` included) or in the target's own `env` list.
pub(super) fn command_env(
    passed: &[String],
    vars: impl Iterator<Item = (OsString, OsString)>,
) -> Vec<(OsString, OsString)> {
    vars.filter(|(k, _)| {
        let Some(k) = k.to_str() else {
            return false;
        };
        passed.iter().any(|p| p == k)
            || COMMAND_ENV
                .iter()
                .any(|&allowed| match allowed.strip_suffix('*') {
                    Some(prefix) => k.starts_with(prefix),
                    None => k == allowed,
                })
    })
    .collect()
}

pub(super) fn deliver_command(
    argv: &[String],
    env: &[(OsString, OsString)],
    timeout: Duration,
    payload: &serde_json::Value,
    key: Option<&str>,
) -> Tried {
    let Some((program, args)) = argv.split_first() else {
        return Tried::down(0, "argv is empty".into());
    };
    let mut input = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => return Tried::refused(0, format!("cannot encode the payload: {e}")),
    };
    input.push(b'\n');

    let mut cmd = Command::new(program);
    // Only what it needs: never sessionctl's whole environment.
    cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(k) = key {
        cmd.env("SESSIONCTL_DELIVERY_ID", k);
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout kills whatever it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Tried::down(1, format!("cannot run {program}: {}", io_message(&e))),
    };

    // Written from its own thread: a child that never reads stdin must not block us. When
    // the child dies the write fails with EPIPE and the thread ends.
    if let Some(mut stdin) = child.stdin.take() {
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let stderr_tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, None, done_tx.clone());
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, Some(stderr_tail.clone()), done_tx.clone());
        readers += 1;
    }
    drop(done_tx);

    let mut poll = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(&mut child);
                return Tried::down(1, format!("cannot wait for {program}: {}", io_message(&e)));
            }
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            kill_group(&mut child);
            break None;
        }
        thread::sleep(poll.min(timeout - elapsed));
        poll = (poll * 2).min(Duration::from_millis(20));
    };

    // Let the readers take in what is left in the pipes; do not wait on a grandchild that
    // keeps them open.
    let grace = Instant::now();
    for _ in 0..readers {
        let left = READ_GRACE.saturating_sub(grace.elapsed());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }

    let Some(status) = status else {
        return Tried::down(1, format!("timed out after {}", format_duration(timeout)));
    };
    if status.success() {
        return Tried::delivered(1, "exited with status 0".into());
    }
    let what = match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => exit_signal(&status)
            .map(|sig| format!("killed by signal {sig}"))
            .unwrap_or_else(|| format!("failed: {status}")),
    };
    let tail = stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
    let text = String::from_utf8_lossy(&tail);
    match text.lines().map(str::trim).rfind(|l| !l.is_empty()) {
        Some(line) => Tried::refused(1, format!("{what}: {line}")),
        None => Tried::refused(1, what),
    }
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// SIGKILL the child's process group (the child and what it started), then reap it.
fn kill_group(child: &mut Child) {
    // The child is not reaped yet, so its pid, which is also its group id, is still ours.
    #[cfg(unix)]
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Read `r` to its end on a thread of its own, keeping the last `STDERR_TAIL` bytes in
/// `tail` if given; signal `done` at the end.
fn spawn_reader<R: Read + Send + 'static>(
    mut r: R,
    tail: Option<Arc<Mutex<Vec<u8>>>>,
    done: mpsc::Sender<()>,
) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(tail) = &tail {
                        let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                        t.extend_from_slice(&buf[..n]);
                        if t.len() > STDERR_TAIL {
                            let cut = t.len() - STDERR_TAIL;
                            t.drain(..cut);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
