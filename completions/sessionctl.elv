
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
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List every active session of every backend with its verdict (the default)'
            cand show 'Explain one session: every backend''s record, the evidence and the verdict'
            cand gateways 'List gateway and worker processes, lock files and pid files with their health'
            cand check 'Exit 0 when no orphan is found, 1 when orphans are found, 2 on error; one summary line'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;list'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
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
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
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
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
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
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;completions'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;man'= {
            cand --openclaw-state-dir 'OpenClaw state directory to inspect (repeatable); replaces auto-discovery from OPENCLAW_STATE_DIR, OPENCLAW_HOME and ~/.openclaw'
            cand --claude-mem-dir 'claude-mem data directory to inspect; replaces auto-discovery from CLAUDE_MEM_DATA_DIR, ~/.claude-mem/settings.json and ~/.claude-mem'
            cand --backend 'Only inspect these backends (repeatable or comma-separated)'
            cand --format 'Output format: a table for people, json or ndjson for programs'
            cand --idle 'Idle time after which a session with a living owner is reported stale (e.g. 90s, 30m, 6h, 2d)'
            cand --no-color 'Disable colors (also when NO_COLOR is set or stdout is not a terminal)'
            cand -v 'Print more detail about discovery and probes to stderr'
            cand --verbose 'Print more detail about discovery and probes to stderr'
            cand -q 'Print nothing but the requested output and errors'
            cand --quiet 'Print nothing but the requested output and errors'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sessionctl;help'= {
            cand list 'List every active session of every backend with its verdict (the default)'
            cand show 'Explain one session: every backend''s record, the evidence and the verdict'
            cand gateways 'List gateway and worker processes, lock files and pid files with their health'
            cand check 'Exit 0 when no orphan is found, 1 when orphans are found, 2 on error; one summary line'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sessionctl;help;list'= {
        }
        &'sessionctl;help;show'= {
        }
        &'sessionctl;help;gateways'= {
        }
        &'sessionctl;help;check'= {
        }
        &'sessionctl;help;completions'= {
        }
        &'sessionctl;help;man'= {
        }
        &'sessionctl;help;help'= {
        }
    ]
    $completions[$command]
}
