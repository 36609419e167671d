
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sessionctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sessionctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sessionctl' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout, or write every page to a directory')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every active session of every backend with its verdict (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Explain one session: every backend''s record, the evidence and the verdict')
            [CompletionResult]::new('gateways', 'gateways', [CompletionResultType]::ParameterValue, 'List gateway and worker processes, lock files and pid files with their health')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does')
            [CompletionResult]::new('journal', 'journal', [CompletionResultType]::ParameterValue, 'List close runs and their actions, or undo a run')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install sessionctl into other programs'' service managers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write sessionctl.1 and one page per subcommand (sessionctl-list.1 and so on) into DIR, created if missing, instead of printing sessionctl.1')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;list' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;show' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;gateways' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;doctor' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;check' {
            [CompletionResult]::new('--prometheus-textfile', '--prometheus-textfile', [CompletionResultType]::ParameterName, 'Also write node_exporter textfile-collector metrics to this file (atomically)')
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;close' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'The session_end reason to send (default: restart when a newer gateway runs, else shutdown)')
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Close every orphan (the default when no id is given)')
            [CompletionResult]::new('--include-stale', '--include-stale', [CompletionResultType]::ParameterName, 'Also close stale sessions (owner alive, idle longer than --idle)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Also close sessions whose verdict is unknown; only with explicit ids')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print every payload and planned write, and change nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print every payload and planned write, and change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask; close what was selected (for cron and CI). Also SESSIONCTL_YES=1')
            [CompletionResult]::new('--after-stop', '--after-stop', [CompletionResultType]::ParameterName, 'For the gateway unit''s ExecStopPost= (see `sessionctl install systemd`): do nothing after a clean stop ($SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS); otherwise close as --yes does, leaving out the running sessions of SQLite stores, which the restarted gateway re-runs. Implies --yes')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;watch' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long to wait after a gateway or worker exits before closing its orphans: a `Restart=always` gateway comes back within it and runs its own recovery')
            [CompletionResult]::new('--prometheus-textfile', '--prometheus-textfile', [CompletionResultType]::ParameterName, 'Also write node_exporter textfile-collector metrics to this file (atomically) on every event')
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;journal' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;journal;undo' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Show what would be restored, and change nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be restored, and change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation. Also SESSIONCTL_YES=1')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation. Also SESSIONCTL_YES=1')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;journal;help' {
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;journal;help;undo' {
            break
        }
        'sessionctl;journal;help;help' {
            break
        }
        'sessionctl;install' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('systemd', 'systemd', [CompletionResultType]::ParameterValue, 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;install;systemd' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The OpenClaw profile whose gateway unit to extend (openclaw-gateway-NAME.service instead of openclaw-gateway.service)')
            [CompletionResult]::new('--unit-dir', '--unit-dir', [CompletionResultType]::ParameterName, 'The systemd user unit directory (default: $XDG_CONFIG_HOME/systemd/user, usually ~/.config/systemd/user)')
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale: a number and a unit (ms, s, m, h, d), e.g. 90s, 30m, 1h30m, 6h, 2d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with hook targets (default: $XDG_CONFIG_HOME/sessionctl/config.toml)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal of close runs (default: $XDG_STATE_HOME/sessionctl/journal.ndjson)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color tables: auto (a terminal, and NO_COLOR unset), always, never')
            [CompletionResult]::new('--uninstall', '--uninstall', [CompletionResultType]::ParameterName, 'Remove the drop-in this command wrote (never a file it did not write)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Print the path and the drop-in, and write nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the path and the drop-in, and write nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace a sessionctl.conf that sessionctl did not write')
            [CompletionResult]::new('--reload', '--reload', [CompletionResultType]::ParameterName, 'Run `systemctl --user daemon-reload` afterwards (when systemctl is installed)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Same as --color never')
            [CompletionResult]::new('--no-owed', '--no-owed', [CompletionResultType]::ParameterName, 'Leave finished sessions out: do not report the session_end a crashed gateway owes them (verdict owed, which close delivers), and treat every running orphan as owed one, as before sessionctl read gateway lifetimes')
            [CompletionResult]::new('--trust-pid-namespace', '--trust-pid-namespace', [CompletionResultType]::ParameterName, 'Every gateway and worker of the dirs read runs in sessionctl''s own pid namespace (a container that runs both): a pid that is dead there is proof. Without it, sessionctl in a pid namespace of its own calls such a session unknown, never orphan')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sessionctl;install;help' {
            [CompletionResult]::new('systemd', 'systemd', [CompletionResultType]::ParameterValue, 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;install;help;systemd' {
            break
        }
        'sessionctl;install;help;help' {
            break
        }
        'sessionctl;help' {
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout, or write every page to a directory')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every active session of every backend with its verdict (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Explain one session: every backend''s record, the evidence and the verdict')
            [CompletionResult]::new('gateways', 'gateways', [CompletionResultType]::ParameterValue, 'List gateway and worker processes, lock files and pid files with their health')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose pool exhaustion and stale state: findings, worst first, each with the fix')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit 0 when no orphan is found and no session_end is owed, 1 otherwise, 2 on error; one summary line')
            [CompletionResult]::new('close', 'close', [CompletionResultType]::ParameterValue, 'Close orphans: deliver the session_end payload a clean shutdown would have sent and repair the stores. Journaled; interactive on a terminal unless --yes')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Stay in the foreground and repair after every gateway or claude-mem worker death: wait --grace, then close what is orphaned, as `close --yes` does')
            [CompletionResult]::new('journal', 'journal', [CompletionResultType]::ParameterValue, 'List close runs and their actions, or undo a run')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Install sessionctl into other programs'' service managers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;help;completions' {
            break
        }
        'sessionctl;help;man' {
            break
        }
        'sessionctl;help;list' {
            break
        }
        'sessionctl;help;show' {
            break
        }
        'sessionctl;help;gateways' {
            break
        }
        'sessionctl;help;doctor' {
            break
        }
        'sessionctl;help;check' {
            break
        }
        'sessionctl;help;close' {
            break
        }
        'sessionctl;help;watch' {
            break
        }
        'sessionctl;help;journal' {
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Restore the store rows and entries a run changed (hook deliveries cannot be unsent)')
            break
        }
        'sessionctl;help;journal;undo' {
            break
        }
        'sessionctl;help;install' {
            [CompletionResult]::new('systemd', 'systemd', [CompletionResultType]::ParameterValue, 'Write (or remove) a drop-in for OpenClaw''s own systemd user unit that runs `sessionctl close --yes --after-stop` after every stop of the gateway')
            break
        }
        'sessionctl;help;install;systemd' {
            break
        }
        'sessionctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
