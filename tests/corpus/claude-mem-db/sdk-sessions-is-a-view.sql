-- sdk_sessions exists, but as a view over another table.
CREATE TABLE real_sessions (id INTEGER PRIMARY KEY, content_session_id TEXT, project TEXT, status TEXT, started_at_epoch INTEGER);
INSERT INTO real_sessions VALUES (1, 'openclaw-agent:main:e2e-slow-1764100000000', 'openclaw-main', 'active', 1764100000000);
CREATE VIEW sdk_sessions AS SELECT * FROM real_sessions;
