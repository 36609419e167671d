-- Only claude-mem.db-wal is there (the database itself was deleted, or not copied).
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
-- @journal: wal
-- @place: wal-only
UPDATE sdk_sessions SET prompt_counter = prompt_counter + 1;
