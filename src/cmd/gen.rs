//! Completions and the man page, generated from the clap definition.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, Shell};

pub fn completions<W: Write>(shell: Shell, w: &mut W) {
    use clap_complete::Shell as S;
    let s = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    clap_complete::generate(s, &mut Cli::command(), "sessionctl", w);
}

/// The date on the man page: this version's release date (bump with the version).
const MAN_DATE: &str = "2026-11-25";

pub fn man<W: Write>(w: &mut W) -> io::Result<()> {
    clap_mangen::Man::new(Cli::command())
        .date(MAN_DATE)
        .render(w)
}
