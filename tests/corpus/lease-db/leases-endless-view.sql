-- state_leases as a view that never ends.
CREATE VIEW state_leases AS
  WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n)
  SELECT 'gateway-owner' AS scope, '{"owner":{"pid":' || x || '}}' AS payload_json, x AS expires_at, x AS updated_at FROM n;
