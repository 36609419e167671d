//! `close --after-stop`, run by systemd's `ExecStopPost=`: how the gateway ended, and
//! what its restarted successor's recovery must be left.

use crate::scan;

/// How systemd says the gateway's main process ended: `$SERVICE_RESULT`, `$EXIT_CODE`
/// and `$EXIT_STATUS`, which it sets for `ExecStop=` and `ExecStopPost=` (systemd.exec(5),
/// "Summary of possible service result variable values").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StopEnv {
    pub service_result: Option<String>,
    pub exit_code: Option<String>,
    pub exit_status: Option<String>,
}

impl StopEnv {
    pub fn from(get: impl Fn(&str) -> Option<String>) -> StopEnv {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        StopEnv {
            service_result: get("SERVICE_RESULT"),
            exit_code: get("EXIT_CODE"),
            exit_status: get("EXIT_STATUS"),
        }
    }

    /// Was it a clean stop, and the line that says how the gateway ended. Clean is
    /// `SERVICE_RESULT=success` with the main process exited 0 or 143 (OpenClaw's unit
    /// has `SuccessExitStatus=0 143`: 143 is the drain's exit after SIGTERM), or killed
    /// by one of the signals systemd counts as a clean end (HUP, INT, TERM, PIPE). After
    /// it, the gateway's own drain sent every session_end it owed.
    pub fn judge(&self) -> (bool, String) {
        let vars = format!(
            "SERVICE_RESULT={}, EXIT_CODE={}, EXIT_STATUS={}",
            self.service_result.as_deref().unwrap_or("(unset)"),
            self.exit_code.as_deref().unwrap_or("(unset)"),
            self.exit_status.as_deref().unwrap_or("(unset)"),
        );
        let Some(result) = self.service_result.as_deref() else {
            return (
                false,
                "SERVICE_RESULT, EXIT_CODE and EXIT_STATUS are not set (not run by systemd's ExecStopPost=?): closing orphans as --yes does, except the running sessions of SQLite stores".into(),
            );
        };
        let status = self.exit_status.as_deref().unwrap_or("");
        let how = match self.exit_code.as_deref() {
            Some("exited") => format!("its main process exited with status {status}"),
            Some("killed") => format!("its main process was killed by SIG{status}"),
            Some("dumped") => format!("its main process was killed by SIG{status} and dumped core"),
            Some(other) => format!("its main process ended ({other} {status})"),
            None => "systemd knows no exit of its main process".into(),
        };
        let clean = result == "success"
            && match self.exit_code.as_deref() {
                Some("exited") => matches!(status, "0" | "143"),
                Some("killed") => matches!(status, "TERM" | "INT" | "HUP" | "PIPE"),
                _ => false,
            };
        if clean {
            (
                true,
                format!("the gateway stopped cleanly ({vars}): {how}, and its own drain sent every session_end; nothing to do"),
            )
        } else {
            // What the exit alone does not say.
            let why = match result {
                "success" => "; systemd counts that as clean, OpenClaw's drain does not end so",
                "timeout" => "; a start or stop step timed out",
                "oom-kill" => "; the OOM killer ended it",
                "watchdog" => "; its watchdog expired",
                "start-limit-hit" => "; it hit its start limit",
                "protocol" => "; it broke its unit's start-up protocol",
                "resources" => "; systemd could not set it up",
                _ => "",
            };
            (
                false,
                format!(
                    "the gateway did not stop cleanly ({vars}): {how}{why}; closing its orphans"
                ),
            )
        }
    }
}

/// Under `--after-stop`, the restarted gateway's recovery comes next (`Restart=always`,
/// 5 s later): the SQLite-era gateway (2026.8+) re-runs an interrupted session under the
/// same sessionId, so no running session of a SQLite store may be ended now, nor any
/// record of its group (its linked rows; a key-only session_end would end the re-run
/// downstream). 2026.7's file store marks such sessions failed itself and never re-runs
/// them: its orphans are closed now. Returns the groups held back that were chosen.
pub(super) fn hold_back_for_recovery(
    report: &scan::Report,
    chosen: &mut Vec<&crate::model::Session>,
) -> Vec<String> {
    let recovering: std::collections::BTreeSet<String> = report
        .sessions
        .iter()
        .filter(|s| {
            s.backend == crate::model::Backend::Openclaw
                && s.store_kind == crate::model::StoreKind::Sqlite
                && s.status == "running"
        })
        .map(scan::group_key)
        .collect();
    let mut held: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    chosen.retain(|s| {
        let g = scan::group_key(s);
        if recovering.contains(&g) {
            held.insert(g);
            false
        } else {
            true
        }
    });
    held.into_iter().collect()
}

pub(super) fn held_line(held: &[String]) -> String {
    let n = held.len();
    format!(
        "left {n} running session{} of SQLite stores to the restarted gateway, which re-runs {} ({}); `sessionctl watch` or the next timer run closes what is still orphaned once recovery is done",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "them" },
        held.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(r: Option<&str>, c: Option<&str>, st: Option<&str>) -> StopEnv {
        StopEnv::from(|k| {
            match k {
                "SERVICE_RESULT" => r,
                "EXIT_CODE" => c,
                "EXIT_STATUS" => st,
                _ => None,
            }
            .map(String::from)
        })
    }

    #[test]
    fn clean_stops_are_the_ones_systemd_and_the_unit_call_success() {
        for (c, st) in [
            ("exited", "0"),
            ("exited", "143"),
            ("killed", "TERM"),
            ("killed", "INT"),
            ("killed", "HUP"),
            ("killed", "PIPE"),
        ] {
            let (clean, line) = env(Some("success"), Some(c), Some(st)).judge();
            assert!(clean, "{c} {st}: {line}");
            assert!(line.contains("nothing to do"), "{line}");
        }
    }

    #[test]
    fn crashes_oom_timeouts_and_failures_are_not_clean() {
        for (r, c, st) in [
            (Some("signal"), Some("killed"), Some("KILL")),
            (Some("core-dump"), Some("dumped"), Some("SEGV")),
            (Some("exit-code"), Some("exited"), Some("1")),
            (Some("exit-code"), Some("exited"), Some("78")),
            (Some("timeout"), Some("killed"), Some("KILL")),
            (Some("oom-kill"), Some("killed"), Some("KILL")),
            (Some("protocol"), None, None),
            // success without an exit of the main process, or with one the unit does
            // not call clean: no proof that the drain ran.
            (Some("success"), None, None),
            (Some("success"), Some("exited"), Some("1")),
            (Some("success"), Some("killed"), Some("KILL")),
        ] {
            let (clean, line) = env(r, c, st).judge();
            assert!(!clean, "{r:?} {c:?} {st:?}: {line}");
            assert!(line.contains("did not stop cleanly"), "{line}");
            assert!(line.contains(r.unwrap()), "{line}");
        }
        let (_, line) = env(Some("signal"), Some("killed"), Some("KILL")).judge();
        assert!(line.contains("killed by SIGKILL"), "{line}");
    }

    #[test]
    fn without_systemds_variables_it_says_so() {
        let (clean, line) = env(None, None, None).judge();
        assert!(!clean);
        assert!(line.contains("are not set"), "{line}");
        // Empty counts as unset.
        let (clean, line) = env(Some(""), Some(""), Some("")).judge();
        assert!(!clean);
        assert!(line.contains("are not set"), "{line}");
    }
}
