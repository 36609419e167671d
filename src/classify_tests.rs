//! Table-driven tests of every verdict rule. Times are ms; the host booted at BOOT and it
//! is NOW.

use super::*;

pub(crate) const BOOT: i64 = 1_000_000_000;
pub(crate) const NOW: i64 = BOOT + 10 * 3600 * 1000;
pub(crate) const MIN: i64 = 60_000;

pub(crate) fn host() -> HostFacts {
    HostFacts {
        now_ms: NOW,
        btime_ms: Some(BOOT),
    }
}

pub(crate) fn claim(
    kind: &'static str,
    pid: i64,
    state: PidState,
    created: i64,
    owner_start: Option<i64>,
) -> Claim {
    Claim {
        kind,
        path: Some(PathBuf::from(format!("/state/{kind}"))),
        pid,
        starttime: Some(4242),
        created_ms: Some(created),
        state,
        owner_start_ms: owner_start,
    }
}

fn gw_lock(pid: i64, state: PidState, started: i64) -> Claim {
    claim("gateway-lock", pid, state, started, Some(started))
}

pub(crate) fn running(pid: i64, start: i64) -> RunningOwner {
    RunningOwner {
        kind: "gateway-process",
        pid,
        start_ms: Some(start),
        path: None,
    }
}

struct OcCase {
    name: &'static str,
    last: Option<i64>,
    lock: Option<Claim>,
    gw: OwnerFacts,
    want: (VerdictKind, Reason),
}

pub(crate) fn owners(
    claims: Vec<Claim>,
    running_: Vec<RunningOwner>,
    unverified: Vec<&str>,
) -> OwnerFacts {
    OwnerFacts {
        claims,
        running: running_,
        unverified: unverified.into_iter().map(String::from).collect(),
        dir: Some(PathBuf::from(STATE_DIR)),
    }
}

/// The state dir the table's owner facts are about.
pub(crate) const STATE_DIR: &str = "/home/u/.openclaw";

/// `gateway-gone` is proved by an absence: its evidence names the state dir that was looked
/// at and says that no gateway process and no living lock was found there.
#[test]
fn gateway_gone_carries_its_evidence() {
    let t = NOW - 10 * MIN;
    for (claims, want) in [
        (vec![], "no gateway lock or lease names one"),
        (
            vec![gw_lock(-1, PidState::Invalid, t)],
            "no gateway lock or lease names a living one",
        ),
    ] {
        let s = OpenclawSession {
            last_activity_ms: Some(t),
            lock: None,
            queued: false,
        };
        let (v, ev) = classify_openclaw(
            &s,
            &owners(claims, vec![], vec![]),
            &host(),
            &Options::default(),
        );
        assert_eq!(
            (v.kind, v.reason),
            (VerdictKind::Orphan, Reason::GatewayGone)
        );
        let e = ev
            .iter()
            .find(|e| e.kind == "gateway-process")
            .unwrap_or_else(|| panic!("no gateway-process evidence in {ev:?}"));
        assert_eq!(e.path.as_deref(), Some(std::path::Path::new(STATE_DIR)));
        assert!(
            e.note
                .contains("no gateway process runs for this state dir"),
            "{e:?}"
        );
        assert!(e.note.contains(want), "{e:?}");
    }
}

#[test]
fn openclaw_rules() {
    use PidState::*;
    use Reason::*;
    use VerdictKind::*;
    let t = NOW - 10 * MIN; // recent activity, this boot
    let cases = vec![
        // --- must stay live ---
        OcCase {
            name: "session lock held by a running owner with matching start time",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Alive, t, Some(t - MIN))),
            gw: owners(vec![], vec![], vec![]),
            want: (Live, OwnerAlive),
        },
        OcCase {
            name: "live lock owner wins even when no gateway lock is found",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Alive, t, None)),
            gw: owners(vec![gw_lock(7, Dead, t - 60 * MIN)], vec![], vec![]),
            want: (Live, OwnerAlive),
        },
        OcCase {
            name: "gateway running since before the last activity (SQLite store, no session lock)",
            last: Some(t),
            lock: None,
            gw: owners(vec![gw_lock(200, Alive, t - 30 * MIN)], vec![], vec![]),
            want: (Live, GatewayAlive),
        },
        OcCase {
            name: "gateway found by /proc scan only",
            last: Some(t),
            lock: None,
            gw: owners(vec![], vec![running(300, t - 5 * MIN)], vec![]),
            want: (Live, GatewayAlive),
        },
        OcCase {
            name: "live owner, idle longer than --idle: stale, not orphan",
            last: Some(NOW - 7 * 3600 * 1000),
            lock: Some(claim(
                "session-lock",
                100,
                Alive,
                NOW - 7 * 3600 * 1000,
                None,
            )),
            gw: owners(vec![], vec![], vec![]),
            want: (Stale, OwnerAlive),
        },
        OcCase {
            name: "gateway alive, idle for long: stale",
            last: Some(NOW - 8 * 3600 * 1000),
            lock: None,
            gw: owners(
                vec![gw_lock(200, Alive, NOW - 9 * 3600 * 1000)],
                vec![],
                vec![],
            ),
            want: (Stale, GatewayAlive),
        },
        // --- unknown when in doubt ---
        OcCase {
            name: "lock owner runs but start time cannot be checked (no /proc)",
            last: Some(t),
            lock: Some(claim("session-lock", 100, AliveUnverified, t, None)),
            gw: owners(vec![], vec![], vec![]),
            want: (Unknown, Unverifiable),
        },
        OcCase {
            name: "gateway restarted moments ago: recovery may still claim it",
            last: Some(t),
            lock: None,
            gw: owners(vec![gw_lock(201, Alive, NOW - 30_000)], vec![], vec![]),
            want: (Unknown, RecoveryPending),
        },
        OcCase {
            name: "a gateway process whose state dir cannot be read",
            last: Some(t),
            lock: None,
            gw: owners(
                vec![],
                vec![],
                vec!["gateway pid 9 runs; its state dir is unreadable"],
            ),
            want: (Unknown, Unverifiable),
        },
        OcCase {
            name: "gateway lock names a live pid without verifiable start",
            last: Some(t),
            lock: None,
            gw: owners(vec![gw_lock(202, AliveUnverified, t - MIN)], vec![], vec![]),
            want: (Unknown, Unverifiable),
        },
        OcCase {
            name: "live gateway but no activity time",
            last: None,
            lock: None,
            gw: owners(vec![gw_lock(203, Alive, t)], vec![], vec![]),
            want: (Unknown, Unverifiable),
        },
        // --- orphans ---
        OcCase {
            name: "session lock names a dead pid",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Dead, t, None)),
            gw: owners(vec![], vec![], vec![]),
            want: (Orphan, OwnerDead),
        },
        OcCase {
            name: "session lock pid alive with another start time",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Reused, t, None)),
            gw: owners(vec![], vec![], vec![]),
            want: (Orphan, PidReused),
        },
        OcCase {
            name: "session lock written before this boot, even if the pid matches by chance",
            last: Some(BOOT - MIN),
            lock: Some(claim("session-lock", 100, Alive, BOOT - MIN, None)),
            gw: owners(vec![], vec![], vec![]),
            want: (Orphan, Rebooted),
        },
        OcCase {
            name: "gateway lock names a dead pid (SQLite store after kill -9)",
            last: Some(t),
            lock: None,
            gw: owners(vec![gw_lock(6908, Dead, t - MIN)], vec![], vec![]),
            want: (Orphan, OwnerDead),
        },
        OcCase {
            name: "gateway lock pid reused",
            last: Some(t),
            lock: None,
            gw: owners(vec![gw_lock(6908, Reused, t - MIN)], vec![], vec![]),
            want: (Orphan, PidReused),
        },
        OcCase {
            name: "no gateway, no lock (graceful stop left it running)",
            last: Some(t),
            lock: None,
            gw: owners(vec![], vec![], vec![]),
            want: (Orphan, GatewayGone),
        },
        OcCase {
            name: "activity before this boot, no owner",
            last: Some(BOOT - 5 * MIN),
            lock: None,
            gw: owners(vec![], vec![], vec![]),
            want: (Orphan, Rebooted),
        },
        OcCase {
            name: "gateway lock from before this boot",
            last: Some(BOOT - 5 * MIN),
            lock: None,
            gw: owners(vec![gw_lock(77, Reused, BOOT - 60 * MIN)], vec![], vec![]),
            want: (Orphan, Rebooted),
        },
        OcCase {
            name: "gateway restarted after the last activity, past the recovery grace",
            last: Some(t - 60 * MIN),
            lock: None,
            gw: owners(vec![gw_lock(300, Alive, t - 30 * MIN)], vec![], vec![]),
            want: (Orphan, GatewayRestarted),
        },
        OcCase {
            name: "gateway started after reboot, session from before: rebooted",
            last: Some(BOOT - MIN),
            lock: None,
            gw: owners(vec![], vec![running(300, BOOT + 60 * MIN)], vec![]),
            want: (Orphan, Rebooted),
        },
        OcCase {
            name:
                "dead session lock while a gateway restarted moments ago: its recovery may end it",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Dead, t, None)),
            gw: owners(vec![gw_lock(201, Alive, NOW - 3_000)], vec![], vec![]),
            want: (Unknown, RecoveryPending),
        },
        OcCase {
            name: "dead session lock while a starting gateway or a client runs for the state dir",
            last: Some(t),
            lock: Some(claim("session-lock", 100, Dead, t, None)),
            gw: owners(
                vec![],
                vec![],
                vec!["OpenClaw process pid 7 (`openclaw`) runs for this state dir"],
            ),
            want: (Unknown, Unverifiable),
        },
        OcCase {
            name: "lock and activity from before this boot: rebooted, whatever runs now",
            last: Some(BOOT - MIN),
            lock: Some(claim("session-lock", 100, Dead, BOOT - MIN, None)),
            gw: owners(
                vec![],
                vec![],
                vec!["OpenClaw process pid 7 (`openclaw`) runs for this state dir"],
            ),
            want: (Orphan, Rebooted),
        },
        OcCase {
            name: "invalid pid in session lock is ignored; gateway evidence decides",
            last: Some(t),
            lock: Some(claim("session-lock", 0, Invalid, t, None)),
            gw: owners(vec![gw_lock(200, Alive, t - 30 * MIN)], vec![], vec![]),
            want: (Live, GatewayAlive),
        },
        OcCase {
            name: "invalid pid everywhere proves nothing but the gateway is gone",
            last: Some(t),
            lock: Some(claim("session-lock", 0, Invalid, t, None)),
            gw: owners(vec![gw_lock(-1, Invalid, t)], vec![], vec![]),
            want: (Orphan, GatewayGone),
        },
    ];
    let o = Options::default();
    for c in cases {
        let s = OpenclawSession {
            last_activity_ms: c.last,
            lock: c.lock.clone(),
            queued: false,
        };
        let (v, ev) = classify_openclaw(&s, &c.gw, &host(), &o);
        assert_eq!(
            (v.kind, v.reason),
            c.want,
            "case: {} ({})",
            c.name,
            v.summary
        );
        if v.kind == Orphan {
            assert!(!ev.is_empty(), "orphan without evidence: {}", c.name);
        }
        if let Some(l) = &c.lock {
            if l.state != Invalid && matches!(v.reason, OwnerDead | PidReused | OwnerAlive) {
                assert!(
                    ev.iter().any(|e| e.pid == Some(l.pid)),
                    "pid missing from evidence: {}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn never_orphan_when_owner_alive_with_matching_start() {
    // Exhaustive over the other inputs: a session lock with a living, matching owner
    // written this boot is never an orphan, whatever the gateways say.
    let states = [
        PidState::Alive,
        PidState::AliveUnverified,
        PidState::Reused,
        PidState::Dead,
        PidState::Invalid,
    ];
    let lasts = [
        None,
        Some(BOOT - MIN),
        Some(BOOT + MIN),
        Some(NOW - MIN),
        Some(NOW + MIN),
    ];
    for &gs in &states {
        for &last in &lasts {
            for idle in [0, 6 * 3600 * 1000] {
                let s = OpenclawSession {
                    last_activity_ms: last,
                    lock: Some(claim("session-lock", 10, PidState::Alive, NOW - MIN, None)),
                    queued: false,
                };
                let gw = owners(vec![gw_lock(11, gs, BOOT + MIN)], vec![], vec![]);
                let o = Options {
                    idle_ms: idle,
                    ..Options::default()
                };
                let (v, _) = classify_openclaw(&s, &gw, &host(), &o);
                assert_ne!(v.kind, VerdictKind::Orphan, "{gs:?} {last:?}");
            }
        }
    }
}

#[test]
fn no_host_facts_never_yields_rebooted() {
    let h = HostFacts {
        now_ms: NOW,
        btime_ms: None,
    };
    let s = OpenclawSession {
        last_activity_ms: Some(1),
        lock: None,
        queued: false,
    };
    let (v, _) = classify_openclaw(&s, &OwnerFacts::default(), &h, &Options::default());
    assert_eq!(
        (v.kind, v.reason),
        (VerdictKind::Orphan, Reason::GatewayGone)
    );
}

pub(crate) mod properties {
    //! "Never close a live session", over random evidence: pids alive or dead, start times,
    //! boot times, lock files, clock skew. 10 000 cases each.
    use super::super::*;
    use proptest::prelude::*;

    pub(crate) const T0: i64 = 1_700_000_000_000;
    pub(crate) const SPAN: i64 = 400 * 24 * 3600 * 1000;

    pub(crate) fn pid_state() -> impl Strategy<Value = PidState> {
        prop_oneof![
            Just(PidState::Alive),
            Just(PidState::AliveUnverified),
            Just(PidState::Reused),
            Just(PidState::Dead),
            Just(PidState::Invalid),
        ]
    }

    pub(crate) fn time() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![1 => Just(None), 9 => (T0..T0 + SPAN).prop_map(Some)]
    }

    pub(crate) fn claim(kind: &'static str) -> impl Strategy<Value = Claim> {
        (
            -5i64..100_000,
            pid_state(),
            time(),
            time(),
            proptest::option::of(0u64..10_000_000),
        )
            .prop_map(
                move |(pid, state, created_ms, owner_start_ms, starttime)| Claim {
                    kind,
                    path: None,
                    pid,
                    starttime,
                    created_ms,
                    state,
                    owner_start_ms,
                },
            )
    }

    pub(crate) fn owners(kind: &'static str) -> impl Strategy<Value = OwnerFacts> {
        (
            proptest::collection::vec(claim(kind), 0..4),
            proptest::collection::vec(
                (1i64..100_000, time()).prop_map(|(pid, start_ms)| RunningOwner {
                    kind: "process",
                    pid,
                    start_ms,
                    path: None,
                }),
                0..3,
            ),
            proptest::collection::vec("[a-z ]{0,12}", 0..2),
        )
            .prop_map(|(claims, running, unverified)| OwnerFacts {
                claims,
                running,
                unverified,
                dir: None,
            })
    }

    pub(crate) fn host() -> impl Strategy<Value = HostFacts> {
        // Clock skew: "now" may even be before the recorded times.
        (T0 - SPAN / 4..T0 + SPAN + SPAN / 4, time())
            .prop_map(|(now_ms, btime_ms)| HostFacts { now_ms, btime_ms })
    }

    pub(crate) fn options() -> impl Strategy<Value = Options> {
        (0i64..30 * 24 * 3600 * 1000, 0i64..600_000).prop_map(|(idle_ms, recovery_grace_ms)| {
            Options {
                idle_ms,
                recovery_grace_ms,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The session's own lock names a running owner with the recorded start time,
        /// written this boot: never an orphan, whatever the gateways, times and options.
        #[test]
        fn live_lock_owner_is_never_orphan(
            mut lock in claim("session-lock"),
            gw in owners("gateway-lock"),
            h in host(),
            o in options(),
            last in time(),
        ) {
            lock.state = PidState::Alive;
            // Written this boot.
            if let (Some(c), Some(b)) = (lock.created_ms, h.btime_ms) {
                lock.created_ms = Some(c.max(b));
            }
            let s = OpenclawSession { last_activity_ms: last, lock: Some(lock), queued: false };
            let (v, _) = classify_openclaw(&s, &gw, &h, &o);
            prop_assert_ne!(v.kind, VerdictKind::Orphan, "{:?}", v);
        }

        /// No usable session lock, and a verified gateway that was already running at the
        /// session's last activity: never an orphan.
        #[test]
        fn gateway_running_since_before_activity_is_never_orphan(
            mut gw in owners("gateway-lock"),
            pid in 1i64..100_000,
            h in host(),
            o in options(),
            la in T0..T0 + SPAN,
            before in 0i64..SPAN,
            invalid_lock in proptest::option::of(claim("session-lock")),
        ) {
            gw.running.push(RunningOwner { kind: "gateway-process", pid, start_ms: Some(la - before), path: None });
            let lock = invalid_lock.map(|mut l| { l.state = PidState::Invalid; l });
            let s = OpenclawSession { last_activity_ms: Some(la), lock, queued: false };
            let (v, _) = classify_openclaw(&s, &gw, &h, &o);
            prop_assert_ne!(v.kind, VerdictKind::Orphan, "{:?}", v);
        }

        /// Every orphan verdict carries evidence a support engineer can check, `gateway-gone`
        /// too (what was looked at and not found).
        #[test]
        fn orphans_carry_evidence(
            lock in proptest::option::of(claim("session-lock")),
            gw in owners("gateway-lock"),
            h in host(),
            o in options(),
            last in time(),
        ) {
            let s = OpenclawSession { last_activity_ms: last, lock, queued: false };
            let (v, ev) = classify_openclaw(&s, &gw, &h, &o);
            if v.kind == VerdictKind::Orphan {
                prop_assert!(!ev.is_empty(), "{:?}", v);
            }
        }
    }
}

/// 2026.9: a second agent's interrupted session waits `running`, `abortedLastRun`, no run
/// id, while the restarted gateway's recovery re-runs another one; the gateway bumped its
/// `updatedAt`. It is `recovery-queued` (not live, not an orphan) while that gateway lives,
/// and an orphan once it is gone.
#[test]
fn a_session_queued_for_recovery_is_neither_live_nor_an_orphan() {
    let gw_start = NOW - 30 * MIN;
    let queued = OpenclawSession {
        // updatedAt bumped by the gateway after it started
        last_activity_ms: Some(gw_start + MIN),
        lock: None,
        queued: true,
    };
    let (v, _) = classify_openclaw(
        &queued,
        &owners(vec![], vec![running(42, gw_start)], vec![]),
        &host(),
        &Options::default(),
    );
    assert_eq!(
        (v.kind, v.reason),
        (VerdictKind::Unknown, Reason::RecoveryQueued)
    );
    assert!(v.summary.contains("pid 42"), "{}", v.summary);
    // The same facts without the queued flag: the gateway holds it, live.
    let (v, _) = classify_openclaw(
        &OpenclawSession {
            queued: false,
            ..queued.clone()
        },
        &owners(vec![], vec![running(42, gw_start)], vec![]),
        &host(),
        &Options::default(),
    );
    assert_eq!(v.kind, VerdictKind::Live);
    // Its gateway gone: nobody will re-run it.
    let (v, _) = classify_openclaw(
        &queued,
        &owners(vec![gw_lock(42, PidState::Dead, gw_start)], vec![], vec![]),
        &host(),
        &Options::default(),
    );
    assert_eq!(v.kind, VerdictKind::Orphan);
}

/// Which gateway lifetime a session's session_end belongs to.
#[test]
fn end_fate_follows_the_lifetimes_turns_ran_in() {
    let l = |pid: i64, started: i64, clean: bool| Lifetime {
        pid,
        started_ms: started,
        clean,
        outcome: clean.then(|| "clean_stop".to_string()),
        reason: None,
        source: PathBuf::from("/s/state/openclaw.sqlite"),
    };
    let crashed = l(10, NOW - 60 * MIN, false);
    let clean = l(11, NOW - 30 * MIN, true);
    let lifetimes = [crashed.clone(), clean.clone()];
    // A turn in the crashed one: owed, and a later gateway took over.
    assert_eq!(
        end_fate(&lifetimes, &[], &[NOW - 50 * MIN]),
        EndFate::Owed {
            by: crashed.clone(),
            successor: true
        }
    );
    // Only in the clean one: its drain sent it.
    assert_eq!(
        end_fate(&lifetimes, &[], &[NOW - 20 * MIN]),
        EndFate::Drained { by: clean.clone() }
    );
    // In both: the crashed one still owes it.
    assert!(matches!(
        end_fate(&lifetimes, &[], &[NOW - 50 * MIN, NOW - 20 * MIN]),
        EndFate::Owed { .. }
    ));
    // Before any lifetime on record: nothing can be said.
    assert_eq!(
        end_fate(&lifetimes, &[], &[NOW - 90 * MIN]),
        EndFate::Unknown
    );
    assert_eq!(end_fate(&lifetimes, &[], &[]), EndFate::Unknown);
    // The last lifetime, crashed, with nobody after it: shutdown, not restart.
    assert_eq!(
        end_fate(std::slice::from_ref(&crashed), &[], &[NOW - 50 * MIN]),
        EndFate::Owed {
            by: crashed.clone(),
            successor: false
        }
    );
    // A gateway running now had a turn of it: never owed (its own stop ends it).
    let live = l(12, NOW - 10 * MIN, false);
    let with_live = [crashed.clone(), live.clone()];
    assert_eq!(
        end_fate(
            &with_live,
            &[running(12, NOW - 10 * MIN)],
            &[NOW - 50 * MIN, NOW - 5 * MIN]
        ),
        EndFate::Live
    );
    // Its turns all before the live gateway: owed by the crashed one, restart.
    assert_eq!(
        end_fate(
            &with_live,
            &[running(12, NOW - 10 * MIN)],
            &[NOW - 50 * MIN]
        ),
        EndFate::Owed {
            by: crashed,
            successor: true
        }
    );
    // The running gateway's own lifetime (pid and start match) is never the one that owes.
    assert_eq!(
        end_fate(
            &[live],
            &[running(12, NOW - 10 * MIN + 5_000)],
            &[NOW - 9 * MIN]
        ),
        EndFate::Live
    );
}
