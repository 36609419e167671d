//! Completions and the man pages, generated from the clap definition.
//!
//! The man pages are `sessionctl.1` and one page per subcommand (`sessionctl-list.1`,
//! `sessionctl-journal-undo.1`, …), as the SUBCOMMANDS section of `sessionctl.1` names
//! them. clap_mangen renders what clap knows (name, synopsis, description, options,
//! subcommands); the sections it cannot know (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES,
//! SEE ALSO, the session ids `show` takes) are roff written here. Every page is then
//! tidied so that `mandoc -Tlint` has nothing to say about it (tests/shells.rs).

use std::io::{self, Write};
use std::path::Path;

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

/// The date on the man pages: this version's release date (bump with the version).
const MAN_DATE: &str = "2026-11-25";

/// `sessionctl man`: the main page.
pub fn man<W: Write>(w: &mut W) -> io::Result<()> {
    let (_, page) = man_pages().into_iter().next().expect("the main page");
    w.write_all(&page)
}

/// `sessionctl man --dir DIR`: every page into DIR.
pub fn man_dir(dir: &Path) -> io::Result<u8> {
    let written = (|| {
        // The directory the user named, made as that user (only directories are made by
        // path here: mkdir creates nothing through a link and writes no content; a link
        // the user named is the place they asked for). Each page is then written through
        // the directory fd to a new exclusive temp file and renamed into place, never
        // through a link (fsx::Dir::replace).
        std::fs::create_dir_all(dir)?;
        let d = crate::fsx::Dir::open(dir)?;
        let pages = man_pages();
        for (name, page) in &pages {
            d.replace(std::ffi::OsStr::new(name), page, 0o644, None, || Ok(()))?;
        }
        Ok::<usize, io::Error>(pages.len())
    })();
    match written {
        Ok(n) => {
            eprintln!("sessionctl: wrote {n} man pages to {}", dir.display());
            Ok(super::EXIT_OK)
        }
        Err(e) => {
            eprintln!(
                "sessionctl: {}: cannot write the man pages: {e}",
                crate::report::escape_control(&dir.display().to_string())
            );
            Ok(super::EXIT_ERROR)
        }
    }
}

/// Every man page as (file name, roff), the main page first.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    // No `help` subcommand here: it would be listed as a page that does not exist.
    let root = cli::finish(Cli::command().disable_help_subcommand(true));
    let mut pages = Vec::new();
    collect(&root, &mut pages);
    pages
}

fn collect(cmd: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    pages.push((format!("{name}.1"), render(cmd, &name)));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, pages);
    }
}

fn render(cmd: &clap::Command, name: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .date(MAN_DATE)
        .source(format!("sessionctl {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands");
    let mut out: Vec<u8> = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut out);
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut text = String::from_utf8(out).expect("clap_mangen writes UTF-8");
    text.push_str(&sections(name));
    tidy(&text).into_bytes()
}

/// The hand-written sections of each page.
fn sections(page: &str) -> String {
    let sub = page.strip_prefix("sessionctl-").unwrap_or("");
    let mut s = String::new();
    match sub {
        "" => {
            s.push_str(MAIN_EXIT_STATUS);
            s.push_str(&from_backends(ENVIRONMENT));
            s.push_str(&from_backends(FILES));
            s.push_str(EXAMPLES);
        }
        "show" => {
            s.push_str(&from_backends(SHOW_IDS));
            s.push_str(&exit_status(EXIT_SHOW));
        }
        "close" => {
            s.push_str(&from_backends(CLOSE_IDS));
            s.push_str(&exit_status(EXIT_CLOSE));
        }
        "list" => s.push_str(&exit_status(EXIT_READ)),
        "gateways" => s.push_str(&exit_status(EXIT_READ)),
        "doctor" => s.push_str(&exit_status(EXIT_DOCTOR)),
        "check" => s.push_str(&exit_status(EXIT_CHECK)),
        "watch" => s.push_str(&exit_status(EXIT_WATCH)),
        "install" | "install-systemd" => s.push_str(&exit_status(EXIT_INSTALL)),
        "journal" => s.push_str(&exit_status(EXIT_JOURNAL)),
        "journal-undo" => s.push_str(&exit_status(EXIT_UNDO)),
        "completions" => s.push_str(&exit_status(EXIT_GEN)),
        "man" => {
            s.push_str(&exit_status(EXIT_GEN));
            s.push_str(MAN_INSTALL);
        }
        _ => {}
    }
    s.push_str(&see_also(page));
    s
}

/// A hand-written section with what each backend says of itself filled in (its
/// variables, files and ids; see [`crate::backend::Man`]), in registry order.
fn from_backends(section: &str) -> String {
    use crate::backend::Descriptor;
    let all = || crate::backend::all();
    let each = |f: fn(&'static Descriptor) -> &'static str| all().map(f).collect::<String>();
    let names = |keep: fn(&Descriptor) -> bool| {
        all()
            .filter(|d| keep(d))
            .map(|d| d.man.name)
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let vars: Vec<&str> = all().flat_map(|d| d.process_env.iter().copied()).collect();
    let process_env: String = vars
        .iter()
        .enumerate()
        .map(|(i, v)| format!(".BR {v} {}\n", if i + 1 == vars.len() { ")" } else { "," }))
        .collect();
    let processes = all()
        .filter(|d| d.proc_kind.is_some())
        .map(|d| d.process.replace('-', "\\-"))
        .collect::<Vec<_>>()
        .join(" and ");
    section
        .replace("@BACKEND_ENV@", &each(|d| d.man.env))
        .replace("@BACKEND_FILES@", &each(|d| d.man.files))
        .replace("@DISCOVERED@", &names(|d| d.backend.discovered()))
        .replace("@PROCESS_ENV@", &process_env)
        .replace("@PROCESSES@", &processes)
        .replace("@ROW_IDS@", &each(|d| d.man.row_ids))
        .replace("@CONTENT_IDS@", &each(|d| d.man.content_ids))
        .replace("@LINKED@", &names(|d| !d.man.row_ids.is_empty()))
        .replace("@CLOSE_ROW_IDS@", &each(|d| d.man.close_row_ids))
        .replace("@CLOSE_CONTENT_IDS@", &each(|d| d.man.close_content_ids))
}

/// Each status and what it means for one subcommand.
type Statuses = &'static [(u8, &'static str)];

const EXIT_READ: Statuses = &[
    (0, "Success."),
    (
        2,
        "A usage error, or a backend or file that could not be read (the others are still \
         reported).",
    ),
];
const EXIT_SHOW: Statuses = &[
    (0, "The session was shown."),
    (
        2,
        "No active session matches the id (or a sessionId prefix is shorter than 6 \
         characters), a usage error, or a backend that could not be read.",
    ),
];
const EXIT_DOCTOR: Statuses = &[
    (0, "Healthy: no finding worse than information."),
    (
        1,
        "Findings: errors or warnings, each with the command that fixes it.",
    ),
    (2, "A usage error, or a backend that could not be read."),
];
const EXIT_CHECK: Statuses = &[
    (0, "No orphan was found, and no session_end is owed."),
    (
        1,
        "Orphans were found, or session_ends a crashed gateway owes.",
    ),
    (2, "A usage error, or a backend that could not be read."),
];
const EXIT_CLOSE: Statuses = &[
    (
        0,
        "Every chosen session was closed, or there was nothing to do.",
    ),
    (
        1,
        "Something was skipped, refused or failed; the next run retries it.",
    ),
    (
        2,
        "A usage error or a runtime error: an unreadable backend, config file or journal, \
         no terminal to confirm on without \\fB\\-\\-yes\\fR, or another \\fBclose\\fR still \
         running after 3 seconds.",
    ),
];
const EXIT_WATCH: Statuses = &[
    (0, "Stopped by SIGTERM or SIGINT."),
    (
        2,
        "A usage error, a config file or journal directory that cannot be used, or another \
         \\fBwatch\\fR already running with the same journal.",
    ),
];
const EXIT_INSTALL: Statuses = &[
    (
        0,
        "The drop-in was written, left as it was (unchanged), or removed (\\-\\-uninstall); \
         with \\-\\-dry\\-run, nothing was written.",
    ),
    (
        2,
        "A usage error, a drop-in sessionctl did not write (without \\-\\-force), or a unit \
         directory that cannot be written.",
    ),
];
const EXIT_JOURNAL: Statuses = &[
    (0, "Success."),
    (
        2,
        "A usage error, a journal that cannot be read, or an unknown run.",
    ),
];
const EXIT_UNDO: Statuses = &[
    (
        0,
        "Everything was restored, or there was nothing to restore.",
    ),
    (1, "A step was skipped or failed; each one says why."),
    (
        2,
        "A usage error, an unknown run, a journal that cannot be read, or no terminal to \
         confirm on without \\fB\\-\\-yes\\fR.",
    ),
];
const EXIT_GEN: Statuses = &[
    (0, "Success."),
    (2, "A usage error, or the output could not be written."),
];

fn exit_status(codes: Statuses) -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, what) in codes {
        s.push_str(&format!(".TP\n.B {code}\n{what}\n"));
    }
    s
}

fn see_also(page: &str) -> String {
    let mut refs: Vec<String> = Vec::new();
    if page == "sessionctl" {
        for sub in [
            "list",
            "show",
            "gateways",
            "doctor",
            "check",
            "close",
            "watch",
            "install-systemd",
            "journal",
            "journal-undo",
            "completions",
            "man",
        ] {
            refs.push(format!("sessionctl\\-{}", sub.replace('-', "\\-")));
        }
    } else {
        refs.push("sessionctl".into());
        let related: &[&str] = match page {
            "sessionctl-list" => &["show", "close"],
            "sessionctl-show" => &["list", "close"],
            "sessionctl-gateways" => &["doctor"],
            "sessionctl-doctor" => &["gateways", "close"],
            "sessionctl-check" => &["list", "close"],
            "sessionctl-close" => &["list", "show", "watch", "journal", "journal-undo"],
            "sessionctl-watch" => &["close", "journal", "check", "install-systemd"],
            "sessionctl-install" | "sessionctl-install-systemd" => &["close", "watch"],
            "sessionctl-journal" => &["journal-undo", "close"],
            "sessionctl-journal-undo" => &["journal", "close"],
            _ => &[],
        };
        refs.extend(
            related
                .iter()
                .map(|r| format!("sessionctl\\-{}", r.replace('-', "\\-"))),
        );
    }
    let mut refs: Vec<String> = refs.into_iter().map(|r| format!("{r} (1)")).collect();
    if page == "sessionctl" {
        refs.push("systemd.timer (5)".into());
        refs.push("crontab (5)".into());
    }
    let mut s = String::from(".SH \"SEE ALSO\"\n");
    let last = refs.len() - 1;
    for (i, r) in refs.iter().enumerate() {
        let sep = if i == last { "" } else { "," };
        s.push_str(&format!(".BR {r}{sep}\n"));
    }
    if page == "sessionctl" {
        // The README has what no page repeats: the JSON fields, benchmarks, tests.
        s.push_str(
            ".PP\nThe README of the source tree describes the JSON output field by field.\n",
        );
    }
    s
}

const MAIN_EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Success: for \fBcheck\fR, no orphan was found and no session_end is owed;
for \fBclose\fR and \fBjournal undo\fR, every chosen session was closed
(every step restored), or there was nothing to do.
.TP
.B 1
Findings: \fBcheck\fR found orphans or owed session_ends; \fBdoctor\fR found errors or warnings;
\fBclose\fR or \fBjournal undo\fR skipped, refused or failed something.
.TP
.B 2
A usage error, or a runtime error: a backend, the config file or the journal
could not be read, or nothing matched the id given to \fBshow\fR.
Errors go to standard error, one line each, naming the file and what is wrong;
the other backends are still reported.
"#;

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
@BACKEND_ENV@.TP
.B SESSIONCTL_YES
Set to 1 (or true, yes, on): \fBclose\fR and \fBjournal undo\fR do not ask,
as with
.BR \-\-yes .
.TP
.B SESSIONCTL_NO_OWED
Set to 1 (or true): as
.BR \-\-no\-owed .
.TP
.B SESSIONCTL_TRUST_PID_NAMESPACE
Set to 1 (or true): as
.BR \-\-trust\-pid\-namespace .
.TP
.B NO_COLOR
Set to anything but the empty string: no colors (as \fB\-\-color never\fR),
unless \fB\-\-color always\fR is given.
.TP
.B XDG_CONFIG_HOME
The config file is
.I $XDG_CONFIG_HOME/sessionctl/config.toml
(default:
.IR ~/.config ).
.TP
.B XDG_STATE_HOME
The journal is
.I $XDG_STATE_HOME/sessionctl/journal.ndjson
(default:
.IR ~/.local/state ).
.TP
.B HOME
Where the default @DISCOVERED@ directories, the config file and
the journal are looked for.
.TP
.B TMPDIR
Where OpenClaw 2026.7 keeps its gateway locks
.RI ( $TMPDIR/openclaw\-<uid>/ ,
also looked for under
.IR /tmp ).
.PP
The environment of running gateways and workers
.RI ( /proc/<pid>/environ :
@PROCESS_ENV@tells which directory each one owns and where its health endpoint is.
.PP
Hook targets: an HTTP header's value is read from the variable the config file
names for it.
A command target gets only
.BR PATH ,
.BR HOME ,
.BR LANG ,
.BR LC_* ,
.BR TZ ,
.BR TMPDIR ,
.B USER
and
.B LOGNAME
(when set), the variables its
.B env
list names, and
.BR SESSIONCTL_DELIVERY_ID ,
the same for every attempt to deliver one session's payload to that target.
"#;

const FILES: &str = r#".SH FILES
.TP
.I ~/.config/sessionctl/config.toml
The config file: hook targets, \fBconcurrency\fR, the \fB[journal]\fR limits
.RB ( max_size ,
.BR max_backups_size ,
.BR keep ),
and the \fB[[backend.sql]]\fR tables that sessionctl reads as the \fBsql\fR backend.
In
.B $XDG_CONFIG_HOME
when set;
.B \-\-config
names another.
.TP
.I ~/.local/state/sessionctl/journal.ndjson
The journal of \fBclose\fR and \fBjournal undo\fR runs, with the prior value
of every row and entry a run changed.
In
.B $XDG_STATE_HOME
when set;
.B \-\-journal
names another.
The files below live beside it.
.TP
.I journal.ndjson.1
The journal as it was before its last compaction.
.TP
.I backups/<run>/
The copies of each sessions.json a run rewrote, for a byte\-exact undo;
removed after \fB[journal] keep\fR,
or when all together exceed \fBmax_backups_size\fR.
.TP
.I close.lock
Held while \fBclose\fR or \fBjournal undo\fR runs: one at a time per journal.
.TP
.I lifetimes.ndjson
Each @PROCESSES@ lifetime \fBwatch\fR saw: a start and an end
record (pid, start time, state or data directory, how it ended).
Every command reads the gateway lifetimes in it as evidence of which finished sessions
a dead gateway owes a session_end.
Rotated to
.I lifetimes.ndjson.1
past 1 MiB.
.TP
.I watch.lock
Held while \fBwatch\fR runs: one per journal.
@BACKEND_FILES@.PP
And
.IR /proc :
processes, their start times and environments, and the boot time.
"#;

const EXAMPLES: &str = r#".SH EXAMPLES
After a crash: what is orphaned and why, one session in detail, then close them
(a picker on a terminal, then a confirmation):
.PP
.EX
sessionctl
sessionctl show agent:main:e2e\-slow
sessionctl close
.EE
.PP
From cron or CI: close every orphan without asking, and keep the record:
.PP
.EX
sessionctl check || sessionctl close \-\-yes \-\-format json \e
    >> /var/log/sessionctl.json
.EE
.PP
What \fBclose\fR would do, changing nothing:
.PP
.EX
sessionctl close \-\-dry\-run
.EE
.PP
Past runs, one run's actions, and undoing a run:
.PP
.EX
sessionctl journal
sessionctl journal 20261125T213925.482Z\-4bde07c91a3e55d2
sessionctl journal undo 20261125T213925.482Z\-4bde07c91a3e55d2 \-\-dry\-run
.EE
.PP
Report sessions idle for an hour and a half as stale:
.PP
.EX
sessionctl list \-\-idle 1h30m
.EE
.PP
Install these man pages for your user:
.PP
.EX
sessionctl man \-\-dir ~/.local/share/man/man1
.EE
"#;

const SHOW_IDS: &str = r#".SH "SESSION IDS"
A session is named as the ID and SESSION columns of
\fBsessionctl list\fR show it:
@ROW_IDS@.TP
.B ae3ade86\-9fb7\-4837\-a009\-6fcc1c41c22b
An OpenClaw sessionId, or a unique prefix of it of at least 6 characters
.RB ( ae3ade86 );
a shorter prefix is refused as too short.
.TP
.B agent:main:e2e\-slow
An OpenClaw session key.
@CONTENT_IDS@.PP
The records linked to the session (an OpenClaw session and its @LINKED@
rows) are shown with it.
"#;

const CLOSE_IDS: &str = r#".SH "SESSION IDS"
The ids are those \fBsessionctl show\fR takes: @CLOSE_ROW_IDS@an OpenClaw sessionId or a unique prefix of it of at least 6 characters,
a session key@CLOSE_CONTENT_IDS@.
"#;

const MAN_INSTALL: &str = r#".SH EXAMPLES
Install every page for your user, where
.BR man (1)
finds them:
.PP
.EX
sessionctl man \-\-dir ~/.local/share/man/man1
.EE
"#;

/// Make clap_mangen's roff lint-clean: `.br`, blank line, `.br` (its separation of an
/// option's help from its possible values) becomes one `.sp`; text lines are wrapped at
/// 80 bytes; no line ends in a space.
fn tidy(roff: &str) -> String {
    let roff = roff.replace("\n.br\n\n.br\n", "\n.sp\n");
    // clap_mangen starts every section it renders with the same two lines defining `Aq`;
    // once is enough.
    let mut defined_aq = false;
    let mut out = String::with_capacity(roff.len() + roff.len() / 16);
    let mut no_fill = false;
    let mut tag_line = false;
    for line in roff.lines() {
        let line = line.trim_end();
        let request = line.starts_with('.') || line.starts_with('\'');
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            if defined_aq && line.starts_with(".ie") {
                continue;
            }
            if line.starts_with(".el") {
                if defined_aq {
                    continue;
                }
                defined_aq = true;
            }
        }
        if request {
            let name = line[1..].split_whitespace().next().unwrap_or("");
            match name {
                "nf" | "EX" => no_fill = true,
                "fi" | "EE" => no_fill = false,
                _ => {}
            }
            out.push_str(line);
            out.push('\n');
            // The line after `.TP` is the tag: one line, never wrapped.
            tag_line = name == "TP";
            continue;
        }
        if no_fill || tag_line {
            out.push_str(line);
            out.push('\n');
        } else {
            wrap(line, &mut out);
        }
        tag_line = false;
    }
    out
}

/// Split a filled text line at spaces into lines of at most 80 bytes. A line never
/// starts with a space, `.` or `'` (those would be a break or a request), and never
/// ends with a backslash (an escaped space or a continuation).
fn wrap(line: &str, out: &mut String) {
    const WIDTH: usize = 80;
    let mut rest = line;
    while rest.len() > WIDTH {
        let b = rest.as_bytes();
        let ok = |i: usize| {
            b[i] == b' '
                && i > 0
                && b[i - 1] != b' '
                && b[i - 1] != b'\\'
                && i + 1 < b.len()
                && !matches!(b[i + 1], b' ' | b'.' | b'\'')
        };
        let at = (1..=WIDTH)
            .rev()
            .find(|&i| ok(i))
            .or_else(|| (WIDTH..b.len()).find(|&i| ok(i)));
        let Some(at) = at else { break };
        out.push_str(&rest[..at]);
        out.push('\n');
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_only_where_roff_allows() {
        let mut out = String::new();
        let word = "abcdefghi ";
        let line = word.repeat(12);
        wrap(line.trim_end(), &mut out);
        assert!(out.lines().all(|l| l.len() <= 80), "{out}");
        assert_eq!(out.replace('\n', " ").trim_end(), line.trim_end());

        // Never a line that starts with `.` or `'`, nor a break in `\ `.
        let mut out = String::new();
        let line = format!("{} .x 'y a\\ b", "w".repeat(76));
        wrap(&line, &mut out);
        for l in out.lines().skip(1) {
            assert!(!l.starts_with(['.', '\'', ' ']), "{out}");
        }
        assert!(out.contains("a\\ b"), "{out}");
    }

    #[test]
    fn tidy_joins_the_possible_values_break() {
        let t = tidy(".TP\nhelp\n.br\n\n.br\n\\fIPossible values:\\fR\n");
        assert_eq!(t, ".TP\nhelp\n.sp\n\\fIPossible values:\\fR\n");
    }

    #[test]
    fn every_subcommand_has_a_page() {
        let names: Vec<String> = man_pages().into_iter().map(|(n, _)| n).collect();
        for want in [
            "sessionctl.1",
            "sessionctl-list.1",
            "sessionctl-close.1",
            "sessionctl-journal.1",
            "sessionctl-journal-undo.1",
            "sessionctl-man.1",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }
}
