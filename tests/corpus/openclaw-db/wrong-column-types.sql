-- The right tables and column names, no types, every value of a wrong type.
CREATE TABLE session_nodes (session_key, current_session_id, entry_json, status, updated_at,
  last_interaction_at, last_activity_at);
CREATE TABLE session_windows (session_id, session_key, started_at, updated_at, status);
INSERT INTO session_nodes VALUES (X'FFFE', 3.25, X'7B22FF', 'running', 'yesterday', X'00', 1e300);
INSERT INTO session_nodes VALUES (42, X'', 17, 'running', -1e300, 'x', NULL);
INSERT INTO session_nodes VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO session_nodes VALUES ('agent:ops:null-status', 'c0000000-0000-4000-8000-000000000001', '{}', NULL, 1, 2, 3);
INSERT INTO session_windows VALUES ('c0000000-0000-4000-8000-000000000001', 'agent:ops:null-status', 'soon', X'01', 'running');
INSERT INTO session_windows VALUES (3.25, 42, 9223372036854775807, -9223372036854775808, 'running');
