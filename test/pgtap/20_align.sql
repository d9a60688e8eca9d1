-- 20_align.sql: zd_plan shows the steps, zd_align runs them up or down,
-- again does nothing, and every step lands in zerodown.history.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(64);

/* ---------- an empty database ---------- */

SELECT is(zd_version(), 0, 'a fresh install stands at patch 0');
SELECT is_empty($$SELECT * FROM zd_plan()$$, 'with nothing registered there is nothing to plan');
SELECT is(zd_align(), 0, 'with nothing registered zd_align() stays at 0');
SELECT is(zd_align(0), 0, 'zd_align(0) on an empty database is a no-op');

/* ---------- three patches ---------- */

SELECT is(zd_register(1, 'create_table_example_a',
                      E'-- the first table\nCREATE TABLE example_a (id int PRIMARY KEY, label text);',
                      'DROP TABLE example_a;'),
          'registered', 'patch 1 is registered');
SELECT is(zd_register(2, 'fill_example_a',
                      E'INSERT INTO example_a VALUES (1, ''one'');\nINSERT INTO example_a VALUES (2, ''two'');',
                      'DELETE FROM example_a WHERE id IN (1, 2);',
                      'SELECT count(*) = 2 FROM example_a'),
          'registered', 'patch 2 (two statements and a verify) is registered');
SELECT is(zd_register(3, 'create_function_example_count',
                      $sql$
CREATE FUNCTION example_count() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM example_a);  -- a semicolon inside a body
END
$$;
/* a comment; with a semicolon */
CREATE VIEW example_v AS SELECT example_count() AS n;
$sql$,
                      'DROP VIEW example_v; DROP FUNCTION example_count();'),
          'registered', 'patch 3 (a dollar-quoted body and comments) is registered');

SELECT results_eq($$SELECT step, number, name, direction, transactional, statements, file FROM zd_plan(3)$$,
                  $$VALUES (1, 1, 'create_table_example_a'::text, 'build'::text, true, 1, 'build of patch 1'::text),
                           (2, 2, 'fill_example_a', 'build', true, 3, 'build of patch 2'),
                           (3, 3, 'create_function_example_count', 'build', true, 2, 'build of patch 3')$$,
                  'zd_plan(3) lists the three builds in order, verify statements included');
SELECT results_eq($$SELECT number FROM zd_plan()$$, ARRAY[1, 2, 3],
                  'zd_plan() plans up to the highest registered patch');
SELECT is(zd_version(), 0, 'zd_plan runs nothing: still at patch 0');
SELECT hasnt_table('public', 'example_a', 'zd_plan runs nothing: no table');
SELECT is_empty($$SELECT * FROM zerodown.history$$, 'zd_plan records nothing');

SELECT lives_ok($$SELECT zd_align(3, dry_run => true)$$, 'a dry run of the three patches succeeds');
SELECT is(zd_version(), 0, 'a dry run leaves the database at patch 0');
SELECT hasnt_table('public', 'example_a', 'a dry run leaves no table behind');
SELECT is_empty($$SELECT * FROM zerodown.history$$, 'a dry run records nothing');

/* ---------- up ---------- */

SELECT is(zd_align(2), 2, 'zd_align(2) returns the patch reached');
SELECT is(zd_version(), 2, 'the database stands at patch 2');
SELECT has_table('public', 'example_a', 'patch 1 ran');
SELECT results_eq($$SELECT id, label FROM example_a ORDER BY id$$,
                  $$VALUES (1, 'one'::text), (2, 'two'::text)$$,
                  'both statements of patch 2 ran');
SELECT hasnt_view('public', 'example_v', 'patch 3 did not run');
SELECT set_eq($$SELECT number FROM zerodown.applied$$, ARRAY[1, 2], 'patches 1 and 2 are applied');
SELECT is((SELECT count(*)::int FROM zerodown.applied a JOIN zerodown.patches p USING (number)
            WHERE a.checksum = p.checksum AND a.name = p.name AND a.applied_by = current_user),
          2, 'applied rows carry the patch name, its checksum and who applied it');
SELECT results_eq($$SELECT number, name, direction, outcome, attempts, role FROM zerodown.history ORDER BY id$$,
                  $$VALUES (1, 'create_table_example_a'::text, 'build'::text, 'done'::text, 1, current_user::name),
                           (2, 'fill_example_a', 'build', 'done', 1, current_user::name)$$,
                  'the history has one build row per patch, in order');
SELECT is((SELECT count(*)::int FROM zerodown.history
            WHERE duration >= '0'::interval AND backend_pid = pg_backend_pid()
              AND started_at <= clock_timestamp() AND error IS NULL),
          2, 'history rows say when, how long and which backend');

SELECT is(zd_align(2), 2, 'zd_align(2) again returns 2');
SELECT is((SELECT count(*)::int FROM zerodown.history), 2, 'and runs nothing: the history did not grow');
SELECT is_empty($$SELECT * FROM zd_plan(2)$$, 'the plan to the current patch is empty');

SELECT is(zd_align(), 3, 'zd_align() builds up to the highest registered patch');
SELECT is(zd_version(), 3, 'the database stands at patch 3');
SELECT is((SELECT n FROM example_v), 2::bigint, 'patch 3 split at the right semicolons and ran');
SELECT is(zd_align(NULL), 3, 'zd_align(NULL) is zd_align()');
SELECT is((SELECT count(*)::int FROM zerodown.history), 3, 'three builds in the history');

/* ---------- down ---------- */

SELECT results_eq($$SELECT step, number, name, direction, transactional, statements, file FROM zd_plan(1)$$,
                  $$VALUES (1, 3, 'create_function_example_count'::text, 'rollback'::text, true, 2, 'rollback of patch 3'::text),
                           (2, 2, 'fill_example_a', 'rollback', true, 1, 'rollback of patch 2')$$,
                  'zd_plan(1) lists the rollbacks from the top down, without verify');
SELECT is(zd_align(1), 1, 'zd_align(1) returns 1');
SELECT is(zd_version(), 1, 'the database stands at patch 1');
SELECT hasnt_view('public', 'example_v', 'the rollback of patch 3 ran');
SELECT is_empty($$SELECT * FROM example_a$$, 'the rollback of patch 2 ran');
SELECT set_eq($$SELECT number FROM zerodown.applied$$, ARRAY[1], 'only patch 1 is applied');
SELECT results_eq($$SELECT number, direction, outcome FROM zerodown.history ORDER BY id$$,
                  $$VALUES (1, 'build'::text, 'done'::text), (2, 'build', 'done'), (3, 'build', 'done'),
                           (3, 'rollback', 'done'), (2, 'rollback', 'done')$$,
                  'the rollbacks are in the history, newest last');
SELECT is(zd_align(1), 1, 'zd_align(1) again is a no-op');
SELECT is((SELECT count(*)::int FROM zerodown.history), 5, 'the history did not grow');

SELECT is(zd_align(0), 0, 'zd_align(0) rolls everything back');
SELECT hasnt_table('public', 'example_a', 'the rollback of patch 1 ran');
SELECT is_empty($$SELECT * FROM zerodown.applied$$, 'nothing is applied');
SELECT is(zd_align(3), 3, 'the same patches build the empty database again');
SELECT is((SELECT n FROM example_v), 2::bigint, 'and the result is the same');

/* ---------- irreversible and empty rollbacks ---------- */

SELECT is(zd_register(4, 'irreversible', 'CREATE TABLE example_b (id int)'), 'registered',
          'patch 4 has no rollback');
SELECT is(zd_register(5, 'empty_rollback', 'COMMENT ON TABLE example_b IS ''b''', ''), 'registered',
          'patch 5 has an empty rollback');
SELECT is(zd_align(5), 5, 'both are built');
SELECT results_eq($$SELECT number, reversible FROM zerodown.status WHERE number >= 4$$,
                  $$VALUES (4, false), (5, true)$$,
                  'zerodown.status shows which patches are reversible');
SELECT is((SELECT statements FROM zd_plan(4)), 0, 'an empty rollback has no statements');
SELECT is(zd_align(4), 4, 'an empty rollback rolls back and does nothing');
SELECT is(obj_description('example_b'::regclass, 'pg_class'), 'b', 'the comment is still there');
SELECT is(zd_version(), 4, 'the database may stand on an irreversible patch');

/* ---------- verify ---------- */

SELECT is(zd_register(5, 'verify_last_statement', 'SELECT 1', '',
                      E'SELECT false;\nSELECT NULL::boolean UNION ALL SELECT true'),
          'replaced', 'patch 5 gets a verify whose last statement returns true and NULL');
SELECT throws_ok($$SELECT zd_align(5)$$, 'P0004',
                 'patch 5 "verify_last_statement" failed: verify returned NULL',
                 'only the last statement of a verify counts, and NULL fails as pgTAP''s ok() does');
SELECT is(zd_align(4), 4, 'patch 5 was not applied');
SELECT is(zd_register(5, 'verify_no_rows', 'SELECT 1', '', 'SELECT false WHERE false'),
          'replaced', 'patch 5 gets a verify that returns no row');
SELECT is(zd_align(5), 5, 'a verify that returns no row passes');

/* ---------- lock_timeout while a patch runs ---------- */

SET LOCAL lock_timeout = '7s';
SET LOCAL zerodown.lock_timeout = '250ms';
SELECT is(zd_register(6, 'capture_lock_timeout',
                      'CREATE TABLE example_c AS SELECT current_setting(''lock_timeout'') AS v',
                      'DROP TABLE example_c'),
          'registered', 'patch 6 records the lock_timeout it runs under');
SELECT is(zd_align(6), 6, 'patch 6 is built');
SELECT is((SELECT v FROM example_c), '250ms', 'a patch runs with lock_timeout = zerodown.lock_timeout');
SELECT is(current_setting('lock_timeout'), '7s', 'the caller''s lock_timeout is restored afterwards');

SELECT * FROM finish();
ROLLBACK;
