--
-- unneeded_rollback: a rollback that cannot run (a missing ";" between two
-- statements, as real histories have, or an unknown placeholder) is a
-- warning for every path that does not need it -- aligning up past it,
-- planning, deploying -- and a zd_check finding; the path that needs it,
-- aligning below it, is refused before anything runs
--
CREATE EXTENSION zerodown;
\set VERBOSITY default

SELECT zd_register(1, 'create_ur_a', 'CREATE TABLE ur_a (id int)', 'DROP TABLE ur_a');
-- the rollback misses the ";" after its first statement
SELECT zd_register(2, 'create_ur_b',
                   E'CREATE TABLE ur_b (id int);\nCREATE TABLE ur_b2 (id int);',
                   E'DROP TABLE ur_b2\nDROP TABLE ur_b;');
-- the rollback uses a placeholder that is not set
SELECT zd_register(3, 'create_ur_c', 'CREATE TABLE ur_c (id int)',
                   'DROP TABLE ur_c; DROP ROLE ${ur_role}');
SELECT zd_register(4, 'create_ur_d', 'CREATE TABLE ur_d (id int)', 'DROP TABLE ur_d');

-- planning up past both warns and plans every step
SELECT step, number, name, direction, statements FROM zd_plan(4) ORDER BY step;

-- zd_check reports both as findings and checks the patches after them
SELECT number, name, result, differences FROM zd_check(0, 4) ORDER BY number;
SELECT zd_version();

-- a dry run up past both warns and runs every step
SELECT number, direction, result FROM zd_dry_run(4) ORDER BY step;

-- aligning up works, with the same warnings
SELECT zd_align(4);
SELECT zd_version(), to_regclass('ur_d') IS NOT NULL AS built;

-- aligning down to 3 needs neither rollback: no warning
SELECT zd_align(3);

-- aligning below patch 3 needs its rollback's placeholder: refused before
-- anything runs
SELECT zd_align(1);
SELECT zd_version(), to_regclass('ur_c') IS NOT NULL AS ur_c;
SELECT zd_set_var('ur_role', 'regress_ur_nobody');
CREATE ROLE regress_ur_nobody;

-- aligning below patch 2 needs its broken rollback: refused before anything
-- runs (patch 3 is not rolled back either)
SELECT zd_align(1);
SELECT zd_version(), to_regclass('ur_c') IS NOT NULL AS ur_c;

-- down to 2 needs only patch 3's rollback, which now runs
SELECT zd_align(2);
SELECT zd_version(), to_regrole('regress_ur_nobody') IS NULL AS role_dropped;

-- the broken rollback of applied patch 2 may be replaced: it never ran, and
-- the build it was applied with stays; the history says so
SELECT zd_register(2, 'create_ur_b',
                   E'CREATE TABLE ur_b (id int);\nCREATE TABLE ur_b2 (id int);',
                   E'DROP TABLE ur_b2;\nDROP TABLE ur_b;');
SELECT number, direction, attempts, outcome, error FROM zerodown.history
 WHERE outcome = 'repaired';
SELECT number, applied, drift FROM zerodown.status WHERE number = 2;

-- but not its build, nor a rollback that can run (patch 2's now, patch 1's)
\set VERBOSITY terse
SELECT zd_register(2, 'create_ur_b', 'CREATE TABLE ur_b (id int)', 'DROP TABLE ur_b');
SELECT zd_register(2, 'create_ur_b',
                   E'CREATE TABLE ur_b (id int);\nCREATE TABLE ur_b2 (id int);',
                   E'DROP TABLE ur_b2;\nDROP TABLE ur_b CASCADE;');
SELECT zd_register(1, 'create_ur_a', 'CREATE TABLE ur_a (id int)', 'DROP TABLE ur_a CASCADE');
\set VERBOSITY default

-- now the database goes below patch 2
SELECT zd_align(0);
SELECT zd_version(), to_regclass('ur_b') IS NULL AS ur_b_dropped;

SELECT zd_set_var('ur_role', NULL);
DROP EXTENSION zerodown;
