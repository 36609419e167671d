use super::*;
use crate::targets::test_support::*;
use crate::targets::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// ---- deliver_all --------------------------------------------------------------------

#[test]
fn deliver_all_respects_the_concurrency_bound() {
    // The first request is held until a second one arrives (proof that two run at
    // once); a third would arrive meanwhile too if the bound were not kept.
    let arrived = Arc::new(AtomicUsize::new(0));
    let seen = arrived.clone();
    let server = Server::start(move |n, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        let t0 = Instant::now();
        while n == 0 && seen.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(3) {
            thread::sleep(Duration::from_millis(5));
        }
        Reply {
            delay: Duration::from_millis(50),
            ..status(200)
        }
    });
    let target = http_target("a", &server.url("/h"), 5000, 0);
    let payloads: Vec<serde_json::Value> = (0..6).map(|i| json!({"i": i})).collect();
    let jobs: Vec<(&Target, &serde_json::Value)> = payloads.iter().map(|p| (&target, p)).collect();
    let done = Mutex::new(Vec::new());
    let outs = deliver_all(&keyless(&jobs), 2, &|i, o| {
        done.lock().unwrap().push((i, o.ok))
    });
    assert!(outs.iter().all(|o| o.ok), "{outs:?}");
    assert_eq!(arrived.load(Ordering::SeqCst), 6);
    let max = server.max_in_flight.load(Ordering::SeqCst);
    assert!(max <= 2, "{max} requests in flight at once");
    assert_eq!(max, 2, "the two workers never overlapped");
    // Each payload went out exactly once.
    let mut bodies: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.body).collect();
    bodies.sort();
    let mut want: Vec<Vec<u8>> = payloads
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap())
        .collect();
    want.sort();
    assert_eq!(bodies, want);
    let mut done = done.into_inner().unwrap();
    done.sort();
    assert_eq!(done, (0..6).map(|i| (i, true)).collect::<Vec<_>>());
}

#[test]
fn deliver_all_returns_outcomes_in_job_order() {
    // Later jobs answer sooner, and odd jobs fail, so completion order differs from
    // job order and every outcome is recognisable.
    let server = Server::start(|_, req| {
        let i: u64 = req.path.trim_start_matches('/').parse().unwrap();
        Reply {
            delay: Duration::from_millis(20 * (6 - i)),
            ..status(if i % 2 == 0 { 200 } else { 400 })
        }
    });
    let targets: Vec<Target> = (0..6)
        .map(|i| http_target(&format!("t{i}"), &server.url(&format!("/{i}")), 5000, 0))
        .collect();
    let p = payload();
    let jobs: Vec<(&Target, &serde_json::Value)> = targets.iter().map(|t| (t, &p)).collect();
    let order = Mutex::new(Vec::new());
    let outs = deliver_all(&keyless(&jobs), 6, &|i, _| order.lock().unwrap().push(i));
    let oks: Vec<bool> = outs.iter().map(|o| o.ok).collect();
    assert_eq!(oks, [true, false, true, false, true, false]);
    assert_eq!(outs[1].detail, "HTTP 400 after 1 attempt");
    let mut order = order.into_inner().unwrap();
    assert_eq!(order.len(), 6);
    order.sort();
    assert_eq!(order, (0..6).collect::<Vec<_>>());
}

#[test]
fn deliver_all_one_slow_target_does_not_stall_the_others() {
    let slow = Server::start(|_, _| hang());
    let fast = Server::script(&[204]);
    let slow_t = http_target("slow", &slow.url("/h"), 300, 0);
    let fast_t = http_target("fast", &fast.url("/h"), 2000, 0);
    let p = payload();
    let mut jobs = vec![(&slow_t, &p)];
    jobs.extend((0..5).map(|_| (&fast_t, &p)));
    let t0 = Instant::now();
    let finished: Mutex<Vec<(usize, Duration)>> = Mutex::new(Vec::new());
    let outs = deliver_all(&keyless(&jobs), 2, &|i, _| {
        finished.lock().unwrap().push((i, t0.elapsed()))
    });
    let total = t0.elapsed();
    assert!(total < Duration::from_secs(2), "{total:?}");
    assert_eq!(outs[0].detail, "timed out after 300ms (1 attempt)");
    assert!(outs[1..].iter().all(|o| o.ok), "{outs:?}");
    let finished = finished.into_inner().unwrap();
    let slow_at = finished.iter().find(|(i, _)| *i == 0).unwrap().1;
    assert!(slow_at >= Duration::from_millis(300));
    for (i, at) in &finished {
        if *i != 0 {
            assert!(
                *at < slow_at,
                "job {i} done at {at:?}, after the slow one at {slow_at:?}"
            );
        }
    }
    assert_eq!(fast.requests().len(), 5);
}

/// `n` jobs for each of `targets`, interleaved as `close` plans them (per session, one
/// job per target).
fn interleaved<'a>(targets: &[&'a Target], p: &'a serde_json::Value, n: usize) -> Vec<Job<'a>> {
    (0..n)
        .flat_map(|_| {
            targets.iter().map(move |&target| Job {
                target,
                payload: p,
                key: None,
            })
        })
        .collect()
}

const GAVE_UP: &str =
    "not attempted: target dead failed 3 times in a row this run; left for the next run";

#[test]
fn deliver_all_gives_up_on_a_dead_target_after_three_failures() {
    let dead = Server::start(|_, _| hang());
    let healthy = Server::script(&[204]);
    let dead_t = http_target("dead", &dead.url("/h"), 300, 1);
    let ok_t = http_target("ok", &healthy.url("/h"), 2000, 0);
    let p = payload();
    let jobs = interleaved(&[&dead_t, &ok_t], &p, 40);
    let outs = deliver_all(&jobs, 8, &|_, _| {});

    // Three deliveries of two attempts each, then nothing more.
    assert_eq!(dead.requests().len(), 3 * 2);
    assert_eq!(healthy.requests().len(), 40);
    let (to_dead, to_ok): (Vec<_>, Vec<_>) = outs.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    assert!(to_ok.iter().all(|(_, o)| o.ok), "{to_ok:?}");
    let timed_out: Vec<_> = to_dead
        .iter()
        .filter(|(_, o)| o.detail == "timed out after 300ms (2 attempts)")
        .collect();
    assert_eq!(timed_out.len(), 3, "{to_dead:?}");
    let skipped: Vec<_> = to_dead
        .iter()
        .filter(|(_, o)| o.detail == GAVE_UP)
        .collect();
    assert_eq!(skipped.len(), 37, "{to_dead:?}");
    assert!(skipped.iter().all(|(_, o)| !o.ok && o.attempts == 0));
}

#[test]
fn deliver_all_a_dead_target_never_holds_every_worker() {
    // Two workers, the dead target's jobs first: one worker is left for the healthy
    // target, which is done long before the dead one's first timeout.
    let dead = Server::start(|_, _| hang());
    let healthy = Server::script(&[204]);
    let dead_t = http_target("dead", &dead.url("/h"), 1500, 0);
    let ok_t = http_target("ok", &healthy.url("/h"), 2000, 0);
    let p = payload();
    let mut jobs = interleaved(&[&dead_t], &p, 10);
    jobs.extend(interleaved(&[&ok_t], &p, 10));
    let first_dead_failure: Mutex<Option<Instant>> = Mutex::new(None);
    let ok_done: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    let outs = deliver_all(&jobs, 2, &|i, o| {
        if i < 10 && o.attempts > 0 {
            first_dead_failure
                .lock()
                .unwrap()
                .get_or_insert(Instant::now());
        } else if i >= 10 {
            ok_done.lock().unwrap().push(Instant::now());
        }
    });
    assert!(outs[10..].iter().all(|o| o.ok), "{outs:?}");
    let first = first_dead_failure.into_inner().unwrap().unwrap();
    let ok_done = ok_done.into_inner().unwrap();
    assert_eq!(ok_done.len(), 10);
    assert!(
        ok_done.iter().all(|t| *t < first),
        "healthy deliveries waited for the dead target"
    );
    // With one worker for it, the dead target was tried one at a time, three times.
    assert_eq!(dead.requests().len(), 3);
    assert_eq!(outs[..10].iter().filter(|o| o.detail == GAVE_UP).count(), 7);
}

#[test]
fn deliver_all_a_target_that_answers_no_is_not_given_up() {
    // 4xx and a command's non-zero exit are answers about one payload, not a dead
    // target: every delivery is still made.
    let server = Server::script(&[400]);
    let http = http_target("dead", &server.url("/h"), 2000, 0);
    let cmd = command_target(&["/bin/sh", "-c", "exit 1"], 5000);
    let p = payload();
    let outs = deliver_all(&interleaved(&[&http, &cmd], &p, 8), 4, &|_, _| {});
    assert_eq!(server.requests().len(), 8);
    assert!(outs.iter().all(|o| !o.ok && o.attempts == 1), "{outs:?}");
}

#[test]
fn deliver_all_a_success_resets_the_count() {
    // Fails, fails, succeeds, fails, fails, succeeds…: never three in a row. One worker,
    // so the order is the job order.
    let server = Server::start(|n, _| status(if n % 3 == 2 { 204 } else { 503 }));
    let t = http_target("dead", &server.url("/h"), 2000, 0);
    let p = payload();
    let outs = deliver_all(&interleaved(&[&t], &p, 9), 1, &|_, _| {});
    assert_eq!(server.requests().len(), 9);
    assert_eq!(outs.iter().filter(|o| o.ok).count(), 3, "{outs:?}");
}

#[test]
fn deliver_all_a_run_budget_carries_over() {
    // A command that cannot start is down; given up on in the first call, it is not
    // tried again in the second one of the same run.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-hook");
    let mut t = command_target(&[missing.to_str().unwrap()], 5000);
    t.name = "dead".into();
    let p = payload();
    let budget = RunBudget::default();
    let outs = deliver_all_within(&interleaved(&[&t], &p, 5), 1, &budget, &|_, _| {});
    assert_eq!(
        outs.iter().filter(|o| o.detail == GAVE_UP).count(),
        2,
        "{outs:?}"
    );
    let outs = deliver_all_within(&interleaved(&[&t], &p, 2), 1, &budget, &|_, _| {});
    assert!(outs.iter().all(|o| o.detail == GAVE_UP), "{outs:?}");
    // A fresh run tries again.
    let outs = deliver_all(&interleaved(&[&t], &p, 1), 1, &|_, _| {});
    assert_eq!(outs[0].attempts, 1, "{outs:?}");
    assert!(outs[0].detail.starts_with("cannot run"), "{outs:?}");
}

#[test]
fn deliver_all_mixed_targets_and_edge_cases() {
    assert!(deliver_all(&keyless(&[]), 4, &|_, _| panic!("no jobs")).is_empty());

    let server = Server::script(&[200]);
    let http = http_target("h", &server.url("/h"), 2000, 0);
    let ok = command_target(&["/bin/cat"], 5000);
    let bad = command_target(&["/bin/sh", "-c", "exit 4"], 5000);
    let p = payload();
    let jobs = [(&http, &p), (&ok, &p), (&bad, &p)];
    // Zero means one at a time, not a hang.
    let calls = AtomicUsize::new(0);
    let outs = deliver_all(&keyless(&jobs), 0, &|_, _| {
        calls.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(outs[0].detail, "HTTP 200 after 1 attempt");
    assert_eq!(outs[1].detail, "exited with status 0");
    assert_eq!(outs[2].detail, "exited with status 4");

    // Command-only runs never build an HTTP client, and still deliver.
    let flag = AtomicBool::new(false);
    let outs = deliver_all(&keyless(&[(&ok, &p)]), 8, &|_, o| {
        flag.store(o.ok, Ordering::SeqCst)
    });
    assert!(outs[0].ok && flag.load(Ordering::SeqCst));
}
