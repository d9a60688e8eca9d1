--
-- align: zd_align builds and rolls back, in the caller's transaction,
-- all or nothing, idempotent
--
CREATE EXTENSION zerodown;
\pset null '(null)'

-- seed 002's example, with a mistake in patch 3 (example_c); patches 4
-- and 5 come later
SELECT zd_register(1, 'create_table_example_a',
                   'CREATE TABLE example_a (example_column_1 char(1))',
                   'DROP TABLE example_a');
SELECT zd_register(2, 'create_table_example_b',
                   'CREATE TABLE example_b (example_column_1 char(1))',
                   'DROP TABLE example_b');
SELECT zd_register(3, 'alter_table_example_a',
                   E'ALTER TABLE example_a ADD COLUMN example_column_2 char(1);\n'
                   'ALTER TABLE example_c ADD COLUMN example_column_3 char(1);',
                   'ALTER TABLE example_a DROP COLUMN example_column_2');

-- dollar-quoted bodies hold semicolons that do not end a statement
SELECT zd_register(4, 'create_functions_example', $patch$
CREATE FUNCTION example_count() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT count(*) FROM example_a; $$;

CREATE FUNCTION example_label(n integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $fn$
BEGIN
    IF n < 0 THEN
        RETURN 'negative; ' || $$it's $$ || n;
    END IF;
    RETURN 'n = ' || n;
END
$fn$;
$patch$, $patch$
DROP FUNCTION example_label(integer);
DROP FUNCTION example_count();
$patch$);

-- what a patch sees: lock_timeout is zerodown.lock_timeout while it runs
SELECT zd_register(5, 'create_table_align_settings',
                   'CREATE TABLE align_settings AS SELECT current_setting(''lock_timeout'') AS lock_timeout',
                   'DROP TABLE align_settings');

-- an error in patch 3 of 1..5: the error names the patch, its line and its
-- statement, and the database stays at 0
SELECT zd_align(5);
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) AS history,
       (SELECT count(*) FROM zerodown.applied) AS applied;
SELECT to_regclass('example_a') AS example_a, to_regclass('example_b') AS example_b;

-- patch 3 was never applied, so it can be fixed
SELECT zd_register(3, 'alter_table_example_a',
                   'ALTER TABLE example_a ADD COLUMN example_column_2 char(1)',
                   'ALTER TABLE example_a DROP COLUMN example_column_2');

-- up to 3
SELECT zd_align(3);
SELECT zd_version();
SELECT attname
  FROM pg_attribute
 WHERE attrelid = 'example_a'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
SELECT to_regclass('example_b') AS example_b;
SELECT number, name, applied_by = current_user AS applied_by_me, checksum IS NOT NULL AS has_checksum
  FROM zerodown.applied
 ORDER BY number;

-- again: nothing to do, the same number, no new history
SELECT count(*) AS history_before FROM zerodown.history \gset
SELECT zd_align(3);
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) = :history_before AS no_new_history;

-- down to 0: the rollbacks run in reverse order
SELECT zd_align(0);
SELECT zd_version();
SELECT to_regclass('example_a') AS example_a, to_regclass('example_b') AS example_b;

-- NULL aligns to the highest registered patch; the patch runs under
-- zerodown.lock_timeout, and the caller's lock_timeout comes back after it
SET zerodown.lock_timeout = '250ms';
SET lock_timeout = '7s';
SELECT zd_align(NULL);
SELECT zd_version();
SHOW lock_timeout;
SELECT lock_timeout FROM align_settings;
RESET lock_timeout;
RESET zerodown.lock_timeout;
SELECT example_count(), example_label(-2), example_label(3);

-- and again
SELECT zd_align(NULL);
SELECT zd_version();

-- part of the way down, then up again
SELECT zd_align(2);
SELECT attname
  FROM pg_attribute
 WHERE attrelid = 'example_a'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
SELECT to_regprocedure('example_count()') AS example_count;
SELECT zd_align(5);

-- a verify that returns false fails the patch (P0004) and changes nothing
SELECT zd_register(6, 'create_table_align_checked',
                   'CREATE TABLE align_checked (id integer)',
                   'DROP TABLE align_checked',
                   'SELECT count(*) = 1 FROM align_checked');
SELECT zd_align(6);
\echo SQLSTATE :SQLSTATE
SELECT zd_version(), to_regclass('align_checked') AS align_checked;

-- a verify that raises an error fails the patch with that error
SELECT zd_register(6, 'create_table_align_checked',
                   'CREATE TABLE align_checked (id integer)',
                   'DROP TABLE align_checked',
                   E'SELECT true;\nSELECT 1 / count(*) FROM align_checked');
SELECT zd_align(6);
\echo SQLSTATE :SQLSTATE
SELECT zd_version(), to_regclass('align_checked') AS align_checked;

-- only the last statement's result counts
SELECT zd_register(6, 'create_table_align_checked',
                   'CREATE TABLE align_checked (id integer)',
                   'DROP TABLE align_checked',
                   E'SELECT false;\nSELECT count(*) = 0 FROM align_checked');
SELECT zd_align(6);
SELECT zd_version(), to_regclass('align_checked') AS align_checked;

-- the history: every step, in order (times vary, so only their sanity)
SELECT number, name, direction, attempts, outcome, error,
       role = current_user AS by_me, backend_pid = pg_backend_pid() AS this_backend,
       duration >= '0' AS duration_ok, checksum IS NOT NULL AS has_checksum
  FROM zerodown.history
 ORDER BY id;

SELECT number, applied, drift, reversible, transactional
  FROM zerodown.status
 ORDER BY number;

-- zd_align is all or nothing inside the caller's transaction too
BEGIN;
SELECT zd_align(0);
SELECT zd_version();
ROLLBACK;
SELECT zd_version(), to_regclass('example_a') AS example_a;

-- clean up: everything rolls back to 0
SELECT zd_align(0);
SELECT to_regclass('example_a') AS example_a, to_regclass('example_b') AS example_b,
       to_regclass('align_settings') AS align_settings, to_regclass('align_checked') AS align_checked,
       to_regprocedure('example_count()') AS example_count;
DROP EXTENSION zerodown;
