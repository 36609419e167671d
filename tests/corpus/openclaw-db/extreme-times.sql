-- Times at the ends of the 64-bit range, in session_nodes and session_windows.
-- @base: _store-2026.9.sql.in
UPDATE session_nodes SET updated_at = 9223372036854775807, last_interaction_at = -9223372036854775808,
  last_activity_at = -1, entry_json = '{"sessionStartedAt":-9223372036854775808}' WHERE session_key = 'agent:ops:run';
UPDATE session_windows SET started_at = -9223372036854775808, updated_at = 9223372036854775807 WHERE session_key = 'agent:ops:run';
