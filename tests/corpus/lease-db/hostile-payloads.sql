-- gateway-owner leases with hostile payloads and times.
-- @base: _lease.sql.in
INSERT INTO state_leases VALUES
  ('gateway-owner', 'a', 'not json', NULL, 1),
  ('gateway-owner', 'b', replace(hex(zeroblob(10000)), '00', '['), NULL, 1),
  ('gateway-owner', 'c', '{"owner":{"pid":1099511627776,"startedAt":-1}}', -9223372036854775808, 1),
  ('gateway-owner', 'd', '{"owner":{"pid":"abc"}}', 9223372036854775807, 1),
  ('gateway-owner', 'e', '{"owner":{"pid":0}}', 'soon', 1),
  ('gateway-owner', 'f', '{"owner":{"pid":-1,"host":null}}', X'FF', 1),
  ('gateway-owner', 'g', '{"owner":{"pid":1,"startedAt":99999999999999999999999}}', 1e300, 1),
  ('gateway-owner', 'h', CAST(X'7B226F776E6572223A7B22706964223AFF7D7D' AS TEXT), NULL, 1),
  ('gateway-owner', 'i', '{"owner":[1,2]}', NULL, 1),
  ('gateway-owner', 'j', '{"owner":{"pid":1e400}}', NULL, 1);
