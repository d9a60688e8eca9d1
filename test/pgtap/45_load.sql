-- 45_load.sql: zd_load registers every patch of a migrations folder on the
-- server, and refuses a folder that is not complete, before registering
-- anything.  It reads the folders under test/fixtures, so pg_prove runs
-- from the root of the source tree (as "make prove" does).
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;
\set fixtures `pwd`/test/fixtures

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(21);

CREATE TEMP TABLE fixtures AS SELECT :'fixtures'::text AS dir;

/* ---------- a complete folder ---------- */

SELECT results_eq(format('SELECT number, name, action FROM zd_load(%L) ORDER BY number',
                         (SELECT dir FROM fixtures) || '/migrations_ok'),
                  $$VALUES (1, 'create_table_load_a'::text, 'registered'::text),
                           (2, 'create_function_load_label', 'registered'),
                           (3, 'insert_load_a_rows', 'registered'),
                           (4, 'comment_on_load_a', 'registered')$$,
                  'zd_load registers the four patches of the folder, in order');
SELECT results_eq($$SELECT number, rollback_sql = '', verify_sql IS NOT NULL FROM zerodown.patches ORDER BY number$$,
                  $$VALUES (1, false, true), (2, false, false), (3, false, true), (4, true, false)$$,
                  'an empty rollback file is an empty rollback; verify files are optional');
SELECT is((SELECT count(*)::int FROM zerodown.patches p
            WHERE p.build_sql = pg_read_file(format('%s/build/%s_%s.sql', p.source,
                                                    to_char(p.number, 'FM00000'), p.name))),
          4, 'each build is its file, byte for byte');
SELECT is((SELECT DISTINCT source FROM zerodown.patches), (SELECT dir FROM fixtures) || '/migrations_ok',
          'the source of each patch is the folder');
SELECT results_eq($$SELECT file FROM zd_plan(2)$$,
                  ARRAY[(SELECT dir FROM fixtures) || '/migrations_ok/build/00001_create_table_load_a.sql',
                        (SELECT dir FROM fixtures) || '/migrations_ok/build/00002_create_function_load_label.sql'],
                  'zd_plan names the files of a loaded patch');
SELECT results_eq(format('SELECT action FROM zd_load(%L)', (SELECT dir FROM fixtures) || '/migrations_ok'),
                  ARRAY['unchanged', 'unchanged', 'unchanged', 'unchanged'],
                  'loading the same folder again changes nothing');
SELECT is(zd_align(), 4, 'the loaded patches build');
SELECT is(load_label(2), 'two', 'and work');
SELECT is(load_label(3), 'none; 3', 'a dollar-quoted body with a semicolon is one statement');
SELECT is(zd_align(0), 0, 'and roll back');
SELECT hasnt_table('public', 'load_a', 'to an empty database');

/* ---------- incomplete folders: nothing is registered ---------- */

DELETE FROM zerodown.history;
DELETE FROM zerodown.patches;

SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_gap'),
                 '42704', format('patch 2 is missing from "%s/migrations_gap/build"', dir),
                 'zd_load refuses a gap in the numbering')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_missing_rollback'),
                 '58P01', format('build file "%s/migrations_missing_rollback/build/00002_alter_table_load_m.sql" has no rollback file', dir),
                 'zd_load refuses a build without its rollback file')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_orphan_rollback'),
                 '58P01', format('rollback file "%s/migrations_orphan_rollback/rollback/00002_alter_table_load_o.sql" has no build file', dir),
                 'zd_load refuses a rollback without its build file')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_orphan_verify'),
                 '58P01', format('verify file "%s/migrations_orphan_verify/verify/00002_alter_table_load_v.sql" has no build file', dir),
                 'zd_load refuses a verify without its build file')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_duplicate'),
                 '42710', format('two build files in "%s/migrations_duplicate/build" have number 1', dir),
                 'zd_load refuses two patches with one number')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_bad_name'),
                 '42602', format('file name "%s/migrations_bad_name/build/2_alter_table_load_n.sql" is not NNNNN_name.sql', dir),
                 'zd_load refuses a file not named NNNNN_name.sql')
  FROM fixtures;
SELECT throws_ok(format('SELECT * FROM zd_load(%L)', dir || '/migrations_no_build'),
                 '58P01', format('build folder "%s/migrations_no_build/build" does not exist', dir),
                 'zd_load refuses a folder without build/')
  FROM fixtures;
SELECT is_empty($$SELECT * FROM zerodown.patches$$, 'no refused folder registered anything');
SELECT is(zd_version(), 0, 'and the database stands at patch 0');

/* ---------- a refused folder leaves zd_load usable ---------- */

SELECT is((SELECT count(*)::int FROM zd_load((SELECT dir FROM fixtures) || '/migrations_ok')), 4,
          'the good folder is loaded again');

SELECT * FROM finish();
ROLLBACK;
