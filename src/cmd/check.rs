use std::io::{self, Write};

use super::{stdout, Keep};
use crate::cli::Format;
use crate::config::Config;
use crate::model::VerdictKind;
use crate::report::{json_report, summary_line, write_json, write_ndjson};
use crate::scan::{self, grouped, Summary};

/// `sessionctl check`: exit 0 when no orphan is found, 1 when orphans are, 2 on error.
pub fn run(cfg: &Config, textfile: Option<&std::path::Path>, keep: &mut Keep) -> io::Result<u8> {
    let r = scan::run(cfg);
    // The metrics job (cron, a timer) runs every few minutes: where nothing was found is
    // for people, and stderr there is mail. `-v` still prints it.
    if textfile.is_none() || cfg.verbose {
        crate::report::print_missing(cfg, &r);
    }
    let mut metrics_failed = false;
    if let Some(path) = textfile {
        let last = if r.problems.is_empty() {
            Some(r.now_ms as f64 / 1000.0)
        } else {
            crate::metrics::previous_success(path)
        };
        if let Err(e) = crate::metrics::write(path, &crate::metrics::render(&r, last)) {
            // The writer's message may already start with the path.
            let prefix = format!("{}: ", path.display());
            super::error_line(
                "prometheus textfile",
                path,
                e.strip_prefix(&prefix).unwrap_or(&e),
            );
            metrics_failed = true;
        }
    }
    let sum = Summary::of(r.sessions.iter());
    let mut out = stdout();
    let written = (|| -> io::Result<()> {
        match cfg.format {
            Format::Table => {
                let mut line = summary_line(&sum);
                if sum.orphan > 0 {
                    let mut by: Vec<String> = Vec::new();
                    for b in crate::model::Backend::ALL {
                        let n = r
                            .sessions
                            .iter()
                            .filter(|s| s.backend == b && s.verdict == VerdictKind::Orphan)
                            .count();
                        if n > 0 {
                            by.push(format!("{}: {n}", b.name()));
                        }
                    }
                    line.push_str(&format!(" (orphans by backend: {})", by.join(", ")));
                }
                if !r.problems.is_empty() {
                    line.push_str(&format!("; {} error(s), see stderr", r.problems.len()));
                }
                writeln!(out, "{line}")?;
            }
            Format::Json => write_json(&mut out, &json_report(&r, grouped(&r.sessions)))?,
            Format::Ndjson => write_ndjson(&mut out, &r, &grouped(&r.sessions))?,
        }
        out.flush()
    })();
    // A reader that leaves early (`check --format json | head`) must not turn
    // "orphans found" into success: the exit code stays the verdict's.
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e),
        _ => {}
    }
    crate::report::print_problems(&r.problems);
    let code = if !r.problems.is_empty() || metrics_failed {
        super::EXIT_ERROR
    } else if sum.orphan > 0 || sum.owed > 0 {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_OK
    };
    keep.hold(r);
    Ok(code)
}
