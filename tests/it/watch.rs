//! `sessionctl watch`: the daemon, as a real process beside fake gateways (processes
//! titled `openclaw-gateway` with `OPENCLAW_STATE_DIR` set), on the 2026.7.35 after-kill
//! capture (e2e-slow `running`, its lock naming a pid of an earlier boot), with a loopback
//! HTTP hook target. A gateway started moments ago keeps its sessions `unknown` (its
//! recovery window), so nothing is closed while it lives; once it is gone, e2e-slow is an
//! orphan.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::close::{Base, Host, SLOW_KEY};
use crate::common::*;

const GATEWAY: &str = "openclaw-gateway";

/// A running `sessionctl watch` whose stderr lines are collected as they come; killed
/// (by pid) and reaped when dropped.
struct Watcher {
    child: Option<Child>,
    pid: i64,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watcher {
    fn spawn(mut cmd: std::process::Command) -> Watcher {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sessionctl watch");
        let pid = child.id() as i64;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        Watcher {
            child: Some(child),
            pid,
            lines,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Wait for a stderr line that `pred` accepts (after the first `skip` lines).
    fn wait_line(&self, skip: usize, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.lines().iter().skip(skip).find(|l| pred(l)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no such line from watch within {timeout:?}; it said:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// utime + stime, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // rest starts at field 3; utime and stime are fields 14 and 15.
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }

    /// A `/proc/<pid>/status` field in kB (VmHWM, VmRSS).
    fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{}/status", self.pid))
    }

    /// SIGTERM, then wait (up to 10 s): its exit code and how long it took.
    fn terminate(&mut self) -> (Option<i32>, Duration) {
        let mut child = self.child.take().unwrap();
        let t0 = Instant::now();
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return (st.code(), t0.elapsed());
            }
            if t0.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("watch did not exit within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The after-kill capture with one HTTP hook target, OpenClaw only (the claude-mem rows of
/// the scenario have no worker and would be closed at once, gateway or not).
fn scenario() -> (Host, HttpStub) {
    let h = Host::new(Base::File735);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.hook(&stub.url("/hook"), "5s", 0)]);
    (h, stub)
}

fn watch(h: &Host, grace: &str) -> Watcher {
    Watcher::spawn(h.command(&["watch", "--grace", grace, "--backend", "openclaw"]))
}

/// A fake gateway for the capture's state dir that, as a real 2026.7 gateway does when it
/// starts, writes its lock into `$TMPDIR/openclaw-<uid>/` (which watch has an inotify watch
/// on). Like a real one killed with SIGKILL, it leaves the lock behind.
fn gateway(h: &Host) -> ChildGuard {
    let gw = spawn_retitled(GATEWAY, &[("OPENCLAW_STATE_DIR", &h.state())]);
    let dir = h.fx.tmp_lock_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let lock = serde_json::json!({
        "pid": gw.pid,
        "createdAt": iso_ms(now_ms()),
        "configPath": h.state().join("openclaw.json"),
        "port": 18831,
        "startTime": gw.starttime(),
    });
    std::fs::write(
        dir.join(format!("gateway.t{}.lock", gw.pid)),
        lock.to_string(),
    )
    .unwrap();
    gw
}

fn slow_status(h: &Host) -> (String, Value) {
    let v = read_json(&h.sessions_json());
    let e = v[SLOW_KEY].clone();
    (e["status"].as_str().unwrap_or("").to_string(), e)
}

fn deliveries_for(stub: &HttpStub, key: &str) -> Vec<Value> {
    stub.bodies()
        .into_iter()
        .filter(|b| b["event"]["sessionKey"] == key)
        .collect()
}

/// Nothing but the owed e2e-1 and e2e-2 was delivered, once each, reason `restart`.
fn assert_owed_only(stub: &HttpStub) {
    assert!(
        deliveries_for(stub, SLOW_KEY).is_empty(),
        "delivered under a live gateway: {:?}",
        stub.bodies()
    );
    for key in ["agent:main:e2e-1", "agent:main:e2e-2"] {
        let sent = deliveries_for(stub, key);
        assert_eq!(sent.len(), 1, "{key}: {:?}", stub.bodies());
        assert_eq!(sent[0]["event"]["reason"], "restart", "{}", sent[0]);
    }
    assert_eq!(stub.count(), 2, "{:?}", stub.bodies());
}

fn lifetimes(h: &Host) -> Vec<Value> {
    let p = h.journal.parent().unwrap().join("lifetimes.ndjson");
    std::fs::read_to_string(&p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", p.display())))
        .collect()
}

fn record<'a>(recs: &'a [Value], kind: &str, pid: i64) -> Option<&'a Value> {
    recs.iter()
        .find(|r| r["type"] == kind && r["pid"].as_i64() == Some(pid))
}

/// (1) Nothing is closed while the gateway lives; once it is killed, e2e-slow's
/// session_end is delivered once, within grace + 5 s, and its store entry is ended.
#[test]
fn watch_closes_a_dead_gateways_orphans_after_grace() {
    let (h, stub) = scenario();
    let mut gw = gateway(&h);
    let before = std::fs::read(h.sessions_json()).unwrap();
    let mut w = watch(&h, "1s");
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} runs for", gw.pid))
    });
    // The first pass, a grace after the start, with the gateway alive: nothing.
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains("pass (start of watch)")
    });
    // The orphan is left to the live gateway; only the finished e2e-1 and e2e-2, owed by
    // the captured gateway that was killed (a later one took over: reason `restart`), got
    // their session_end.
    assert_owed_only(&stub);
    assert_eq!(std::fs::read(h.sessions_json()).unwrap(), before);

    let seen = w.lines().len();
    let killed = Instant::now();
    gw.kill_and_wait();
    wait_until(
        "the orphan's session_end at the stub",
        Duration::from_secs(1 + 5),
        || !deliveries_for(&stub, SLOW_KEY).is_empty(),
    );
    let latency = killed.elapsed();
    eprintln!(
        "watch: repair latency {} ms (kill -9 to session_end delivered; grace 1s)",
        latency.as_millis()
    );
    assert!(
        latency >= Duration::from_millis(900),
        "delivered {latency:?} after the kill, before the grace was over"
    );
    w.wait_line(seen, Duration::from_secs(10), |l| {
        l.contains("pass (") && l.contains("closed 1 of 1")
    });
    let exit_line = w.wait_line(seen, Duration::from_secs(1), |l| {
        l.contains(&format!("gateway pid {} for", gw.pid)) && l.contains("exited")
    });
    assert!(
        exit_line.contains(&h.state().display().to_string()),
        "{exit_line}"
    );

    let sent = deliveries_for(&stub, SLOW_KEY);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["event"]["reason"], "shutdown", "{}", sent[0]);
    assert_eq!(sent[0]["event"]["sessionId"], Base::File735.slow_id());
    let (status, entry) = slow_status(&h);
    assert_eq!(status, "failed", "{entry}");
    assert_eq!(entry["abortedLastRun"], true, "{entry}");

    // Once: no second delivery from later passes or rescans.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(deliveries_for(&stub, SLOW_KEY).len(), 1);

    let (hwm, rss) = (w.status_kb("VmHWM"), w.status_kb("VmRSS"));
    let (anon, file) = (w.status_kb("RssAnon"), w.status_kb("RssFile"));
    eprintln!(
        "watch: after start, 2 passes, an exit and a close: VmHWM {hwm} kB, VmRSS {rss} kB \
         ({anon} kB anonymous, {file} kB file-backed: the binary's code)"
    );
    // What the daemon holds between events (the file-backed part is the code it ran, and
    // depends on the build): no pass's report, plan or connections stay behind.
    assert!(
        anon < 4 * 1024,
        "{anon} kB of anonymous memory after the passes"
    );
    let (code, _) = w.terminate();
    assert_eq!(code, Some(0), "{}", w.lines().join("\n"));
}

/// (2) A gateway that comes back within the grace: nothing is closed while it lives; once
/// it is gone too, the orphan is closed.
#[test]
fn watch_leaves_a_restarted_gateway_alone() {
    let (h, stub) = scenario();
    let before = std::fs::read(h.sessions_json()).unwrap();
    let mut first = gateway(&h);
    let w = watch(&h, "2s");
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} runs", first.pid))
    });
    let seen = w.lines().len();
    first.kill_and_wait();
    // As systemd's Restart=always would, well within the grace.
    std::thread::sleep(Duration::from_millis(300));
    let mut second = gateway(&h);
    w.wait_line(seen, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} started", second.pid))
    });
    // The pass the death scheduled ran, under the new gateway, and closed nothing.
    w.wait_line(seen, Duration::from_secs(10), |l| {
        l.contains("pass (") && l.contains(&format!("gateway pid {} exited", first.pid))
    });
    // The orphan is left to the live gateway; only the finished e2e-1 and e2e-2, owed by
    // the captured gateway that was killed (a later one took over: reason `restart`), got
    // their session_end.
    assert_owed_only(&stub);
    assert_eq!(
        std::fs::read(h.sessions_json()).unwrap(),
        before,
        "the live gateway's store was written"
    );

    // The new gateway dies for good: now the orphan is closed.
    let seen = w.lines().len();
    second.kill_and_wait();
    wait_until(
        "the orphan's session_end",
        Duration::from_secs(2 + 5),
        || !deliveries_for(&stub, SLOW_KEY).is_empty(),
    );
    w.wait_line(seen, Duration::from_secs(5), |l| {
        l.contains("closed 1 of 1")
    });
    assert_eq!(deliveries_for(&stub, SLOW_KEY).len(), 1);
    assert_eq!(slow_status(&h).0, "failed");
}

/// (3) SIGTERM: exit 0 within a second, and the last line says it stopped.
#[test]
fn watch_stops_cleanly_on_sigterm() {
    let (h, _stub) = scenario();
    let mut w = watch(&h, "30s");
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains("watch: started (pid")
    });
    let (code, took) = w.terminate();
    assert_eq!(code, Some(0), "{}", w.lines().join("\n"));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // The reader thread may still be collecting the last line.
    let last = w.wait_line(0, Duration::from_secs(2), |l| l.contains("stopped"));
    assert_eq!(w.lines().last(), Some(&last), "{}", w.lines().join("\n"));
    assert!(
        last.starts_with("sessionctl: watch: stopped (SIGTERM)"),
        "{last}"
    );
}

/// (4) Idle: with a gateway to watch and nothing happening, ~no CPU over 2 s.
#[test]
fn watch_uses_no_cpu_while_idle() {
    let (h, _stub) = scenario();
    let gw = gateway(&h);
    let mut w = watch(&h, "30s");
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} runs", gw.pid))
    });
    // Let the start-up work (one scan for the notes) finish.
    std::thread::sleep(Duration::from_millis(300));
    let before = w.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let used = w.cpu_ticks() - before;
    let hwm = w.status_kb("VmHWM");
    eprintln!(
        "watch: idle 2 s with one gateway watched: {used} tick(s) of CPU (at {} Hz); VmHWM {hwm} kB",
        clk_tck()
    );
    assert!(used <= 2, "{used} ticks of CPU while idle");
    let (code, _) = w.terminate();
    assert_eq!(code, Some(0));
}

/// Insert a `gateway_boot_lifecycle` row for `pid` (started now) into the capture's
/// openclaw.sqlite, as the gateway does at boot; `outcome` as it left it.
fn boot_row(state: &Path, pid: i64, outcome: Option<&str>) {
    let conn = rusqlite::Connection::open(state.join("state/openclaw.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO gateway_boot_lifecycle (boot_id, pid, started_at_ms, completed_at_ms, outcome, startup_reason, reason) VALUES (?1, ?2, ?3, ?4, ?5, 'test', ?6)",
        rusqlite::params![
            format!("test-boot-{pid}"),
            pid,
            now_ms(),
            outcome.map(|_| now_ms()),
            outcome,
            outcome.map(|_| "gateway.stop"),
        ],
    )
    .unwrap();
}

/// (5) lifetimes.ndjson: a start and an end record for each gateway, with how it ended
/// from the gateway's own boot record; a lifetime that ended while watch was stopped is
/// ended by the next watch.
#[test]
fn watch_records_gateway_lifetimes() {
    let (h, _stub) = scenario();
    let state = h.state();
    let mut crashed = gateway(&h);
    let mut stopped = gateway(&h);
    boot_row(&state, crashed.pid, None);
    boot_row(&state, stopped.pid, Some("clean_stop"));
    let mut w = watch(&h, "30s");
    for g in [&crashed, &stopped] {
        w.wait_line(0, Duration::from_secs(10), |l| {
            l.contains(&format!("gateway pid {} runs", g.pid))
        });
    }
    crashed.kill_and_wait();
    stopped.kill_and_wait();
    for g in [&crashed, &stopped] {
        w.wait_line(0, Duration::from_secs(10), |l| {
            l.contains(&format!("gateway pid {} for", g.pid)) && l.contains("exited")
        });
    }
    let mut later = gateway(&h);
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} started", later.pid))
    });
    let (code, _) = w.terminate();
    assert_eq!(code, Some(0));

    let recs = lifetimes(&h);
    let text = serde_json::to_string_pretty(&recs).unwrap();
    for (g, outcome) in [(&crashed, "crash"), (&stopped, "clean_stop")] {
        let start = record(&recs, "start", g.pid).unwrap_or_else(|| panic!("{text}"));
        let end = record(&recs, "end", g.pid).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(start["kind"], "gateway", "{start}");
        assert_eq!(start["seen_start"], false, "{start}");
        assert_eq!(
            start["dir"].as_str().map(PathBuf::from),
            Some(state.clone())
        );
        assert!(start["starttime"].as_u64().is_some(), "{start}");
        assert_eq!(start["started_at"], end["started_at"], "{text}");
        assert_eq!(end["seen_exit"], true, "{end}");
        assert_eq!(end["outcome"], outcome, "{end}");
        assert_eq!(end["outcome_from"], "gateway_boot_lifecycle", "{end}");
    }
    let start = record(&recs, "start", later.pid).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(start["seen_start"], true, "{start}");
    assert!(record(&recs, "end", later.pid).is_none(), "{text}");

    // It dies while no watch runs: the next watch records its end (not seen, no boot row).
    later.kill_and_wait();
    let mut again = watch(&h, "30s");
    wait_until(
        "the end of a lifetime nobody saw end",
        Duration::from_secs(10),
        || record(&lifetimes(&h), "end", later.pid).is_some(),
    );
    let recs = lifetimes(&h);
    let end = record(&recs, "end", later.pid).unwrap();
    assert_eq!(end["seen_exit"], false, "{end}");
    assert_eq!(end["outcome"], "unknown", "{end}");
    // Every record of the earlier lifetimes once.
    assert_eq!(
        recs.iter()
            .filter(|r| r["pid"].as_i64() == Some(crashed.pid))
            .count(),
        2,
        "{}",
        serde_json::to_string_pretty(&recs).unwrap()
    );
    let (code, _) = again.terminate();
    assert_eq!(code, Some(0));
}

/// (6) A death's grace holds every pass. The first pass (due a grace after the start of
/// watch) falls 1 s after a gateway's death here; it waits for that death's grace and runs
/// with its pass, so a gateway that comes back within the grace runs its own recovery
/// first. (Found by the e2e `watch-cycles` scenario: the start-of-watch pass ran 4.5 s after
/// a kill and ended the in-flight session before the restarted gateway's recovery.)
#[test]
fn watch_holds_every_pass_for_a_deaths_grace() {
    let (h, stub) = scenario();
    let mut gw = gateway(&h);
    let w = watch(&h, "3s");
    w.wait_line(0, Duration::from_secs(10), |l| {
        l.contains(&format!("gateway pid {} runs for", gw.pid))
    });
    // The start pass is scheduled right after that line, 3 s out.
    std::thread::sleep(Duration::from_secs(2));
    let seen = w.lines().len();
    let killed = Instant::now();
    gw.kill_and_wait();
    wait_until(
        "the orphan's session_end at the stub",
        Duration::from_secs(3 + 5),
        || !deliveries_for(&stub, SLOW_KEY).is_empty(),
    );
    let latency = killed.elapsed();
    assert!(
        latency >= Duration::from_millis(2900),
        "delivered {latency:?} after the kill, before its 3 s grace was over:\n{}",
        w.lines().join("\n")
    );
    let pass = w.wait_line(seen, Duration::from_secs(5), |l| l.contains("pass ("));
    assert!(
        pass.contains("start of watch") && pass.contains(&format!("gateway pid {} exited", gw.pid)),
        "one pass for both reasons: {pass}"
    );
    // Nothing ran before it: the finished sessions' session_ends came with it, once each.
    assert_eq!(
        w.lines().iter().filter(|l| l.contains("pass (")).count(),
        1,
        "{}",
        w.lines().join("\n")
    );
    assert_eq!(deliveries_for(&stub, SLOW_KEY).len(), 1);
    assert_eq!(stub.count(), 3, "{:?}", stub.bodies());
}
