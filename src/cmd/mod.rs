//! One module per subcommand. Each returns the process exit code.

pub mod check;
pub mod close;
pub mod doctor;
pub mod gateways;
pub mod gen;
pub mod install;
pub mod journal;
pub mod list;
pub mod show;
pub mod watch;

use std::io::{self, BufWriter, StdoutLock, Write};

use crate::model::Problem;

pub type Out = BufWriter<StdoutLock<'static>>;

/// What a command built that is large — the scan of 100k sessions and 1M linked rows,
/// a close plan and its results — handed over for `main` to hold while it ends the process
/// (see `exit` there): the kernel takes the memory back at once, where freeing it value by
/// value took longer than some commands' own work.
///
/// Only plain data belongs here. Whatever must run its `Drop` (a lock, the temp dir of a
/// private database copy, a journal, a buffered writer, a progress bar) is dropped by the
/// command before it returns, as usual.
#[derive(Default)]
pub struct Keep(Vec<Box<dyn std::any::Any>>);

impl Keep {
    pub fn hold<T: 'static>(&mut self, v: T) {
        self.0.push(Box::new(v));
    }
}

pub fn stdout() -> Out {
    BufWriter::new(io::stdout().lock())
}

/// Exit codes: 0 ok, 1 findings, 2 usage or runtime error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Finish a command: flush, report problems, and pick the exit code.
pub fn finish(mut out: Out, problems: &[Problem], findings: bool) -> io::Result<u8> {
    out.flush()?;
    crate::report::print_problems(problems);
    Ok(if !problems.is_empty() {
        EXIT_ERROR
    } else if findings {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// One error line in the one style every error uses: `sessionctl: <what>: <path>: <why>`,
/// where `<what>` names the kind of file (`config file`, `journal`, or a backend's name
/// such as `openclaw`). Paths and reasons may quote stored text: escaped for the terminal.
pub fn error_line(what: &str, path: &std::path::Path, why: impl std::fmt::Display) {
    eprintln!(
        "sessionctl: {what}: {}: {}",
        crate::report::escape_control(&path.display().to_string()),
        crate::report::escape_control(&why.to_string())
    );
}

/// The journal's history for a command, with a warning about unreadable lines; Err is the
/// exit code after a one-line error.
pub fn read_history(cfg: &crate::config::Config) -> Result<crate::journal::History, u8> {
    let h = crate::journal::History::read(&cfg.journal).map_err(|e| {
        error_line("journal", &cfg.journal, format!("cannot read: {e}"));
        EXIT_ERROR
    })?;
    if !h.bad_lines.is_empty() && !cfg.quiet {
        let lines: Vec<String> = h.bad_lines.iter().map(|n| n.to_string()).collect();
        error_line(
            "journal",
            &cfg.journal,
            format!(
                "{} unreadable line(s) ignored (line {}); the rest is used",
                h.bad_lines.len(),
                lines.join(", ")
            ),
        );
    }
    Ok(h)
}
