-- A valid SQLite database with no tables at all (one page, empty schema).
CREATE TABLE t (a);
DROP TABLE t;
