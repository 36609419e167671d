//! What the man page says of claude-mem (roff, assembled by `cmd::gen`).

/// Its ENVIRONMENT entries.
pub const ENV: &str = r#".TP
.B CLAUDE_MEM_DATA_DIR
The claude\-mem data directory to inspect (else that key in
.IR ~/.claude\-mem/settings.json ,
else
.IR ~/.claude\-mem ).
.B \-\-claude\-mem\-dir
replaces it.
.TP
.B CLAUDE_MEM_WORKER_PORT
The claude\-mem worker's port, probed for
.I /api/health
besides the ports its pid file and settings name.
.TP
.B CLAUDE_MEM_MAX_CONCURRENT_AGENTS
The size of claude\-mem's agent pool (else its settings.json, else 2),
for \fBdoctor\fR.
"#;

/// Its FILES paragraph.
pub const FILES: &str = r#".PP
Read, in the claude\-mem data directory
.RI ( ~/.claude\-mem
by default):
.TP
.I claude\-mem.db
The sdk_sessions table; \fBclose\fR ends orphaned rows there.
.TP
.I worker.pid
The worker's pid file (in
.I ~/.claude\-mem
up to claude\-mem 12.5).
.TP
.I settings.json
The data directory, the worker port and the pool size.
.TP
.I logs/
Worker logs, searched by \fBdoctor\fR for pool timeouts.
"#;

/// How `show` takes its rows (before the OpenClaw ids).
pub const ROW_IDS: &str = r#".TP
.BR cm:42 ", " claude\-mem:42 ", " 42
A claude\-mem row id.
"#;

/// How `show` takes its content session ids (after the OpenClaw ids).
pub const CONTENT_IDS: &str = r#".TP
.B openclaw\-agent:main:e2e\-slow\-1764103313188
A claude\-mem content session id.
"#;

/// How `close` takes its rows, in a sentence.
pub const CLOSE_ROW_IDS: &str = r#"a claude\-mem row id
.RB ( cm:42 ),
"#;

/// How `close` takes its content session ids, at the end of the sentence.
pub const CLOSE_CONTENT_IDS: &str = r#", or a claude\-mem content session id"#;
