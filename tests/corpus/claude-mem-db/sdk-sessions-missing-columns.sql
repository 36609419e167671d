-- The right table, but without content_session_id / claude_session_id and started_at_epoch.
CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, project TEXT, status TEXT);
INSERT INTO sdk_sessions VALUES (1, 'openclaw-main', 'active');
