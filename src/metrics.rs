//! node_exporter textfile-collector metrics (`check --prometheus-textfile`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::model::{Backend, Reason, VerdictKind};
use crate::scan::Report;

const BACKENDS: [Backend; 3] = Backend::ALL;
const ORPHAN_REASONS: [Reason; 8] = [
    Reason::OwnerDead,
    Reason::PidReused,
    Reason::GatewayRestarted,
    Reason::GatewayGone,
    Reason::Rebooted,
    Reason::WorkerDead,
    Reason::WorkerRestarted,
    Reason::UpstreamEnded,
];

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// Render the metrics. `last_success_s` is this check's time when it read every backend
/// cleanly, else the previous file's value (so an alert on staleness can fire).
pub fn render(r: &Report, last_success_s: Option<f64>) -> String {
    let mut by: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    let mut orphans: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut active: BTreeMap<&str, usize> = BTreeMap::new();
    let mut oldest: BTreeMap<&str, i64> = BTreeMap::new();
    for s in &r.sessions {
        let b = s.backend.name();
        *by.entry((b, s.verdict.name(), s.reason.name()))
            .or_default() += 1;
        *active.entry(b).or_default() += 1;
        if s.verdict == VerdictKind::Orphan {
            *orphans.entry((b, s.reason.name())).or_default() += 1;
            let age = s
                .last_activity_at
                .map(|t| (r.now_ms - t).max(0))
                .unwrap_or(0);
            let e = oldest.entry(b).or_default();
            *e = (*e).max(age);
        }
    }
    let mut out = String::new();
    family(
        &mut out,
        "sessionctl_sessions",
        "Active sessions by backend, verdict and reason.",
    );
    for ((b, v, reason), n) in &by {
        let _ = writeln!(
            out,
            "sessionctl_sessions{{backend=\"{b}\",verdict=\"{v}\",reason=\"{reason}\"}} {n}"
        );
    }
    family(
        &mut out,
        "sessionctl_orphans",
        "Orphaned sessions by backend and reason.",
    );
    // Every series, zeros included, so `sum(sessionctl_orphans)` is 0 rather than absent.
    for b in BACKENDS.map(Backend::name) {
        for reason in ORPHAN_REASONS.map(Reason::name) {
            let n = orphans.get(&(b, reason)).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "sessionctl_orphans{{backend=\"{b}\",reason=\"{reason}\"}} {n}"
            );
        }
    }
    family(
        &mut out,
        "sessionctl_active",
        "Sessions each backend considers active.",
    );
    for b in BACKENDS.map(Backend::name) {
        let _ = writeln!(
            out,
            "sessionctl_active{{backend=\"{b}\"}} {}",
            active.get(b).copied().unwrap_or(0)
        );
    }
    family(
        &mut out,
        "sessionctl_oldest_orphan_age_seconds",
        "Time since the oldest orphan's last activity.",
    );
    for b in BACKENDS.map(Backend::name) {
        let age = oldest.get(b).copied().unwrap_or(0) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "sessionctl_oldest_orphan_age_seconds{{backend=\"{b}\"}} {age}"
        );
    }
    family(
        &mut out,
        "sessionctl_errors",
        "Files or backends that could not be read in the last check.",
    );
    for b in BACKENDS {
        let n = r.problems.iter().filter(|p| p.backend == b).count();
        let _ = writeln!(out, "sessionctl_errors{{backend=\"{}\"}} {n}", b.name());
    }
    if let Some(t) = last_success_s {
        family(
            &mut out,
            "sessionctl_last_success_timestamp_seconds",
            "When a check last read every backend without error.",
        );
        let _ = writeln!(out, "sessionctl_last_success_timestamp_seconds {t:.3}");
    }
    out
}

/// The previous file's `sessionctl_last_success_timestamp_seconds`, if any.
pub fn previous_success(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("sessionctl_last_success_timestamp_seconds "))
        .and_then(|v| v.trim().parse().ok())
}

/// Write the textfile atomically: node_exporter must never read half a file.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // An unpredictable temp name created O_EXCL|O_NOFOLLOW in the directory fd (node_exporter
    // ignores files not ending in .prom, so it is never collected), renamed over the file;
    // as the directory's owner when root writes into another user's directory. 0644: the
    // exporter, another user, must read it.
    let owner =
        crate::fsx::write_identity(dir).map_err(|e| format!("cannot write metrics: {e}"))?;
    crate::fsx::as_owner(owner, || {
        let d = crate::fsx::Dir::open(dir)?;
        d.replace(
            std::ffi::OsStr::new(&name),
            text.as_bytes(),
            0o644,
            None,
            || Ok(()),
        )
    })
    .and_then(|r| r.map_err(|e| e.to_string()))
    .map_err(|e| format!("{}: cannot write metrics: {e}", path.display()))
}
