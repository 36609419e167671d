-- The right table and column names, no type affinity, every value of a wrong type.
CREATE TABLE sdk_sessions (id, content_session_id, memory_session_id, project, platform_source,
  started_at_epoch, status, prompt_counter);
INSERT INTO sdk_sessions VALUES ('abc', 42, X'00FF', NULL, 3.5, 'yesterday', 'active', 'many');
INSERT INTO sdk_sessions VALUES (2.5, X'FFFE', 7, X'01', NULL, 1e300, 'active', -1e300);
INSERT INTO sdk_sessions VALUES (NULL, NULL, NULL, NULL, NULL, NULL, 'active', NULL);
INSERT INTO sdk_sessions VALUES (X'', '', '', '', '', -1e300, 'active', X'');
INSERT INTO sdk_sessions VALUES (4, 'openclaw-agent:main:e2e-slow-1764100000000', 'm4', 'openclaw-main', 'claude', '1764100000000', 'active', '3');
CREATE TABLE user_prompts (content_session_id, created_at_epoch);
INSERT INTO user_prompts VALUES (42, 'x'), (X'FFFE', 1e300), ('openclaw-agent:main:e2e-slow-1764100000000', X'00');
