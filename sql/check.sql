--
-- check: zd_check(from, to) builds, rolls back and builds again each patch
-- in a subtransaction that is rolled back, and reports what a rollback
-- fails to undo; the database is unchanged afterwards
--
CREATE EXTENSION zerodown;

CREATE ROLE regress_check_owner;
CREATE ROLE regress_check_reader;

-- where the database stands: version and history
CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.history) AS history;

-- the application's relations, and what regress_check_reader may read
CREATE VIEW regress_objects AS
SELECT c.relname, c.relkind,
       CASE WHEN c.relkind IN ('r', 'v') THEN has_table_privilege('regress_check_reader', c.oid, 'SELECT') END AS reader_select,
       CASE WHEN c.relkind = 'r' THEN has_any_column_privilege('regress_check_reader', c.oid, 'SELECT') END AS reader_any_column
  FROM pg_class c
 WHERE c.relname LIKE 'ck\_%';

-- ck_a belongs to regress_check_owner, so that grants on it read the same
-- whoever runs the test
SELECT zd_register(1, 'create_table_ck_a',
                   E'CREATE TABLE ck_a (id integer PRIMARY KEY, qty integer);\n'
                   'INSERT INTO ck_a SELECT g, g FROM generate_series(1, 10) g;\n'
                   'CREATE INDEX ck_a_qty ON ck_a (qty);\n'
                   'ALTER TABLE ck_a OWNER TO regress_check_owner;',
                   'DROP TABLE ck_a');
-- correct rollbacks
SELECT zd_register(2, 'create_table_ck_b',
                   E'CREATE TABLE ck_b (id integer PRIMARY KEY, a_id integer REFERENCES ck_a (id));\n'
                   'CREATE INDEX ck_b_a_id ON ck_b (a_id);',
                   'DROP TABLE ck_b');
SELECT zd_register(3, 'add_column_ck_a_note',
                   E'ALTER TABLE ck_a ADD COLUMN note text DEFAULT ''none'';\n'
                   'CREATE INDEX ck_a_note ON ck_a (note);',
                   'ALTER TABLE ck_a DROP COLUMN note');
-- a rollback that forgets one of the two indexes its build created
SELECT zd_register(4, 'create_indexes_ck_a',
                   E'CREATE INDEX ck_a_qty_id ON ck_a (qty, id);\n'
                   'CREATE INDEX ck_a_id_qty ON ck_a (id, qty);',
                   'DROP INDEX ck_a_qty_id');
-- a rollback that drops the column but not the sequence its default used
SELECT zd_register(5, 'add_column_ck_a_seq',
                   E'CREATE SEQUENCE ck_a_seq;\n'
                   'ALTER TABLE ck_a ADD COLUMN seq integer DEFAULT nextval(''ck_a_seq'');',
                   'ALTER TABLE ck_a DROP COLUMN seq');
-- a rollback that leaves a grant behind
SELECT zd_register(6, 'create_view_ck_a_reader',
                   E'CREATE VIEW ck_a_public AS SELECT id FROM ck_a;\n'
                   'GRANT SELECT ON ck_a TO regress_check_reader;',
                   'DROP VIEW ck_a_public');
-- a rollback that drops more than its build created
SELECT zd_register(7, 'create_view_ck_a_ids',
                   'CREATE VIEW ck_a_ids AS SELECT id FROM ck_a',
                   E'DROP VIEW ck_a_ids;\n'
                   'DROP INDEX ck_a_qty;');
-- an irreversible patch is built and the check goes on
SELECT zd_register(8, 'create_table_ck_c',
                   'CREATE TABLE ck_c (id integer)');
SELECT zd_register(9, 'create_table_ck_d',
                   'CREATE TABLE ck_d (id integer)',
                   'DROP TABLE ck_d');
-- a rollback that leaves a column grant behind
SELECT zd_register(10, 'grant_column_ck_a_reader',
                   'GRANT SELECT (qty) ON ck_a TO regress_check_reader',
                   '');
-- a rollback that fails
SELECT zd_register(11, 'create_table_ck_e',
                   'CREATE TABLE ck_e (id integer)',
                   'DROP TABLE ck_e_missing');

SELECT zd_align(1);
SELECT * FROM regress_state;
SELECT * FROM regress_objects ORDER BY relname;

SELECT * FROM zd_check(1, 9) ORDER BY number;

-- from below where the database stands: patch 1 is rolled back first
SELECT * FROM zd_check(0, 2) ORDER BY number;

-- the column grant left behind is a difference too
SELECT number, name, result, cardinality(differences) AS differences
  FROM zd_check(9, 10)
 ORDER BY number;

-- a failing rollback: its row says so, with the error; the check stops
SELECT * FROM zd_check(10, 11) ORDER BY number;

-- nothing changed
SELECT * FROM regress_state;
SELECT * FROM regress_objects ORDER BY relname;
SELECT relacl FROM pg_class WHERE oid = 'ck_a'::regclass;

--
-- bad input: every error before anything runs
--
-- from not below to (22023)
SELECT * FROM zd_check(1, 1) ORDER BY number;
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_check(3, 2) ORDER BY number;
\echo SQLSTATE :SQLSTATE
-- NULL (22004)
SELECT * FROM zd_check(NULL, 2) ORDER BY number;
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_check(1, NULL) ORDER BY number;
\echo SQLSTATE :SQLSTATE
-- a negative patch number is a bad argument (22023)
SELECT * FROM zd_check(-1, 2) ORDER BY number;
\echo SQLSTATE :SQLSTATE
-- a target above the highest patch (22023)
SELECT * FROM zd_check(1, 12) ORDER BY number;
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;
SELECT * FROM regress_objects ORDER BY relname;

-- clean up
SELECT zd_align(0);
DROP VIEW regress_state;
DROP VIEW regress_objects;
DROP EXTENSION zerodown;
DROP ROLE regress_check_owner;
DROP ROLE regress_check_reader;
SELECT to_regclass('ck_a') AS ck_a;
