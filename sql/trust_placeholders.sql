--
-- trust_placeholders: a ${name} value is patch text that another role (a
-- superuser, the worker) runs.  Setting one is as privileged as changing a
-- patch; the values a patch was applied with are recorded, and a change
-- shows as drift and stops its rollback; a patch asks for a quoted value
-- with ${name:literal} or ${name:ident}.  Issue 10, item 7.
--
CREATE EXTENSION zerodown;

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
        RETURN NEXT 'DETAIL:  ' || detail;
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || hint;
    END IF;
END
$fn$;
GRANT EXECUTE ON FUNCTION regress_error(text) TO PUBLIC;

CREATE ROLE regress_ph_deployer IN ROLE zerodown_deployer;
CREATE ROLE regress_ph_plain;
CREATE ROLE regress_ph_executor;
GRANT EXECUTE ON FUNCTION zd_set_var(text, text) TO regress_ph_executor;
CREATE ROLE regress_ph_reader;
CREATE SCHEMA ph_app AUTHORIZATION regress_ph_deployer;

-- setting a value is for those who may change patches (42501), and nothing
-- else writes zerodown.vars
SET ROLE regress_ph_plain;
SELECT * FROM regress_error($$SELECT zd_set_var('reader_role', 'plain')$$);
RESET ROLE;
SET ROLE regress_ph_executor;
SELECT * FROM regress_error($$SELECT zd_set_var('reader_role', 'plain')$$);
RESET ROLE;
SET ROLE regress_ph_deployer;
SELECT * FROM regress_error($$INSERT INTO zerodown.vars (name, value) VALUES ('reader_role', 'x')$$);
SELECT count(*) AS vars FROM zerodown.vars;

-- the reproduction of issue 10 item 7: a value that ends the statement it
-- is put in.  ${name:ident} and ${name:literal} keep it one identifier,
-- one string literal
SELECT zd_set_var('reader_role', 'regress_ph_reader; ALTER ROLE regress_ph_deployer SUPERUSER');
SELECT zd_set_var('note', $$it's ok'); ALTER ROLE regress_ph_deployer SUPERUSER; --$$);
SELECT zd_register(1, 'create_table_ph_t',
                   $$CREATE TABLE ph_app.t (id integer);
COMMENT ON TABLE ph_app.t IS ${note:literal};
GRANT SELECT ON ph_app.t TO ${reader_role:ident};$$,
                   $$DROP TABLE ph_app.t$$);
RESET ROLE;
-- a superuser aligns: the quoted value names a role that does not exist
SELECT * FROM regress_error($$SELECT zd_align(1)$$);
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_ph_deployer';
SET ROLE regress_ph_deployer;
SELECT zd_set_var('reader_role', 'regress_ph_reader');
SELECT zd_align(1);
SELECT obj_description('ph_app.t'::regclass) AS comment,
       has_table_privilege('regress_ph_reader', 'ph_app.t', 'SELECT') AS reader_reads;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_ph_deployer';

-- a value that needs quoting as an identifier, and one that does not
SELECT zd_set_var('column', 'Mixed Case');
SELECT zd_set_var('plain_column', 'simple');
SELECT zd_register(2, 'add_columns_ph_t',
                   'ALTER TABLE ph_app.t ADD COLUMN ${column:ident} text, ADD COLUMN ${plain_column:ident} text',
                   'ALTER TABLE ph_app.t DROP COLUMN ${column:ident}, DROP COLUMN ${plain_column:ident}');
SELECT zd_align(2);
SELECT attname FROM pg_attribute WHERE attrelid = 'ph_app.t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;

-- what each patch was applied with, and no drift
SELECT number, applied_vars, drift, vars_changed FROM zerodown.status ORDER BY number;

-- a value changed since: drift of the patches that use it, and their
-- rollback is refused, by every way of running it, until it is set back
SELECT zd_set_var('column', 'Other Name');
SELECT number, drift, vars_changed FROM zerodown.status ORDER BY number;
SELECT * FROM regress_error($$SELECT zd_align(1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(2, 'rollback')$$);
SELECT zd_set_var('column', NULL);
SELECT number, drift, vars_changed FROM zerodown.status ORDER BY number;
SELECT * FROM regress_error($$SELECT zd_align(1)$$);
SELECT zd_version();
SELECT zd_set_var('column', 'Mixed Case');
SELECT number, drift, vars_changed FROM zerodown.status ORDER BY number;
SELECT zd_align(1);
SELECT attname FROM pg_attribute WHERE attrelid = 'ph_app.t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;

-- raw, the same value is two words
SELECT zd_register(2, 'add_columns_ph_t',
                   'ALTER TABLE ph_app.t ADD COLUMN ${column} text, ADD COLUMN ${plain_column:ident} text',
                   'ALTER TABLE ph_app.t DROP COLUMN ${column:ident}, DROP COLUMN ${plain_column:ident}');
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'add_columns_ph_t',
                   'ALTER TABLE ph_app.t ADD COLUMN ${column:ident} text, ADD COLUMN ${plain_column:ident} text',
                   'ALTER TABLE ph_app.t DROP COLUMN ${column:ident}, DROP COLUMN ${plain_column:ident}');

-- an unknown format is refused before anything runs; text that is not a
-- placeholder is left alone
SELECT zd_register(3, 'bad_format', 'SELECT ${column:sql}', 'SELECT 1');
SELECT * FROM regress_error($$SELECT zd_align(3)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(3)$$);
SELECT zd_register(3, 'bad_format', 'SELECT ${column:}', 'SELECT 1');
SELECT * FROM regress_error($$SELECT zd_align(3)$$);
SELECT zd_version();
SELECT zd_register(3, 'not_placeholders', $$SELECT '${:ident} ${column:ident:x} ${column :ident}'$$, 'SELECT 1');
SELECT zd_align(2);
SELECT statement FROM zd_step_statements(3);
SELECT zd_align(0);
RESET ROLE;

DROP EXTENSION zerodown;
DROP SCHEMA ph_app;
DROP FUNCTION regress_error(text);
DROP ROLE regress_ph_deployer, regress_ph_plain, regress_ph_executor, regress_ph_reader;
