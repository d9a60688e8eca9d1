--
-- privileges: only the extension's owner and members of zerodown_deployer
-- register, set variables, plan and align; anyone may read the version
--
CREATE EXTENSION zerodown;

CREATE ROLE regress_zd_plain;
CREATE ROLE regress_zd_deployer IN ROLE zerodown_deployer;
-- a role that was granted EXECUTE but is no deployer
CREATE ROLE regress_zd_executor;
GRANT EXECUTE ON FUNCTION zd_register, zd_align, zd_plan, zd_set_var, zd_load
   TO regress_zd_executor;
-- the deployer's patches create their tables in a schema it owns
CREATE SCHEMA regress_zd_app AUTHORIZATION regress_zd_deployer;

-- a plain role: no EXECUTE on the admin functions (42501)
SET ROLE regress_zd_plain;
SELECT zd_version();
SELECT zd_register(1, 'create_table_priv_a', 'CREATE TABLE regress_zd_app.priv_a (id integer)', 'DROP TABLE regress_zd_app.priv_a');
\echo SQLSTATE :SQLSTATE
SELECT zd_align(1);
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_plan(1);
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var('app_schema', 'regress_zd_app');
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_load('/nonexistent');
\echo SQLSTATE :SQLSTATE
SELECT count(*) FROM zerodown.status;
\echo SQLSTATE :SQLSTATE
RESET ROLE;

-- EXECUTE alone is not enough: zerodown checks the role itself (42501)
SET ROLE regress_zd_executor;
SELECT zd_register(1, 'create_table_priv_a', 'CREATE TABLE regress_zd_app.priv_a (id integer)', 'DROP TABLE regress_zd_app.priv_a');
\echo SQLSTATE :SQLSTATE
SELECT zd_align(1);
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_plan(1);
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var('app_schema', 'regress_zd_app');
\echo SQLSTATE :SQLSTATE
SELECT * FROM zd_load('/nonexistent');
\echo SQLSTATE :SQLSTATE
RESET ROLE;

-- the hint's GRANT is valid SQL for any role name
CREATE ROLE "regress_zd Quoted";
GRANT EXECUTE ON FUNCTION zd_align TO "regress_zd Quoted";
SET ROLE "regress_zd Quoted";
SELECT zd_align(1);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION zd_align FROM "regress_zd Quoted";
DROP ROLE "regress_zd Quoted";

SELECT zd_version(), (SELECT count(*) FROM zerodown.patches) AS patches,
       (SELECT count(*) FROM zerodown.vars) AS vars;

-- a member of zerodown_deployer registers, sets variables, plans and aligns
SET ROLE regress_zd_deployer;
SELECT zd_set_var('app_schema', 'regress_zd_app');
SELECT zd_register(1, 'create_table_priv_a', 'CREATE TABLE ${app_schema}.priv_a (id integer)', 'DROP TABLE ${app_schema}.priv_a');
SELECT zd_register(2, 'create_table_priv_b', 'CREATE TABLE ${app_schema}.priv_b (id integer)', 'DROP TABLE ${app_schema}.priv_b');
SELECT step, number, direction FROM zd_plan(2) ORDER BY step;
SELECT zd_align(2);
SELECT zd_version();
SELECT number, name, applied, applied_by
  FROM zerodown.status
 ORDER BY number;
SELECT number, direction, role
  FROM zerodown.history
 ORDER BY id;

-- patches run with the privileges of the role that aligns: this one may
-- not create tables in public (42501), which the plan finds before anything
-- runs (sql/deployer_create.sql)
SELECT zd_register(3, 'create_table_priv_c', 'CREATE TABLE public.priv_c (id integer)', 'DROP TABLE public.priv_c');
SELECT zd_align(3);
\echo SQLSTATE :SQLSTATE
SELECT zd_version();

-- reading files on the server needs pg_read_server_files as well (42501)
SELECT * FROM zd_load('/nonexistent');
\echo SQLSTATE :SQLSTATE

SELECT zd_align(0);
RESET ROLE;
SELECT to_regclass('regress_zd_app.priv_a') AS priv_a, to_regclass('regress_zd_app.priv_b') AS priv_b;

-- the version is anyone's to read
SET ROLE regress_zd_plain;
SELECT zd_version();
RESET ROLE;

DROP EXTENSION zerodown;
DROP SCHEMA regress_zd_app;
DROP ROLE regress_zd_plain, regress_zd_deployer, regress_zd_executor;
