--
-- unregister: zd_unregister removes a registered patch that is not applied,
-- and refuses an applied one
--
CREATE EXTENSION zerodown;
\set SHOW_CONTEXT never

SELECT zd_register(1, 'create_u1', 'CREATE TABLE u1 (id int)', 'DROP TABLE u1');
SELECT zd_register(2, 'create_u2', 'CREATE TABLE u2 (id int)', 'DROP TABLE u2');
SELECT zd_register(3, 'create_u3', 'CREATE TABLE u3 (id int)', 'DROP TABLE u3');
SELECT zd_align(1);

-- a patch that is not applied leaves; the name comes back
SELECT zd_unregister(3);
SELECT number, name, applied FROM zerodown.status ORDER BY number;

-- an applied patch is refused (55006), and stays
SELECT zd_unregister(1);
\echo SQLSTATE :SQLSTATE
-- a patch that is not registered (42704)
SELECT zd_unregister(3);
\echo SQLSTATE :SQLSTATE
-- NULL (22004)
SELECT zd_unregister(NULL);
\echo SQLSTATE :SQLSTATE
SELECT number, name, applied FROM zerodown.status ORDER BY number;

-- only deployers (42501)
CREATE ROLE regress_unregister_plain;
GRANT USAGE ON SCHEMA public TO regress_unregister_plain;
SET ROLE regress_unregister_plain;
SELECT zd_unregister(2);
\echo SQLSTATE :SQLSTATE
RESET ROLE;
SELECT has_function_privilege('regress_unregister_plain', 'zd_unregister(integer)', 'EXECUTE') AS plain_may,
       has_function_privilege('zerodown_deployer', 'zd_unregister(integer)', 'EXECUTE') AS deployer_may;

-- a deployer may
GRANT zerodown_deployer TO regress_unregister_plain;
SET ROLE regress_unregister_plain;
SELECT zd_unregister(2);
RESET ROLE;
SELECT number, name, applied FROM zerodown.status ORDER BY number;

SELECT zd_align(0);
DROP EXTENSION zerodown;
REVOKE USAGE ON SCHEMA public FROM regress_unregister_plain;
DROP ROLE regress_unregister_plain;
