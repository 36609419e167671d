//! What the man page says of OpenClaw (roff, assembled by `cmd::gen`).

/// Its ENVIRONMENT entries.
pub const ENV: &str = r#".TP
.B OPENCLAW_STATE_DIR
The OpenClaw state directory to inspect, as OpenClaw itself reads it (also
.BR CLAWDBOT_STATE_DIR ,
its former name).
.B \-\-openclaw\-state\-dir
replaces it.
.TP
.B OPENCLAW_HOME
The directory in which
.I .openclaw
(or a legacy
.IR .clawdbot ,
.IR .moltbot )
is looked for, instead of
.BR HOME .
.TP
.B OPENCLAW_CONFIG_PATH
OpenClaw's config file (default:
.IR <state\ dir>/openclaw.json ),
where \fBdoctor\fR reads the claude\-mem plugin's worker port.
"#;

/// Its FILES paragraph.
pub const FILES: &str = r#".PP
Read, in each OpenClaw state directory
.RI ( ~/.openclaw
by default):
.TP
.I agents/<agent>/sessions/sessions.json
The session store of OpenClaw 2026.7
(rewritten by \fBclose\fR under OpenClaw's own
.IR sessions.json.lock ).
.TP
.I agents/<agent>/agent/openclaw\-agent.sqlite
The session store of OpenClaw 2026.8 and later.
.TP
.I agents/<agent>/sessions/<sessionId>.jsonl.lock
A session's lock: the pid and start time of the gateway process that runs it.
\fBclose\fR removes a dead owner's lock once its entry is ended.
.TP
.I tmp/openclaw\-<uid>/gateway.*.lock
A gateway's lock file (2026.9; 2026.7 keeps it in
.IR $TMPDIR/openclaw\-<uid>/ ).
.TP
.I state/openclaw.sqlite
The gateway\-owner lease of 2026.9 (only its owner fields are read), and how each
gateway boot ended (\fBwatch\fR reads the \fIgateway_boot_lifecycle\fR row of a gateway
that exited).
.TP
.I openclaw.json
OpenClaw's config: the claude\-mem plugin's worker port.
"#;
