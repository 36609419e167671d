-- user_prompts is a view whose evaluation raises an error (integer overflow in abs()).
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
PRAGMA foreign_keys = OFF;
DROP TABLE user_prompts;
CREATE VIEW user_prompts AS SELECT 'x' AS content_session_id, abs(-9223372036854775808) AS created_at_epoch;
