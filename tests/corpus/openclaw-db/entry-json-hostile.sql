-- entry_json of every running session is hostile: not JSON, 10k-deep arrays built at run
-- time, invalid UTF-8, wrong shapes, 1e400, paths that leave the state dir, escapes.
-- @base: _store-2026.9.sql.in
INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at, status) VALUES
  ('agent:ops:not-json', 'd0000000-0000-4000-8000-000000000001', 'not json {', 1795640281668, 'running'),
  ('agent:ops:deep', 'd0000000-0000-4000-8000-000000000002', replace(hex(zeroblob(10000)), '00', '['), 1795640281668, 'running'),
  ('agent:ops:deep-member', 'd0000000-0000-4000-8000-000000000003',
     '{"skillsSnapshot":' || replace(hex(zeroblob(10000)), '00', '[') || replace(hex(zeroblob(10000)), '00', ']') || '}', 1795640281668, 'running'),
  ('agent:ops:bad-utf8', 'd0000000-0000-4000-8000-000000000004', CAST(X'7B2273657373696F6E4964223A22FFFE227D' AS TEXT), 1795640281668, 'running'),
  ('agent:ops:array', 'd0000000-0000-4000-8000-000000000005', '[1,2,3]', 1795640281668, 'running'),
  ('agent:ops:null', 'd0000000-0000-4000-8000-000000000006', 'null', 1795640281668, 'running'),
  ('agent:ops:1e400', 'd0000000-0000-4000-8000-000000000007', '{"updatedAt":1e400}', 1795640281668, 'running'),
  ('agent:ops:escape', 'd0000000-0000-4000-8000-000000000008',
     '{"sessionId":"../../../../etc/passwd","sessionFile":"../../../../etc/shadow","lifecycleRunId":"\u001b[2J"}', 1795640281668, 'running'),
  ('agent:ops:abs', 'd0000000-0000-4000-8000-000000000009', '{"sessionFile":"/dev/zero"}', 1795640281668, 'running'),
  ('agent:ops:' || char(27) || '[31mred', '', '{"sessionId":""}', 1795640281668, 'running'),
  ('agent:ops:empty', '', '', 1795640281668, 'running');
