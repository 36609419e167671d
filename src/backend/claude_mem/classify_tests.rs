//! Table-driven tests of claude-mem's verdict rules (times in ms; see
//! `classify_tests.rs` for the shared host, claims and owners).

use super::*;
use crate::classify::tests::{claim, host, owners, BOOT, MIN, NOW};
use crate::classify::Claim;

struct CmCase {
    name: &'static str,
    project: &'static str,
    linked: bool,
    last: Option<i64>,
    upstream: Upstream,
    workers: OwnerFacts,
    want: (VerdictKind, Reason),
}

fn pidfile(pid: i64, state: PidState, created: i64) -> Claim {
    claim("worker-pid-file", pid, state, created, Some(created))
}

#[test]
fn claude_mem_rules() {
    use PidState::*;
    use Reason::*;
    use VerdictKind::*;
    let t = NOW - 20 * MIN;
    let none = || owners(vec![], vec![], vec![]);
    let cases = vec![
        CmCase {
            name: "observer-sessions is claude-mem's own bookkeeping",
            project: "observer-sessions",
            linked: false,
            last: Some(t),
            upstream: Upstream::NotLinked,
            workers: none(),
            want: (Unknown, ObserverSession),
        },
        CmCase {
            name: "observer-sessions even with an OpenClaw-looking id",
            project: "observer-sessions",
            linked: true,
            last: Some(BOOT - MIN),
            upstream: Upstream::NotFound,
            workers: none(),
            want: (Unknown, ObserverSession),
        },
        CmCase {
            name: "a Claude Code / manual content id has no provable owner",
            project: "sessionctl",
            linked: false,
            last: Some(BOOT - MIN),
            upstream: Upstream::NotLinked,
            workers: none(),
            want: (Unknown, NotOpenclaw),
        },
        CmCase {
            name: "upstream OpenClaw session live keeps the row live even with a dead worker",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::Running(Live),
            workers: owners(vec![pidfile(5, Dead, t)], vec![], vec![]),
            want: (Live, UpstreamLive),
        },
        CmCase {
            name: "upstream unknown makes the row unknown",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::Running(Unknown),
            workers: none(),
            want: (Unknown, Unverifiable),
        },
        CmCase {
            name: "worker alive since before the last activity",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::NotFound,
            workers: owners(vec![pidfile(5, Alive, t - MIN)], vec![], vec![]),
            want: (Live, WorkerAlive),
        },
        CmCase {
            name: "worker alive, row idle for long: stale",
            project: "openclaw-main",
            linked: true,
            last: Some(NOW - 7 * 3600 * 1000),
            upstream: Upstream::NotFound,
            workers: owners(
                vec![pidfile(5, Alive, NOW - 8 * 3600 * 1000)],
                vec![],
                vec![],
            ),
            want: (Stale, WorkerAlive),
        },
        CmCase {
            name: "upstream ended moments ago: the live worker finalizes it itself",
            project: "openclaw-main",
            linked: true,
            last: Some(NOW - MIN),
            upstream: Upstream::Ended("done".into()),
            workers: owners(vec![pidfile(5, Alive, t)], vec![], vec![]),
            want: (Live, WorkerAlive),
        },
        CmCase {
            name: "upstream ended long ago, worker alive but never finalized",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::Ended("failed".into()),
            workers: owners(vec![pidfile(5, Alive, t - MIN)], vec![], vec![]),
            want: (Orphan, UpstreamEnded),
        },
        CmCase {
            name: "upstream is an orphan and no worker runs",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::Running(Orphan),
            workers: none(),
            want: (Orphan, UpstreamEnded),
        },
        CmCase {
            name: "worker pid file names a dead pid",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::NotFound,
            workers: owners(vec![pidfile(5, Dead, t - MIN)], vec![], vec![]),
            want: (Orphan, WorkerDead),
        },
        CmCase {
            name: "worker pid reused",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::NotFound,
            workers: owners(vec![pidfile(5, Reused, t - MIN)], vec![], vec![]),
            want: (Orphan, PidReused),
        },
        CmCase {
            name: "no worker at all, activity this boot",
            project: "openclaw",
            linked: true,
            last: Some(t),
            upstream: Upstream::NotFound,
            workers: none(),
            want: (Orphan, WorkerDead),
        },
        CmCase {
            name: "no worker, activity before this boot",
            project: "openclaw-main",
            linked: true,
            last: Some(BOOT - 3600 * 1000),
            upstream: Upstream::NotFound,
            workers: none(),
            want: (Orphan, Rebooted),
        },
        CmCase {
            name: "worker restarted after the row's last activity",
            project: "openclaw-main",
            linked: true,
            last: Some(t - 60 * MIN),
            upstream: Upstream::NotFound,
            workers: owners(vec![pidfile(6, Alive, t)], vec![], vec![]),
            want: (Orphan, WorkerRestarted),
        },
        CmCase {
            name: "worker restarted moments ago",
            project: "openclaw-main",
            linked: true,
            last: Some(t - 60 * MIN),
            upstream: Upstream::NotFound,
            workers: owners(vec![pidfile(6, Alive, NOW - 10_000)], vec![], vec![]),
            want: (Unknown, RecoveryPending),
        },
        CmCase {
            name: "a worker answers health but cannot be attributed",
            project: "openclaw-main",
            linked: true,
            last: Some(t),
            upstream: Upstream::NotFound,
            workers: owners(vec![], vec![], vec!["a worker answers on 127.0.0.1:37777"]),
            want: (Unknown, Unverifiable),
        },
    ];
    let o = Options::default();
    for c in cases {
        let r = ClaudeMemRow {
            project: c.project.into(),
            openclaw_linked: c.linked,
            last_activity_ms: c.last,
        };
        let (v, _) = classify_claude_mem(&r, &c.upstream, &c.workers, &host(), &o);
        assert_eq!(
            (v.kind, v.reason),
            c.want,
            "case: {} ({})",
            c.name,
            v.summary
        );
    }
}

mod properties {
    use super::super::*;
    use crate::classify::tests::properties::{host, options, owners, time};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// A claude-mem row whose linked OpenClaw session is live or stale is never an
        /// orphan, whatever its worker does.
        #[test]
        fn row_with_live_upstream_is_never_orphan(
            workers in owners("worker-pid-file"),
            h in host(),
            o in options(),
            last in time(),
            stale in any::<bool>(),
        ) {
            let r = ClaudeMemRow { project: "openclaw-main".into(), openclaw_linked: true, last_activity_ms: last };
            let up = Upstream::Running(if stale { VerdictKind::Stale } else { VerdictKind::Live });
            let (v, _) = classify_claude_mem(&r, &up, &workers, &h, &o);
            prop_assert_ne!(v.kind, VerdictKind::Orphan, "{:?}", v);
        }

        /// Rows sessionctl cannot tie to an owner are never orphans.
        #[test]
        fn unlinked_and_observer_rows_are_never_orphan(
            workers in owners("worker-pid-file"),
            h in host(),
            o in options(),
            last in time(),
            observer in any::<bool>(),
        ) {
            let r = ClaudeMemRow {
                project: if observer { "observer-sessions".into() } else { "x".into() },
                openclaw_linked: observer && last.is_some(),
                last_activity_ms: last,
            };
            let (v, _) = classify_claude_mem(&r, &Upstream::NotFound, &workers, &h, &o);
            prop_assert_ne!(v.kind, VerdictKind::Orphan, "{:?}", v);
        }
    }
}
