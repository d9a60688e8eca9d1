--
-- begin_commit: patches written for tools that run files with psql wrap
-- the whole file in BEGIN ... COMMIT.  zerodown runs each patch in its own
-- transaction, which does what they ask, so a plain BEGIN first and COMMIT
-- last are left out; any other transaction control is refused, before
-- anything runs
--
CREATE EXTENSION zerodown;

SELECT zd_register(1, 'create_bc_users',
                   E'BEGIN;\n\nCREATE TABLE bc_users (id int PRIMARY KEY);\nCREATE INDEX ON bc_users (id);\n\nCOMMIT;\n',
                   E'begin;\ndrop table bc_users;\nend;');
SELECT zd_register(2, 'create_bc_orders',
                   E'START TRANSACTION;\nCREATE TABLE bc_orders (id int PRIMARY KEY, user_id int REFERENCES bc_users (id));\nCOMMIT;',
                   E'BEGIN;\nDROP TABLE bc_orders;\nCOMMIT;');
-- the plan counts the statements that run
SELECT step, number, statements FROM zd_plan(2) ORDER BY step;
SELECT zd_align(2);
SELECT zd_align(0);
SELECT zd_align(2);
SELECT to_regclass('bc_orders') IS NOT NULL AS built;

-- refused: a COMMIT inside, a BEGIN with options, COMMIT AND CHAIN, a
-- ROLLBACK at the end, a wrapper in a no-transaction patch
SELECT zd_register(3, 'bc_inside', E'BEGIN;\nCREATE TABLE bc_a (id int);\nCOMMIT;\nCREATE TABLE bc_b (id int);\n', 'DROP TABLE bc_a, bc_b');
SELECT zd_align(3);
SELECT zd_register(3, 'bc_inside', E'BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE bc_a (id int);\nCOMMIT;', 'DROP TABLE bc_a');
SELECT zd_align(3);
SELECT zd_register(3, 'bc_inside', E'BEGIN;\nCREATE TABLE bc_a (id int);\nCOMMIT AND CHAIN;', 'DROP TABLE bc_a');
SELECT zd_align(3);
SELECT zd_register(3, 'bc_inside', E'BEGIN;\nCREATE TABLE bc_a (id int);\nROLLBACK;', 'DROP TABLE bc_a');
SELECT zd_align(3);
SELECT zd_register(3, 'bc_inside', E'-- zerodown:no-transaction\nBEGIN;\nCREATE INDEX CONCURRENTLY bc_users_id ON bc_users (id);\nCOMMIT;', 'DROP INDEX bc_users_id');
SELECT * FROM zd_plan(3);
SELECT zd_version();

SELECT zd_align(0);
DROP EXTENSION zerodown;
