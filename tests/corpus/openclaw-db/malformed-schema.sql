-- sqlite_master holds SQL that does not parse.
-- @base: _store-2026.9.sql.in
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = 'CREATE TABLE session_nodes (' WHERE name = 'session_nodes';
PRAGMA writable_schema = OFF;
