--
-- plan: zd_plan shows the steps zd_align would run, and runs none of them
--
CREATE EXTENSION zerodown;

SELECT zd_register(1, 'create_table_plan_a',
                   'CREATE TABLE plan_a (id integer PRIMARY KEY, note text)',
                   'DROP TABLE plan_a',
                   'SELECT count(*) = 0 FROM plan_a');
SELECT zd_register(2, 'create_table_plan_b',
                   E'CREATE TABLE plan_b (id integer);\nCREATE INDEX ON plan_b (id);',
                   'DROP TABLE plan_b');
SELECT zd_register(3, 'alter_table_plan_a', 'ALTER TABLE plan_a ADD COLUMN extra text',
                   'ALTER TABLE plan_a DROP COLUMN extra');
SELECT zd_register(4, 'create_index_plan_a_note',
                   E'-- zerodown:no-transaction\nCREATE INDEX CONCURRENTLY plan_a_note ON plan_a (note);',
                   E'-- zerodown:no-transaction\nDROP INDEX CONCURRENTLY plan_a_note;');

-- up from 0: NULL plans to the highest patch; statements counts build and
-- verify statements; patch 4 must run outside a transaction
SELECT * FROM zd_plan(NULL) ORDER BY step;
SELECT * FROM zd_plan(2) ORDER BY step;

-- nothing to do
SELECT * FROM zd_plan(0) ORDER BY step;

-- zd_plan ran nothing
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) AS history,
       to_regclass('plan_a') AS plan_a, to_regclass('plan_b') AS plan_b;

-- down from 3: rollbacks in reverse order
SELECT zd_align(3);
SELECT * FROM zd_plan(0) ORDER BY step;
SELECT * FROM zd_plan(1) ORDER BY step;
SELECT * FROM zd_plan(3) ORDER BY step;
SELECT * FROM zd_plan(4) ORDER BY step;

-- still at 3, with no new history
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) AS history;
SELECT number, transactional
  FROM zerodown.status
 ORDER BY number;

-- zd_plan checks what zd_align checks
SELECT * FROM zd_plan(5) ORDER BY step;

SELECT zd_align(0);
SELECT to_regclass('plan_a') AS plan_a, to_regclass('plan_b') AS plan_b;
DROP EXTENSION zerodown;
