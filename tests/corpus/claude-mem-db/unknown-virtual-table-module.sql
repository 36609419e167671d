-- sdk_sessions is a virtual table of a module this SQLite does not have.
PRAGMA writable_schema = ON;
INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)
  VALUES ('table', 'sdk_sessions', 'sdk_sessions', 0, 'CREATE VIRTUAL TABLE sdk_sessions USING nosuchmodule(id, content_session_id, project, status, started_at_epoch)');
PRAGMA writable_schema = OFF;
