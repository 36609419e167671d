-- session_nodes without entry_json and status.
CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT, updated_at INTEGER);
INSERT INTO session_nodes VALUES ('agent:ops:run', 'b56abc17-9f9c-4e50-ab34-f5a9769de19c', 1795640281668);
