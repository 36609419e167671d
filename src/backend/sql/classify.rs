//! The `sql` backend's classifier: pure. A declared table knows nothing of its own owners,
//! so a row is judged by its linked OpenClaw session alone — never by its age (the flaw of
//! the cron SQL this replaces: a row idle for an hour may belong to a session that thinks
//! for an hour). No linked evidence: `unknown`.

use crate::classify::{orphan, unknown, upstream_first, upstream_gone, Upstream};
use crate::model::{Evidence, Reason, Verdict};

/// Facts of one active row.
#[derive(Debug, Clone, Default)]
pub struct SqlRow {
    /// The key column held a value the entry's pattern yields a session key from.
    pub linked: bool,
}

pub fn classify_sql(r: &SqlRow, upstream: &Upstream) -> (Verdict, Vec<Evidence>) {
    let mut ev = Vec::new();
    if !r.linked {
        return (
            unknown(
                Reason::NotOpenclaw,
                "its key column names no OpenClaw session key: no owner sessionctl can prove dead",
            ),
            ev,
        );
    }
    if let Some(v) = upstream_first(upstream, &mut ev) {
        return (v, ev);
    }
    let v = if upstream_gone(upstream) {
        orphan(
            Reason::UpstreamEnded,
            "its OpenClaw session has ended or is an orphan",
        )
    } else if *upstream == Upstream::NotLinked {
        unknown(
            Reason::NotOpenclaw,
            "it names the `default` key, which is no one session's",
        )
    } else {
        unknown(
            Reason::Unverifiable,
            "no OpenClaw record holds its session key: nothing proves its session ended",
        )
    };
    (v, ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VerdictKind::{self, *};

    #[test]
    fn rows_follow_their_openclaw_session_only() {
        let linked = SqlRow { linked: true };
        let cases: &[(&str, SqlRow, Upstream, (VerdictKind, Reason))] = &[
            (
                "live session",
                linked.clone(),
                Upstream::Running(Live),
                (Live, Reason::UpstreamLive),
            ),
            (
                "stale session",
                linked.clone(),
                Upstream::Running(Stale),
                (Stale, Reason::UpstreamLive),
            ),
            (
                "unverifiable session",
                linked.clone(),
                Upstream::Running(Unknown),
                (Unknown, Reason::Unverifiable),
            ),
            (
                "orphaned session",
                linked.clone(),
                Upstream::Running(Orphan),
                (Orphan, Reason::UpstreamEnded),
            ),
            (
                "ended session",
                linked.clone(),
                Upstream::Ended("done".into()),
                (Orphan, Reason::UpstreamEnded),
            ),
            (
                "no record of the key",
                linked.clone(),
                Upstream::NotFound,
                (Unknown, Reason::Unverifiable),
            ),
            (
                "the default key",
                linked.clone(),
                Upstream::NotLinked,
                (Unknown, Reason::NotOpenclaw),
            ),
            (
                "no key at all",
                SqlRow { linked: false },
                Upstream::Ended("done".into()),
                (Unknown, Reason::NotOpenclaw),
            ),
        ];
        for (name, row, up, want) in cases {
            let (v, ev) = classify_sql(row, up);
            assert_eq!((v.kind, v.reason), *want, "{name}: {}", v.summary);
            if v.kind == Orphan {
                assert!(ev.iter().any(|e| e.kind == "upstream"), "{name}: {ev:?}");
            }
        }
    }
}
