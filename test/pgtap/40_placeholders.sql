-- 40_placeholders.sql: zd_set_var stores per-environment values, and
-- ${name} in build, rollback and verify text is replaced by them.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(40);

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

/* ---------- zd_set_var ---------- */

SELECT lives_ok($$SELECT zd_set_var('table_name', 'things')$$, 'a variable is set');
SELECT lives_ok($$SELECT zd_set_var('s3.bucket', 'my-bucket')$$, 'a dotted name is a valid name');
SELECT lives_ok($$SELECT zd_set_var('_greeting', 'hello')$$, 'a name may start with an underscore');
SELECT lives_ok($$SELECT zd_set_var('_greeting', 'it''s me')$$, 'setting it again replaces the value');
SELECT lives_ok($$SELECT zd_set_var('empty', '')$$, 'an empty value is a value');
SELECT results_eq($$SELECT name, value, set_by FROM zerodown.vars ORDER BY name$$,
                  $$VALUES ('_greeting'::text, 'it''s me'::text, current_user::name),
                           ('empty', '', current_user::name),
                           ('s3.bucket', 'my-bucket', current_user::name),
                           ('table_name', 'things', current_user::name)$$,
                  'zerodown.vars holds one row per name, with the last value and who set it');
SELECT lives_ok($$SELECT zd_set_var('empty', NULL)$$, 'a NULL value removes the variable');
SELECT lives_ok($$SELECT zd_set_var('never_set', NULL)$$, 'removing a variable that is not set is fine');
SELECT set_eq($$SELECT name FROM zerodown.vars$$, ARRAY['_greeting', 's3.bucket', 'table_name'],
              'the removed variable is gone');

/* ---------- substitution in build, rollback and verify ---------- */

SELECT is(zd_register(1, 'create_table_from_vars',
                      $patch$CREATE TABLE ${table_name} (
    id int,
    bucket text DEFAULT '${s3.bucket}',
    greeting text DEFAULT $g$${_greeting}$g$,
    untouched text DEFAULT '${1x} $x {y} $${}'
);
INSERT INTO ${table_name} (id) VALUES (1);$patch$,
                      'DROP TABLE ${table_name};',
                      'SELECT count(*) = 1 FROM ${table_name}'),
          'registered', 'a patch with placeholders in build, rollback and verify is registered');
SELECT is((SELECT build_sql FROM zerodown.patches WHERE number = 1) LIKE 'CREATE TABLE ${table_name}%', true,
          'the registered text keeps its placeholders');
SELECT is((SELECT statements FROM zd_plan(1)), 3, 'zd_plan fills the placeholders and counts the statements');
SELECT is(zd_align(1), 1, 'the patch is built');
SELECT has_table('public', 'things', '${table_name} became things');
SELECT results_eq($$SELECT id, bucket, greeting, untouched FROM things$$,
                  $want$VALUES (1, 'my-bucket'::text, 'it''s me'::text, '${1x} $x {y} $${}'::text)$want$,
                  'values go in as written; text that is not a ${name} placeholder is left alone');
SELECT is((SELECT name FROM zerodown.history WHERE number = 1), 'create_table_from_vars',
          'the verify ran with its placeholder filled and passed');

SELECT lives_ok($$SELECT zd_set_var('table_name', 'other_things')$$, 'the variable changes after the build');
SELECT is((SELECT drift FROM zerodown.status WHERE number = 1), true,
          'a new value is drift of the patches that use it (0.2.0): its rollback would not undo its build');
SELECT is((SELECT vars_changed FROM zerodown.status WHERE number = 1), ARRAY['table_name'],
          'zerodown.status names the placeholder whose value changed');
SELECT throws_ok($$SELECT zd_align(0)$$, '55000',
                 'patch 1 "create_table_from_vars" was applied with another value of ${table_name}',
                 'the rollback is refused while the value differs from the one its build used');
SELECT is(zd_register(1, 'create_table_from_vars',
                      $patch$CREATE TABLE ${table_name} (
    id int,
    bucket text DEFAULT '${s3.bucket}',
    greeting text DEFAULT $g$${_greeting}$g$,
    untouched text DEFAULT '${1x} $x {y} $${}'
);
INSERT INTO ${table_name} (id) VALUES (1);$patch$,
                      'DROP TABLE ${table_name};',
                      'SELECT count(*) = 1 FROM ${table_name}'),
          'unchanged', 'the applied patch registered again is unchanged whatever the values');
SELECT lives_ok($$SELECT zd_set_var('table_name', 'things')$$, 'the variable is set back');
SELECT is(zd_align(0), 0, 'the rollback runs with its placeholder filled');
SELECT hasnt_table('public', 'things', 'the rollback dropped things');

/* ---------- unknown placeholders ---------- */

SELECT lives_ok($$SELECT zd_set_var('_greeting', NULL)$$, '${_greeting} is removed');
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42704', 'unknown placeholder "${_greeting}" in build of patch 1',
                 'a removed variable is an unknown placeholder');
SELECT is(pg_temp.error_of($$SELECT zd_align(1)$$),
          ARRAY['42704', 'unknown placeholder "${_greeting}" in build of patch 1',
                'Line 4 uses it; the variables set are: s3.bucket, table_name.',
                'Set it with SELECT zd_set_var(''_greeting'', ''...''), or remove it from the patch.'],
          'the error names the line, the variables that are set, and how to set it');
SELECT throws_ok($$SELECT * FROM zd_plan(1)$$,
                 '42704', 'unknown placeholder "${_greeting}" in build of patch 1',
                 'zd_plan checks placeholders too');
SELECT hasnt_table('public', 'things', 'nothing ran');

SELECT is(zd_register(1, 'placeholder_in_comment',
                      E'-- for ${who_knows}\nSELECT 1', ''),
          'replaced', 'patch 1 has a placeholder in a comment');
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42704', 'unknown placeholder "${who_knows}" in build of patch 1',
                 'placeholders are replaced everywhere, comments included');

SELECT is(zd_register(1, 'placeholder_in_verify', 'SELECT 1', '', 'SELECT ${expected}'),
          'replaced', 'patch 1 has a placeholder in its verify');
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42704', 'unknown placeholder "${expected}" in verify of patch 1',
                 'a verify with an unknown placeholder is refused before the build runs');
SELECT lives_ok($$SELECT zd_set_var('columns', E'id int,\nlabel text')$$,
                'a value may span lines');
SELECT is(zd_register(1, 'multiline_value',
                      E'CREATE TABLE example_m (${columns});\nINSERT INTO no_such_table VALUES (1);', ''),
          'replaced', 'patch 1 uses it on line 1 and fails on line 2');
SELECT is((pg_temp.error_of($$SELECT zd_align(1)$$))[3],
          'build of patch 1, line 2: INSERT INTO no_such_table VALUES (1).',
          'errors give the line in the patch as written, not in the text after substitution');
SELECT is(zd_register(1, 'placeholder_in_verify', 'SELECT 1', '', 'SELECT ${expected}'),
          'replaced', 'patch 1 has a placeholder in its verify again');
SELECT lives_ok($$SELECT zd_set_var('expected', 'true')$$, '${expected} is set');
SELECT is(zd_align(1), 1, 'then the patch and its verify run');
SELECT is(zd_version(), 1, 'the database stands at patch 1');

SELECT * FROM finish();
ROLLBACK;
