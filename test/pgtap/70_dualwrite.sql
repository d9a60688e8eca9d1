-- 70_dualwrite.sql: expand/contract -- what the triggers do for each
-- version's writes, and one fixed SQLSTATE per bad input, each leaving the
-- schema as it was.  Everything runs in one transaction that is rolled
-- back; zd_backfill, called inside it, commits nothing of its own.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(42);

CREATE TABLE t_accounts (id serial PRIMARY KEY, email text, amount text);
INSERT INTO t_accounts (email, amount) VALUES ('Ann@X', '1'), ('Ben@X', NULL);
CREATE TABLE t_users (id serial PRIMARY KEY, name text, line_1 text);
INSERT INTO t_users (name, line_1) VALUES ('ann', 'A St'), ('ben', NULL);
CREATE TABLE t_addresses (id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES t_users, line_1 text);
CREATE INDEX ON t_addresses (user_id, id);

/* ---------- a column expansion ---------- */

SELECT isa_ok(zd_expand_column('t_accounts', 'email', 'email_n', 'text', 'lower(email)', 'email_n'),
              'bigint', 'zd_expand_column returns the expansion id');
SELECT has_column('public', 't_accounts', 'email_n', 'the new column is added');
SELECT has_trigger('public', 't_accounts', 'zd_column_email_n', 'its trigger is installed');
SELECT is((SELECT state FROM zerodown.expansion_status WHERE target = 'email_n'), 'expanded',
          'the expansion is recorded as expanded');

INSERT INTO t_accounts (email) VALUES ('Cat@X');
SELECT is((SELECT email_n FROM t_accounts WHERE email = 'Cat@X'), 'cat@x',
          'a version 1 insert gets the new column from up');
INSERT INTO t_accounts (email_n) VALUES ('dan@x');
SELECT is((SELECT email FROM t_accounts WHERE email_n = 'dan@x'), 'dan@x',
          'a version 2 insert gets the old column from down');
UPDATE t_accounts SET email = 'ANN@Y' WHERE id = 1;
SELECT is((SELECT email_n FROM t_accounts WHERE id = 1), 'ann@y',
          'a version 1 update recomputes the new column');
UPDATE t_accounts SET email_n = 'ben@y' WHERE id = 2;
SELECT is((SELECT email FROM t_accounts WHERE id = 2), 'ben@y',
          'a version 2 update recomputes the old column');
UPDATE t_accounts SET email = 'Both@Z', email_n = 'chosen' WHERE id = 3;
SELECT is((SELECT email || '/' || email_n FROM t_accounts WHERE id = 3), 'Both@Z/chosen',
          'an update of both columns is left as written');

SELECT throws_ok($$SELECT zd_contract('t_accounts', 'email_n')$$, '55000',
                 'cannot contract expansion 1 of public.t_accounts: its backfill is not done',
                 'contract before the backfill is refused');
CALL zd_backfill('t_accounts', 'email_n', 1);
SELECT is((SELECT state FROM zerodown.expansion_status WHERE target = 'email_n'), 'backfilled',
          'the backfill marks the expansion backfilled');
SELECT is((SELECT rows_done || '/' || rows_total || ' in ' || batches FROM zerodown.expansion_status WHERE target = 'email_n'),
          '2/2 in 2', 'it visited the two rows that existed before, one batch each');
SELECT is((SELECT count(*)::int FROM t_accounts WHERE email_n IS NULL AND email IS NOT NULL), 0,
          'no row is left without its new column');
SELECT is(zd_contract('t_accounts', 'email_n'), 'contracted', 'zd_contract ends the expansion');
SELECT hasnt_column('public', 't_accounts', 'email', 'the old column is gone');
SELECT hasnt_trigger('public', 't_accounts', 'zd_column_email_n', 'and so is the trigger');
SELECT throws_ok($$SELECT zd_abort('t_accounts', 'email_n')$$, '55000',
                 'cannot abort expansion 1 of public.t_accounts: it is contracted',
                 'abort after contract is refused');

/* ---------- bad input: one SQLSTATE each, nothing changed ---------- */

SELECT throws_ok($$SELECT zd_expand_column('t_nothing', 'a', 'b', 'text', 'a', 'b')$$, '42P01',
                 NULL, 'an unknown table');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'mail', 'b', 'text', 'mail', 'b')$$, '42703',
                 NULL, 'an unknown old column');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'email_n', 'text', 'amount', 'email_n')$$, '42701',
                 NULL, 'a new column that exists');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integr', 'amount::int', 'amount_n::text')$$, '42704',
                 NULL, 'an unknown type');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integer', 'amount::integer +', 'amount_n::text')$$, '42601',
                 NULL, 'an up expression that does not parse');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integer', 'amount::integer', 'amount_n::')$$, '42601',
                 NULL, 'a down expression that does not parse');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integer', 'amount', 'amount_n::text')$$, '42804',
                 NULL, 'an up expression of the wrong type');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integer', '(SELECT 1)', 'amount_n::text')$$, '0A000',
                 NULL, 'an up expression with a subquery');
SELECT throws_ok($$SELECT zd_expand_column('t_accounts', 'amount', 'amount_n', 'integer', NULL, 'amount_n::text')$$, '22004',
                 NULL, 'a NULL argument');
SELECT hasnt_column('public', 't_accounts', 'amount_n', 'none of them added a column');
SELECT is((SELECT count(*)::int FROM zerodown.expansions), 1, 'nor recorded an expansion');

SELECT throws_ok($$SELECT zd_contract('t_accounts', 'nothing')$$, '42704',
                 NULL, 'contract of an unknown expansion');
SELECT throws_ok($$CALL zd_backfill('t_accounts', 'email_n', 0)$$, '22023',
                 NULL, 'a batch size of 0');

/* ---------- a table expansion ---------- */

SELECT throws_ok($$SELECT zd_expand_table('t_users', 't_accounts', 'id', ARRAY['line_1'])$$, '42830',
                 NULL, 'a child without a foreign key to the parent');
SELECT isa_ok(zd_expand_table('t_users', 't_addresses', 'user_id', ARRAY['line_1']), 'bigint',
              'zd_expand_table returns the expansion id');
SELECT throws_ok($$SELECT zd_expand_table('t_users', 't_addresses', 'user_id', ARRAY['line_1'])$$, '42710',
                 NULL, 'the same expansion twice');
INSERT INTO t_users (name, line_1) VALUES ('cat', 'C St');
SELECT is((SELECT line_1 FROM t_addresses WHERE user_id = 3), 'C St',
          'a version 1 insert of a user adds its address');
INSERT INTO t_addresses (user_id, line_1) VALUES (2, 'B St');
SELECT is((SELECT line_1 FROM t_users WHERE id = 2), 'B St',
          'a version 2 insert of a first address reaches the user');
INSERT INTO t_addresses (user_id, line_1) VALUES (2, 'B2 St');
SELECT is((SELECT line_1 FROM t_users WHERE id = 2), 'B St',
          'a second address is not the primary one');
DELETE FROM t_addresses WHERE line_1 = 'B St';
SELECT is((SELECT line_1 FROM t_users WHERE id = 2), 'B2 St',
          'deleting the primary address makes the next one primary');
CALL zd_backfill('t_users', 't_addresses');
SELECT is((SELECT line_1 FROM t_addresses WHERE user_id = 1), 'A St',
          'the backfill gives the users that existed before their address');
SELECT is((SELECT count(*)::int FROM t_addresses WHERE user_id = 2), 1,
          'and adds none where version 2 wrote one');
SELECT is(zd_contract('t_users', 't_addresses'), 'contracted', 'zd_contract ends it');
SELECT hasnt_column('public', 't_users', 'line_1', 'the parent''s mapped column is gone');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid IN ('t_users'::regclass, 't_addresses'::regclass) AND NOT tgisinternal),
          0, 'and so are the triggers on both tables');

SELECT * FROM finish();
ROLLBACK;
