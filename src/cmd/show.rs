use std::io::{self, Write};

use super::{finish, stdout, EXIT_ERROR};
use crate::cli::Format;
use crate::config::Config;
use crate::model::Session;
use crate::report::{json_report, write_detail, write_json, write_ndjson};
use crate::scan::{self, group_key, grouped, matches};

pub fn run(cfg: &Config, q: &str) -> io::Result<u8> {
    let r = scan::run(cfg);
    crate::report::print_missing(cfg, &r);
    let hits: Vec<&Session> = r.sessions.iter().filter(|s| matches(s, q)).collect();
    if hits.is_empty() {
        crate::report::print_problems(&r.problems);
        eprintln!("sessionctl: {}", scan::no_match_message(&r.sessions, q));
        return Ok(EXIT_ERROR);
    }
    // Show the records linked to the match as well.
    let groups: Vec<String> = hits.iter().map(|s| group_key(s)).collect();
    let shown: Vec<&Session> = grouped(&r.sessions)
        .into_iter()
        .filter(|s| groups.contains(&group_key(s)))
        .collect();
    let mut out = stdout();
    match cfg.format {
        Format::Table => {
            for (i, s) in shown.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                write_detail(&mut out, cfg, &r, s)?;
            }
        }
        Format::Json => write_json(&mut out, &json_report(&r, shown))?,
        Format::Ndjson => write_ndjson(&mut out, &r, &shown)?,
    }
    finish(out, &r.problems, false)
}
