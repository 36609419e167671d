-- Every active row's only activity time is i64::MIN.
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
DELETE FROM user_prompts;
UPDATE sdk_sessions SET started_at_epoch = -9223372036854775808;
