-- Only openclaw-agent.sqlite-wal is there, without its database.
-- @base: _store-2026.9.sql.in
-- @journal: wal
-- @place: wal-only
UPDATE session_nodes SET updated_at = updated_at + 1;
