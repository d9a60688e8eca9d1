--
-- dry_run: zd_dry_run and zd_align(target, dry_run => true) run the steps
-- in a subtransaction that is rolled back, and report each step's duration
-- and the locks it took on the tables that existed before; the database is
-- unchanged afterwards
--
CREATE EXTENSION zerodown;

-- where the database stands: version and history
CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.history) AS history;

-- the shape of the application's tables: columns, indexes, constraints
CREATE VIEW regress_shape AS
SELECT c.relname || '.' || a.attname AS object
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relname LIKE 'dr\_%' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index ' || i.indexrelid::regclass
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relname LIKE 'dr\_%'
UNION ALL
SELECT 'constraint ' || co.conname || CASE WHEN co.convalidated THEN '' ELSE ' not valid' END
  FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
 WHERE c.relname LIKE 'dr\_%';

-- the SQLSTATE of a statement's error, if any
CREATE FUNCTION regress_sqlstate(stmt text) RETURNS text
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN 'SQLSTATE: ' || SQLSTATE;
END
$fn$;

SELECT zd_register(1, 'create_tables_dr',
                   E'CREATE TABLE dr_a (id integer PRIMARY KEY, qty integer);\n'
                   'INSERT INTO dr_a SELECT g, g FROM generate_series(1, 100) g;\n'
                   'CREATE TABLE dr_b (id integer, a_id integer);\n'
                   'INSERT INTO dr_b SELECT g, g FROM generate_series(1, 100) g;\n'
                   'CREATE TABLE dr_c (id integer, qty integer, CONSTRAINT dr_c_qty_ck CHECK (qty >= 0) NOT VALID);\n'
                   'INSERT INTO dr_c SELECT g, g FROM generate_series(1, 100) g;',
                   'DROP TABLE dr_a, dr_b, dr_c');
SELECT zd_align(1);

-- ACCESS EXCLUSIVE (a new column), SHARE (an index built in place), SHARE
-- UPDATE EXCLUSIVE only (validating a constraint), SHARE ROW EXCLUSIVE on
-- both tables of a foreign key, none at all (a new table and its index)
SELECT zd_register(2, 'add_column_dr_a_note',
                   'ALTER TABLE dr_a ADD COLUMN note text',
                   'ALTER TABLE dr_a DROP COLUMN note');
SELECT zd_register(3, 'create_index_dr_b_a_id',
                   'CREATE INDEX dr_b_a_id ON dr_b (a_id)',
                   'DROP INDEX dr_b_a_id');
SELECT zd_register(4, 'validate_dr_c_qty_ck',
                   'ALTER TABLE dr_c VALIDATE CONSTRAINT dr_c_qty_ck',
                   '');
SELECT zd_register(5, 'add_fk_dr_b_a',
                   'ALTER TABLE dr_b ADD CONSTRAINT dr_b_a_fk FOREIGN KEY (a_id) REFERENCES dr_a (id) NOT VALID',
                   'ALTER TABLE dr_b DROP CONSTRAINT dr_b_a_fk');
SELECT zd_register(6, 'create_table_dr_d',
                   E'CREATE TABLE dr_d (id integer);\n'
                   'CREATE INDEX dr_d_id ON dr_d (id);',
                   'DROP TABLE dr_d');
-- a second new column on dr_a takes ACCESS EXCLUSIVE again, although an
-- earlier step of the dry run already holds it
SELECT zd_register(7, 'add_column_dr_a_tag',
                   'ALTER TABLE dr_a ADD COLUMN tag text',
                   'ALTER TABLE dr_a DROP COLUMN tag');

SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

SELECT step, number, name, direction, milliseconds >= 0 AS "milliseconds >= 0", locks, result
  FROM zd_dry_run(7)
 ORDER BY step;

-- nothing changed
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;
SELECT to_regclass('dr_d') AS dr_d;

-- NULL runs up to the highest patch
SELECT step, number, result FROM zd_dry_run(NULL) ORDER BY step;

-- zd_align with dry_run: the steps are reported as NOTICEs, whose
-- durations vary; it returns the target and changes nothing
SET client_min_messages = warning;
SELECT zd_align(7, dry_run => true);
RESET client_min_messages;
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

--
-- a dry run through a failing patch: its row says "failed", with the
-- error as last item; nothing changed
--
SELECT zd_align(7);
SELECT * FROM regress_state;
SELECT zd_register(8, 'add_column_dr_a_extra',
                   E'ALTER TABLE dr_a ADD COLUMN extra integer;\n'
                   'INSERT INTO dr_missing VALUES (1);',
                   'ALTER TABLE dr_a DROP COLUMN extra');
SELECT step, number, name, direction, milliseconds >= 0 AS "milliseconds >= 0", locks, result
  FROM zd_dry_run(8)
 ORDER BY step;
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

-- zd_align with dry_run does not return the target as if the patch had
-- passed: it fails as zd_align would, with the patch's SQLSTATE (42P01)
SET client_min_messages = warning;
SELECT regress_sqlstate('SELECT zd_align(8, dry_run => true)');
RESET client_min_messages;
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

--
-- a no-transaction patch cannot run in a dry run: it is reported, not run,
-- and the dry run stops there
--
SELECT zd_register(8, 'add_column_dr_a_extra',
                   'ALTER TABLE dr_a ADD COLUMN extra integer',
                   'ALTER TABLE dr_a DROP COLUMN extra');
SELECT zd_register(9, 'create_index_dr_a_qty',
                   E'-- zerodown:no-transaction\n'
                   'CREATE INDEX CONCURRENTLY dr_a_qty ON dr_a (qty);',
                   E'-- zerodown:no-transaction\n'
                   'DROP INDEX CONCURRENTLY dr_a_qty;');
SELECT zd_register(10, 'add_column_dr_c_note',
                   'ALTER TABLE dr_c ADD COLUMN note text',
                   'ALTER TABLE dr_c DROP COLUMN note');
SELECT step, number, name, direction, milliseconds >= 0 AS "milliseconds >= 0", locks, result
  FROM zd_dry_run(10)
 ORDER BY step;
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

--
-- a dry run down: the rollbacks' locks, on tables named as they were
-- before the dry run (dr_d is dropped by its rollback)
--
SELECT step, number, name, direction, milliseconds >= 0 AS "milliseconds >= 0", locks, result
  FROM zd_dry_run(5)
 ORDER BY step;
SELECT * FROM regress_state;
SELECT * FROM regress_shape ORDER BY object;

-- a target that does not exist (22023)
SELECT * FROM zd_dry_run(11) ORDER BY step;
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_dry_run(-1) ORDER BY step;
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- clean up
SELECT zd_align(0);
DROP VIEW regress_state;
DROP VIEW regress_shape;
DROP FUNCTION regress_sqlstate(text);
DROP EXTENSION zerodown;
SELECT to_regclass('dr_a') AS dr_a, to_regclass('dr_b') AS dr_b,
       to_regclass('dr_c') AS dr_c, to_regclass('dr_d') AS dr_d;
