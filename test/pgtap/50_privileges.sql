-- 50_privileges.sql: only the extension's owner and members of
-- zerodown_deployer register, set variables, plan and align; everyone may
-- ask zd_version().  The roles are created in the transaction and rolled
-- back with it.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(46);

CREATE ROLE zd_pgtap_nobody;
CREATE ROLE zd_pgtap_deployer IN ROLE zerodown_deployer;
CREATE ROLE zd_pgtap_executor;
CREATE ROLE zd_pgtap_noinherit NOINHERIT IN ROLE zerodown_deployer;
GRANT EXECUTE ON FUNCTION zd_align(integer, boolean), zd_register(integer, text, text, text, text, text),
                          zd_load(text)
   TO zd_pgtap_executor;
CREATE SCHEMA zd_pgtap_app;
GRANT USAGE, CREATE ON SCHEMA zd_pgtap_app TO zerodown_deployer;

SELECT is(zd_register(1, 'create_table_example_a', 'CREATE TABLE zd_pgtap_app.example_a (id int)',
                      'DROP TABLE zd_pgtap_app.example_a'),
          'registered', 'the extension''s owner registers patch 1');

/* ---------- a fresh role: EXECUTE is not granted to PUBLIC ---------- */

SELECT is(array_agg(f ORDER BY f), NULL,
          'a fresh role cannot execute any admin function')
  FROM unnest(ARRAY['zd_register(integer,text,text,text,text,text)', 'zd_align(integer,boolean)',
                    'zd_load(text)', 'zd_plan(integer)', 'zd_set_var(text,text)']) AS f
 WHERE has_function_privilege('zd_pgtap_nobody', f, 'EXECUTE');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.proname),
          ARRAY['zd_deploy_wait(bigint,integer)', 'zd_gate_open()', 'zd_gate_status()',
                'zd_job_slots()'],
          'a fresh role may only ask the version, watch the gate and wait for deployments (0.2.0: jobs are for zerodown_job)')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'zerodown')
   AND d.deptype = 'e'
   AND p.proname <> 'zd_version'
   AND has_function_privilege('zd_pgtap_nobody', p.oid, 'EXECUTE');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY p.proname), NULL,
          'zerodown_deployer can execute every function of the extension but the managed jobs'' (0.2.0)')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'zerodown')
   AND d.deptype = 'e'
   AND p.proname NOT IN ('zd_job_begin', 'zd_job_end')
   AND NOT has_function_privilege('zerodown_deployer', p.oid, 'EXECUTE');
SELECT ok(has_function_privilege('zd_pgtap_nobody', 'zd_version()', 'EXECUTE'),
          'a fresh role can execute zd_version');

SET LOCAL ROLE zd_pgtap_nobody;
SELECT is(current_user, 'zd_pgtap_nobody', 'now running as a fresh role');
SELECT is(zd_version(), 0, 'everyone may ask zd_version()');
SELECT throws_ok($$SELECT zd_register(2, 'x', 'SELECT 1')$$,
                 '42501', 'permission denied for function zd_register', 'a fresh role cannot register');
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42501', 'permission denied for function zd_align', 'a fresh role cannot align');
SELECT throws_ok($$SELECT * FROM zd_plan(1)$$,
                 '42501', 'permission denied for function zd_plan', 'a fresh role cannot plan');
SELECT throws_ok($$SELECT zd_set_var('x', 'y')$$,
                 '42501', 'permission denied for function zd_set_var', 'a fresh role cannot set variables');
SELECT throws_ok($$SELECT * FROM zd_load('/tmp')$$,
                 '42501', 'permission denied for function zd_load', 'a fresh role cannot load patches');
SELECT throws_ok($$SELECT * FROM zd_step_statements(1)$$,
                 '42501', 'permission denied for function zd_step_statements',
                 'a fresh role cannot fetch a step''s statements');
SELECT throws_ok($$SELECT zd_step_done(1, 'build', now())$$,
                 '42501', 'permission denied for function zd_step_done', 'a fresh role cannot record a step');
SELECT throws_ok($$SELECT * FROM zerodown.status$$,
                 '42501', 'permission denied for view status', 'a fresh role cannot read zerodown.status');
SELECT throws_ok($$INSERT INTO zerodown.applied VALUES (1, 'x', 'x', now(), current_user)$$,
                 '42501', 'permission denied for table applied',
                 'a fresh role cannot write zerodown''s tables behind its back');
RESET ROLE;

/* ---------- EXECUTE alone is not enough: the C code checks the role ---------- */

SET LOCAL ROLE zd_pgtap_executor;
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42501', 'permission denied to align the database',
                 'a role granted EXECUTE but not zerodown_deployer cannot align');
SELECT throws_ok($$SELECT zd_register(2, 'x', 'SELECT 1')$$,
                 '42501', 'permission denied to register patches',
                 'a role granted EXECUTE but not zerodown_deployer cannot register');
SELECT throws_ok($$SELECT * FROM zd_load('/tmp')$$,
                 '42501', 'permission denied to register patches',
                 'a role granted EXECUTE but not zerodown_deployer cannot load');
RESET ROLE;

/* ---------- zerodown_deployer ---------- */

SET LOCAL ROLE zd_pgtap_deployer;
SELECT is(current_user, 'zd_pgtap_deployer', 'now running as a member of zerodown_deployer');
SELECT is(zd_register(2, 'create_table_example_b', 'CREATE TABLE zd_pgtap_app.example_b (id int)',
                      'DROP TABLE zd_pgtap_app.example_b'),
          'registered', 'a deployer registers a patch');
SELECT lives_ok($$SELECT zd_set_var('schema', 'zd_pgtap_app')$$, 'a deployer sets a variable');
SELECT results_eq($$SELECT number, direction FROM zd_plan()$$,
                  $$VALUES (1, 'build'::text), (2, 'build'::text)$$,
                  'a deployer plans');
SELECT is(zd_align(), 2, 'a deployer aligns');
SELECT is(zd_version(), 2, 'the database stands at patch 2');
SELECT has_table('zd_pgtap_app', 'example_b', 'the deployer''s patch ran');
SELECT results_eq($$SELECT number, applied_by FROM zerodown.applied ORDER BY number$$,
                  $$VALUES (1, 'zd_pgtap_deployer'::name), (2, 'zd_pgtap_deployer'::name)$$,
                  'zerodown.applied says who applied each patch');
SELECT results_eq($$SELECT number, role FROM zerodown.history ORDER BY id$$,
                  $$VALUES (1, 'zd_pgtap_deployer'::name), (2, 'zd_pgtap_deployer'::name)$$,
                  'zerodown.history says who ran each step');
SELECT is((SELECT registered_by FROM zerodown.patches WHERE number = 2), 'zd_pgtap_deployer'::name,
          'zerodown.patches says who registered each patch');
SELECT results_eq($$SELECT number, applied FROM zerodown.status$$,
                  $$VALUES (1, true), (2, true)$$,
                  'a deployer reads zerodown.status');
SELECT is(zd_align(1), 1, 'a deployer rolls back');
SELECT throws_ok($$SELECT * FROM zd_load('/tmp')$$,
                 '42501', 'permission denied to read patch files on the server',
                 'zd_load also needs pg_read_server_files');
SELECT throws_ok($$DELETE FROM zerodown.history$$,
                 '42501', 'permission denied for table history',
                 'a deployer cannot rewrite the history');
SELECT throws_ok($$CREATE TABLE zerodown.mine (id int)$$,
                 '42501', 'permission denied for schema zerodown',
                 'a deployer cannot create objects in schema zerodown');
RESET ROLE;

/* ---------- a NOINHERIT member does not get the deployer's rights ---------- */

SET LOCAL ROLE zd_pgtap_noinherit;
SELECT throws_ok($$SELECT zd_align(1)$$,
                 '42501', 'permission denied for function zd_align',
                 'a NOINHERIT member of zerodown_deployer cannot align without SET ROLE');
SET LOCAL ROLE zerodown_deployer;
SELECT is(zd_align(1), 1, 'acting as zerodown_deployer itself, it can');
RESET ROLE;

/* ---------- granting zerodown_deployer is all it takes ---------- */

GRANT zerodown_deployer TO zd_pgtap_nobody;
SET LOCAL ROLE zd_pgtap_nobody;
SELECT ok(pg_has_role('zerodown_deployer', 'USAGE'), 'the fresh role is now a deployer');
SELECT is(zd_register(3, 'create_table_example_c', 'CREATE TABLE ${schema}.example_c (id int)',
                      'DROP TABLE ${schema}.example_c'),
          'registered', 'it registers');
SELECT is((SELECT count(*)::int FROM zd_plan(3)), 2, 'it plans');
SELECT is(zd_align(3), 3, 'it aligns');
SELECT has_table('zd_pgtap_app', 'example_c', 'its patch ran');
SELECT is(zd_version(), 3, 'the database stands at patch 3');
RESET ROLE;

REVOKE zerodown_deployer FROM zd_pgtap_nobody;
SET LOCAL ROLE zd_pgtap_nobody;
SELECT throws_ok($$SELECT zd_align(0)$$,
                 '42501', 'permission denied for function zd_align',
                 'once revoked, it cannot align any more');
SELECT is(zd_version(), 3, 'and the database stays at patch 3');
RESET ROLE;

/* ---------- the owner ---------- */

SELECT is(current_user, (SELECT extowner::regrole::name FROM pg_catalog.pg_extension WHERE extname = 'zerodown'),
          'back as the owner of the extension');
SELECT is(zd_align(0), 0, 'the owner aligns without being a member of zerodown_deployer');

SELECT * FROM finish();
ROLLBACK;
