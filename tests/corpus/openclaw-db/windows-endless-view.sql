-- session_windows replaced by a view that never ends: the LEFT JOIN must not hang sessionctl.
-- @base: _store-2026.9.sql.in
DROP TABLE session_windows;
CREATE VIEW session_windows AS
  WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)
  SELECT 'x' || x AS session_id, 'agent:ops:run' AS session_key, x AS started_at, x AS updated_at, 'running' AS status FROM n;
