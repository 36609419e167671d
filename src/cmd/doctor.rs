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
            for f in &findings {
                let tag = match f.severity {
                    Severity::Error => "ERROR  ",
                    Severity::Warning => "WARNING",
                    Severity::Info => "ok     ",
                };
                writeln!(out, "{tag} {}", escape_control(&f.title))?;
                for e in &f.evidence {
                    writeln!(out, "        {}", escape_control(e))?;
                }
                if let Some(fix) = &f.fix {
                    writeln!(out, "        fix: {}", escape_control(fix))?;
                }
            }
            match worst {
                Some(Severity::Error | Severity::Warning) => writeln!(
                    out,
                    "\nFindings above; each names the command that fixes it."
                )?,
                _ => writeln!(
                    out,
                    "\nHealthy: no orphans, no stale locks, no pool pressure."
                )?,
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
