-- An agent store of an unknown (future or foreign) schema.
CREATE TABLE sessions_v0 (key TEXT, blob TEXT);
INSERT INTO sessions_v0 VALUES ('agent:ops:run', '{"status":"running"}');
