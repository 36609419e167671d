
use builtin;
use str;

set edit:completion:arg-completer[sessionctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sessionctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sessionctl'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout, or write every page to a directory'
            cand list 'List every active session of every backend with its verdict (the default)'
            cand show 'Explain one session: every backend''s record, the evidence and the verdict'
            cand gateways 'List gateway and worker processes, lock files and pid files with their health'
            cand doctor 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix'
            cand check 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line'
            cand close 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes'
            cand watch 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does'
            cand journal 'List close runs and their actions, or undo a run'
            cand install 'Install sessionctl into other programs'' service managers'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;man'= {
            cand --dir 'Write sessionctl.1 and one page per subcommand (sessionctl-list.1 and so on) into DIR, created if missing, instead of printing sessionctl.1'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;list'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;show'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;gateways'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;doctor'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;check'= {
            cand --prometheus-textfile 'Also write node_exporter textfile-collector metrics to this file (atomically)'
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;close'= {
            cand --reason 'The session_end reason to send (default: restart when a newer gateway runs, else shutdown)'
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --all 'Close every orphan (the default when no id is given)'
            cand --include-stale 'Also close stale sessions (owner alive, idle longer than --idle)'
            cand --force 'Also close sessions whose verdict is unknown; only with explicit ids'
            cand -n 'Print every payload and planned write, and change nothing'
            cand --dry-run 'Print every payload and planned write, and change nothing'
            cand -y 'Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1'
            cand --yes 'Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1'
            cand --after-stop 'For the gateway unit''s ExecStopPost= (see `sessionctl install systemd`): do nothing after a clean stop ($SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS); otherwise close as --yes does, leaving out the running sessions of SQLite stores, which the restarted gateway re-runs. Implies --yes'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;watch'= {
            cand --grace 'How long to wait after a gateway or worker exits before closing its orphans: a `Restart=always` gateway comes back within it and runs its own recovery'
            cand --prometheus-textfile 'Also write node_exporter textfile-collector metrics to this file (atomically) on every event'
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;journal'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand undo 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;journal;undo'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand -n 'Show what would be restored, and change nothing'
            cand --dry-run 'Show what would be restored, and change nothing'
            cand -y 'Do not ask for confirmation. Also SESSIONCTL_YES=1'
            cand --yes 'Do not ask for confirmation. Also SESSIONCTL_YES=1'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;journal;help'= {
            cand undo 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;journal;help;undo'= {
        }
        &'sessionctl;journal;help;help'= {
        }
        &'sessionctl;install'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand systemd 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;install;systemd'= {
            cand --profile 'The OpenClaw profile whose gateway unit to extend (openclaw-gateway-NAME.service instead of openclaw-gateway.service)'
            cand --unit-dir 'The systemd user unit directory (default: $XDG_CONFIG_HOME/systemd/user, usually ~/.config/systemd/user)'
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d'
            cand --config 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)'
            cand --journal 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)'
            cand --color 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never'
            cand --uninstall 'Remove the drop-in this command wrote (never a file it did not write)'
            cand -n 'Print the path and the drop-in, and write nothing'
            cand --dry-run 'Print the path and the drop-in, and write nothing'
            cand --force 'Replace a sessionctl.conf that sessionctl did not write'
            cand --reload 'Run `systemctl --user daemon-reload` afterwards (when systemctl is installed)'
            cand --no-color 'Same as --color never'
            cand --no-owed 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes'
            cand --trust-pid-namespace 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;install;help'= {
            cand systemd 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;install;help;systemd'= {
        }
        &'sessionctl;install;help;help'= {
        }
        &'sessionctl;help'= {
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout, or write every page to a directory'
            cand list 'List every active session of every backend with its verdict (the default)'
            cand show 'Explain one session: every backend''s record, the evidence and the verdict'
            cand gateways 'List gateway and worker processes, lock files and pid files with their health'
            cand doctor 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix'
            cand check 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line'
            cand close 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes'
            cand watch 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does'
            cand journal 'List close runs and their actions, or undo a run'
            cand install 'Install sessionctl into other programs'' service managers'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;help;completions'= {
        }
        &'sessionctl;help;man'= {
        }
        &'sessionctl;help;list'= {
        }
        &'sessionctl;help;show'= {
        }
        &'sessionctl;help;gateways'= {
        }
        &'sessionctl;help;doctor'= {
        }
        &'sessionctl;help;check'= {
        }
        &'sessionctl;help;close'= {
        }
        &'sessionctl;help;watch'= {
        }
        &'sessionctl;help;journal'= {
            cand undo 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)'
        }
        &'sessionctl;help;journal;undo'= {
        }
        &'sessionctl;help;install'= {
            cand systemd 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway'
        }
        &'sessionctl;help;install;systemd'= {
        }
        &'sessionctl;help;help'= {
        }
    ]
    $completions[$command]
}
