# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sessionctl_global_optspecs
    string join \n openclaw-state-dir= claude-mem-dir= backend= format= idle= config= journal= color= no-color no-owed trust-pid-namespace v/verbose q/quiet h/help V/version
end

function __fish_sessionctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sessionctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sessionctl_using_subcommand
    set -l cmd (__fish_sessionctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sessionctl -n "__fish_sessionctl_needs_command" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "man" -d 'Print the man page (roff) to stdout, or write every page to a directory'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "list" -d 'List every active session of every backend with its verdict (the default)'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "show" -d 'Explain one session: every backend\'s record, the evidence and the verdict'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "gateways" -d 'List gateway and worker processes, lock files and pid files with their health'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "doctor" -d 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "check" -d 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "close" -d 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "watch" -d 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "journal" -d 'List close runs and their actions, or undo a run'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "install" -d 'Install sessionctl into other programs\' service managers'
complete -c sessionctl -n "__fish_sessionctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand man" -l dir -d 'Write sessionctl.1 and one page per subcommand (sessionctl-list.1 and so on) into DIR, created if missing, instead of printing sessionctl.1' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand list" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand gateways" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l prometheus-textfile -d 'Also write node_exporter textfile-collector metrics to this file (atomically)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l reason -d 'The session_end reason to send (default: restart when a newer gateway runs, else shutdown)' -r -f -a "new\t'A new session replaced it'
reset\t'The session was reset'
idle\t'It idled out'
daily\t'The daily rollover'
compaction\t'Compaction'
deleted\t'It was deleted'
shutdown\t'The gateway shut down'
restart\t'The gateway restarted'
unknown\t'Unknown'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l all -d 'Close every orphan (the default when no id is given)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l include-stale -d 'Also close stale sessions (owner alive, idle longer than --idle)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l force -d 'Also close sessions whose verdict is unknown; only with explicit ids'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s n -l dry-run -d 'Print every payload and planned write, and change nothing'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s y -l yes -d 'Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l after-stop -d 'For the gateway unit\'s ExecStopPost= (see `sessionctl install systemd`): do nothing after a clean stop ($SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS); otherwise close as --yes does, leaving out the running sessions of SQLite stores, which the restarted gateway re-runs. Implies --yes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand close" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l grace -d 'How long to wait after a gateway or worker exits before closing its orphans: a `Restart=always` gateway comes back within it and runs its own recovery' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l prometheus-textfile -d 'Also write node_exporter textfile-collector metrics to this file (atomically) on every event' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand watch" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -a "undo" -d 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and not __fish_seen_subcommand_from undo help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s n -l dry-run -d 'Show what would be restored, and change nothing'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s y -l yes -d 'Do not ask for confirmation. Also SESSIONCTL_YES=1'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from undo" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "undo" -d 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand journal; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -f -a "systemd" -d 'Write (or remove) a drop-in for OpenClaw\'s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and not __fish_seen_subcommand_from systemd help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l profile -d 'The OpenClaw profile whose gateway unit to extend (openclaw-gateway-NAME.service instead of openclaw-gateway.service)' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l unit-dir -d 'The systemd user unit directory (default: $XDG_CONFIG_HOME/systemd/user, usually ~/.config/systemd/user)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l openclaw-state-dir -d 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l claude-mem-dir -d 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l backend -d 'Only inspect these backends (repeatable or comma-separated)' -r -f -a "openclaw\t'OpenClaw gateway session stores (sessions.json or the per-agent SQLite store)'
claude-mem\t'claude-mem\'s sdk_sessions table'
sql\t'Every [[backend.sql]] table the config file declares'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l format -d 'Output format: a table for people, json or ndjson for programs' -r -f -a "table\t'A table for people (colored on a terminal)'
json\t'One JSON document'
ndjson\t'One JSON object per line'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l idle -d 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d' -r
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l config -d 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l journal -d 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)' -r -F
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l color -d 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l uninstall -d 'Remove the drop-in this command wrote (never a file it did not write)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -s n -l dry-run -d 'Print the path and the drop-in, and write nothing'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l force -d 'Replace a sessionctl.conf that sessionctl did not write'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l reload -d 'Run `systemctl --user daemon-reload` afterwards (when systemctl is installed)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l no-color -d 'Same as --color never'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l no-owed -d 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -l trust-pid-namespace -d 'Every gateway and worker of the dirs read runs in sessionctl\'s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -s v -l verbose -d 'Print more detail about discovery and probes to stderr'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -s q -l quiet -d 'Print nothing but the requested output and errors'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from systemd" -s V -l version -d 'Print version'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from help" -f -a "systemd" -d 'Write (or remove) a drop-in for OpenClaw\'s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand install; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "man" -d 'Print the man page (roff) to stdout, or write every page to a directory'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "list" -d 'List every active session of every backend with its verdict (the default)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "show" -d 'Explain one session: every backend\'s record, the evidence and the verdict'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "gateways" -d 'List gateway and worker processes, lock files and pid files with their health'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "doctor" -d 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "check" -d 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "close" -d 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "watch" -d 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "journal" -d 'List close runs and their actions, or undo a run'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "install" -d 'Install sessionctl into other programs\' service managers'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and not __fish_seen_subcommand_from completions man list show gateways doctor check close watch journal install help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and __fish_seen_subcommand_from journal" -f -a "undo" -d 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
complete -c sessionctl -n "__fish_sessionctl_using_subcommand help; and __fish_seen_subcommand_from install" -f -a "systemd" -d 'Write (or remove) a drop-in for OpenClaw\'s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
