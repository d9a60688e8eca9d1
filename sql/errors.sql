--
-- errors: every bad input, with its SQLSTATE, message, detail and hint;
-- after each, nothing has changed
--
CREATE EXTENSION zerodown;

-- an error as SQLSTATE, message, detail and hint, with the time a patch
-- was applied masked
CREATE FUNCTION regress_error(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT 'SQLSTATE: ' || state;
    RETURN NEXT 'ERROR:  ' || message;
    IF detail <> '' THEN
        RETURN NEXT 'DETAIL:  ' || regexp_replace(detail, 'applied at .* with checksum',
                                                  'applied at <time> with checksum');
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || hint;
    END IF;
END
$fn$;

-- where the database stands: version, history, registered patches
CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.history) AS history,
       (SELECT count(*) FROM zerodown.patches) AS patches;

SELECT zd_register(1, 'create_table_err_a', 'CREATE TABLE err_a (id integer)', 'DROP TABLE err_a');
SELECT zd_register(2, 'create_table_err_b', 'CREATE TABLE err_b (id integer)');
SELECT zd_align(2);
SELECT * FROM regress_state;

--
-- registering
--

-- NULL arguments (22004)
SELECT zd_register(NULL, 'x', 'SELECT 1');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, NULL, 'SELECT 1');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, 'x', NULL);
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var(NULL, 'x');
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- patch number 0 or below (22023)
SELECT zd_register(0, 'create_table_err_z', 'CREATE TABLE err_z (id integer)', 'DROP TABLE err_z');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(-1, 'create_table_err_z', 'CREATE TABLE err_z (id integer)', 'DROP TABLE err_z');
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- invalid patch names (22023)
SELECT zd_register(3, 'create table', 'SELECT 1', '');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, '', 'SELECT 1', '');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, '../escape', 'SELECT 1', '');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, repeat('n', 201), 'SELECT 1', '');
\echo SQLSTATE :SQLSTATE
SELECT zd_register(3, repeat('n', 200), 'SELECT 1', '');
SELECT * FROM regress_state;

-- an applied patch modified (55006)
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_table_err_a', 'CREATE TABLE err_a (id bigint)', 'DROP TABLE err_a')$$);
SELECT * FROM regress_state;

--
-- aligning: every check runs before the first patch
--

-- a target below 0 or above the highest patch (22023)
SELECT zd_align(-1);
\echo SQLSTATE :SQLSTATE
SELECT zd_align(4);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- a gap in the numbering (42704)
SELECT zd_register(5, 'create_table_err_e', 'CREATE TABLE err_e (id integer)', 'DROP TABLE err_e');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- an unknown placeholder (42704)
SELECT zd_register(4, 'create_table_err_d', E'CREATE TABLE err_d (id integer);\nGRANT SELECT ON err_d TO ${reader};', 'DROP TABLE err_d');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- a patch that must run outside a transaction (25001)
SELECT zd_register(4, 'create_index_err_a',
                   E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY err_a_id ON err_a (id);',
                   'DROP INDEX err_a_id');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- the same statement without the marker is found before anything runs (25001)
SELECT zd_register(4, 'create_index_err_a',
                   E'CREATE TABLE err_d (id integer);\nCREATE INDEX CONCURRENTLY err_a_id ON err_a (id);',
                   'DROP INDEX err_a_id');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- the marker is a whole word: this patch is transactional
SELECT zd_register(4, 'create_table_err_d', E'-- zerodown:no-transactional, no\nCREATE TABLE err_d (id integer);', 'DROP TABLE err_d');
SELECT number, transactional FROM zd_plan(5) ORDER BY number;

-- transaction control in a patch (0A000); a BEGIN ... COMMIT around the
-- whole file is accepted (sql/begin_commit.sql), not a COMMIT inside it
SELECT zd_register(4, 'create_table_err_d', E'BEGIN;\nCREATE TABLE err_d (id integer);\nCOMMIT;\nCREATE TABLE err_dd (id integer);', 'DROP TABLE err_d');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT zd_register(4, 'create_table_err_d', E'CREATE TABLE err_d (id integer);\nSAVEPOINT s;', 'DROP TABLE err_d');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- a syntax error, with its line (42601)
SELECT zd_register(4, 'create_table_err_d', E'CREATE TABLE err_d (id integer);\n\nCREATE TABEL err_dd (id integer);', 'DROP TABLE err_d');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT zd_register(4, 'create_table_err_d', 'CREATE TABLE err_d (id integer)', 'DROP TABLE err_d');
SELECT zd_register(5, 'create_table_err_e', E'CREATE TABLE err_e (id integer);\nCREATE FUNCTION err_f() RETURNS int LANGUAGE sql AS $$ SELECT 1;', 'DROP TABLE err_e');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- an error while a patch runs keeps its own SQLSTATE (42P01), and names
-- the patch, the line and the statement
SELECT zd_register(5, 'create_table_err_e', E'CREATE TABLE err_e (id integer);\nINSERT INTO err_missing VALUES (1);', 'DROP TABLE err_e');
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;
SELECT to_regclass('err_d') AS err_d, to_regclass('err_e') AS err_e;

-- going down through an irreversible patch (55000)
SELECT zd_align(1);
\echo SQLSTATE :SQLSTATE
SELECT zd_align(0);
\echo SQLSTATE :SQLSTATE
SELECT * FROM regress_state;

-- a syntax error in a rollback is found on the way up, before anything
-- runs: a warning (42601), since building does not need the rollback (going
-- below the patch does, and is refused: sql/unneeded_rollback.sql); fixed
-- before the patch is applied, the warning is gone
SELECT zd_register(4, 'create_table_err_d', 'CREATE TABLE err_d (id integer)', E'DROP TABLE err_d;\nDROP TABLE err_d (;');
SELECT zd_register(5, 'create_table_err_e', 'CREATE TABLE err_e (id integer)', 'DROP TABLE err_e');
SELECT count(*) AS steps FROM zd_plan(5);
SELECT * FROM regress_state;
SELECT zd_register(4, 'create_table_err_d', 'CREATE TABLE err_d (id integer)', 'DROP TABLE err_d');
SELECT zd_align(5);
SELECT * FROM regress_state;

-- an applied patch whose registered text was changed behind zerodown's back
-- (55000); the status view shows the drift
UPDATE zerodown.patches
   SET rollback_sql = 'DROP TABLE err_e CASCADE',
       checksum = regress_checksum
  FROM (SELECT encode(sha256('changed'), 'hex') AS regress_checksum) c
 WHERE number = 5;
SELECT number, drift FROM zerodown.status ORDER BY number;
SELECT * FROM regress_error('SELECT zd_align(4)');
SELECT * FROM regress_state;

-- aligning in a REPEATABLE READ or SERIALIZABLE transaction (25000)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT zd_align(5);
\echo SQLSTATE :SQLSTATE
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT zd_register(6, 'create_table_err_f', 'CREATE TABLE err_f (id integer)', 'DROP TABLE err_f');
\echo SQLSTATE :SQLSTATE
ROLLBACK;
SELECT * FROM regress_state;

-- clean up by hand: patch 2 is irreversible
DROP VIEW regress_state;
DROP EXTENSION zerodown;
DROP TABLE err_a, err_b, err_d, err_e;
DROP FUNCTION regress_error(text);
