use std::io::{self, Write};

use serde_json::json;

use super::{stdout, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Format;
use crate::config::Config;
use crate::doctor::{diagnose, Severity};
use crate::report::{escape_control, stamped, write_doc};
use crate::scan;

/// `sessionctl doctor`: exit 0 healthy, 1 findings, 2 when something could not be read.
pub fn run(cfg: &Config) -> io::Result<u8> {
    let r = scan::run(cfg);
    let findings = diagnose(cfg, &r);
    // The "looked here, found nothing" lines are findings of their own here.
    let worst = findings.iter().map(|f| f.severity).min();
    let mut out = stdout();
    match cfg.format {
        Format::Json | Format::Ndjson => {
            write_doc(
                &mut out,
                cfg.format,
                &stamped(
                    r.now_ms,
                    json!({
                        "healthy": !matches!(worst, Some(Severity::Error | Severity::Warning)),
                        "findings": findings,
                        "host": {"boot_id": r.host.boot_id, "proc_available": r.host.proc_available},
                    }),
                ),
            )?;
        }
        Format::Table => {
            // Lines are built first so none ends in padding (tags are padded to one width).
            let mut lines: Vec<String> = Vec::new();
            for f in &findings {
                let tag = match f.severity {
                    Severity::Error => "ERROR  ",
                    Severity::Warning => "WARNING",
                    Severity::Info => "ok     ",
                };
                lines.push(format!("{tag} {}", escape_control(&f.title)));
                for e in &f.evidence {
                    lines.push(format!("        {}", escape_control(e)));
                }
                if let Some(fix) = &f.fix {
                    lines.push(format!("        fix: {}", escape_control(fix)));
                }
            }
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(match worst {
                Some(Severity::Error | Severity::Warning) => {
                    "Findings above; each names the command that fixes it.".into()
                }
                _ => "Healthy: no orphans, no stale locks, no pool pressure.".into(),
            });
            for l in lines {
                writeln!(out, "{}", l.trim_end())?;
            }
        }
    }
    out.flush()?;
    Ok(if !r.problems.is_empty() {
        EXIT_ERROR
    } else if matches!(worst, Some(Severity::Error | Severity::Warning)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
