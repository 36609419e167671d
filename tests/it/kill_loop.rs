//! `close` killed again and again (a cron job under `timeout`): the first run is SIGKILLed
//! mid-delivery, every later one while its resume delivers what the first run owed. Each
//! run keeps what it delivered (the journal gets each outcome as it lands), so every run
//! makes progress, a payload arrives at most twice (the copies in flight at a kill come
//! once more, first thing in the next run, under the same idempotency key), and one run
//! left alone finishes the job.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

/// Orphaned claude-mem rows added to the fixture's, each with its own session key.
const EXTRA_KEYS: usize = 80;
const CONCURRENCY: usize = 4;
/// How long the receiver takes to answer each payload.
const DELAY_MS: u64 = 40;
const KILLS: usize = 6;

struct Loop {
    sandbox: Sandbox,
    http: HttpStub,
    journal: PathBuf,
    args: Vec<String>,
}

fn setup() -> Loop {
    let sandbox = Sandbox::new();
    let root = sandbox.root().to_path_buf();
    let cm = root.join("cm");
    let conn = build_claude_mem_db(&cm, "13.25.3", None);
    for n in 0..EXTRA_KEYS {
        conn.execute(
            "INSERT INTO sdk_sessions (id, content_session_id, memory_session_id, project, platform_source, user_prompt, started_at, started_at_epoch, completed_at, completed_at_epoch, status, worker_port, prompt_counter, custom_title) \
             VALUES (?1, ?2, NULL, 'openclaw-main', 'claude', 'x', '2025-11-25T19:46:40.000Z', 1764100000000, NULL, NULL, 'active', NULL, 1, NULL)",
            rusqlite::params![100 + n as i64, format!("openclaw-agent:main:kill-{n}-1764100000000")],
        )
        .unwrap();
    }
    drop(conn);
    let http = HttpStub::receiver(&[], Reply::Slow(200, DELAY_MS));
    let config = root.join("config.toml");
    fs::write(
        &config,
        format!(
            "concurrency = {CONCURRENCY}\n\n[[targets]]\nname = \"hook\"\ntype = \"http\"\nurl = \"{}\"\ntimeout = \"5s\"\nretries = 0\n",
            http.url("/session_end")
        ),
    )
    .unwrap();
    let journal = root.join("state-home/journal.ndjson");
    let args = vec![
        "close".to_string(),
        "--yes".into(),
        "--backend".into(),
        "claude-mem".into(),
        "--claude-mem-dir".into(),
        cm.to_string_lossy().into_owned(),
        "--config".into(),
        config.to_string_lossy().into_owned(),
        "--journal".into(),
        journal.to_string_lossy().into_owned(),
    ];
    Loop {
        sandbox,
        http,
        journal,
        args,
    }
}

/// Delivery actions some run journaled as delivered.
fn journaled_done(journal: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(journal).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["type"] == "outcome"
                && v["ok"] == true
                && v["action"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("deliver:"))
        })
        .map(|v| v["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn killed_again_and_again_during_resume_every_run_makes_progress() {
    let l = setup();
    let mut done_before = 0;
    let mut kills = 0;
    for round in 0..KILLS {
        let base = l.http.count();
        let mut child = l
            .sandbox
            .command(&l.args, &[])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill once this run has had 3 × concurrency payloads arrive: the ones a kill left
        // in flight before it (at most `concurrency`) came first and were answered.
        let start = Instant::now();
        while l.http.count() < base + 3 * CONCURRENCY {
            if start.elapsed() > Duration::from_secs(10) || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                let status = child.wait().unwrap();
                panic!(
                    "round {round}: {} payloads in {:?}, run ended with {status:?}",
                    l.http.count() - base,
                    start.elapsed()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(DELAY_MS / 2));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "round {round}: the run finished before the kill ({status:?}); add orphans"
        );
        kills += 1;
        let done = journaled_done(&l.journal).len();
        assert!(
            done > done_before,
            "round {round}: no progress: {done} deliveries journaled, {done_before} before the run"
        );
        done_before = done;
    }
    // One run left alone finishes the job.
    let out = l.sandbox.run(&l.args, &[]);
    assert_eq!(out.code, 0, "{out:?}");

    // Every session key got its payload at least once and at most twice, always under
    // the same idempotency key.
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in l.http.received() {
        let key = r.json()["event"]["sessionKey"]
            .as_str()
            .expect("sessionKey")
            .to_string();
        *copies.entry(key.clone()).or_default() += 1;
        ids.entry(key)
            .or_default()
            .insert(r.header("idempotency-key").expect("Idempotency-Key").into());
    }
    let want: BTreeSet<String> = (0..EXTRA_KEYS)
        .map(|n| format!("agent:main:kill-{n}"))
        .chain([
            "agent:main:e2e-slow".into(),
            "agent:main:telegram:direct:4242".into(),
        ])
        .collect();
    assert_eq!(copies.keys().cloned().collect::<BTreeSet<_>>(), want);
    let max = copies.values().copied().max().unwrap();
    let repeated = copies.values().filter(|n| **n > 1).count();
    assert!(max <= 2, "a payload arrived {max} times: {copies:?}");
    assert!(ids.values().all(|s| s.len() == 1), "{ids:?}");
    assert_eq!(journaled_done(&l.journal).len(), want.len());
    // A further run has nothing left to send.
    let before = l.http.count();
    let out = l.sandbox.run(&l.args, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(l.http.count(), before, "{out:?}");
    eprintln!(
        "kill loop: {kills} kills ({} during resume), {} keys, max {max} copies per key, {repeated} keys sent twice",
        kills - 1,
        want.len()
    );
}
