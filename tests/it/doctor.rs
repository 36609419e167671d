//! `doctor` and `check --prometheus-textfile` on a host built for it: claude-mem with two
//! orphans and one live row (its OpenClaw session held by a real process), capacity 2, and
//! a worker log with pool timeouts.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::*;
use crate::liveness::fixture_735_owned_by;

struct Host {
    fx: Fixture,
    _owner: ChildGuard,
}

impl Host {
    fn cm(&self) -> PathBuf {
        self.fx.root().join("cm")
    }

    fn args(&self, cmd: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        a.extend([
            "--openclaw-state-dir".into(),
            self.fx.state().to_string_lossy().into_owned(),
            "--claude-mem-dir".into(),
            self.cm().to_string_lossy().into_owned(),
            "--journal".into(),
            self.fx
                .root()
                .join("journal.ndjson")
                .to_string_lossy()
                .into_owned(),
        ]);
        a
    }

    fn doctor(&self) -> (Out, Value) {
        self.fx.json(self.args(&["doctor"]), &[])
    }
}

/// Rows 3 (linked to the live agent:main:e2e-slow), 4 and 5 active; rows 6 (observer) and
/// 7 (manual) removed so the pool holds exactly 1 live + 2 orphans.
fn host() -> Host {
    let owner = ChildGuard::sleep();
    let fx = fixture_735_owned_by(owner.pid, owner.starttime());
    // The session's activity is now, so the live owner makes it live, not stale.
    let sj = fx.state().join("agents/main/sessions/sessions.json");
    let mut doc = read_json(&sj);
    doc["agent:main:e2e-slow"]["updatedAt"] = Value::from(now_ms());
    fs::write(&sj, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let cm = fx.root().join("cm");
    fs::create_dir_all(cm.join("logs")).unwrap();
    let conn = build_claude_mem_db(&cm, "13.25.3", None);
    // Row 3's content id names the key's current session (created with it), so it follows it.
    let started = doc["agent:main:e2e-slow"]["sessionStartedAt"]
        .as_i64()
        .unwrap();
    conn.execute_batch(&format!(
        "UPDATE user_prompts SET content_session_id = 'openclaw-agent:main:e2e-slow-{started}' WHERE session_db_id = 3;
         UPDATE sdk_sessions SET content_session_id = 'openclaw-agent:main:e2e-slow-{started}' WHERE id = 3;
         DELETE FROM sdk_sessions WHERE id IN (6, 7);"
    ))
    .unwrap();
    drop(conn);
    fs::write(
        cm.join("settings.json"),
        br#"{"CLAUDE_MEM_MAX_CONCURRENT_AGENTS": "2"}"#,
    )
    .unwrap();
    fs::write(
        cm.join("logs/claude-mem-2026-11-25.log"),
        "[2026-11-25 20:59:58.101] [INFO ] [PROCESS] Pool limit reached (2/2), waiting for slot...\n\
         [2026-11-25 21:00:58.102] [ERROR] [SDK   ] [session-9] Session generator failed {project=openclaw-main, provider=claude} Timed out waiting for agent pool slot after 60000ms\n\
         [2026-11-25 21:01:02.000] [INFO ] [PROCESS] Pool limit reached (2/2), waiting for slot...\n\
         [2026-11-25 21:02:02.001] [ERROR] [SDK   ] [session-10] Session generator failed {project=openclaw-main, provider=claude} Timed out waiting for agent pool slot after 60000ms\n",
    )
    .unwrap();
    Host { fx, _owner: owner }
}

fn finding<'a>(v: &'a Value, code: &str) -> Option<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

#[test]
fn doctor_reports_saturation_and_timeouts_then_is_healthy_after_close() {
    let h = host();
    let (out, v) = h.doctor();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(v["healthy"], false);
    let sat =
        finding(&v, "pool-saturated").unwrap_or_else(|| panic!("no saturation finding:\n{out:?}"));
    assert_eq!(sat["severity"], "error");
    assert!(
        sat["title"]
            .as_str()
            .unwrap()
            .contains("saturated by 2 orphan(s) (capacity 2)"),
        "{sat}"
    );
    let ev = sat["evidence"].to_string();
    assert!(ev.contains("1 live, 2 orphan"), "{sat}");
    assert!(ev.contains("settings.json"), "capacity source named: {sat}");
    let fix = sat["fix"].as_str().unwrap();
    assert!(fix.starts_with("sessionctl --openclaw-state-dir "), "{fix}");
    assert!(fix.contains("close --yes cm:4 cm:5"), "{fix}");
    let waits = finding(&v, "pool-waits").unwrap_or_else(|| panic!("no log finding:\n{out:?}"));
    assert_eq!(waits["severity"], "error");
    assert!(
        waits["title"]
            .as_str()
            .unwrap()
            .contains("2 pool wait(s), 2 timeout(s)"),
        "{waits}"
    );
    assert!(
        waits["evidence"]
            .to_string()
            .contains("2026-11-25 21:02:02.001"),
        "newest line's time: {waits}"
    );
    // Worst first.
    let sev: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    let mut sorted = sev.clone();
    sorted.sort_by_key(|s| ["error", "warning", "info"].iter().position(|x| x == s));
    assert_eq!(sev, sorted);

    // Table form names the fix too.
    let out = h.fx.run(h.args(&["doctor"]), &[]);
    assert!(out.stdout.contains("fix: sessionctl"), "{out:?}");

    // The fix, then the same doctor is healthy.
    let out = h.fx.run(h.args(&["close", "--yes"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let (out, v) = h.doctor();
    assert_eq!(out.code, 0, "healthy after close:\n{out:?}");
    assert_eq!(v["healthy"], true);
    assert!(finding(&v, "pool-saturated").is_none());
    assert_eq!(finding(&v, "pool").unwrap()["severity"], "info");
    // The old timeouts are still reported, as history.
    assert_eq!(finding(&v, "pool-waits").unwrap()["severity"], "info");
}

#[test]
fn doctor_says_plainly_when_there_are_no_logs() {
    let h = host();
    fs::remove_dir_all(h.cm().join("logs")).unwrap();
    let (_, v) = h.doctor();
    let f = finding(&v, "no-logs").expect("no-logs finding");
    assert!(f["title"].as_str().unwrap().contains("no claude-mem logs"));
}

#[test]
fn doctor_finds_a_worker_port_mismatch() {
    let h = host();
    let stub = HttpStub::start(&[(
        "/api/health",
        r#"{"status":"ok","version":"13.25.3"}"#.to_string(),
    )]);
    // The worker listens on the stub's port (CLAUDE_MEM_WORKER_PORT); the plugin on 37777.
    let cfg = h.fx.state().join("openclaw.json");
    let text = fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "entries: {",
        "entries: {\n      \"claude-mem\": { enabled: true },",
        1,
    );
    fs::write(&cfg, text).unwrap();
    let port = stub.port().to_string();
    let (out, v) =
        h.fx.json(h.args(&["doctor"]), &[("CLAUDE_MEM_WORKER_PORT", &port)]);
    let f = finding(&v, "worker-port-mismatch").unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        f["title"].as_str().unwrap().contains(&format!(
            "talks to port 37777, but the worker listens on {port}"
        )),
        "{f}"
    );
    assert!(finding(&v, "worker-health").is_some(), "{out:?}");
}

#[test]
fn doctor_finds_two_gateways_and_a_legacy_sessions_json() {
    let h = host();
    // A second live "gateway" for the same state dir, found by /proc.
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", "exec -a openclaw-gateway sleep 600"])
        .env("OPENCLAW_STATE_DIR", h.fx.state());
    let g2 = ChildGuard::spawn(&mut cmd);
    wait_until(
        "fake gateway title",
        std::time::Duration::from_secs(5),
        || {
            fs::read(format!("/proc/{}/cmdline", g2.pid))
                .is_ok_and(|c| c.starts_with(b"openclaw-gateway"))
        },
    );
    let db = h.fx.state().join("agents/main/agent/openclaw-agent.sqlite");
    fs::create_dir_all(db.parent().unwrap()).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x);")
        .unwrap();
    let (out, v) = h.doctor();
    let two = finding(&v, "two-gateways").unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(two["severity"], "error");
    assert!(two["evidence"].to_string().contains(&g2.pid.to_string()));
    let legacy = finding(&v, "legacy-sessions-json").unwrap_or_else(|| panic!("{out:?}"));
    assert!(legacy["fix"].as_str().unwrap().starts_with("mv "));
}

#[test]
fn prometheus_textfile_is_written_atomically_and_valid() {
    let h = host();
    let prom = h.fx.root().join("textfile/sessionctl.prom");
    fs::create_dir_all(prom.parent().unwrap()).unwrap();
    let mut args = h.args(&["check"]);
    args.extend([
        "--prometheus-textfile".into(),
        prom.to_string_lossy().into_owned(),
    ]);
    let out = h.fx.run(&args, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let text = fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("sessionctl_orphans{backend=\"claude-mem\",reason=\"rebooted\"} 2"),
        "{text}"
    );
    // e2e-slow (live) and the finished e2e-1/e2e-2, owed their session_end by dead gateway 7288.
    assert!(
        text.contains("sessionctl_active{backend=\"openclaw\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("sessionctl_errors{backend=\"claude-mem\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("sessionctl_last_success_timestamp_seconds "),
        "{text}"
    );
    // No temp file is left for node_exporter to trip over.
    let names: Vec<_> = fs::read_dir(prom.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    // Every sample line belongs to a declared family.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        assert!(
            text.contains(&format!("# TYPE {name} gauge")),
            "undeclared {name}"
        );
    }
    match std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(fs::File::open(&prom).unwrap())
        .output()
    {
        Ok(o) => assert!(
            o.status.success(),
            "promtool rejects the textfile:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => eprintln!("SKIPPED: promtool check metrics (promtool not installed)"),
    }
    // A failed read keeps the last success time of the previous file.
    let before = text
        .lines()
        .find(|l| l.starts_with("sessionctl_last_success"))
        .unwrap()
        .to_string();
    fs::write(h.cm().join("claude-mem.db"), b"garbage").unwrap();
    let out = h.fx.run(&args, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    let text = fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("sessionctl_errors{backend=\"claude-mem\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(&before),
        "last success carried forward:\n{text}"
    );
}

/// Anyone can make a state dir look owned (`exec -a openclaw-gateway` with
/// `OPENCLAW_STATE_DIR` set): sessionctl then leaves its sessions alone, and doctor names
/// the pid, its uid and its executable, so the impostor is easy to find.
#[test]
fn doctor_names_the_process_that_owns_a_state_dir() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let state = fx.state();
    let gw = spawn_retitled(GATEWAY_TITLE, &[("OPENCLAW_STATE_DIR", &state)]);
    let exe = fs::read_link(format!("/proc/{}/exe", gw.pid)).unwrap();
    let (out, doc) = fx.json(
        [
            "doctor",
            "--openclaw-state-dir",
            &state.to_string_lossy(),
            "--journal",
            &fx.root().join("journal.ndjson").to_string_lossy(),
        ],
        &[],
    );
    let owners: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{out:?}"))
        .iter()
        .filter(|f| f["code"] == "state-dir-owner")
        .collect();
    assert_eq!(owners.len(), 1, "{doc:#}");
    let f = owners[0];
    let want = format!(
        "pid {}, uid {}, exe {}",
        gw.pid,
        current_uid(),
        exe.display()
    );
    assert_eq!(f["evidence"][0], want.as_str(), "{f:#}");
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "argv: openclaw-gateway 600"),
        "{f:#}"
    );
    let title = f["title"].as_str().unwrap();
    assert!(
        title.contains(&format!("pid {}", gw.pid)) && title.contains(&exe.display().to_string()),
        "{title}"
    );
    assert_eq!(
        f["fix"],
        format!(
            "if pid {p} is not your OpenClaw gateway, stop it (kill {p}); its sessions can then be closed",
            p = gw.pid
        )
    );
    // The text output says the same.
    let text = fx.run(
        [
            "doctor",
            "--openclaw-state-dir",
            &state.to_string_lossy(),
            "--journal",
            &fx.root().join("journal.ndjson").to_string_lossy(),
        ],
        &[],
    );
    assert!(text.stdout.contains(&want), "{text:?}");
}
