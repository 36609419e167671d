-- A WAL-mode database with uncheckpointed frames, its -wal cut mid-frame (a crash).
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
-- @journal: wal
-- @place: db-and-wal
-- @truncate-wal: 5000
UPDATE sdk_sessions SET status = 'completed' WHERE id = 3;
