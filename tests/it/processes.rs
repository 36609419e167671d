//! Owners that really run: a process retitled `openclaw-gateway` (as the real gateway
//! retitles itself) or `…/worker-service.cjs`, with its state / data dir in its environment,
//! found by sessionctl's own /proc scan; a claude-mem `worker.pid` naming it and a loopback
//! `/api/health` answering for it. Also `show`, `--idle`, `--backend` and a closed stdout.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::common::*;

const SLOW_KEY: &str = "agent:main:e2e-slow";
const SLOW_ID_735: &str = "ae3ade86-9fb7-4837-a009-6fcc1c41c22b";
const SLOW_ID_96: &str = "b56abc17-9f9c-4e50-ab34-f5a9769de19c";
const SLOW_CONTENT_ID: &str = "openclaw-agent:main:e2e-slow-1764100000000";
const WORKER_TITLE: &str = "/opt/claude-mem/plugin/scripts/worker-service.cjs";
const CM_VERSION: &str = "13.25.3";
/// The 2026.9.6 capture was taken 20:57–21:04 UTC (fixture README): every activity in it
/// is older than this.
const CAPTURE_96_END: &str = "2026-11-25T21:05:00Z";

// ---------------------------------------------------------------------------------------
// Helpers

/// Wall-clock start (epoch ms) of a process, computed as sessionctl does: btime + ticks.
fn started_ms(child: &ChildGuard) -> i64 {
    host_btime_ms() + (child.starttime() * 1000 / clk_tck()) as i64
}

/// 9.6 after-kill with both gateway lock files removed: the only gateway evidence left is
/// whatever process a test starts (9.6 ships no global DB, so there is no lease either).
fn fixture_96_without_gateway_locks() -> Fixture {
    let fx = Fixture::openclaw("2026.9.6", "after-kill");
    let mut removed = Vec::new();
    for e in fs::read_dir(fx.state_lock_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("gateway.") && name.ends_with(".lock") {
            fs::remove_file(&p).unwrap();
            removed.push(name);
        }
    }
    removed.sort();
    assert_eq!(
        removed,
        ["gateway.ee6a1c8a.lock", "gateway.state.lock"],
        "gateway locks of the 9.6 capture"
    );
    assert!(!fx.state().join("state/openclaw.sqlite").exists());
    fx
}

/// Set the activity of `key` in the 9.6 SQLite store to `ms` (session_nodes.updated_at and
/// session_windows.updated_at). Closing the connection checkpoints the copy's WAL.
fn set_sqlite_activity(fx: &Fixture, key: &str, ms: i64) {
    let db = fx.state().join("agents/main/agent/openclaw-agent.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n = conn
        .execute(
            "UPDATE session_nodes SET updated_at = ?1 WHERE session_key = ?2",
            rusqlite::params![ms, key],
        )
        .unwrap();
    assert_eq!(n, 1, "session_nodes rows for {key}");
    let n = conn
        .execute(
            "UPDATE session_windows SET updated_at = ?1 WHERE session_key = ?2",
            rusqlite::params![ms, key],
        )
        .unwrap();
    assert!(n >= 1, "no session_windows row for {key}");
    conn.close().unwrap();
}

/// `<root>/cm/claude-mem.db` from the 13.25.3 schema and the shared orphan rows (WAL mode,
/// like the worker's); returns the data dir.
fn build_claude_mem(root: &Path) -> PathBuf {
    let cm = root.join("cm");
    build_claude_mem_db(&cm, CM_VERSION, Some("wal"))
        .close()
        .unwrap();
    cm
}

/// A user prompt on row 3 (`e2e-slow`) created at `ms`, as the 13.x worker records one.
fn add_prompt_to_row_3(cm: &Path, ms: i64) {
    let conn = rusqlite::Connection::open(cm.join("claude-mem.db")).unwrap();
    conn.execute(
        "INSERT INTO user_prompts (session_db_id, content_session_id, prompt_number, prompt_text, created_at, created_at_epoch)
         VALUES (3, ?1, 3, 'x', ?2, ?3)",
        rusqlite::params![SLOW_CONTENT_ID, iso_ms(ms), ms],
    )
    .unwrap();
    conn.close().unwrap();
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn check_openclaw(fx: &Fixture) -> (Out, Value) {
    fx.json(
        [
            "check",
            "--backend",
            "openclaw",
            "--openclaw-state-dir",
            &s(&fx.state()),
        ],
        &[],
    )
}

fn check_claude_mem(sb: &Sandbox, cm: &Path) -> (Out, Value) {
    sb.json(
        [
            "check",
            "--backend",
            "claude-mem",
            "--claude-mem-dir",
            &s(cm),
        ],
        &[],
    )
}

fn assert_verdict(session: &Value, verdict: &str, reason: &str, out: &Out) {
    assert_eq!(
        (session["verdict"].as_str(), session["reason"].as_str()),
        (Some(verdict), Some(reason)),
        "session {} ({}):\n{out:?}",
        session["id"],
        session["session_key"]
    );
}

fn no_problems(report: &Value, out: &Out) {
    assert!(problems(report).is_empty(), "unexpected problems:\n{out:?}");
}

/// The entry of `host.processes` with this pid (`gateways --format json`).
fn process_entry(doc: &Value, pid: i64) -> &Value {
    doc["host"]["processes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["pid"].as_i64() == Some(pid)))
        .unwrap_or_else(|| panic!("pid {pid} not in host.processes:\n{doc:#}"))
}

fn ids(report: &Value) -> Vec<(String, String)> {
    sessions(report)
        .iter()
        .map(|x| {
            (
                x["backend"].as_str().unwrap_or_default().to_string(),
                x["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. A gateway process for the state dir

#[test]
fn gateway_process_owns_its_state_dir() {
    let fx = fixture_96_without_gateway_locks();
    let state = fx.state();
    let mut gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &state)]);
    let gw_start = started_ms(&gw);
    assert!(
        now_ms() - gw_start < 60_000,
        "gateway start too old for the test"
    );
    assert!(gw_start > parse_iso_ms(CAPTURE_96_END));

    // Started moments ago, after the session's last activity: recovery may still claim it.
    let (out, report) = check_openclaw(&fx);
    no_problems(&report, &out);
    let slow = by_key(&report, SLOW_KEY);
    assert_eq!(slow["id"], SLOW_ID_96, "{out:?}");
    assert_verdict(slow, "unknown", "recovery-pending", &out);
    let ev = evidence_with_pid(slow, gw.pid)
        .unwrap_or_else(|| panic!("evidence lacks gateway pid {}:\n{out:?}", gw.pid));
    assert_eq!(ev["kind"], "gateway-process", "{out:?}");
    assert_eq!(ev["state"], "alive", "{out:?}");
    assert_eq!(summary_count(&report, "orphan"), 0, "{out:?}");
    assert_summary_consistent(&report);
    assert_eq!(out.code, 0, "{out:?}");

    // `gateways` shows the process, tied to this state dir, and no lock.
    let (out, doc) = fx.json(["gateways", "--openclaw-state-dir", &s(&state)], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let p = process_entry(&doc, gw.pid);
    assert_eq!(p["kind"], "gateway", "{out:?}");
    assert_eq!(p["dir"], s(&state), "{out:?}");
    assert_eq!(p["argv"], format!("{GATEWAY_TITLE} 600"), "{out:?}");
    assert_eq!(p["starttime"], gw.starttime(), "{out:?}");
    assert_eq!(doc["openclaw"][0]["state_dir"], s(&state), "{out:?}");
    assert_eq!(doc["openclaw"][0]["locks"], Value::Array(vec![]), "{out:?}");

    // Activity after the gateway started: the running gateway owns the session.
    let bumped = now_ms();
    assert!(
        bumped >= gw_start,
        "clock: activity {bumped} < start {gw_start}"
    );
    set_sqlite_activity(&fx, SLOW_KEY, bumped);
    let (out, report) = check_openclaw(&fx);
    no_problems(&report, &out);
    let slow = by_key(&report, SLOW_KEY);
    assert_verdict(slow, "live", "gateway-alive", &out);
    assert_eq!(slow["last_activity_at"], iso_ms(bumped), "{out:?}");
    assert!(
        evidence_has_pid(slow, gw.pid),
        "evidence lacks gateway pid {}:\n{out:?}",
        gw.pid
    );
    assert_eq!(out.code, 0, "{out:?}");

    // The gateway dies: no process, no lock, activity after boot.
    let pid = gw.pid;
    gw.kill_and_wait();
    assert!(!pid_alive(pid));
    let (out, report) = check_openclaw(&fx);
    no_problems(&report, &out);
    let slow = by_key(&report, SLOW_KEY);
    assert_verdict(slow, "orphan", "gateway-gone", &out);
    assert!(
        !evidence_has_pid(slow, pid),
        "a dead gateway is still evidence:\n{out:?}"
    );
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn gateway_of_another_state_dir_does_not_count() {
    let fx = fixture_96_without_gateway_locks();
    let state = fx.state();
    let other = fx.root().join("other-state");
    fs::create_dir_all(&other).unwrap();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &other)]);
    let bumped = now_ms();
    assert!(bumped >= started_ms(&gw));
    set_sqlite_activity(&fx, SLOW_KEY, bumped);

    let (out, report) = check_openclaw(&fx);
    assert!(pid_alive(gw.pid), "gateway died during the run");
    no_problems(&report, &out);
    let slow = by_key(&report, SLOW_KEY);
    assert_verdict(slow, "orphan", "gateway-gone", &out);
    assert!(
        !evidence_has_pid(slow, gw.pid),
        "another state dir's gateway is evidence:\n{out:?}"
    );
    assert_eq!(out.code, 1, "{out:?}");

    // sessionctl did see the process, with the other dir.
    let (out, doc) = fx.json(["gateways", "--openclaw-state-dir", &s(&state)], &[]);
    let p = process_entry(&doc, gw.pid);
    assert_eq!(p["kind"], "gateway", "{out:?}");
    assert_eq!(p["dir"], s(&other), "{out:?}");
}

// ---------------------------------------------------------------------------------------
// 2. A claude-mem worker with its pid file and health endpoint

#[test]
fn claude_mem_worker_process_pid_file_and_health() {
    let sb = Sandbox::new();
    let cm = build_claude_mem(sb.root());
    let mut worker = spawn_retitled(WORKER_TITLE, &[("CLAUDE_MEM_DATA_DIR", &cm)]);
    let starttime = worker.starttime();
    let w_start = started_ms(&worker);
    assert!(
        now_ms() - w_start < 60_000,
        "worker start too old for the test"
    );
    let prompt_ms = now_ms();
    assert!(
        prompt_ms >= w_start,
        "clock: prompt {prompt_ms} < start {w_start}"
    );
    add_prompt_to_row_3(&cm, prompt_ms);

    // The process alone (no pid file yet), found by its argv and CLAUDE_MEM_DATA_DIR.
    let (out, report) = check_claude_mem(&sb, &cm);
    no_problems(&report, &out);
    let row3 = by_id(&report, "3").unwrap();
    assert_verdict(row3, "live", "worker-alive", &out);
    let ev = evidence_with_pid(row3, worker.pid)
        .unwrap_or_else(|| panic!("row 3 evidence lacks worker pid {}:\n{out:?}", worker.pid));
    assert_eq!(ev["kind"], "worker-process", "{out:?}");

    // Its health endpoint and pid file.
    let body = format!(
        r#"{{"status":"ok","version":"{CM_VERSION}","pid":{}}}"#,
        worker.pid
    );
    // Not on a port every sessionctl run probes by default (37777, 37700 + uid % 100),
    // where parallel tests would meet it.
    let default_ports = [37777, 37700 + (current_uid() % 100) as u16];
    let mut health = loop {
        let stub = HttpStub::start(&[("/api/health", body.clone())]);
        if !default_ports.contains(&stub.port()) {
            break stub;
        }
    };
    let port = health.port();
    fs::write(
        cm.join("worker.pid"),
        format!(
            r#"{{"pid":{},"port":{port},"startedAt":"{}","startToken":"{starttime}"}}"#,
            worker.pid,
            iso_ms(now_ms())
        ),
    )
    .unwrap();

    // Row 3 was active after the worker started: the worker holds it. Rows 4 and 5 were
    // last active in 2025, before it started, and it started < 120 s ago (no OpenClaw
    // store is read, so upstream is not gone): recovery-pending.
    let (out, report) = check_claude_mem(&sb, &cm);
    no_problems(&report, &out);
    let ids: BTreeSet<&str> = sessions(&report)
        .iter()
        .filter_map(|x| x["id"].as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from(["3", "4", "5", "6", "7"]), "{out:?}");
    let row = |id: &str| by_id(&report, id).unwrap();
    assert_verdict(row("3"), "live", "worker-alive", &out);
    assert_eq!(row("3")["last_activity_at"], iso_ms(prompt_ms), "{out:?}");
    let ev = evidence_with_pid(row("3"), worker.pid)
        .unwrap_or_else(|| panic!("row 3 evidence lacks worker pid {}:\n{out:?}", worker.pid));
    assert_eq!(ev["state"], "alive", "{out:?}");
    for id in ["4", "5"] {
        assert_verdict(row(id), "unknown", "recovery-pending", &out);
        assert!(evidence_has_pid(row(id), worker.pid), "row {id}:\n{out:?}");
    }
    assert_verdict(row("6"), "unknown", "observer-session", &out);
    assert_verdict(row("7"), "unknown", "not-openclaw", &out);
    assert_summary_consistent(&report);
    assert_eq!(out.code, 0, "{out:?}");

    // `gateways`: the worker process, its pid file alive, its health endpoint answering.
    let (out, doc) = sb.json(
        [
            "gateways",
            "--backend",
            "claude-mem",
            "--claude-mem-dir",
            &s(&cm),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let p = process_entry(&doc, worker.pid);
    assert_eq!(p["kind"], "worker", "{out:?}");
    assert_eq!(p["dir"], s(&cm), "{out:?}");
    let d = &doc["claude_mem"][0];
    assert_eq!(d["data_dir"], s(&cm), "{out:?}");
    let pf = &d["pid_files"][0];
    assert_eq!(pf["path"], s(&cm.join("worker.pid")), "{out:?}");
    assert_eq!(pf["pid"], worker.pid, "{out:?}");
    assert_eq!(pf["port"], port, "{out:?}");
    assert_eq!(pf["start_token"], starttime, "{out:?}");
    assert_eq!(pf["state"], "alive", "{out:?}");
    let url = format!("http://127.0.0.1:{port}/api/health");
    let h = d["health"]
        .as_array()
        .and_then(|hs| hs.iter().find(|h| h["url"] == url.as_str()))
        .unwrap_or_else(|| panic!("no probe of {url}:\n{out:?}"));
    assert_eq!(h["answered"], true, "{out:?}");
    assert_eq!(h["status"], 200, "{out:?}");
    assert_eq!(h["body"]["version"], CM_VERSION, "{out:?}");
    assert_eq!(h["body"]["pid"], worker.pid, "{out:?}");
    // Only health was asked for, never an endpoint that creates rows.
    let reqs = health.requests();
    assert!(!reqs.is_empty(), "the health port was never probed");
    assert!(
        reqs.iter().all(|r| r == "GET /api/health HTTP/1.1"),
        "{reqs:?}"
    );

    // The worker dies, but something still answers its port with the dead pid: that
    // answer cannot be tied to this data dir, so row 3 (active this boot) is unverifiable;
    // rows 4 and 5 were last active before this boot.
    let pid = worker.pid;
    worker.kill_and_wait();
    assert!(!pid_alive(pid));
    let (out, report) = check_claude_mem(&sb, &cm);
    no_problems(&report, &out);
    let row = |id: &str| by_id(&report, id).unwrap();
    assert_verdict(row("3"), "unknown", "unverifiable", &out);
    for id in ["4", "5"] {
        assert_verdict(row(id), "orphan", "rebooted", &out);
    }
    assert_eq!(out.code, 1, "{out:?}");

    // Its health endpoint goes with it: the pid file names a dead pid.
    health.shutdown();
    let (out, report) = check_claude_mem(&sb, &cm);
    no_problems(&report, &out);
    for id in ["3", "4", "5"] {
        let r = by_id(&report, id).unwrap();
        assert_verdict(r, "orphan", "worker-dead", &out);
        let ev = evidence_with_pid(r, pid)
            .unwrap_or_else(|| panic!("row {id} evidence lacks worker pid {pid}:\n{out:?}"));
        assert_eq!(ev["kind"], "worker-pid-file", "{out:?}");
        assert_eq!(ev["state"], "dead", "{out:?}");
    }
    assert_eq!(summary_count(&report, "orphan"), 3, "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
}

// ---------------------------------------------------------------------------------------
// 3. show

#[test]
fn show_finds_a_session_and_its_linked_rows() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let cm = build_claude_mem(fx.root());
    let dirs = [
        "--openclaw-state-dir".to_string(),
        s(&fx.state()),
        "--claude-mem-dir".to_string(),
        s(&cm),
    ];
    let show = |q: &str| {
        let mut a = vec!["show".to_string(), q.to_string()];
        a.extend(dirs.iter().cloned());
        fx.json(a, &[])
    };
    let expected = vec![
        ("openclaw".to_string(), SLOW_ID_735.to_string()),
        ("claude-mem".to_string(), "3".to_string()),
    ];
    for q in [SLOW_KEY, "ae3ade86", "cm:3", "3", SLOW_CONTENT_ID] {
        let (out, report) = show(q);
        assert_eq!(out.code, 0, "show {q}:\n{out:?}");
        no_problems(&report, &out);
        assert_eq!(ids(&report), expected, "show {q}:\n{out:?}");
        let list = sessions(&report);
        assert_eq!(list[0]["session_key"], SLOW_KEY, "{out:?}");
        assert_eq!(list[1]["session_key"], SLOW_KEY, "{out:?}");
        assert_eq!(list[1]["content_session_id"], SLOW_CONTENT_ID, "{out:?}");
        assert_summary_consistent(&report);
    }

    let mut a = vec!["show".to_string(), "nope".to_string()];
    a.extend(dirs.iter().cloned());
    let out = fx.run(&a, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(
        out.stderr, "sessionctl: no active session matches `nope`\n",
        "{out:?}"
    );

    // The table names every piece of evidence.
    let mut a = vec!["show".to_string(), SLOW_KEY.to_string()];
    a.extend(dirs.iter().cloned());
    let out = fx.run(&a, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    for want in [
        "evidence (session-lock)",
        "evidence (upstream)",
        SLOW_ID_735,
        SLOW_CONTENT_ID,
    ] {
        assert!(out.stdout.contains(want), "no `{want}` in:\n{out:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 4. --idle

#[test]
fn idle_threshold_makes_a_live_owner_stale() {
    let child = ChildGuard::sleep();
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let sessions_dir = fx.state().join("agents/main/sessions");
    rewrite_lock(
        &sessions_dir.join(format!("{SLOW_ID_735}.jsonl.lock")),
        &[
            ("pid", child.pid.to_string()),
            ("createdAt", format!("\"{}\"", iso_ms(now_ms()))),
            ("starttime", child.starttime().to_string()),
        ],
    );
    let two_hours_ago = now_ms() - 2 * 3600 * 1000;
    let store = sessions_dir.join("sessions.json");
    let mut map = read_json(&store);
    let entry = map[SLOW_KEY].as_object_mut().expect("e2e-slow entry");
    for k in [
        "updatedAt",
        "lastInteractionAt",
        "startedAt",
        "sessionStartedAt",
    ] {
        assert!(entry.contains_key(k), "{k} missing in the entry");
        entry.insert(k.to_string(), two_hours_ago.into());
    }
    fs::write(&store, serde_json::to_string_pretty(&map).unwrap()).unwrap();

    let run = |idle: &str| {
        fx.json(
            [
                "check",
                // --no-owed: the exit code must show stale is not orphan; the finished
                // e2e-1/e2e-2 (owed by dead gateway 7288, see owed.rs) would make it 1.
                "--no-owed",
                "--backend",
                "openclaw",
                "--openclaw-state-dir",
                &s(&fx.state()),
                "--idle",
                idle,
            ],
            &[],
        )
    };
    // Idle for 2h (plus the test's own run time): thresholds on both sides, close and far.
    for (idle, verdict) in [
        ("1h", "stale"),
        ("110m", "stale"),
        ("130m", "live"),
        ("3h", "live"),
    ] {
        let (out, report) = run(idle);
        assert!(pid_alive(child.pid), "child died during the run");
        no_problems(&report, &out);
        let slow = by_key(&report, SLOW_KEY);
        assert_verdict(slow, verdict, "owner-alive", &out);
        assert_eq!(slow["last_activity_at"], iso_ms(two_hours_ago), "{out:?}");
        let ev = evidence_with_pid(slow, child.pid)
            .unwrap_or_else(|| panic!("evidence lacks pid {}:\n{out:?}", child.pid));
        assert_eq!(ev["state"], "alive", "{out:?}");
        assert_eq!(summary_count(&report, "orphan"), 0, "{out:?}");
        assert_eq!(
            summary_count(&report, "stale"),
            u64::from(verdict == "stale"),
            "{out:?}"
        );
        assert_summary_consistent(&report);
        assert_eq!(out.code, 0, "--idle {idle}: stale is not orphan\n{out:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 5. --backend

#[test]
fn backend_filter() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let cm = build_claude_mem(fx.root());
    let list = |backend: Option<&str>| {
        let mut a = vec![
            "list".to_string(),
            "--openclaw-state-dir".to_string(),
            s(&fx.state()),
            "--claude-mem-dir".to_string(),
            s(&cm),
        ];
        if let Some(b) = backend {
            a.extend(["--backend".to_string(), b.to_string()]);
        }
        let (out, report) = fx.json(a, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        no_problems(&report, &out);
        let backends: BTreeSet<String> = ids(&report).into_iter().map(|(b, _)| b).collect();
        (out, report, backends)
    };

    let (out, _, all) = list(None);
    assert_eq!(
        all,
        BTreeSet::from(["claude-mem".to_string(), "openclaw".to_string()]),
        "{out:?}"
    );
    let (out, report, only) = list(Some("openclaw"));
    assert_eq!(only, BTreeSet::from(["openclaw".to_string()]), "{out:?}");
    assert_eq!(by_key(&report, SLOW_KEY)["id"], SLOW_ID_735, "{out:?}");
    let (out, report, only) = list(Some("claude-mem"));
    assert_eq!(only, BTreeSet::from(["claude-mem".to_string()]), "{out:?}");
    let rows: BTreeSet<String> = ids(&report).into_iter().map(|(_, i)| i).collect();
    assert_eq!(
        rows,
        ["3", "4", "5", "6", "7"].map(String::from).into(),
        "{out:?}"
    );
    let (out, _, both) = list(Some("openclaw,claude-mem"));
    assert_eq!(both, all, "{out:?}");

    let out = fx.run(["list", "--backend", "bogus"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert!(
        out.stderr
            .starts_with("error: invalid value 'bogus' for '--backend <BACKEND>'"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("[possible values: openclaw, claude-mem, sql]"),
        "{out:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. A reader that leaves: `sessionctl list | head -0`

#[test]
fn closed_stdout_is_not_an_error() {
    let sb = Sandbox::new();
    let cm = build_claude_mem(sb.root());
    for format in ["table", "json", "ndjson"] {
        let mut child = sb
            .command(
                ["list", "--claude-mem-dir", &s(&cm), "--format", format],
                &[],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sessionctl");
        // Close the only read end before sessionctl has written anything.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "--format {format}: {status:?}, stderr:\n{stderr}"
        );
        assert_eq!(stderr, "", "--format {format}: stderr not empty");
    }
}
