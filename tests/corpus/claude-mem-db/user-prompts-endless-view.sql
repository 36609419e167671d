-- user_prompts replaced by a view that never ends: the last-activity subquery must not
-- hang sessionctl (SQLite keeps stepping a recursive CTE with no LIMIT forever).
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
PRAGMA foreign_keys = OFF;
DROP TABLE user_prompts;
CREATE VIEW user_prompts AS
  WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)
  SELECT 'openclaw-agent:main:e2e-slow-1764100000000' AS content_session_id, x AS created_at_epoch FROM n;
