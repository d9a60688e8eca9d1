--
-- deployer_create: membership in zerodown_deployer lets a role deploy, not
-- create objects; on PostgreSQL 15 a new role has no CREATE on public.  A
-- plan whose statements create where the role may not is refused before
-- anything runs, naming each statement and the GRANT to run
--
CREATE EXTENSION zerodown;
CREATE ROLE regress_dc_deployer IN ROLE zerodown_deployer;
CREATE SCHEMA dc_app;

SELECT zd_register(1, 'create_dc_orders',
                   E'CREATE TABLE dc_orders (id int PRIMARY KEY);\n'
                   'CREATE INDEX ON dc_orders (id);\n'
                   'CREATE TEMP TABLE dc_scratch (id int);\n'
                   'CREATE VIEW dc_app.orders_v AS SELECT id FROM dc_orders;\n'
                   'CREATE FUNCTION dc_app.order_count() RETURNS bigint\n'
                   '    LANGUAGE sql AS $$SELECT count(*) FROM dc_orders$$;\n'
                   'CREATE SCHEMA dc_reports\n'
                   '    CREATE TABLE daily (day date);\n'
                   'CREATE TABLE dc_legacy (id int);',
                   E'DROP SCHEMA dc_reports CASCADE;\n'
                   'DROP FUNCTION dc_app.order_count();\n'
                   'DROP VIEW dc_app.orders_v;\n'
                   'DROP TABLE dc_orders, dc_legacy;');
-- this rollback creates: it is checked when a plan runs it
SELECT zd_register(2, 'drop_dc_legacy', 'DROP TABLE dc_legacy',
                   'CREATE TABLE dc_legacy (id int)');

SET ROLE regress_dc_deployer;
SELECT * FROM zd_plan(1);
SELECT zd_align(1);
SELECT zd_version();
RESET ROLE;

GRANT CREATE ON SCHEMA public TO regress_dc_deployer;
GRANT USAGE, CREATE ON SCHEMA dc_app TO regress_dc_deployer;
SET ROLE regress_dc_deployer;
-- CREATE SCHEMA needs CREATE on the database
SELECT zd_align(1);
RESET ROLE;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_dc_deployer', current_database()) \gexec
SET ROLE regress_dc_deployer;
SELECT zd_align(2);
SELECT zd_version();

-- going down through a rollback that creates in public
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_dc_deployer;
SET ROLE regress_dc_deployer;
SELECT zd_align(1);
SELECT zd_version();

-- a plan that sets search_path itself is checked for its qualified names
-- only; PostgreSQL says the rest when it runs
SELECT zd_register(3, 'create_dc_items', E'SET LOCAL search_path = dc_app;\nCREATE TABLE dc_items (id int);',
                   'DROP TABLE dc_app.dc_items');
SELECT number, direction FROM zd_plan(3) ORDER BY step;
SELECT zd_align(3);
SELECT to_regclass('dc_app.dc_items') IS NOT NULL AS created_in_dc_app;
RESET ROLE;

SELECT zd_align(0);
DROP TABLE dc_scratch;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_dc_deployer', current_database()) \gexec
REVOKE ALL ON SCHEMA dc_app FROM regress_dc_deployer;
DROP SCHEMA dc_app;
DROP ROLE regress_dc_deployer;
DROP EXTENSION zerodown;
