--
-- trust_catalog: nobody but the extension's owner writes zerodown's tables
-- (a deployer reads them and goes through the functions); a patch whose row
-- was changed behind zerodown's back is refused when it would run, by every
-- way of running it; rows zerodown could not have written are refused with
-- an error, never a crash; a relation named by a row is checked before it
-- is locked.  Issue 10, items 2 and 5.
--
CREATE EXTENSION zerodown;

-- an error as SQLSTATE, message, detail and hint, times masked
CREATE FUNCTION regress_error(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT 'SQLSTATE: ' || state;
    RETURN NEXT 'ERROR:  ' || message;
    IF detail <> '' THEN
        RETURN NEXT 'DETAIL:  ' || regexp_replace(detail, 'applied at .* with checksum',
                                                  'applied at <time> with checksum');
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || hint;
    END IF;
END
$fn$;
GRANT EXECUTE ON FUNCTION regress_error(text) TO PUBLIC;

-- what zerodown's tables hold, to show that a refused statement changed nothing
CREATE VIEW regress_catalog AS
SELECT (SELECT count(*) FROM zerodown.patches) AS patches,
       (SELECT count(*) FROM zerodown.applied) AS applied,
       (SELECT count(*) FROM zerodown.history) AS history,
       (SELECT count(*) FROM zerodown.vars) AS vars,
       (SELECT count(*) FROM zerodown.expansions) AS expansions,
       (SELECT string_agg(number || ':' || left(checksum, 12), ' ' ORDER BY number)
          FROM zerodown.patches) AS checksums;
GRANT SELECT ON regress_catalog TO PUBLIC;

CREATE ROLE regress_trust_deployer IN ROLE zerodown_deployer;
CREATE ROLE regress_trust_other IN ROLE zerodown_deployer;
CREATE SCHEMA regress_trust_app AUTHORIZATION regress_trust_deployer;
GRANT USAGE ON SCHEMA regress_trust_app TO regress_trust_other;

SET ROLE regress_trust_deployer;
SELECT zd_register(1, 'create_table_cat_a',
                   'CREATE TABLE regress_trust_app.cat_a (id integer PRIMARY KEY, email text)',
                   'DROP TABLE regress_trust_app.cat_a');
SELECT zd_register(2, 'create_table_cat_b',
                   'CREATE TABLE regress_trust_app.cat_b (id integer)',
                   'DROP TABLE regress_trust_app.cat_b');
SELECT zd_align(2);
SELECT zd_set_var('app_schema', 'regress_trust_app');

-- the functions record the deployer, not the owner they write as
SELECT number, applied_by FROM zerodown.applied ORDER BY number;
SELECT number, direction, role FROM zerodown.history ORDER BY id;
SELECT number, registered_by FROM zerodown.patches ORDER BY number;
SELECT name, value, set_by FROM zerodown.vars ORDER BY name;
SELECT number, applied, drift FROM zerodown.status ORDER BY number;

-- a deployer reads zerodown's tables but writes none of them (42501): the
-- reproduction of issue 10 item 2 is refused, and nothing changes
SELECT * FROM regress_catalog;
SELECT * FROM regress_error($$UPDATE zerodown.patches SET rollback_sql = 'DROP TABLE regress_trust_app.cat_b; SELECT 42' WHERE number = 2$$);
SELECT * FROM regress_error($$DELETE FROM zerodown.applied WHERE number = 1$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.applied VALUES (3, 'x', 'x', now(), current_user)$$);
SELECT * FROM regress_error($$UPDATE zerodown.vars SET value = 'x; SELECT 1'$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.history (number, name, direction, checksum, started_at, duration, outcome) VALUES (9, 'x', 'build', 'x', now(), '0', 'done')$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.expansions (kind, relid, table_name, target, old_columns, new_columns, triggers, state) VALUES ('column', 'pg_catalog.pg_authid', 'pg_authid', 'x', '{rolname}', '{x}', '{zd_x}', 'backfilled')$$);
SELECT * FROM regress_error($$UPDATE zerodown.deployments SET state = 'done'$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.deployments (target) VALUES (1)$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.publishes (action, live, previous, result, started_at, duration, swap_duration) VALUES ('publish', 'a', 'b', 'published', now(), '0', '0')$$);
SELECT * FROM regress_error($$TRUNCATE zerodown.history$$);
SELECT * FROM regress_error($$SELECT nextval('zerodown.history_id_seq')$$);
SELECT * FROM regress_catalog;
RESET ROLE;

--
-- a row changed behind zerodown's back (a superuser's UPDATE, a restored
-- dump): its text no longer matches its checksum, and it runs nowhere, not
-- even for a superuser
--
UPDATE zerodown.patches
   SET rollback_sql = 'DROP TABLE regress_trust_app.cat_b; CREATE TABLE regress_trust_app.cat_tampered (id integer)'
 WHERE number = 2;
SELECT number, applied, drift, intact FROM zerodown.status ORDER BY number;
SELECT * FROM regress_error($$SELECT zd_align(0)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_dry_run(1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_lint(1)$$);
SET ROLE regress_trust_deployer;
-- the zd client's path: the statements of the step, and its record
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(2, 'rollback')$$);
SELECT * FROM regress_error($$SELECT zd_step_done(2, 'rollback', now())$$);
SELECT * FROM regress_error($$SELECT zd_align(1)$$);
SELECT to_regclass('regress_trust_app.cat_tampered') AS tampered, zd_version();
-- registering the text it was applied with rewrites the row
SELECT zd_register(2, 'create_table_cat_b',
                   'CREATE TABLE regress_trust_app.cat_b (id integer)',
                   'DROP TABLE regress_trust_app.cat_b');
SELECT number, applied, drift, intact FROM zerodown.status ORDER BY number;
SELECT zd_align(1);
RESET ROLE;
SELECT to_regclass('regress_trust_app.cat_tampered') AS tampered, zd_version();

-- the build of a patch not applied yet, changed behind zerodown's back
UPDATE zerodown.patches SET build_sql = 'CREATE TABLE regress_trust_app.cat_tampered (id integer)'
 WHERE number = 2;
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT * FROM regress_error($$CALL zd_align_each(2)$$);
SET ROLE regress_trust_deployer;
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(2)$$);
SELECT zd_register(2, 'create_table_cat_b',
                   'CREATE TABLE regress_trust_app.cat_b (id integer)',
                   'DROP TABLE regress_trust_app.cat_b');
SELECT zd_align(2);
RESET ROLE;
SELECT to_regclass('regress_trust_app.cat_tampered') AS tampered, zd_version();

--
-- inconsistent rows are errors that say so, never a crash (issue 10 item 5)
--

-- patch 1's row of zerodown.applied is gone while patch 2's is there
DELETE FROM zerodown.applied WHERE number = 1;
SELECT * FROM regress_error($$SELECT zd_align(0)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(0)$$);
SELECT 'the server is up' AS alive, zd_version();
INSERT INTO zerodown.applied (number, name, checksum, applied_at, applied_by)
SELECT number, name, checksum, now(), 'postgres' FROM zerodown.patches WHERE number = 1;
SET ROLE regress_trust_deployer;
SELECT zd_align(0);
SELECT zd_align(2);
RESET ROLE;

-- an expansion whose trigger list holds a NULL
SET ROLE regress_trust_deployer;
SELECT zd_expand_column('regress_trust_app.cat_a', 'email', 'email_lower', 'text',
                        'lower(email)', 'email_lower');
RESET ROLE;
UPDATE zerodown.expansions SET triggers = ARRAY[NULL]::text[];
SELECT * FROM regress_error($$SELECT zd_abort('regress_trust_app.cat_a', 'email_lower')$$);
SELECT * FROM regress_error($$CALL zd_backfill('regress_trust_app.cat_a', 'email_lower')$$);
UPDATE zerodown.expansions SET triggers = ARRAY[NULL, 'zd_column_email_lower'];
SELECT * FROM regress_error($$SELECT zd_abort('regress_trust_app.cat_a', 'email_lower')$$);
UPDATE zerodown.expansions SET triggers = '{zd_column_email_lower}', new_columns = '{}';
SELECT * FROM regress_error($$SELECT zd_contract('regress_trust_app.cat_a', 'email_lower')$$);
UPDATE zerodown.expansions SET triggers = '{zd_column_email_lower}', new_columns = '{email_lower}',
                               key_column = 'no_such_column';
SELECT * FROM regress_error($$SELECT zd_abort('regress_trust_app.cat_a', 'email_lower')$$);
UPDATE zerodown.expansions SET key_column = 'id';
SELECT 'the server is up' AS alive;

-- another deployer that does not own the table: refused before any lock
SET ROLE regress_trust_other;
SELECT * FROM regress_error($$SELECT zd_abort('regress_trust_app.cat_a', 'email_lower')$$);
SELECT * FROM regress_error($$CALL zd_backfill('regress_trust_app.cat_a', 'email_lower')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('regress_trust_app.cat_a', 'email', 'email2', 'text', 'email', 'email2')$$);
RESET ROLE;
SET ROLE regress_trust_deployer;
SELECT zd_abort('regress_trust_app.cat_a', 'email_lower');
RESET ROLE;

-- a made-up expansion of a system catalog: even a superuser's zd_contract
-- refuses it before it locks pg_authid
INSERT INTO zerodown.expansions (kind, relid, table_name, target, old_columns, new_columns,
                                 triggers, state)
VALUES ('column', 'pg_catalog.pg_authid', 'pg_authid', 'x', '{rolname}', '{x}', '{zd_x}', 'backfilled');
SELECT * FROM regress_error($$SELECT zd_contract('pg_catalog.pg_authid', 'x')$$);
SELECT * FROM regress_error($$SELECT zd_abort('pg_catalog.pg_authid', 'x')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('pg_catalog.pg_authid', 'rolname', 'x', 'text', 'rolname', 'x')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('zerodown.vars', 'value', 'x', 'text', 'value', 'x')$$);
SELECT count(*) AS authid_locks FROM pg_locks WHERE relation = 'pg_catalog.pg_authid'::regclass AND mode = 'AccessExclusiveLock';
DELETE FROM zerodown.expansions WHERE target = 'x';

SELECT zd_align(0);
DROP VIEW regress_catalog;
DROP EXTENSION zerodown;
DROP SCHEMA regress_trust_app;
DROP FUNCTION regress_error(text);
DROP ROLE regress_trust_deployer, regress_trust_other;
