//! sessionctl: find and repair orphaned agent sessions.

mod backend;
mod classify;
mod cli;
mod close;
mod cmd;
mod config;
mod doctor;
mod duration;
mod fsx;
mod journal;
mod json5;
mod lifetimes;
mod metrics;
mod model;
mod par;
mod probe;
mod report;
mod scan;
mod targets;
mod timefmt;

use std::io::{self, IsTerminal, Write};

use clap::FromArgMatches;

use crate::cli::{Cli, Command, InstallTarget};
use crate::config::{Config, Env};

fn main() {
    let cli = Cli::from_arg_matches(&cli::command().get_matches()).unwrap_or_else(|e| e.exit());
    let cfg = Config::resolve(&cli.global, Env::from_process(), io::stdout().is_terminal());
    let mut keep = cmd::Keep::default();
    let res = match cli.command.unwrap_or(Command::List) {
        Command::List => cmd::list::run(&cfg, &mut keep),
        Command::Show { id } => cmd::show::run(&cfg, &id),
        Command::Gateways => cmd::gateways::run(&cfg),
        Command::Doctor => cmd::doctor::run(&cfg),
        Command::Check {
            prometheus_textfile,
        } => cmd::check::run(&cfg, prometheus_textfile.as_deref(), &mut keep),
        Command::Close(args) => cmd::close::run(&cfg, &args, &mut keep),
        Command::Watch {
            grace,
            prometheus_textfile,
        } => cmd::watch::run(&cfg, grace, prometheus_textfile.as_deref()),
        Command::Journal { action, run } => {
            cmd::journal::run(&cfg, action.as_ref(), run.as_deref())
        }
        Command::Install {
            target: InstallTarget::Systemd(args),
        } => cmd::install::systemd(&cfg, &cli.global, &args),
        Command::Completions { shell } => {
            let mut out = cmd::stdout();
            cmd::gen::completions(shell, &mut out)
                .and_then(|_| out.flush())
                .map(|_| cmd::EXIT_OK)
        }
        Command::Man { dir: Some(dir) } => cmd::gen::man_dir(&dir),
        Command::Man { dir: None } => {
            let mut out = cmd::stdout();
            cmd::gen::man(&mut out)
                .and_then(|_| out.flush())
                .map(|_| cmd::EXIT_OK)
        }
    };
    // A run that stopped early may still be closing a batch's connection.
    backend::write::settle();
    let code = match res {
        Ok(code) => code,
        // `sessionctl list | head -1`: the reader left; that is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => cmd::EXIT_OK,
        Err(e) => {
            // An error may quote a path or a value read from a store.
            let _ = writeln!(
                io::stderr(),
                "sessionctl: {}",
                report::escape_control(&e.to_string())
            );
            cmd::EXIT_ERROR
        }
    };
    exit(code, keep)
}

/// The one place the process ends once a command ran (clap ends it before, on a usage
/// error): flush stdout and stderr, then exit holding `keep`, the large values the command
/// built. This frame never returns, so they are never freed one by one: for a scan of 100k
/// sessions that took longer than writing the report. The command has already dropped
/// everything whose `Drop` matters (locks, temp dirs, the journal); see [`cmd::Keep`].
fn exit(code: u8, keep: cmd::Keep) -> ! {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    let _held = keep;
    std::process::exit(i32::from(code))
}
