-- sqlite_master holds SQL that does not parse: every statement fails with "malformed
-- database schema".
-- @base: fixture:claude-mem/schema-13.25.3.sql fixture:claude-mem/orphans-13.25.3.sql
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = 'CREATE TABLE sdk_sessions (id INTEGER PRIMARY KEY, garbage' WHERE name = 'sdk_sessions';
PRAGMA writable_schema = OFF;
