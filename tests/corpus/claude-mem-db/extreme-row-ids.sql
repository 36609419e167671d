-- Row ids at the ends of the range; content ids whose 13 digits are all nines.
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
PRAGMA foreign_keys = OFF;
UPDATE sdk_sessions SET id = -9223372036854775808 WHERE id = 3;
UPDATE sdk_sessions SET id = 9223372036854775807, content_session_id = 'openclaw-agent:main:e2e-slow-9999999999999' WHERE id = 4;
UPDATE sdk_sessions SET content_session_id = 'openclaw--0000000000000' WHERE id = 5;
