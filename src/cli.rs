//! The command-line surface. Depends on clap alone, so completions and the man page can be
//! generated from it without touching the rest of the program.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Find and repair orphaned agent sessions.
///
/// When an OpenClaw gateway dies without a clean stop (SIGKILL, OOM, crash, reboot) its
/// `session_end` hook never fires, and downstream stores such as claude-mem keep those
/// sessions active forever. sessionctl lists what every backend considers active, proves
/// which sessions have no living owner, and explains each verdict with its evidence.
/// Without a subcommand it runs `list`.
#[derive(Debug, Parser)]
#[command(
    name = "sessionctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand takes. Under their own heading in every `--help`, after the
/// subcommand's own options; hidden from `completions` and `man`, where none applies.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// OpenClaw state directory to inspect (repeatable); replaces auto-discovery
    /// from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw.
    #[arg(long = "openclaw-state-dir", value_name = "DIR", global = true)]
    pub openclaw_state_dirs: Vec<PathBuf>,

    /// claude-mem data directory to inspect; replaces auto-discovery from
    /// CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem.
    #[arg(long = "claude-mem-dir", value_name = "DIR", global = true)]
    pub claude_mem_dir: Option<PathBuf>,

    /// Only inspect these backends (repeatable or comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', global = true)]
    pub backend: Vec<BackendArg>,

    /// Output format: a table for people, json or ndjson for programs.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Idle time after which a session with a living owner is reported stale: a number
    /// and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d.
    // allow_hyphen_values: `--idle -5m` reaches the parser, which says it is negative,
    // instead of clap reporting an unexpected argument `-5`.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = crate::duration::parse_idle, allow_hyphen_values = true, global = true)]
    pub idle: Duration,

    /// Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson).
    #[arg(long, value_name = "FILE", global = true)]
    pub journal: Option<PathBuf>,

    /// When to color tables: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,

    /// Same as --color never.
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Leave finished sessions out: do not report the session_end a crashed gateway owes
    /// them (verdict owed, which close delivers), and treat every running orphan as owed
    /// one, as before sessionctl read gateway lifetimes.
    #[arg(long = "no-owed", global = true, env = "SESSIONCTL_NO_OWED")]
    pub no_owed: bool,

    /// Every gateway and worker of the dirs read runs in sessionctl's own pid namespace (a
    /// container that runs both): a pid that is dead there is proof. Without it, sessionctl
    /// in a pid namespace of its own calls such a session unknown, never orphan.
    #[arg(long, global = true, env = "SESSIONCTL_TRUST_PID_NAMESPACE")]
    pub trust_pid_namespace: bool,

    /// Print more detail about discovery and probes to stderr.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print nothing but the requested output and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every active session of every backend with its verdict (the default).
    List,
    /// Explain one session: every backend's record, the evidence and the verdict.
    #[command(after_help = SHOW_IDS)]
    Show {
        /// The session, as the ID and SESSION columns of `sessionctl list` show it (see
        /// below).
        id: String,
    },
    /// List gateway and worker processes, lock files and pid files with their health.
    Gateways,
    /// Diagnose pool exhaustion and stale state: findings, worst first, each with the fix.
    Doctor,
    /// Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error;
    /// one summary line.
    Check {
        /// Also write node_exporter textfile-collector metrics to this file (atomically).
        #[arg(long, value_name = "PATH")]
        prometheus_textfile: Option<PathBuf>,
    },
    /// Close orphans: deliver the session_end payload a clean shutdown would have sent
    /// and repair the stores. Journaled; interactive on a terminal unless --yes.
    Close(CloseArgs),
    /// Stay in the foreground and repair after every gateway or claude-mem worker death:
    /// wait --grace, then close what is orphaned, as `close --yes` does.
    ///
    /// watch holds a pidfd for every gateway and worker it finds and learns of new ones
    /// from inotify on the gateway lock dirs and claude-mem data dirs (and a rescan every
    /// minute); it uses no CPU while nothing happens. When one exits it waits --grace,
    /// then runs `close --yes`: the same journal, hook targets, locks, re-check and
    /// verdicts, so nothing a live gateway owns is touched. Sessions of a gateway that came
    /// back get one more pass once its 120 s recovery window is over (`reason: restart`).
    /// Its first pass runs a grace after it starts. Each gateway and worker lifetime it saw
    /// is appended to lifetimes.ndjson beside the journal. One line per event on stderr;
    /// SIGTERM or SIGINT stops it (exit 0).
    Watch {
        /// How long to wait after a gateway or worker exits before closing its orphans: a
        /// `Restart=always` gateway comes back within it and runs its own recovery.
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_grace, allow_hyphen_values = true)]
        grace: Duration,
        /// Also write node_exporter textfile-collector metrics to this file (atomically)
        /// on every event.
        #[arg(long, value_name = "PATH")]
        prometheus_textfile: Option<PathBuf>,
    },
    /// List close runs and their actions, or undo a run.
    Journal {
        #[command(subcommand)]
        action: Option<JournalAction>,
        /// Show the actions of this run (default: list all runs).
        run: Option<String>,
    },
    /// Install sessionctl into other programs' service managers.
    Install {
        #[command(subcommand)]
        target: InstallTarget,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff) to stdout, or write every page to a directory.
    #[command(after_help = MAN_INSTALL)]
    Man {
        /// Write sessionctl.1 and one page per subcommand (sessionctl-list.1 and so on)
        /// into DIR, created if missing, instead of printing sessionctl.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// How `show` (and `close`) name a session; `show --help` prints it.
pub const SHOW_IDS: &str = "\
IDs:
  cm:42, claude-mem:42, 42  a claude-mem row id (the ID column shows claude-mem rows as cm:42)
  ae3ade86-9fb7-...         an OpenClaw sessionId, or a unique prefix of it of at least 6
                            characters (ae3ade86); a shorter prefix is refused as too short
  agent:main:e2e-slow       an OpenClaw session key (the SESSION column)
  openclaw-agent:main:...   a claude-mem content session id

The records linked to the session (an OpenClaw session and its claude-mem rows) are shown
with it.";

const MAN_INSTALL: &str = "\
Install the pages for your user:
  sessionctl man --dir ~/.local/share/man/man1";

/// `watch --grace`: a duration; a bare number is taken to mean seconds in the hint.
fn parse_grace(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s, "s")
}

/// The `sessionctl` command as it is parsed and documented: [`Cli`], with the global
/// options hidden from `completions` and `man`, which take none of them. (They are still
/// accepted there, and ignored, as before.)
pub fn command() -> clap::Command {
    finish(Cli::command())
}

/// [`command`]'s adjustments to a command made from [`Cli`] (the man pages make theirs
/// without the `help` subcommand), before it is built.
pub fn finish(cmd: clap::Command) -> clap::Command {
    // Building copies each global option into every subcommand that has no option of that
    // id yet: give `completions` and `man` hidden copies first.
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().hide(true))
        .collect();
    let mut cmd = ["completions", "man"].iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |sc| sc.args(hidden.iter().cloned()))
    });
    cmd.build();
    cmd
}

#[derive(Debug, Args, Clone, Default)]
pub struct CloseArgs {
    /// Sessions to close: claude-mem row ids (cm:42), OpenClaw sessionIds (or unique
    /// prefixes of 6+ characters), session keys or claude-mem content session ids, as
    /// `sessionctl show --help` describes them. Without ids: every orphan.
    pub ids: Vec<String>,
    /// Close every orphan (the default when no id is given).
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// Also close stale sessions (owner alive, idle longer than --idle).
    #[arg(long)]
    pub include_stale: bool,
    /// Also close sessions whose verdict is unknown; only with explicit ids.
    #[arg(long, requires = "ids")]
    pub force: bool,
    /// Print every payload and planned write, and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1.
    #[arg(long, short = 'y', env = "SESSIONCTL_YES", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub yes: bool,
    /// The session_end reason to send (default: restart when a newer gateway runs, else shutdown).
    #[arg(long, value_enum)]
    pub reason: Option<EndReason>,
    /// For the gateway unit's ExecStopPost= (see `sessionctl install systemd`): do nothing
    /// after a clean stop ($SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS); otherwise close as
    /// --yes does, leaving out the running sessions of SQLite stores, which the restarted
    /// gateway re-runs. Implies --yes.
    #[arg(long, conflicts_with_all = ["ids", "force"])]
    pub after_stop: bool,
}

/// What `install` installs into.
#[derive(Debug, Subcommand)]
pub enum InstallTarget {
    /// Write (or remove) a drop-in for OpenClaw's own systemd user unit that runs
    /// `sessionctl close --yes --after-stop` after every stop of the gateway.
    #[command(after_help = INSTALL_SYSTEMD)]
    Systemd(InstallSystemdArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct InstallSystemdArgs {
    /// The OpenClaw profile whose gateway unit to extend
    /// (openclaw-gateway-NAME.service instead of openclaw-gateway.service).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Remove the drop-in this command wrote (never a file it did not write).
    #[arg(long)]
    pub uninstall: bool,
    /// Print the path and the drop-in, and write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// The systemd user unit directory (default: $XDG_CONFIG_HOME/systemd/user, usually
    /// ~/.config/systemd/user).
    #[arg(long, value_name = "DIR")]
    pub unit_dir: Option<PathBuf>,
    /// Replace a sessionctl.conf that sessionctl did not write.
    #[arg(long, conflicts_with = "uninstall")]
    pub force: bool,
    /// Run `systemctl --user daemon-reload` afterwards (when systemctl is installed).
    #[arg(long)]
    pub reload: bool,
}

const INSTALL_SYSTEMD: &str = "\
The drop-in is <unit>.d/sessionctl.conf in the unit directory. OpenClaw's installer rewrites
its unit file on update, never the drop-in. --journal, --config, --openclaw-state-dir and
--claude-mem-dir given to `install` are passed on to the repair.

Then:
  systemctl --user daemon-reload
  systemctl --user cat openclaw-gateway.service   # the unit, with the drop-in at the end";

/// OpenClaw's session_end reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndReason {
    /// A new session replaced it.
    New,
    /// The session was reset.
    Reset,
    /// It idled out.
    Idle,
    /// The daily rollover.
    Daily,
    /// Compaction.
    Compaction,
    /// It was deleted.
    Deleted,
    /// The gateway shut down.
    Shutdown,
    /// The gateway restarted.
    Restart,
    /// Unknown.
    Unknown,
}

impl EndReason {
    pub fn name(self) -> &'static str {
        match self {
            EndReason::New => "new",
            EndReason::Reset => "reset",
            EndReason::Idle => "idle",
            EndReason::Daily => "daily",
            EndReason::Compaction => "compaction",
            EndReason::Deleted => "deleted",
            EndReason::Shutdown => "shutdown",
            EndReason::Restart => "restart",
            EndReason::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum JournalAction {
    /// Restore the store rows and entries a run changed (hook deliveries cannot be unsent).
    Undo {
        /// The run id (see `sessionctl journal`).
        run: String,
        /// Show what would be restored, and change nothing.
        #[arg(long, short = 'n')]
        dry_run: bool,
        /// Do not ask for confirmation. Also SESSIONCTL_YES=1.
        #[arg(long, short = 'y', env = "SESSIONCTL_YES", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
        yes: bool,
    },
}

/// A backend sessionctl knows how to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// OpenClaw gateway session stores (sessions.json or the per-agent SQLite store).
    Openclaw,
    /// claude-mem's sdk_sessions table.
    ClaudeMem,
    /// Every [[backend.sql]] table the config file declares.
    Sql,
}

/// When to use colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A table for people (colored on a terminal).
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Shells that completions can be generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
        command().debug_assert();
    }
}
