
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
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail about discovery and probes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the requested output and errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every active session of every backend with its verdict (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Explain one session: every backend''s record, the evidence and the verdict')
            [CompletionResult]::new('gateways', 'gateways', [CompletionResultType]::ParameterValue, 'List gateway and worker processes, lock files and pid files with their health')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit 0 when no orphan is found, 1 when orphans are found, 2 on error; one summary line')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sessionctl;list' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
        'sessionctl;completions' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
        'sessionctl;man' {
            [CompletionResult]::new('--openclaw-state-dir', '--openclaw-state-dir', [CompletionResultType]::ParameterName, 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw')
            [CompletionResult]::new('--claude-mem-dir', '--claude-mem-dir', [CompletionResultType]::ParameterName, 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only inspect these backends (repeatable or comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: a table for people, json or ndjson for programs')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)')
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
        'sessionctl;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every active session of every backend with its verdict (the default)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Explain one session: every backend''s record, the evidence and the verdict')
            [CompletionResult]::new('gateways', 'gateways', [CompletionResultType]::ParameterValue, 'List gateway and worker processes, lock files and pid files with their health')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Exit 0 when no orphan is found, 1 when orphans are found, 2 on error; one summary line')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
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
        'sessionctl;help;check' {
            break
        }
        'sessionctl;help;completions' {
            break
        }
        'sessionctl;help;man' {
            break
        }
        'sessionctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
