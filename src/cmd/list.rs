use std::io;

use super::{finish, stdout, Keep};
use crate::cli::Format;
use crate::config::Config;
use crate::report::{json_report, write_json, write_ndjson, write_table};
use crate::scan::{self, grouped};

/// `sessionctl list`: every active session with its verdict. Exit 0, or 2 when a backend
/// could not be read (the others are still listed).
pub fn run(cfg: &Config, keep: &mut Keep) -> io::Result<u8> {
    let r = scan::run(cfg);
    crate::report::print_missing(cfg, &r);
    let sessions = grouped(&r.sessions);
    let mut out = stdout();
    match cfg.format {
        Format::Table => write_table(&mut out, cfg, &r, &sessions)?,
        Format::Json => write_json(&mut out, &json_report(&r, sessions))?,
        Format::Ndjson => write_ndjson(&mut out, &r, &sessions)?,
    }
    let code = finish(out, &r.problems, false);
    keep.hold(r);
    code
}
