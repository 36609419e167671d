//! claude-mem's classifier: pure, like every classifier. A row is judged first by its
//! linked OpenClaw session ([`upstream_first`]), then by claude-mem's own facts: the
//! worker that holds it (pid files, processes, health), and how long ago it was active.

use crate::classify::{
    before_boot, claim_evidence, from_dead_claims, live_or_stale, orphan, owner_evidence, unknown,
    upstream_first, upstream_gone, with_boot_evidence, HostFacts, Options, OwnerFacts,
    RunningOwner, Upstream,
};
use crate::model::{Evidence, PidState, Reason, Verdict, VerdictKind};
use crate::timefmt::human_age;

/// A live claude-mem worker (12.4.3+) finalizes an idle session itself after 180 s.
pub const WORKER_FINALIZE_MS: i64 = 300_000;

/// Facts of one claude-mem `sdk_sessions` row with status `active`.
#[derive(Debug, Clone, Default)]
pub struct ClaudeMemRow {
    pub project: String,
    /// True when the content id has the shape `openclaw-<key>-<13 digits>`.
    pub openclaw_linked: bool,
    pub last_activity_ms: Option<i64>,
}

pub fn classify_claude_mem(
    r: &ClaudeMemRow,
    upstream: &Upstream,
    workers: &OwnerFacts,
    h: &HostFacts,
    o: &Options,
) -> (Verdict, Vec<Evidence>) {
    let mut ev = Vec::new();
    let v = classify_claude_mem_inner(r, upstream, workers, h, o, &mut ev);
    with_boot_evidence(v, ev, h)
}

fn classify_claude_mem_inner(
    r: &ClaudeMemRow,
    upstream: &Upstream,
    workers: &OwnerFacts,
    h: &HostFacts,
    o: &Options,
    ev: &mut Vec<Evidence>,
) -> Verdict {
    if r.project == "observer-sessions" {
        return unknown(
            Reason::ObserverSession,
            "claude-mem's own observer bookkeeping; never an orphan",
        );
    }
    if !r.openclaw_linked {
        return unknown(
            Reason::NotOpenclaw,
            "not an OpenClaw session: no owner sessionctl can prove dead",
        );
    }
    let la = r.last_activity_ms;
    // The upstream OpenClaw session decides first: while it lives, the row is not an orphan,
    // whatever the worker does (a new worker picks the row up again).
    if let Some(v) = upstream_first(upstream, ev) {
        return v;
    }
    let upstream_gone = upstream_gone(upstream);

    let live = workers.live();
    ev.extend(live.iter().map(owner_evidence));
    ev.extend(
        workers
            .claims
            .iter()
            .filter(|c| c.state != PidState::Alive)
            .map(claim_evidence),
    );
    if !live.is_empty() {
        return worker_runs(&live, la, upstream_gone, h, o);
    }
    no_worker(workers, la, upstream_gone, h, ev)
}

/// A worker runs for the data dir: one that ran at the row's last activity holds it (and
/// finalizes it itself once its session ended, given the time); one that started after
/// does not.
fn worker_runs(
    live: &[RunningOwner],
    la: Option<i64>,
    upstream_gone: bool,
    h: &HostFacts,
    o: &Options,
) -> Verdict {
    let started_before =
        la.is_some_and(|la| live.iter().any(|w| w.start_ms.is_none_or(|st| st <= la)));
    if started_before {
        if upstream_gone {
            // A live worker finalizes an idle session itself; give it the time to.
            if la.is_some_and(|la| h.now_ms - la < WORKER_FINALIZE_MS) {
                return Verdict::new(
                    VerdictKind::Live,
                    Reason::WorkerAlive,
                    "its OpenClaw session ended moments ago; the live worker finalizes it itself",
                );
            }
            return orphan(
                Reason::UpstreamEnded,
                "its OpenClaw session has ended or is an orphan, and the worker has not finalized it",
            );
        }
        return live_or_stale(
            Reason::WorkerAlive,
            la,
            h,
            o,
            &format!("worker pid {} runs", live[0].pid),
        );
    }
    let newest = live
        .iter()
        .filter_map(|w| w.start_ms)
        .max()
        .unwrap_or(h.now_ms);
    if !upstream_gone && h.now_ms - newest < o.recovery_grace_ms {
        return unknown(
            Reason::RecoveryPending,
            format!("a worker started {} ago", human_age(h.now_ms - newest)),
        );
    }
    if upstream_gone {
        return orphan(
            Reason::UpstreamEnded,
            "its OpenClaw session has ended or is an orphan",
        );
    }
    if before_boot(la, h) {
        return orphan(Reason::Rebooted, "its last activity predates this boot");
    }
    orphan(
        Reason::WorkerRestarted,
        format!(
            "worker pid {} started after the row's last activity and does not hold it",
            live[0].pid
        ),
    )
}

/// No worker runs (that can be seen): an unverifiable one keeps the row `unknown` while
/// its session may live; otherwise the dead pid files, the boot, the ended session or the
/// absence itself say why it is an orphan.
fn no_worker(
    workers: &OwnerFacts,
    la: Option<i64>,
    upstream_gone: bool,
    h: &HostFacts,
    ev: &mut Vec<Evidence>,
) -> Verdict {
    let notes = workers.unverified_notes();
    if !notes.is_empty() && !upstream_gone {
        ev.extend(notes.iter().map(|n| Evidence {
            kind: "worker-unverified",
            note: n.clone(),
            ..Evidence::default()
        }));
        if before_boot(la, h) {
            return orphan(Reason::Rebooted, "its last activity predates this boot");
        }
        return unknown(Reason::Unverifiable, notes[0].clone());
    }
    if let Some(v) = from_dead_claims(&workers.claims, h, Reason::WorkerDead) {
        return v;
    }
    if before_boot(la, h) {
        return orphan(Reason::Rebooted, "its last activity predates this boot");
    }
    if upstream_gone {
        return orphan(
            Reason::UpstreamEnded,
            "its OpenClaw session has ended or is an orphan, and no worker runs",
        );
    }
    orphan(
        Reason::WorkerDead,
        "no claude-mem worker runs for its data dir and nothing answers its health port",
    )
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
