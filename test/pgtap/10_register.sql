-- 10_register.sql: zd_register registers, replaces or leaves a patch
-- unchanged, stores what it was given, and never changes an applied patch.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only true
\pset pager off
SET client_min_messages = warning;

BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION zerodown;

SELECT plan(40);

/* ---------- registered, unchanged, replaced ---------- */

SELECT is(zd_register(1, 'create_table_example_a',
                      'CREATE TABLE example_a (id int PRIMARY KEY)',
                      'DROP TABLE example_a'),
          'registered', 'a new patch is registered');
SELECT is(zd_register(1, 'create_table_example_a',
                      'CREATE TABLE example_a (id int PRIMARY KEY)',
                      'DROP TABLE example_a'),
          'unchanged', 'the same text again is a no-op');
SELECT is((SELECT count(*)::int FROM zerodown.patches), 1, 'registering twice leaves one row');

SELECT is(zd_register(1, 'create_table_example_a',
                      'CREATE TABLE example_a (id int PRIMARY KEY, label text)',
                      'DROP TABLE example_a'),
          'replaced', 'an unapplied patch with new text is replaced');
SELECT is((SELECT build_sql FROM zerodown.patches WHERE number = 1),
          'CREATE TABLE example_a (id int PRIMARY KEY, label text)',
          'the replacement text is stored');

/* ---------- what is stored ---------- */

SELECT is(zd_register(2, 'add-index_2', 'CREATE INDEX ON example_a (label)', 'DROP INDEX example_a_label_idx',
                      'SELECT true', 'migrations'),
          'registered', 'a patch with verify and source is registered');
SELECT results_eq($$SELECT number, name, build_sql, rollback_sql, verify_sql,
                           build_transactional, rollback_transactional, source
                      FROM zerodown.patches ORDER BY number$$,
                  $$VALUES (1, 'create_table_example_a'::text,
                            'CREATE TABLE example_a (id int PRIMARY KEY, label text)'::text,
                            'DROP TABLE example_a'::text, NULL::text, true, true, NULL::text),
                           (2, 'add-index_2', 'CREATE INDEX ON example_a (label)',
                            'DROP INDEX example_a_label_idx', 'SELECT true', true, true, 'migrations')$$,
                  'number, name, texts, transactional flags and source are stored as given');
SELECT is((SELECT count(*)::int FROM zerodown.patches WHERE checksum ~ '^[0-9a-f]{64}$'), 2,
          'every checksum is a SHA-256 in hex');
SELECT is((SELECT registered_by FROM zerodown.patches WHERE number = 2), current_user,
          'registered_by is the current user');

SELECT is(zd_register(3, 'defaults_only', 'SELECT 1'), 'registered',
          'rollback, verify and source are optional');
SELECT results_eq($$SELECT rollback_sql, verify_sql, rollback_transactional, source
                      FROM zerodown.patches WHERE number = 3$$,
                  $$VALUES (NULL::text, NULL::text, NULL::boolean, NULL::text)$$,
                  'a patch registered without rollback stores NULL: it is irreversible');

SELECT is(zd_register(4, repeat('n', 200), 'SELECT 1', ''), 'registered',
          'a name of 200 characters is accepted');

/* ---------- the checksum covers every part of a patch ---------- */

CREATE TEMP TABLE sums AS SELECT number, checksum FROM zerodown.patches;

SELECT is(zd_register(3, 'defaults_only', 'SELECT 1', ''), 'replaced',
          'giving an irreversible patch an empty rollback replaces it');
SELECT isnt((SELECT checksum FROM zerodown.patches WHERE number = 3),
            (SELECT checksum FROM sums WHERE number = 3),
            'an empty rollback and no rollback have different checksums');
SELECT is((SELECT rollback_sql FROM zerodown.patches WHERE number = 3), '',
          'an empty rollback is stored as empty text, not NULL');

SELECT is(zd_register(4, repeat('n', 200), 'SELECT 1', '', 'SELECT true'), 'replaced',
          'adding a verify replaces the patch');
SELECT isnt((SELECT checksum FROM zerodown.patches WHERE number = 4),
            (SELECT checksum FROM sums WHERE number = 4),
            'adding a verify changes the checksum');

SELECT is(zd_register(4, 'renamed', 'SELECT 1', '', 'SELECT true'), 'replaced',
          'renaming an unapplied patch replaces it');
SELECT is((SELECT name FROM zerodown.patches WHERE number = 4), 'renamed',
          'an unapplied patch can be renamed');

SELECT is(zd_register(5, 'a', 'SELECT 1'), 'registered', 'patch 5 "a" is registered');
SELECT is(zd_register(6, 'a', 'SELECT 1'), 'registered', 'patch 6 "a" has the same texts');
SELECT is((SELECT checksum FROM zerodown.patches WHERE number = 5),
          (SELECT checksum FROM zerodown.patches WHERE number = 6),
          'the checksum covers the name and the texts, not the number');
SELECT is(zd_register(5, 'ab', ''), 'replaced', 'patch 5 is now "ab" with build ""');
SELECT is(zd_register(6, 'a', 'b'), 'replaced', 'patch 6 is now "a" with build "b"');
SELECT isnt((SELECT checksum FROM zerodown.patches WHERE number = 5),
            (SELECT checksum FROM zerodown.patches WHERE number = 6),
            'name and build are separated in the checksum ("ab" + "" differs from "a" + "b")');

/* ---------- the no-transaction marker ---------- */

SELECT is(zd_register(7, 'concurrent_index',
                      E'\n-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY ON example_a (id)',
                      'DROP INDEX example_a_id_idx'),
          'registered', 'a patch marked no-transaction is registered');
SELECT results_eq($$SELECT build_transactional, rollback_transactional FROM zerodown.patches WHERE number = 7$$,
                  $$VALUES (false, true)$$,
                  'a build starting with "-- zerodown:no-transaction" is not transactional');
SELECT is(zd_register(7, 'concurrent_index', 'SELECT 1 -- zerodown:no-transaction', 'SELECT 1'),
          'replaced', 'the marker can be removed before the patch is applied');
SELECT is((SELECT build_transactional FROM zerodown.patches WHERE number = 7), true,
          'the marker counts only at the start of the text');

/* ---------- applied patches are immutable ---------- */

DELETE FROM zerodown.patches WHERE number > 2;
SELECT is(zd_align(2), 2, 'patches 1 and 2 are applied');

SELECT is(zd_register(1, 'create_table_example_a',
                      'CREATE TABLE example_a (id int PRIMARY KEY, label text)',
                      'DROP TABLE example_a'),
          'unchanged', 'an applied patch registered again with the same text is unchanged');
SELECT throws_ok($$SELECT zd_register(1, 'create_table_example_a',
                                      'CREATE TABLE example_a (id bigint PRIMARY KEY)',
                                      'DROP TABLE example_a')$$,
                 '55006', 'patch 1 "create_table_example_a" is applied and cannot be changed',
                 'an applied patch with new build text is refused');
SELECT throws_ok($$SELECT zd_register(2, 'add-index_2', 'CREATE INDEX ON example_a (label)',
                                      'DROP INDEX example_a_label_idx', NULL, 'migrations')$$,
                 '55006', 'patch 2 "add-index_2" is applied and cannot be changed',
                 'dropping the verify of an applied patch is refused');
SELECT throws_ok($$SELECT zd_register(2, 'add-index_2', 'CREATE INDEX ON example_a (label)',
                                      NULL, 'SELECT true', 'migrations')$$,
                 '55006', 'patch 2 "add-index_2" is applied and cannot be changed',
                 'making an applied patch irreversible is refused');
SELECT is(zd_register(2, 'add-index_2', 'CREATE INDEX ON example_a (label)',
                      'DROP INDEX example_a_label_idx', 'SELECT true', 'elsewhere'),
          'unchanged', 'the source is not part of the patch: a move to another folder is no change');
SELECT results_eq($$SELECT number, applied, drift FROM zerodown.status ORDER BY number$$,
                  $$VALUES (1, true, false), (2, true, false)$$,
                  'after the refused changes both patches are applied without drift');

/* ---------- once rolled back, a patch may change again ---------- */

SELECT is(zd_align(1), 1, 'patch 2 is rolled back');
SELECT is(zd_register(2, 'add-index_2', 'CREATE UNIQUE INDEX ON example_a (label)',
                      'DROP INDEX example_a_label_idx'),
          'replaced', 'a rolled-back patch can be replaced');
SELECT is(zd_align(2), 2, 'and applied with its new text');
SELECT is((SELECT a.checksum FROM zerodown.applied a WHERE a.number = 2),
          (SELECT p.checksum FROM zerodown.patches p WHERE p.number = 2),
          'the applied checksum is the new one');

SELECT * FROM finish();
ROLLBACK;
