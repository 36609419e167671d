//! The checked-in completion scripts and man page, exercised in the real tools: bash, zsh
//! and fish complete real command lines from the scripts under completions/, and mandoc
//! and groff lint every page under man/. (tests/generated.rs checks that those files match
//! the CLI; this checks that they work.)
//!
//! A shell or tool that is not installed is reported on stderr as one `SKIPPED:` line and
//! the test passes. Every shell runs with a throw-away HOME, no rc files and the built
//! binary's directory first on PATH.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "support/tools.rs"]
mod tools;
use tools::*;

/// A shell's environment: nothing of the user's, the binary under test on PATH.
fn shell(program: &Path, home: &Path) -> Command {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_sessionctl"))
        .parent()
        .unwrap();
    let mut path = vec![bin_dir.to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("TERM", "dumb")
        .env("LANG", "C")
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .current_dir(repo());
    cmd
}

/// Completion cases shared by every shell: the words typed so far (the last one is being
/// completed, possibly empty), candidates that must be offered, and ones that must not.
struct Case {
    line: &'static [&'static str],
    want: &'static [&'static str],
    not: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        line: &["sessionctl", "c"],
        want: &["check", "close", "completions"],
        not: &["list", "gateways", "--format"],
    },
    Case {
        line: &["sessionctl", "cl"],
        want: &["close"],
        not: &["check", "completions"],
    },
    Case {
        line: &["sessionctl", "--for"],
        want: &["--format"],
        not: &["--backend"],
    },
    Case {
        line: &["sessionctl", "list", "--format", ""],
        want: &["table", "json", "ndjson"],
        not: &["Cargo.toml"],
    },
    Case {
        line: &["sessionctl", "close", "--reason", ""],
        want: &["shutdown", "restart", "unknown"],
        not: &["Cargo.toml"],
    },
    // No global option applies to `completions` or `man`; none is offered there.
    Case {
        line: &["sessionctl", "completions", "--"],
        want: &["--help"],
        not: &["--format", "--idle", "--journal"],
    },
    Case {
        line: &["sessionctl", "man", "--"],
        want: &["--dir"],
        not: &["--format", "--idle", "--openclaw-state-dir"],
    },
    Case {
        line: &["sessionctl", "check", "--prom"],
        want: &["--prometheus-textfile"],
        not: &[],
    },
];

/// Cases the shell's script may fail; reported, not failed (see `fish_completion`).
struct Gap {
    line: &'static [&'static str],
    want: &'static [&'static str],
}

fn check_case(shell: &str, case_line: &[&str], got: &BTreeSet<String>, case: &Case) {
    for w in case.want {
        assert!(
            got.contains(*w),
            "{shell}: completing {case_line:?} does not offer {w}; got {got:?}"
        );
    }
    for n in case.not {
        assert!(
            !got.contains(*n),
            "{shell}: completing {case_line:?} offers {n}; got {got:?}"
        );
    }
}

const BASH_DRIVER: &str = r#"
source "$COMP_FILE" || exit 3
spec=$(complete -p sessionctl) || exit 4
printf 'SPEC\t%s\n' "$spec"
fn=${spec#*-F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
prev=
(( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "$prev"
printf 'CAND\t%s\n' "${COMPREPLY[@]}"
"#;

#[test]
fn bash_completion() {
    let Some(bash) = which("bash") else {
        skipped("bash completion", "bash");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let file = repo().join("completions/sessionctl.bash");

    let ran = run(shell(&bash, home.path()).arg("-n").arg(&file), 30);
    assert!(
        ran.code == Some(0) && ran.stderr.is_empty(),
        "bash -n {}\n{}",
        file.display(),
        ran.both()
    );

    for case in CASES {
        let ran = run(
            shell(&bash, home.path())
                .args(["--norc", "--noprofile", "-c", BASH_DRIVER, "bash"])
                .args(case.line)
                .env("COMP_FILE", &file),
            30,
        );
        assert!(
            ran.code == Some(0) && ran.stderr.is_empty(),
            "bash: completing {:?}\n{}",
            case.line,
            ran.both()
        );
        let spec = ran
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("SPEC\t"))
            .unwrap_or_default();
        assert!(
            spec.contains("-F _sessionctl") && spec.ends_with(" sessionctl"),
            "complete -p sessionctl: {spec:?}"
        );
        let got: BTreeSet<String> = ran
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("CAND\t"))
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        check_case("bash", case.line, &got, case);
    }
}

/// Sourced by an interactive `zsh -f` inside a zpty: loads compinit and the script, and
/// wraps compadd to print every candidate the completion system would offer.
const ZSH_SETUP: &str = r#"
PROMPT='' RPROMPT=''
autoload -U compinit && compinit -u -D
source "$COMP_FILE"
bindkey '^I' complete-word
bindkey '^M' undefined
bindkey '^J' undefined
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
compadd () {
  # Calls that only filter or collect (-O, -A, -D) are the completion system's own.
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"; return $?
  fi
  typeset -a __hits
  builtin compadd -A __hits "$@"
  local __h
  for __h in $__hits; do print -r -- "<CAND>$__h</CAND>"; done
}
__cap_end () { print -r -- '<END>'; exit 0 }
comppostfuncs=( __cap_end )
print -r -- '<READY>'
"#;

/// Run by `zsh -f`: starts the interactive shell in a pty, types the line and a TAB.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "source ${(q)ZSH_SETUP_FILE}"
local line out
integer ready=0
while zpty -r z line; do
  [[ $line == *'<READY>'* ]] && { ready=1; break }
done
(( ready )) || exit 4
zpty -n -w z "$*"$'\t'
while zpty -r z line; do
  out+=$line
  [[ $line == *'<END>'* ]] && break
done
print -r -- "$out"
zpty -d z
"#;

#[test]
fn zsh_completion() {
    let Some(zsh) = which("zsh") else {
        skipped("zsh completion", "zsh");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let file = repo().join("completions/_sessionctl");

    // Loads under compinit without a word on stderr, defines _sessionctl, registers it.
    let ran = run(
        shell(&zsh, home.path())
            .args(["-f", "-c"])
            .arg(
                r#"autoload -U compinit && compinit -u -D || exit 2
                source "$COMP_FILE" || exit 3
                (( $+functions[_sessionctl] )) || { print -u2 "_sessionctl is not defined"; exit 5 }
                [[ ${_comps[sessionctl]} == _sessionctl ]] || { print -u2 "compdef did not register sessionctl"; exit 6 }
                print ok"#,
            )
            .env("COMP_FILE", &file),
        30,
    );
    assert!(
        ran.code == Some(0) && ran.stdout.trim() == "ok" && ran.stderr.is_empty(),
        "zsh: loading {}\n{}",
        file.display(),
        ran.both()
    );

    // Real completion needs ZLE, so a terminal: zsh's own zpty module provides one.
    let probe = run(
        shell(&zsh, home.path()).args(["-f", "-c", "zmodload zsh/zpty"]),
        30,
    );
    if probe.code != Some(0) {
        loud("SKIPPED: zsh completion candidates (the zsh/zpty module is not installed)");
        return;
    }
    let setup = home.path().join("setup.zsh");
    std::fs::write(&setup, ZSH_SETUP).unwrap();
    for case in CASES {
        let line = case.line.join(" ");
        let ran = run(
            shell(&zsh, home.path())
                .args(["-f", "-c", ZSH_DRIVER, "zsh", &line])
                .env("ZSH_SETUP_FILE", &setup)
                .env("COMP_FILE", &file),
            30,
        );
        assert!(
            ran.code == Some(0) && ran.stdout.contains("<END>"),
            "zsh: completing {line:?}\n{}",
            ran.both()
        );
        let got: BTreeSet<String> = ran
            .stdout
            .split("<CAND>")
            .skip(1)
            .filter_map(|s| s.split_once("</CAND>").map(|(c, _)| c.to_string()))
            .collect();
        check_case("zsh", case.line, &got, case);
    }
}

/// Known gaps of clap_complete's fish script, at clap_complete 4.6: a value for an
/// option given *before* the subcommand, and positional value sets, fall back to file
/// names, because every top-level condition runs `argparse` over the incomplete line.
/// Reported on each run; turn a line into a CASES entry once the script handles it.
const FISH_GAPS: &[Gap] = &[
    Gap {
        line: &["sessionctl", "--format", ""],
        want: &["table", "json", "ndjson"],
    },
    Gap {
        line: &["sessionctl", "completions", ""],
        want: &["bash", "zsh", "fish"],
    },
];

fn fish_complete(fish: &Path, home: &Path, file: &Path, line: &str) -> BTreeSet<String> {
    let ran = run(
        shell(fish, home)
            .args(["--no-config", "-c"])
            .arg(r#"source $argv[1]; or exit 3; complete -C $argv[2]"#)
            .arg(file)
            .arg(line),
        30,
    );
    assert!(
        ran.code == Some(0) && ran.stderr.is_empty(),
        "fish: completing {line:?}\n{}",
        ran.both()
    );
    // `complete -C` prints "candidate<TAB>description".
    ran.stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn fish_completion() {
    let Some(fish) = which("fish") else {
        skipped("fish completion", "fish");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let file = repo().join("completions/sessionctl.fish");

    let ran = run(
        shell(&fish, home.path())
            .args(["--no-config", "--no-execute"])
            .arg(&file),
        30,
    );
    assert!(
        ran.code == Some(0) && ran.stderr.is_empty(),
        "fish --no-execute {}\n{}",
        file.display(),
        ran.both()
    );

    for case in CASES {
        let line = case.line.join(" ");
        let got = fish_complete(&fish, home.path(), &file, &line);
        check_case("fish", case.line, &got, case);
    }
    // fish also takes --opt=value: these values must complete.
    let got = fish_complete(&fish, home.path(), &file, "sessionctl --format=");
    for v in ["--format=table", "--format=json", "--format=ndjson"] {
        assert!(
            got.contains(v),
            "fish: `sessionctl --format=` lacks {v}: {got:?}"
        );
    }

    for gap in FISH_GAPS {
        let line = gap.line.join(" ");
        let got = fish_complete(&fish, home.path(), &file, &line);
        if !gap.want.iter().all(|w| got.contains(*w)) {
            loud(&format!(
                "NOTE: fish: completing {line:?} does not offer {:?} (known clap_complete gap)",
                gap.want
            ));
        }
    }
}

/// Every page under man/ (tests/generated.rs checks they are the current ones).
fn man_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    pages.sort();
    assert!(pages.len() > 1, "man/ holds {pages:?}");
    pages
}

/// `mandoc -Tlint` at its strictest (every level, STYLE included) has nothing to say
/// about any page, and `groff -ww` warns about nothing.
#[test]
fn man_pages_lint_clean() {
    let home = tempfile::tempdir().unwrap();
    let mut linted = false;

    if let Some(mandoc) = which("mandoc") {
        linted = true;
        for page in man_pages() {
            let ran = run(
                shell(&mandoc, home.path())
                    .args(["-Tlint", "-W", "all"])
                    .arg(&page),
                30,
            );
            assert!(
                ran.code == Some(0) && ran.stdout.trim().is_empty() && ran.stderr.trim().is_empty(),
                "mandoc -Tlint -W all {}:\n{}",
                page.display(),
                ran.both()
            );
        }
    } else {
        skipped("man page lint with mandoc -Tlint", "mandoc");
    }

    if let Some(groff) = which("groff") {
        linted = true;
        for page in man_pages() {
            let ran = run(
                shell(&groff, home.path())
                    .args(["-ww", "-man", "-z"])
                    .arg(&page),
                30,
            );
            assert!(
                ran.code == Some(0) && ran.stderr.trim().is_empty(),
                "groff -ww -man -z {}\n{}",
                page.display(),
                ran.both()
            );
        }
    } else {
        skipped("man page lint with groff -ww", "groff");
    }

    if !linted {
        loud("SKIPPED: man page lint (neither mandoc nor groff installed)");
    }
}
