-- Somebody else's database under the right name.
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE sessions (token TEXT, expires INTEGER);
INSERT INTO users VALUES (1, 'alice');
INSERT INTO sessions VALUES ('abc', 1795638113441);
