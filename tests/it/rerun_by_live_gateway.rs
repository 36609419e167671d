//! A 2026.9 restart re-runs the session its predecessor was killed in: the re-run ends
//! (`done`) under the gateway that runs now. No session_end may name that session while
//! this gateway runs — not even for the claude-mem row of its key, which is an orphan (its
//! OpenClaw session has ended and no worker runs). Found by the e2e `watch-cycles`
//! scenario: the row's close delivered a session_end for a session the live gateway had
//! just run a turn of.

use serde_json::Value;

use crate::close::{Base, Host};
use crate::common::*;

const KEY: &str = "agent:main:e2e-1";

/// A gateway running now for the host's state dir: a real process and its lock, written at
/// `now`.
fn live_gateway(h: &Host, now: i64) -> ChildGuard {
    let state = h.state();
    let gw = spawn_retitled("openclaw-gateway", &[("OPENCLAW_STATE_DIR", &state)]);
    let dir = h.fx.tmp_lock_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("gateway.live{}.lock", gw.pid)),
        serde_json::json!({
            "pid": gw.pid, "createdAt": iso_ms(now), "port": 18832,
            "configPath": state.join("openclaw.json"), "startTime": gw.starttime(),
        })
        .to_string(),
    )
    .unwrap();
    gw
}

#[test]
fn no_session_end_for_a_claude_mem_row_whose_session_a_live_gateway_ran() {
    let h = Host::new(Base::File735);
    h.configure(&[h.rec()]);
    let state = h.state();
    // A gateway runs now: a real process of the state dir, its lock and its boot row.
    let now = now_ms();
    let gw = live_gateway(&h, now);
    let conn = rusqlite::Connection::open(state.join("state/openclaw.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO gateway_boot_lifecycle (boot_id, pid, started_at_ms) VALUES ('live', ?1, ?2)",
        rusqlite::params![gw.pid, now - 2_000],
    )
    .unwrap();
    drop(conn);
    // e2e-1 was re-run by that gateway and finished: a turn in its lifetime.
    let mut sessions: Value = read_json(&h.sessions_json());
    let started = sessions[KEY]["sessionStartedAt"].as_i64().unwrap();
    for f in ["lastInteractionAt", "updatedAt", "endedAt"] {
        sessions[KEY][f] = serde_json::json!(now - 1_000);
    }
    std::fs::write(h.sessions_json(), sessions.to_string()).unwrap();
    // The claude-mem row of that session (no worker runs: an orphan).
    h.link_row(3, KEY, started);

    let (out, doc) = h.close_json(&["--dry-run"]);
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    let items = doc["items"].as_array().unwrap_or_else(|| panic!("{out:?}"));
    let for_key: Vec<&Value> = items
        .iter()
        .filter(|i| i.to_string().contains(KEY))
        .collect();
    assert!(
        !for_key.is_empty(),
        "the claude-mem row of {KEY} is closed (its session ended, no worker runs): {doc:#}"
    );
    let sent: Vec<&str> = items
        .iter()
        .filter_map(|i| i["payload"]["event"]["sessionKey"].as_str())
        .collect();
    assert!(
        !sent.contains(&KEY),
        "a session_end planned for {KEY}, which the live gateway ran a turn of: {doc:#}"
    );
    // The other finished session of the dead gateway is still owed (`restart`).
    assert!(sent.contains(&"agent:main:e2e-2"), "{doc:#}");
}

/// A 2026.7 restart's recovery touches the interrupted entry (its `updatedAt`, so the
/// session's last activity comes after the new gateway's start) a moment before it removes
/// the dead gateway's session lock and marks the entry failed. In that moment the entry is
/// the young gateway's to settle: `unknown`/`recovery-pending`, never an orphan that `close`
/// would end under it. (Found by the e2e `crash` scenario's look at the restart window.)
#[test]
fn a_young_gateway_that_touched_the_entry_after_its_stale_lock_keeps_it_pending() {
    use crate::close::SLOW_KEY;
    let h = Host::new(Base::File735);
    let now = now_ms();
    // The killed gateway's session lock, written this boot, 20 s ago.
    let (dead, dead_start) = dead_pid();
    std::fs::write(
        h.slow_lock(),
        serde_json::json!({
            "pid": dead, "createdAt": iso_ms(now - 20_000), "maxHoldMs": 300000,
            "starttime": dead_start,
        })
        .to_string(),
    )
    .unwrap();
    // The restarted gateway, up for a moment, with its lock (running while `_gw` lives).
    let _gw = live_gateway(&h, now);
    // Its recovery touched the entry just now.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let touched = now_ms();
    let mut sessions: Value = read_json(&h.sessions_json());
    for f in ["updatedAt", "lastInteractionAt"] {
        sessions[SLOW_KEY][f] = serde_json::json!(touched);
    }
    std::fs::write(h.sessions_json(), sessions.to_string()).unwrap();

    let out = h.run(&["list", "--backend", "openclaw", "--format", "json"]);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let s = by_key(&doc, SLOW_KEY);
    assert_eq!(
        (s["verdict"].as_str(), s["reason"].as_str()),
        (Some("unknown"), Some("recovery-pending")),
        "{s:#}"
    );
}
