-- 60_repeatable_read.sql: zd_align and zd_register refuse to run in a
-- REPEATABLE READ transaction, whose snapshot may predate patches another
-- session applied; reading and setting variables still work.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(8);

SELECT is(current_setting('transaction_isolation'), 'repeatable read',
          'this transaction is REPEATABLE READ');
SELECT throws_ok($$SELECT zd_align(0)$$,
                 '25000', 'zerodown cannot align the database in a REPEATABLE READ transaction',
                 'zd_align refuses to run in a REPEATABLE READ transaction');
SELECT throws_ok($$SELECT zd_align()$$,
                 '25000', 'zerodown cannot align the database in a REPEATABLE READ transaction',
                 'zd_align() refuses too, even with nothing to do');
SELECT throws_ok($$SELECT zd_register(1, 'a', 'SELECT 1', '')$$,
                 '25000', NULL,
                 'zd_register refuses to run in a REPEATABLE READ transaction');
SELECT is_empty($$SELECT * FROM zerodown.patches$$, 'nothing was registered');
SELECT is_empty($$SELECT * FROM zd_plan()$$, 'zd_plan only reads: it works');
SELECT lives_ok($$SELECT zd_set_var('x', 'y')$$, 'zd_set_var works');
SELECT is(zd_version(), 0, 'zd_version works');

SELECT * FROM finish();
ROLLBACK;
