-- 00_schema.sql: what CREATE EXTENSION zerodown installs -- its schema,
-- tables, view, functions, role, privileges and settings.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(86);

/* ---------- schema, tables, view ---------- */

SELECT has_schema('zerodown', 'schema zerodown exists');
SELECT has_table('zerodown', 'patches', 'table zerodown.patches exists');
SELECT has_table('zerodown', 'applied', 'table zerodown.applied exists');
SELECT has_table('zerodown', 'history', 'table zerodown.history exists');
SELECT has_table('zerodown', 'vars', 'table zerodown.vars exists');
SELECT has_view('zerodown', 'status', 'view zerodown.status exists');
SELECT has_sequence('zerodown', 'history_id_seq', 'sequence zerodown.history_id_seq exists');

SELECT col_is_pk('zerodown', 'patches', 'number', 'patches are keyed by number');
SELECT col_is_pk('zerodown', 'applied', 'number', 'applied patches are keyed by number');
SELECT col_is_pk('zerodown', 'vars', 'name', 'variables are keyed by name');
SELECT fk_ok('zerodown', 'applied', 'number', 'zerodown', 'patches', 'number',
             'an applied patch references a registered patch');

SELECT columns_are('zerodown', 'status',
                   ARRAY['number', 'name', 'applied', 'applied_at', 'applied_by',
                         'checksum', 'applied_checksum', 'drift', 'reversible',
                         'transactional', 'source', 'registered_at', 'intact',
                         'applied_vars', 'vars_changed'],
                   'zerodown.status has the documented columns');

SELECT is((SELECT count(*)::int
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::regclass
                                       AND c.oid = d.objid
            WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
              AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'zerodown')
              AND d.deptype = 'e'
              AND c.relnamespace <> 'zerodown'::regnamespace),
          0,
          'every table, view and sequence of the extension lives in schema zerodown');

SELECT set_eq($$SELECT unnest(extconfig)::regclass::text
                 FROM pg_catalog.pg_extension WHERE extname = 'zerodown'$$,
              ARRAY['zerodown.patches', 'zerodown.applied', 'zerodown.history',
                    'zerodown.history_id_seq', 'zerodown.vars',
                    'zerodown.deployments', 'zerodown.deployments_id_seq',
                    'zerodown.publishes', 'zerodown.publishes_id_seq',
                    'zerodown.expansions', 'zerodown.expansions_id_seq'],
              'patches, applied, history, vars, deployments, publishes and expansions (with their sequences) are dumped by pg_dump');

SELECT is((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'zerodown'),
          (SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'zerodown'),
          'the installed version is the default_version of zerodown.control');

/* ---------- functions ---------- */

SELECT set_eq($$SELECT p.oid::regprocedure::text
                 FROM pg_catalog.pg_depend d
                 JOIN pg_catalog.pg_proc p ON p.oid = d.objid
                WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                  AND d.refclassid = 'pg_catalog.pg_extension'::regclass
                  AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'zerodown')
                  AND d.deptype = 'e'$$,
              ARRAY['zd_register(integer,text,text,text,text,text)',
                    'zd_unregister(integer)',
                    'zd_load(text)',
                    'zd_align(integer,boolean)',
                    'zd_align_each(integer)',
                    'zd_baseline(integer)',
                    'zd_plan(integer)',
                    'zd_set_var(text,text)',
                    'zd_version()',
                    'zd_step_statements(integer,text)',
                    'zd_step_done(integer,text,timestamp with time zone,integer)',
                    'zd_lint(integer)',
                    'zd_dry_run(integer)',
                    'zd_check(integer,integer)',
                    'zd_job_begin(text)',
                    'zd_job_end()',
                    'zd_job_slots()',
                    'zd_gate_close(integer)',
                    'zd_gate_open()',
                    'zd_gate_status()',
                    'zd_deploy(integer)',
                    'zd_deploy_wait(bigint,integer)',
                    'zd_deploy_cancel(bigint)',
                    'zd_publish(name,name,text[],name,boolean,boolean,integer)',
                    'zd_unpublish(name,boolean,boolean,integer)',
                    'zd_clone_schema(name,name,boolean)',
                    'zd_sync(regclass,jsonb,text[],boolean)',
                    'zd_expand_column(regclass,text,text,text,text,text)',
                    'zd_expand_columns(regclass,text[],text[],text[],text[],text[])',
                    'zd_expand_table(regclass,regclass,text,text[],text[])',
                    'zd_backfill(regclass,text,integer,integer)',
                    'zd_contract(regclass,text)',
                    'zd_abort(regclass,text)',
                    'zd_expansion_status(regclass)',
                    'zd_dualwrite_column()',
                    'zd_dualwrite_parent()',
                    'zd_dualwrite_child()',
                    'zd_replica_lag()',
                    'zd_wait_for_replicas()'],
              'the extension installs exactly these functions');

SELECT has_function('public', 'zd_register',
                    ARRAY['integer', 'text', 'text', 'text', 'text', 'text'],
                    'zd_register(number, name, build_sql, rollback_sql, verify_sql, source) exists');
SELECT has_function('public', 'zd_load', ARRAY['text'], 'zd_load(dir) exists');
SELECT has_function('public', 'zd_align', ARRAY['integer', 'boolean'], 'zd_align(target, dry_run) exists');
SELECT has_function('public', 'zd_plan', ARRAY['integer'], 'zd_plan(target) exists');
SELECT has_function('public', 'zd_set_var', ARRAY['text', 'text'], 'zd_set_var(name, value) exists');
SELECT has_function('public', 'zd_version', ARRAY[]::name[], 'zd_version() exists');
SELECT has_function('public', 'zd_step_statements', ARRAY['integer', 'text'],
                    'zd_step_statements(number, direction) exists');
SELECT has_function('public', 'zd_step_done',
                    ARRAY['integer', 'text', 'timestamp with time zone', 'integer'],
                    'zd_step_done(number, direction, started_at, attempts) exists');
SELECT has_function('public', 'zd_lint', ARRAY['integer'], 'zd_lint(target) exists');
SELECT has_function('public', 'zd_dry_run', ARRAY['integer'], 'zd_dry_run(target) exists');
SELECT has_function('public', 'zd_check', ARRAY['integer', 'integer'], 'zd_check(from, to) exists');

SELECT function_returns('public', 'zd_register',
                        ARRAY['integer', 'text', 'text', 'text', 'text', 'text'], 'text',
                        'zd_register returns text');
SELECT function_returns('public', 'zd_load', ARRAY['text'], 'setof record',
                        'zd_load returns a set of rows');
SELECT function_returns('public', 'zd_align', ARRAY['integer', 'boolean'], 'integer',
                        'zd_align returns integer');
SELECT function_returns('public', 'zd_plan', ARRAY['integer'], 'setof record',
                        'zd_plan returns a set of rows');
SELECT function_returns('public', 'zd_set_var', ARRAY['text', 'text'], 'void',
                        'zd_set_var returns void');
SELECT function_returns('public', 'zd_version', ARRAY[]::name[], 'integer',
                        'zd_version returns integer');
SELECT function_returns('public', 'zd_step_statements', ARRAY['integer', 'text'], 'setof record',
                        'zd_step_statements returns a set of rows');
SELECT function_returns('public', 'zd_step_done',
                        ARRAY['integer', 'text', 'timestamp with time zone', 'integer'], 'integer',
                        'zd_step_done returns integer');
SELECT function_returns('public', 'zd_lint', ARRAY['integer'], 'setof record',
                        'zd_lint returns a set of rows');
SELECT function_returns('public', 'zd_dry_run', ARRAY['integer'], 'setof record',
                        'zd_dry_run returns a set of rows');
SELECT function_returns('public', 'zd_check', ARRAY['integer', 'integer'], 'setof record',
                        'zd_check returns a set of rows');

SELECT is(pg_catalog.pg_get_function_result('zd_plan(integer)'::regprocedure),
          'TABLE(step integer, number integer, name text, direction text, transactional boolean, statements integer, file text)',
          'zd_plan returns (step, number, name, direction, transactional, statements, file)');
SELECT is(pg_catalog.pg_get_function_result('zd_load(text)'::regprocedure),
          'TABLE(number integer, name text, action text)',
          'zd_load returns (number, name, action)');
SELECT is(pg_catalog.pg_get_function_arguments('zd_align(integer, boolean)'::regprocedure),
          'target integer DEFAULT NULL::integer, dry_run boolean DEFAULT false',
          'zd_align(target) defaults to NULL (the highest registered patch), dry_run to false');

SELECT is((SELECT count(*)::int
             FROM pg_catalog.pg_proc p
            WHERE p.proname LIKE 'zd\_%'
              AND p.pronamespace = 'public'::regnamespace
              AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL),
          0,
          'every zd_* function has a comment');
SELECT is((SELECT count(*)::int
             FROM pg_catalog.pg_class c
            WHERE c.relnamespace = 'zerodown'::regnamespace
              AND c.relkind IN ('r', 'v')
              AND pg_catalog.obj_description(c.oid, 'pg_class') IS NULL),
          0,
          'every table and view in schema zerodown has a comment');

/* ---------- SECURITY DEFINER only where needed, with a pinned search_path ---------- */

SELECT is_definer('public', 'zd_version', ARRAY[]::name[], 'zd_version is SECURITY DEFINER');
SELECT is((SELECT proconfig FROM pg_catalog.pg_proc WHERE oid = 'zd_version()'::regprocedure),
          ARRAY['search_path=pg_catalog, pg_temp'],
          'zd_version pins search_path to pg_catalog, pg_temp');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.proname)
             FROM pg_catalog.pg_proc p
            WHERE p.proname LIKE 'zd\_%'
              AND p.pronamespace = 'public'::regnamespace
              AND p.prosecdef
              AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)),
          NULL,
          'no SECURITY DEFINER function runs without a pinned search_path');
SELECT isnt_definer('public', 'zd_register', ARRAY['integer', 'text', 'text', 'text', 'text', 'text'],
                    'zd_register runs with the caller''s privileges');
SELECT isnt_definer('public', 'zd_align', ARRAY['integer', 'boolean'],
                    'zd_align runs with the caller''s privileges');

/* ---------- the deployer role and privileges ---------- */

SELECT has_role('zerodown_deployer', 'role zerodown_deployer exists');
SELECT is((SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = 'zerodown_deployer'),
          false, 'zerodown_deployer is a group role (NOLOGIN)');

SELECT function_privs_are('public', 'zd_register', ARRAY['integer', 'text', 'text', 'text', 'text', 'text'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_register');
SELECT function_privs_are('public', 'zd_align', ARRAY['integer', 'boolean'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_align');
SELECT function_privs_are('public', 'zd_load', ARRAY['text'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_load');
SELECT function_privs_are('public', 'zd_plan', ARRAY['integer'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_plan');
SELECT function_privs_are('public', 'zd_set_var', ARRAY['text', 'text'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_set_var');
SELECT function_privs_are('public', 'zd_step_statements', ARRAY['integer', 'text'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_step_statements');
SELECT function_privs_are('public', 'zd_step_done',
                          ARRAY['integer', 'text', 'timestamp with time zone', 'integer'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_step_done');
SELECT function_privs_are('public', 'zd_lint', ARRAY['integer'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_lint');
SELECT function_privs_are('public', 'zd_dry_run', ARRAY['integer'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_dry_run');
SELECT function_privs_are('public', 'zd_check', ARRAY['integer', 'integer'],
                          'public', ARRAY[]::name[], 'PUBLIC cannot execute zd_check');
SELECT function_privs_are('public', 'zd_version', ARRAY[]::name[],
                          'public', ARRAY['EXECUTE'], 'PUBLIC can execute zd_version');

SELECT function_privs_are('public', 'zd_register', ARRAY['integer', 'text', 'text', 'text', 'text', 'text'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_register');
SELECT function_privs_are('public', 'zd_align', ARRAY['integer', 'boolean'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_align');
SELECT function_privs_are('public', 'zd_load', ARRAY['text'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_load');
SELECT function_privs_are('public', 'zd_plan', ARRAY['integer'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_plan');
SELECT function_privs_are('public', 'zd_set_var', ARRAY['text', 'text'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_set_var');
SELECT function_privs_are('public', 'zd_step_statements', ARRAY['integer', 'text'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_step_statements');
SELECT function_privs_are('public', 'zd_step_done',
                          ARRAY['integer', 'text', 'timestamp with time zone', 'integer'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_step_done');
SELECT function_privs_are('public', 'zd_lint', ARRAY['integer'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_lint');
SELECT function_privs_are('public', 'zd_dry_run', ARRAY['integer'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_dry_run');
SELECT function_privs_are('public', 'zd_check', ARRAY['integer', 'integer'],
                          'zerodown_deployer', ARRAY['EXECUTE'], 'zerodown_deployer can execute zd_check');

SELECT schema_privs_are('zerodown', 'zerodown_deployer', ARRAY['USAGE'],
                        'zerodown_deployer may use schema zerodown, not create in it');
SELECT schema_privs_are('zerodown', 'public', ARRAY['USAGE'],
                        'PUBLIC may use schema zerodown (0.2.0: to watch the gate), not create in it');
SELECT table_privs_are('zerodown', t, 'zerodown_deployer', ARRAY['SELECT'],
                       format('zerodown_deployer may read zerodown.%s, never write it: only the functions do, as the owner', t))
  FROM unnest(ARRAY['patches', 'applied', 'history', 'vars', 'deployments',
                    'publishes', 'expansions']) AS t;
SELECT table_privs_are('zerodown', 'status', 'zerodown_deployer', ARRAY['SELECT'],
                       'zerodown_deployer may read zerodown.status');

/* ---------- settings ---------- */

SELECT is(current_setting('zerodown.lock_timeout'), '1s', 'zerodown.lock_timeout defaults to 1s');
SELECT is(current_setting('zerodown.lock_retries'), '5', 'zerodown.lock_retries defaults to 5');
SELECT is(current_setting('zerodown.lock_retry_delay'), '500ms', 'zerodown.lock_retry_delay defaults to 500ms');
SELECT throws_ok($$SET zerodown.no_such_setting = 1$$, '42602',
                 'invalid configuration parameter name "zerodown.no_such_setting"',
                 'the zerodown.* prefix is reserved: a misspelt setting is an error');
SELECT is((SELECT unit FROM pg_catalog.pg_settings WHERE name = 'zerodown.lock_timeout'), 'ms',
          'zerodown.lock_timeout is a duration in ms');

SELECT * FROM finish();
ROLLBACK;
