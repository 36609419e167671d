-- session_nodes exists only as a view.
CREATE TABLE n0 (session_key TEXT, current_session_id TEXT, entry_json TEXT, status TEXT, updated_at INTEGER);
INSERT INTO n0 VALUES ('agent:ops:run', 'b56abc17', '{}', 'running', 1795640281668);
CREATE VIEW session_nodes AS SELECT * FROM n0;
