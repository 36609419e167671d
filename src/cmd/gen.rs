//! Completions and the man page, generated from the clap definition.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{self, Cli, Shell};

pub fn completions<W: Write>(shell: Shell, w: &mut W) -> io::Result<()> {
    use clap_complete::Shell as S;
    let s = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    // Into memory first: clap_complete panics on a write error, and a closed pipe
    // (`sessionctl completions bash | head`) is not one.
    let mut script = Vec::new();
    clap_complete::generate(s, &mut completion_command(), "sessionctl", &mut script);
    w.write_all(&script)
}

/// The command completions are generated from: [`cli::command`]'s options, except that
/// `completions` and `man` do not have the global ones at all. clap_complete offers hidden
/// options too, so hiding them (as `--help` does) is not enough: the global options are
/// made local to the top level and copied into each other subcommand (still global there,
/// for `journal undo`).
fn completion_command() -> clap::Command {
    let root = Cli::command();
    let globals: Vec<clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = root
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| n != "completions" && n != "man")
        .collect();
    let root = root.mut_args(|a| a.global(false));
    let mut cmd = names.iter().fold(root, |cmd, name| {
        cmd.mut_subcommand(name, |sc| sc.args(globals.iter().cloned()))
    });
    cmd.build();
    cmd
}

/// The date on the man page: this version's release date (bump with the version).
const MAN_DATE: &str = "2026-11-25";

pub fn man<W: Write>(w: &mut W) -> io::Result<()> {
    clap_mangen::Man::new(cli::command())
        .date(MAN_DATE)
        .render(w)
}
