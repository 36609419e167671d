-- The healthy database with epochs at the ends of the 64-bit range (now - epoch overflows
-- i64 if anyone subtracts without checking).
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
UPDATE sdk_sessions SET started_at_epoch = -9223372036854775808 WHERE id = 3;
DELETE FROM user_prompts WHERE session_db_id = 3;
UPDATE sdk_sessions SET started_at_epoch = 9223372036854775807 WHERE id = 4;
UPDATE sdk_sessions SET started_at_epoch = -1 WHERE id = 5;
UPDATE user_prompts SET created_at_epoch = 9223372036854775807 WHERE session_db_id = 4;
