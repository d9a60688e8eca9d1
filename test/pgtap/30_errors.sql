-- 30_errors.sql: every bad input is refused with its own SQLSTATE and
-- message, before anything runs, and leaves the database where it stood.
-- throws_ok runs each statement in a subtransaction, so a failed zd_align
-- is rolled back and the file goes on.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(123);

-- The SQLSTATE, message, detail and hint of the error a statement raises.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS OR ASSERT_FAILURE THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN ARRAY[state, message, detail, hint];
END
$$;

-- Patch 1 is reversible, patch 2 is not; the database stands at 2.
SELECT is(zd_register(1, 'create_t1', 'CREATE TABLE t1 (id int)', 'DROP TABLE t1'), 'registered',
          'patch 1 is registered');
SELECT is(zd_register(2, 'irreversible_t2', 'CREATE TABLE t2 (id int)'), 'registered',
          'patch 2 is registered without rollback');
SELECT is(zd_align(2), 2, 'the database stands at patch 2');
CREATE TEMP TABLE before AS SELECT number, checksum FROM zerodown.patches;
CREATE TEMP TABLE history_before AS SELECT count(*) AS n FROM zerodown.history;

/* ---------- zd_register: bad arguments ---------- */

SELECT throws_ok($$SELECT zd_register(NULL, 'x', 'SELECT 1')$$,
                 '22004', 'number must not be NULL', 'zd_register refuses a NULL number');
SELECT throws_ok($$SELECT zd_register(3, NULL, 'SELECT 1')$$,
                 '22004', 'name must not be NULL', 'zd_register refuses a NULL name');
SELECT throws_ok($$SELECT zd_register(3, 'x', NULL)$$,
                 '22004', 'build_sql must not be NULL', 'zd_register refuses a NULL build');
SELECT throws_ok($$SELECT zd_register(0, 'x', 'SELECT 1')$$,
                 '22023', 'patch number 0 is out of range', 'zd_register refuses patch number 0');
SELECT throws_ok($$SELECT zd_register(-1, 'x', 'SELECT 1')$$,
                 '22023', 'patch number -1 is out of range', 'zd_register refuses a negative number');
SELECT throws_ok($$SELECT zd_register(3, 'bad name', 'SELECT 1')$$,
                 '22023', 'invalid patch name "bad name"', 'zd_register refuses a name with a space');
SELECT throws_ok($$SELECT zd_register(3, '', 'SELECT 1')$$,
                 '22023', 'invalid patch name ""', 'zd_register refuses an empty name');
SELECT throws_ok($$SELECT zd_register(3, '../../etc/x', 'SELECT 1')$$,
                 '22023', 'invalid patch name "../../etc/x"', 'zd_register refuses a name that is a path');
SELECT throws_ok($$SELECT zd_register(3, repeat('x', 201), 'SELECT 1')$$,
                 '22023', 'invalid patch name "' || repeat('x', 201) || '"',
                 'zd_register refuses a name longer than 200 characters');

/* ---------- zd_register: an applied patch is immutable ---------- */

SELECT throws_ok($$SELECT zd_register(1, 'create_t1', 'CREATE TABLE t1 (id bigint)', 'DROP TABLE t1')$$,
                 '55006', 'patch 1 "create_t1" is applied and cannot be changed',
                 'zd_register refuses new text for an applied patch');
SELECT throws_ok($$SELECT zd_register(2, 'irreversible_t2', 'CREATE TABLE t2 (id int)', 'DROP TABLE t2')$$,
                 '55006', 'patch 2 "irreversible_t2" is applied and cannot be changed',
                 'zd_register refuses to add a rollback to an applied patch');
SELECT throws_ok($$SELECT zd_register(1, 'renamed_t1', 'CREATE TABLE t1 (id int)', 'DROP TABLE t1')$$,
                 '55006', 'patch 1 "create_t1" is applied and cannot be changed',
                 'renaming an applied patch is refused, and the error names the patch that was applied');
SELECT is((pg_temp.error_of($$SELECT zd_register(1, 'create_t1', 'CREATE TABLE t1 (id bigint)', 'DROP TABLE t1')$$))[4],
          'Applied patches are immutable: restore its text, and make the change in a new patch.',
          'the hint says to make the change in a new patch');

SELECT set_eq($$SELECT number, checksum FROM zerodown.patches$$, $$SELECT number, checksum FROM before$$,
              'no refused zd_register changed a patch');
SELECT is(zd_version(), 2, 'no refused zd_register changed the version');

/* ---------- zd_set_var: bad arguments ---------- */

SELECT throws_ok($$SELECT zd_set_var(NULL, 'x')$$,
                 '22004', 'name must not be NULL', 'zd_set_var refuses a NULL name');
SELECT throws_ok($$SELECT zd_set_var('1x', 'x')$$,
                 '22023', 'invalid variable name "1x"', 'zd_set_var refuses a name starting with a digit');
SELECT throws_ok($$SELECT zd_set_var('', 'x')$$,
                 '22023', 'invalid variable name ""', 'zd_set_var refuses an empty name');
SELECT throws_ok($$SELECT zd_set_var('a-b', 'x')$$,
                 '22023', 'invalid variable name "a-b"', 'zd_set_var refuses a hyphen');
SELECT throws_ok($$SELECT zd_set_var('${x}', 'x')$$,
                 '22023', 'invalid variable name "${x}"', 'zd_set_var refuses the placeholder syntax as a name');
SELECT is_empty($$SELECT * FROM zerodown.vars$$, 'no refused zd_set_var stored a variable');
SELECT is(zd_version(), 2, 'no refused zd_set_var changed the version');

/* ---------- zd_align / zd_plan: targets ---------- */

SELECT throws_ok($$SELECT zd_align(3)$$,
                 '22023', 'target patch 3 does not exist', 'zd_align refuses a target above the highest patch');
SELECT throws_ok($$SELECT zd_align(-1)$$,
                 '22023', 'target patch -1 does not exist', 'zd_align refuses a negative target');
SELECT throws_ok($$SELECT * FROM zd_plan(3)$$,
                 '22023', 'target patch 3 does not exist', 'zd_plan refuses a target above the highest patch');
SELECT is((pg_temp.error_of($$SELECT zd_align(3)$$))[3],
          'Targets go from 0 (no patch applied) to 2, the highest registered patch.',
          'the detail gives the range of targets');
SELECT is(zd_version(), 2, 'after a bad target the database stands at patch 2');

/* ---------- gaps ---------- */

SELECT is(zd_register(4, 'after_a_gap', 'CREATE TABLE t4 (id int)', 'DROP TABLE t4'), 'registered',
          'patch 4 is registered, patch 3 is not');
SELECT throws_ok($$SELECT zd_align(4)$$,
                 '42704', 'patch 3 is not registered', 'zd_align refuses to cross a gap');
SELECT throws_ok($$SELECT zd_align()$$,
                 '42704', 'patch 3 is not registered', 'zd_align() refuses to cross a gap');
SELECT throws_ok($$SELECT * FROM zd_plan(4)$$,
                 '42704', 'patch 3 is not registered', 'zd_plan refuses to cross a gap');
SELECT is((pg_temp.error_of($$SELECT zd_align(4)$$))[3],
          'Going from patch 2 to patch 4 runs every patch in between, and numbering has a gap at 3. Nothing was run.',
          'the detail names the gap');
SELECT hasnt_table('public', 't4', 'patch 4 did not run');
SELECT is(zd_version(), 2, 'after a gap the database stands at patch 2');
DELETE FROM zerodown.patches WHERE number = 4;

/* ---------- irreversible and changed patches on the way down ---------- */

SELECT throws_ok($$SELECT zd_align(1)$$,
                 '55000', 'patch 2 "irreversible_t2" is irreversible',
                 'zd_align refuses to roll back a patch without rollback');
SELECT throws_ok($$SELECT zd_align(0)$$,
                 '55000', 'patch 2 "irreversible_t2" is irreversible',
                 'zd_align refuses to go below an irreversible patch');
SELECT throws_ok($$SELECT * FROM zd_plan(0)$$,
                 '55000', 'patch 2 "irreversible_t2" is irreversible',
                 'zd_plan refuses to go below an irreversible patch');
SELECT has_table('public', 't2', 'patch 2 was not rolled back');
SELECT has_table('public', 't1', 'patch 1 was not rolled back');
SELECT is(zd_version(), 2, 'after an irreversible patch the database stands at patch 2');

UPDATE zerodown.patches SET rollback_sql = 'DROP TABLE t2', checksum = 'tampered' WHERE number = 2;
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '55000', 'patch 2 "irreversible_t2" has changed since it was applied',
                 'zd_align refuses to roll back a patch whose text changed after it was applied');
SELECT is((SELECT drift FROM zerodown.status WHERE number = 2), true, 'zerodown.status shows the drift');
UPDATE zerodown.patches p SET rollback_sql = NULL, checksum = b.checksum
  FROM before b WHERE b.number = 2 AND p.number = 2;
SELECT is(zd_version(), 2, 'after a changed patch the database stands at patch 2');

/* ---------- patch 3: refused before it runs ---------- */

SELECT is(zd_register(3, 'concurrent',
                      E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY t1_id ON t1 (id)',
                      'DROP INDEX t1_id'),
          'registered', 'patch 3 must run outside a transaction');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '25001', 'patch 3 "concurrent" must run outside a transaction',
                 'zd_align refuses a no-transaction patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align refuses a no-transaction patch');
SELECT is((SELECT transactional FROM zd_plan(3)), false, 'zd_plan shows it as not transactional');
SELECT is(zd_register(3, 'fine', 'CREATE TABLE t3 (id int)', 'DROP TABLE t3'), 'replaced',
          'patch 3 is fine');
SELECT is(zd_register(4, 'concurrent',
                      E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY t1_id ON t1 (id)',
                      'DROP INDEX t1_id'),
          'registered', 'patch 4 must run outside a transaction');
SELECT throws_ok($$SELECT zd_align(4)$$,
                 '25001', 'patch 4 "concurrent" must run outside a transaction',
                 'zd_align refuses a plan with a no-transaction patch in it');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align refuses a plan with a no-transaction patch in it');
SELECT hasnt_table('public', 't3', 'and patch 3, before it, did not run');
DELETE FROM zerodown.patches WHERE number = 4;

SELECT is(zd_register(3, 'commits', E'CREATE TABLE t3 (id int);\nCOMMIT;', 'DROP TABLE t3'), 'replaced',
          'patch 3 commits');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '0A000', 'transaction control statement at line 2 of build of patch 3',
                 'zd_align refuses COMMIT in a patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align refuses COMMIT in a patch');
SELECT throws_ok($$SELECT * FROM zd_plan(3)$$,
                 '0A000', 'transaction control statement at line 2 of build of patch 3',
                 'zd_plan refuses COMMIT in a patch');
SELECT is(zd_register(3, 'savepoint', 'SAVEPOINT s', ''), 'replaced', 'patch 3 sets a savepoint');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '0A000', 'transaction control statement at line 1 of build of patch 3',
                 'zd_align refuses SAVEPOINT in a patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align refuses SAVEPOINT in a patch');

SELECT is(zd_register(3, 'typo', E'CREATE TABLE t3 (id int);\n\nCREAT TABLE t3b (id int);', 'DROP TABLE t3'),
          'replaced', 'patch 3 has a typo on line 3');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '42601', 'syntax error at or near "CREAT" at line 3 of build of patch 3',
                 'zd_align reports a syntax error with its line');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align reports a syntax error with its line');
SELECT throws_ok($$SELECT * FROM zd_plan(3)$$,
                 '42601', 'syntax error at or near "CREAT" at line 3 of build of patch 3',
                 'zd_plan reports a syntax error with its line');
SELECT hasnt_table('public', 't3', 'the statement before the typo did not run');

SELECT is(zd_register(3, 'placeholder', 'CREATE TABLE ${table_name} (id int)', 'DROP TABLE t3'),
          'replaced', 'patch 3 uses an unknown placeholder');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '42704', 'unknown placeholder "${table_name}" in build of patch 3',
                 'zd_align refuses an unknown placeholder');
SELECT is(zd_version(), 2, 'still at patch 2 after: zd_align refuses an unknown placeholder');

SELECT is(zd_version(), 2, 'after every refused patch 3 the database stands at patch 2');
SELECT set_eq($$SELECT number FROM zerodown.applied$$, ARRAY[1, 2], 'patches 1 and 2 are applied');
SELECT is((SELECT count(*) FROM zerodown.history), (SELECT n FROM history_before),
          'nothing was added to the history');

/* ---------- patch 3: fails while it runs ---------- */

SELECT is(zd_register(3, 'broken', E'CREATE TABLE t3 (id int);\nINSERT INTO no_such_table VALUES (1);',
                      'DROP TABLE t3'),
          'replaced', 'patch 3 inserts into a table that does not exist');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '42P01', 'patch 3 "broken" failed: relation "no_such_table" does not exist',
                 'an SQL error inside a patch keeps its SQLSTATE and names the patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: an SQL error inside a patch keeps its SQLSTATE and names the patch');
SELECT is(pg_temp.error_of($$SELECT zd_align(3)$$),
          ARRAY['42P01', 'patch 3 "broken" failed: relation "no_such_table" does not exist',
                'build of patch 3, line 2: INSERT INTO no_such_table VALUES (1).',
                'zd_align is all or nothing: the database stays at patch 2.'],
          'the detail names the file, the line and the statement; the hint says nothing changed');
SELECT hasnt_table('public', 't3', 'the first statement of the failed patch was rolled back');

SELECT is(zd_register(3, 'copy_in', 'COPY t1 FROM STDIN', 'SELECT 1'), 'replaced',
          'patch 3 reads from STDIN');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '0A000', 'patch 3 "copy_in" failed: statement cannot run in a patch: SPI_ERROR_COPY',
                 'COPY FROM STDIN cannot run in a patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: COPY FROM STDIN cannot run in a patch');

SELECT is(zd_register(3, 'unmarked_concurrent', 'CREATE INDEX CONCURRENTLY t1_id ON t1 (id)', 'DROP INDEX t1_id'),
          'replaced', 'patch 3 creates an index concurrently without the marker');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '25001', 'CREATE INDEX CONCURRENTLY cannot run inside a transaction, at line 1 of build of patch 3',
                 'a statement that cannot run in a transaction is refused before anything runs');
SELECT is(zd_version(), 2, 'still at patch 2 after: a statement that cannot run in a transaction fails');

SELECT is(zd_register(3, 'verified', 'CREATE TABLE t3 (id int)', 'DROP TABLE t3',
                      'SELECT count(*) = 1 FROM t3'),
          'replaced', 'patch 3 has a verify that fails');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 'P0004', 'patch 3 "verified" failed: verify returned false',
                 'a verify that returns false fails the patch');
SELECT is(zd_version(), 2, 'still at patch 2 after: a verify that returns false fails the patch');
SELECT is((pg_temp.error_of($$SELECT zd_align(3)$$))[3],
          'verify of patch 3, line 1: SELECT count(*) = 1 FROM t3.',
          'the detail names the verify statement');
SELECT hasnt_table('public', 't3', 'the build of a patch whose verify failed was rolled back');

SELECT is(zd_register(3, 'verify_error', 'CREATE TABLE t3 (id int)', 'DROP TABLE t3', 'SELECT 1 / 0'),
          'replaced', 'patch 3 has a verify that raises an error');
SELECT throws_ok($$SELECT zd_align(3)$$,
                 '22012', 'patch 3 "verify_error" failed: division by zero',
                 'an error in a verify keeps its SQLSTATE');
SELECT is(zd_version(), 2, 'still at patch 2 after: an error in a verify keeps its SQLSTATE');

/* ---------- all or nothing ---------- */

SELECT is(zd_register(3, 'fine', 'CREATE TABLE t3 (id int)', 'DROP TABLE t3'), 'replaced',
          'patch 3 is fine again');
SELECT is(zd_register(4, 'divide', E'CREATE TABLE t4 (id int);\nINSERT INTO t4 VALUES (1 / 0);', 'DROP TABLE t4'),
          'registered', 'patch 4 divides by zero');
SELECT throws_ok($$SELECT zd_align(4)$$,
                 '22012', 'patch 4 "divide" failed: division by zero',
                 'zd_align(4) fails on patch 4');
SELECT is((pg_temp.error_of($$SELECT zd_align(4)$$))[4],
          'zd_align is all or nothing: the database stays at patch 2.',
          'the hint says where the database stays');
SELECT is(zd_version(), 2, 'the database stays at patch 2, not 3');
SELECT hasnt_table('public', 't3', 'patch 3, which succeeded, was rolled back with patch 4');
SELECT set_eq($$SELECT number FROM zerodown.applied$$, ARRAY[1, 2], 'only patches 1 and 2 are applied');
SELECT is((SELECT count(*) FROM zerodown.history), (SELECT n FROM history_before),
          'the history has no row for patch 3');
SELECT is(current_setting('lock_timeout'), '0', 'a failed zd_align leaves the caller''s lock_timeout alone');
DELETE FROM zerodown.patches WHERE number = 4;

/* ---------- zd_load ---------- */

SELECT throws_ok($$SELECT * FROM zd_load(NULL)$$,
                 '22004', 'dir must not be NULL', 'zd_load refuses a NULL folder');
SELECT throws_ok($$SELECT * FROM zd_load('/nonexistent/zerodown')$$,
                 '58P01', 'migrations folder "/nonexistent/zerodown" does not exist',
                 'zd_load refuses a folder that does not exist');
SELECT throws_ok($$SELECT * FROM zd_load('PG_VERSION')$$,
                 '58P01', 'migrations folder "PG_VERSION" is not a directory',
                 'zd_load refuses a file (relative paths start at the data directory)');
SELECT throws_ok($$SELECT * FROM zd_load('base')$$,
                 '58P01', 'build folder "base/build" does not exist',
                 'zd_load refuses a folder without build/');
SELECT set_eq($$SELECT number FROM zerodown.patches$$, ARRAY[1, 2, 3],
              'no refused zd_load registered a patch');

/* ---------- steps run by a client outside a transaction ---------- */

SELECT throws_ok($$SELECT * FROM zd_step_statements(NULL)$$,
                 '22004', 'number must not be NULL', 'zd_step_statements refuses a NULL number');
SELECT throws_ok($$SELECT * FROM zd_step_statements(3, 'sideways')$$,
                 '22023', 'invalid direction "sideways"', 'zd_step_statements refuses an unknown direction');
SELECT throws_ok($$SELECT * FROM zd_step_statements(1)$$,
                 '55000', 'patch 1 cannot be built now', 'zd_step_statements refuses a step that is not next');
SELECT throws_ok($$SELECT * FROM zd_step_statements(2, 'rollback')$$,
                 '55000', 'patch 2 "irreversible_t2" is irreversible',
                 'zd_step_statements refuses to roll back an irreversible patch');
SELECT throws_ok($$SELECT zd_step_done(3, 'build', now(), 0)$$,
                 '22023', 'attempts must be at least 1', 'zd_step_done refuses attempts below 1');
SELECT throws_ok($$SELECT zd_step_done(4, 'build', now())$$,
                 '55000', 'patch 4 cannot be built now', 'zd_step_done refuses a step that is not next');
SELECT is(zd_version(), 2, 'after the refused steps the database stands at patch 2');

/* ---------- on the way down: rollback checks ---------- */

SELECT is(zd_register(3, 'notx_rollback', 'CREATE TABLE t3 (id int)',
                      E'-- zerodown:no-transaction\nDROP TABLE t3'),
          'replaced', 'patch 3 has a rollback that must run outside a transaction');
SELECT is(zd_align(3), 3, 'patch 3 is built');
SELECT throws_ok($$SELECT zd_align(2)$$,
                 '25001', 'patch 3 "notx_rollback" must run outside a transaction',
                 'zd_align refuses a no-transaction rollback');
SELECT is(zd_version(), 3, 'the database stays at patch 3');

SELECT is(zd_step_done(3, 'rollback', clock_timestamp()), 2,
          'the client records the no-transaction rollback once it ran (here: nothing ran)');
DROP TABLE t3;
SELECT is(zd_register(3, 'placeholder_rollback', 'CREATE TABLE t3 (id int)', 'DROP TABLE ${t3_name}'),
          'replaced', 'patch 3 has a rollback with an unknown placeholder');
-- building does not need the rollback: zd_align warns and builds (issue 11
-- item 6); going below the patch needs it, and is refused before anything
-- runs
SET LOCAL client_min_messages = error;
SELECT lives_ok($$SELECT zd_align(3)$$,
                'zd_align builds a patch whose rollback cannot run (a warning, not a refusal)');
SET LOCAL client_min_messages = warning;
SELECT has_table('public', 't3', 'patch 3 was built');
SELECT throws_ok($$SELECT zd_align(2)$$,
                 '42704', 'unknown placeholder "${t3_name}" in rollback of patch 3',
                 'aligning below the patch needs its rollback: refused before it runs');
SELECT is(zd_version(), 3, 'the database stays at patch 3');

SELECT * FROM finish();
ROLLBACK;
