-- Text columns holding terminal escapes, NUL, newlines and invalid UTF-8.
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
UPDATE sdk_sessions SET content_session_id = 'openclaw-agent:main:' || char(27) || '[31mred' || char(27) || '[0m-1764100000000',
  project = 'p' || char(10) || 'sessionctl: fake line' || char(13) WHERE id = 3;
UPDATE sdk_sessions SET content_session_id = CAST(X'6F70656E636C61772DFFFE2D31373634313030333030303030' AS TEXT),
  memory_session_id = CAST(X'C328' AS TEXT) WHERE id = 4;
UPDATE sdk_sessions SET content_session_id = 'openclaw-' || char(0) || '-1764100600000', project = char(27) || ']0;owned' || char(7) WHERE id = 5;
UPDATE sdk_sessions SET platform_source = char(155) || '2J' WHERE id = 6;
