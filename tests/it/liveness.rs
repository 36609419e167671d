//! Liveness against real processes: the captured locks are rewritten to name a child we
//! spawn (`sleep 600`), so sessionctl's /proc checks meet a running, a dead and a reused pid.

use serde_json::Value;

use crate::common::*;

const SLOW_ID_735: &str = "ae3ade86-9fb7-4837-a009-6fcc1c41c22b";
const SLOW_ID_96: &str = "b56abc17-9f9c-4e50-ab34-f5a9769de19c";
const SLOW_KEY: &str = "agent:main:e2e-slow";

/// 7.35 after-kill with both the transcript lock of e2e-slow and the gateway lock rewritten
/// (format kept: pretty `starttime` / one-line `startTime`) to name `pid`/`starttime`,
/// created now.
pub(crate) fn fixture_735_owned_by(pid: i64, starttime: u64) -> Fixture {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let created = format!("\"{}\"", iso_ms(now_ms()));
    let session_lock = fx
        .state()
        .join(format!("agents/main/sessions/{SLOW_ID_735}.jsonl.lock"));
    rewrite_lock(
        &session_lock,
        &[
            ("pid", pid.to_string()),
            ("createdAt", created.clone()),
            ("starttime", starttime.to_string()),
        ],
    );
    let gateway_lock = fx.tmp_lock_dir().join("gateway.81957b4c.lock");
    rewrite_lock(
        &gateway_lock,
        &[
            ("pid", pid.to_string()),
            ("createdAt", created),
            ("startTime", starttime.to_string()),
        ],
    );
    // Sanity: the rest of the gateway lock survived and points into the copy.
    let g = read_json(&gateway_lock);
    assert_eq!(g["pid"], pid);
    assert_eq!(g["port"], 18831);
    assert_eq!(
        g["configPath"].as_str().unwrap(),
        fx.state().join("openclaw.json").to_str().unwrap()
    );
    let text = std::fs::read_to_string(&gateway_lock).unwrap();
    assert!(!text.contains('\n'), "gateway lock must stay one line");
    let s = std::fs::read_to_string(&session_lock).unwrap();
    assert!(s.starts_with("{\n  \"pid\": ") && s.ends_with("}\n"), "{s}");
    fx
}

fn check(fx: &Fixture) -> (Out, Value) {
    check_with(fx, &[])
}

fn check_with(fx: &Fixture, extra: &[&str]) -> (Out, Value) {
    let mut args: Vec<String> = [
        "check",
        "--openclaw-state-dir",
        &fx.state().to_string_lossy(),
        "--backend",
        "openclaw",
        "--idle",
        "3650d",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    fx.json(args, &[])
}

#[test]
fn live_owner_is_live() {
    let child = ChildGuard::sleep();
    let fx = fixture_735_owned_by(child.pid, child.starttime());
    // --no-owed: exit 0 must show the live session counts as nothing; the finished
    // e2e-1/e2e-2 (owed a session_end by dead gateway 7288) would make it 1 (owed.rs).
    let (out, report) = check_with(&fx, &["--no-owed"]);
    assert!(pid_alive(child.pid), "child died during the run");
    let s = by_key(&report, SLOW_KEY);
    assert_eq!(s["id"], SLOW_ID_735, "{out:?}");
    assert_eq!(s["verdict"], "live", "{out:?}");
    assert_eq!(s["reason"], "owner-alive", "{out:?}");
    let ev = evidence_with_pid(s, child.pid)
        .unwrap_or_else(|| panic!("evidence lacks pid {}:\n{out:?}", child.pid));
    assert_eq!(ev["state"], "alive", "{out:?}");
    assert_eq!(summary_count(&report, "orphan"), 0, "{out:?}");
    assert_summary_consistent(&report);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn dead_owner_is_orphan() {
    let mut child = ChildGuard::sleep();
    let (pid, st) = (child.pid, child.starttime());
    let fx = fixture_735_owned_by(pid, st);
    child.kill_and_wait();
    assert!(!pid_alive(pid));
    let (out, report) = check(&fx);
    let s = by_key(&report, SLOW_KEY);
    assert_eq!(s["verdict"], "orphan", "{out:?}");
    assert_eq!(s["reason"], "owner-dead", "{out:?}");
    let ev =
        evidence_with_pid(s, pid).unwrap_or_else(|| panic!("evidence lacks pid {pid}:\n{out:?}"));
    assert_eq!(ev["state"], "dead", "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn reused_pid_is_orphan() {
    let child = ChildGuard::sleep();
    // The locks name a live pid, but a process that started 7 ticks later than this one.
    let fx = fixture_735_owned_by(child.pid, child.starttime() + 7);
    let (out, report) = check(&fx);
    assert!(pid_alive(child.pid), "child died during the run");
    let s = by_key(&report, SLOW_KEY);
    assert_eq!(s["verdict"], "orphan", "{out:?}");
    assert_eq!(s["reason"], "pid-reused", "{out:?}");
    let ev = evidence_with_pid(s, child.pid)
        .unwrap_or_else(|| panic!("evidence lacks pid {}:\n{out:?}", child.pid));
    assert_eq!(ev["state"], "reused", "{out:?}");
    assert_eq!(out.code, 1, "{out:?}");
}

/// 9.6 after-kill, both gateway lock files rewritten to a gateway that started just now:
/// its restart recovery may still claim e2e-slow, so the session is `unknown` /
/// `recovery-pending`, never an orphan.
#[test]
fn fresh_gateway_means_recovery_pending() {
    let child = ChildGuard::sleep();
    let st = child.starttime();
    let fx = Fixture::openclaw("2026.9.6", "after-kill");
    let created = format!("\"{}\"", iso_ms(now_ms()));
    let dir = fx.state_lock_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("gateway.") && name.ends_with(".lock") {
            let before = std::fs::read_to_string(&p).unwrap();
            rewrite_lock(
                &p,
                &[
                    ("pid", child.pid.to_string()),
                    ("createdAt", created.clone()),
                    ("startTime", st.to_string()),
                ],
            );
            let after = std::fs::read_to_string(&p).unwrap();
            // Pretty JSON and the whitespace trailer are kept.
            let trailer = |t: &str| t[t.rfind('}').unwrap() + 1..].to_string();
            assert_eq!(trailer(&before), trailer(&after));
            let (b, a): (Value, Value) = (
                serde_json::from_str(&before).unwrap(),
                serde_json::from_str(&after).unwrap(),
            );
            for k in ["ownerId", "port", "configPath", "stateDir"] {
                assert_eq!(b[k], a[k], "{k} changed in {name}");
            }
            assert_eq!(a["pid"], child.pid);
            n += 1;
        }
    }
    assert_eq!(
        n, 2,
        "expected gateway.<hash>.lock and gateway.state.lock in {dir:?}"
    );
    // Preconditions: the child started after the session's activity and < 120 s ago.
    let started_ms = host_btime_ms() + (st * 1000 / clk_tck()) as i64;
    assert!(
        now_ms() - started_ms < 60_000,
        "child start too old for the test"
    );
    assert!(started_ms > parse_iso_ms("2026-11-25T20:58:30Z"));

    let (out, report) = check(&fx);
    assert!(pid_alive(child.pid), "child died during the run");
    let s = by_key(&report, SLOW_KEY);
    assert_eq!(s["id"], SLOW_ID_96, "{out:?}");
    assert_eq!(s["verdict"], "unknown", "{out:?}");
    assert_eq!(s["reason"], "recovery-pending", "{out:?}");
    assert!(
        evidence_has_pid(s, child.pid),
        "evidence lacks gateway pid {}:\n{out:?}",
        child.pid
    );
    assert_eq!(summary_count(&report, "orphan"), 0, "{out:?}");
    assert_summary_consistent(&report);
    assert_eq!(out.code, 0, "{out:?}");
}
