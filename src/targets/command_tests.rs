use super::*;
use crate::targets::test_support::*;
use crate::targets::*;
use serde_json::json;
use std::thread;
use std::time::{Duration, Instant};

// ---- command delivery -------------------------------------------------------------

#[test]
fn command_gets_the_exact_payload_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("got.json");
    let f = file.to_str().unwrap();
    let target = command_target(&["/bin/sh", "-c", "cat > \"$1\"", "sh", f], 5000);
    let p = payload();
    let out = deliver(&target, &p, &http_client());
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 1);
    assert_eq!(out.detail, "exited with status 0");
    let mut want = serde_json::to_vec(&p).unwrap();
    want.push(b'\n');
    assert_eq!(std::fs::read(&file).unwrap(), want);
}

#[test]
fn command_payload_is_never_interpreted_by_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("pwned");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "still here").unwrap();
    let hostile = format!(
        "$(touch {p}) `touch {p}`; touch {p}; rm -rf {v} && touch {p} | touch {p}",
        p = pwned.display(),
        v = victim.display()
    );
    let p = json!({"event": {"sessionId": hostile, "sessionKey": "'; rm -rf / #"}});
    let out = deliver(&command_target(&["/bin/cat"], 5000), &p, &http_client());
    assert!(out.ok, "{out:?}");
    assert!(!pwned.exists());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "still here");
}

#[test]
fn command_failure_reports_status_and_last_stderr_line() {
    let t = command_target(
        &[
            "/bin/sh",
            "-c",
            "echo first >&2; echo 'boom: store is locked' >&2; echo; exit 3",
        ],
        5000,
    );
    let out = deliver(&t, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.attempts, 1);
    assert_eq!(out.detail, "exited with status 3: boom: store is locked");

    let t = command_target(&["/bin/sh", "-c", "exit 1"], 5000);
    let out = deliver(&t, &payload(), &http_client());
    assert_eq!(out.detail, "exited with status 1");

    let t = command_target(&["/bin/sh", "-c", "kill -TERM $$"], 5000);
    let out = deliver(&t, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(out.detail, "killed by signal 15");
}

#[test]
fn command_stderr_is_bounded() {
    // 200 KiB of noise, then the line that matters.
    let t = command_target(
        &["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do printf '%0100d\\n' 0 >&2; i=$((i+1)); done; echo 'the real error' >&2; exit 2"],
        5000,
    );
    let out = deliver(&t, &payload(), &http_client());
    assert_eq!(out.detail, "exited with status 2: the real error");
    assert!(out.detail.len() < STDERR_TAIL);
}

#[test]
fn command_missing_executable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-hook");
    let t = command_target(&[missing.to_str().unwrap(), "x"], 5000);
    let out = deliver(&t, &payload(), &http_client());
    assert!(!out.ok);
    assert_eq!(
        out.detail,
        format!(
            "cannot run {}: No such file or directory",
            missing.display()
        )
    );

    // Not executable.
    let script = dir.path().join("hook.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    let t = command_target(&[script.to_str().unwrap()], 5000);
    let out = deliver(&t, &payload(), &http_client());
    assert_eq!(
        out.detail,
        format!("cannot run {}: Permission denied", script.display())
    );
}

#[test]
fn command_env_keeps_only_what_a_command_needs() {
    let vars = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/home/u"),
        ("LANG", "de_DE.UTF-8"),
        ("LC_ALL", "C"),
        ("LC_TIME", "C"),
        ("TZ", "UTC"),
        ("TMPDIR", "/tmp/u"),
        ("USER", "u"),
        ("LOGNAME", "u"),
        ("AUDIT_TOKEN", SECRET),
        ("AWS_SECRET_ACCESS_KEY", "xyz"),
        ("NOTIFY_TOKEN", "for-the-hook"),
        ("PATHOLOGICAL", "not PATH"),
        ("XLC_ALL", "not LC_"),
    ]
    .map(|(k, v)| (OsString::from(k), OsString::from(v)));
    let got: Vec<String> = command_env(&["NOTIFY_TOKEN".into()], vars.into_iter())
        .into_iter()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    assert_eq!(
        got,
        [
            "PATH=/usr/bin:/bin",
            "HOME=/home/u",
            "LANG=de_DE.UTF-8",
            "LC_ALL=C",
            "LC_TIME=C",
            "TZ=UTC",
            "TMPDIR=/tmp/u",
            "USER=u",
            "LOGNAME=u",
            "NOTIFY_TOKEN=for-the-hook",
        ]
    );
}

#[test]
fn command_runs_with_exactly_the_environment_it_is_given() {
    // The test process has CARGO_* and whatever else in its environment; none of it
    // may reach the command.
    assert!(std::env::vars_os().any(|(k, _)| k == "CARGO_PKG_NAME"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env");
    let env = [("PATH", "/usr/bin:/bin"), ("NOTIFY_TOKEN", "t")]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
    let script = format!("env -0 > '{}'", file.display());
    let argv = vec!["/bin/sh".to_string(), "-c".into(), script];
    let tried = deliver_command(&argv, &env, Duration::from_secs(5), &payload(), Some("k-1"));
    assert!(tried.ok, "{}", tried.detail);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut got: Vec<&str> = text.split('\0').filter(|l| !l.is_empty()).collect();
    got.sort();
    // sh adds PWD (and may add SHLVL, _) itself; nothing else is there.
    got.retain(|l| !["PWD=", "SHLVL=", "_="].iter().any(|p| l.starts_with(p)));
    assert_eq!(
        got,
        [
            "NOTIFY_TOKEN=t",
            "PATH=/usr/bin:/bin",
            "SESSIONCTL_DELIVERY_ID=k-1"
        ]
    );
}

/// Alive and not a zombie.
fn running(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

#[test]
fn command_timeout_kills_it_in_time() {
    let t = command_target(&["sleep", "30"], 300);
    let t0 = Instant::now();
    let out = deliver(&t, &payload(), &http_client());
    let took = t0.elapsed();
    assert!(!out.ok);
    assert_eq!(out.detail, "timed out after 300ms");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn command_timeout_kills_what_it_started_too() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let t = command_target(
        &[
            "/bin/sh",
            "-c",
            "sleep 30 & echo $! > \"$1\"; wait",
            "sh",
            pidfile.to_str().unwrap(),
        ],
        300,
    );
    let t0 = Instant::now();
    let out = deliver(&t, &payload(), &http_client());
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(out.detail, "timed out after 300ms");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Reparented and reaped by init shortly after; a zombie counts as gone.
    let deadline = Instant::now() + Duration::from_secs(2);
    while running(pid) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(!running(pid), "grandchild {pid} survived the timeout");
}

#[test]
fn command_that_ignores_stdin_cannot_deadlock() {
    // 4 MiB: far more than a pipe buffer.
    let big = json!({"event": {"blob": "x".repeat(4 << 20)}});
    let t = command_target(&["/bin/sh", "-c", "exit 0"], 5000);
    let t0 = Instant::now();
    let out = deliver(&t, &big, &http_client());
    assert!(out.ok, "{out:?}");
    assert!(t0.elapsed() < Duration::from_secs(2));

    let t = command_target(&["sleep", "30"], 300);
    let out = deliver(&t, &big, &http_client());
    assert_eq!(out.detail, "timed out after 300ms");
}

#[test]
fn command_leaving_a_background_process_does_not_hold_us() {
    // The backgrounded sleep keeps stdout and stderr open after sh exits.
    let t = command_target(&["/bin/sh", "-c", "sleep 3 & exit 0"], 5000);
    let t0 = Instant::now();
    let out = deliver(&t, &payload(), &http_client());
    assert!(out.ok, "{out:?}");
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t0.elapsed()
    );
}
