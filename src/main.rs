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
mod probe;
mod report;
mod scan;
mod targets;
mod timefmt;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::FromArgMatches;

use crate::cli::{Cli, Command, InstallTarget};
use crate::config::{Config, Env};

fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&cli::command().get_matches()).unwrap_or_else(|e| e.exit());
    let cfg = Config::resolve(&cli.global, Env::from_process(), io::stdout().is_terminal());
    let res = match cli.command.unwrap_or(Command::List) {
        Command::List => cmd::list::run(&cfg),
        Command::Show { id } => cmd::show::run(&cfg, &id),
        Command::Gateways => cmd::gateways::run(&cfg),
        Command::Doctor => cmd::doctor::run(&cfg),
        Command::Check {
            prometheus_textfile,
        } => cmd::check::run(&cfg, prometheus_textfile.as_deref()),
        Command::Close(args) => cmd::close::run(&cfg, &args),
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
    match res {
        Ok(code) => ExitCode::from(code),
        // `sessionctl list | head -1`: the reader left; that is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            // An error may quote a path or a value read from a store.
            let _ = writeln!(
                io::stderr(),
                "sessionctl: {}",
                report::escape_control(&e.to_string())
            );
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}
