/* zerodown--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION zerodown" to load this file. \quit

/*
 * Deployers: the extension's owner and the members of zerodown_deployer may
 * register patches, set variables and align.  Roles are cluster-wide, so the
 * role may already exist from another database.
 */
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'zerodown_deployer') THEN
        CREATE ROLE zerodown_deployer NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA zerodown;
COMMENT ON SCHEMA zerodown IS 'zerodown''s own tables: patches, applied patches, history, variables';
GRANT USAGE ON SCHEMA zerodown TO zerodown_deployer;

/* ---------- tables ---------- */

CREATE TABLE zerodown.patches (
    number integer PRIMARY KEY CHECK (number > 0),
    name text NOT NULL,
    build_sql text NOT NULL,
    rollback_sql text,
    verify_sql text,
    build_transactional boolean NOT NULL,
    rollback_transactional boolean,
    checksum text NOT NULL,
    source text,
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE zerodown.patches IS 'every registered patch: build, rollback (NULL: irreversible) and verify text, and its checksum';

CREATE TABLE zerodown.applied (
    number integer PRIMARY KEY REFERENCES zerodown.patches (number),
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL,
    applied_by name NOT NULL
);
COMMENT ON TABLE zerodown.applied IS 'the patches the database is built to: zd_version() is the highest number here';

CREATE TABLE zerodown.history (
    id bigserial PRIMARY KEY,
    number integer NOT NULL,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('build', 'rollback')),
    checksum text NOT NULL,
    started_at timestamptz NOT NULL,
    duration interval NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    outcome text NOT NULL CHECK (outcome IN ('done', 'failed')),
    error text,
    role name NOT NULL DEFAULT CURRENT_USER,
    backend_pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
CREATE INDEX ON zerodown.history (number);
COMMENT ON TABLE zerodown.history IS 'every step run by zerodown, newest last';

CREATE TABLE zerodown.vars (
    name text PRIMARY KEY,
    value text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    set_by name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE zerodown.vars IS 'values for ${name} placeholders in patch text (per environment)';

SELECT pg_catalog.pg_extension_config_dump('zerodown.patches', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.applied', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.history', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.vars', '');

GRANT SELECT, INSERT, UPDATE, DELETE ON zerodown.patches, zerodown.applied, zerodown.vars TO zerodown_deployer;
GRANT SELECT, INSERT ON zerodown.history TO zerodown_deployer;
GRANT USAGE ON SEQUENCE zerodown.history_id_seq TO zerodown_deployer;

CREATE VIEW zerodown.status AS
SELECT p.number,
       p.name,
       a.number IS NOT NULL AS applied,
       a.applied_at,
       a.applied_by,
       p.checksum,
       a.checksum AS applied_checksum,
       coalesce(a.checksum <> p.checksum, false) AS drift,
       p.rollback_sql IS NOT NULL AS reversible,
       p.build_transactional AS transactional,
       p.source,
       p.registered_at
  FROM zerodown.patches p
  LEFT JOIN zerodown.applied a ON a.number = p.number
 ORDER BY p.number;
COMMENT ON VIEW zerodown.status IS 'every registered patch: applied or not, when, and whether its text drifted since it was applied';
GRANT SELECT ON zerodown.status TO zerodown_deployer;

/* ---------- patches and alignment ---------- */

CREATE FUNCTION @extschema@.zd_register(number integer,
                                        name text,
                                        build_sql text,
                                        rollback_sql text DEFAULT NULL,
                                        verify_sql text DEFAULT NULL,
                                        source text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'zd_register'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_register(integer, text, text, text, text, text) IS
'registers or replaces an unapplied patch; returns registered, replaced or unchanged';

CREATE FUNCTION @extschema@.zd_load(dir text)
RETURNS TABLE (number integer, name text, action text)
AS 'MODULE_PATHNAME', 'zd_load'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_load(text) IS
'registers every build/NNNNN_name.sql, rollback/NNNNN_name.sql (and optional verify/) file under a server-side directory';

CREATE FUNCTION @extschema@.zd_align(target integer DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS integer
AS 'MODULE_PATHNAME', 'zd_align'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_align(integer, boolean) IS
'builds or rolls back, in the caller''s transaction, until the database stands at target (NULL: the highest registered patch); returns the patch number reached. With dry_run, runs the steps in a subtransaction that is rolled back and reports each one''s duration and locks';

CREATE FUNCTION @extschema@.zd_plan(target integer DEFAULT NULL)
RETURNS TABLE (step integer, number integer, name text, direction text,
               transactional boolean, statements integer, file text)
AS 'MODULE_PATHNAME', 'zd_plan'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_plan(integer) IS
'the steps zd_align(target) would run, checked but not run';

CREATE FUNCTION @extschema@.zd_set_var(name text, value text)
RETURNS void
AS 'MODULE_PATHNAME', 'zd_set_var'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_set_var(text, text) IS
'sets the value of the ${name} placeholder in patch text; a NULL value removes it';

CREATE FUNCTION @extschema@.zd_version()
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(max(number), 0) FROM zerodown.applied $$;
COMMENT ON FUNCTION @extschema@.zd_version() IS
'the patch number the database stands at (0: none)';

REVOKE ALL ON FUNCTION @extschema@.zd_register(integer, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_load(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_align(integer, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_plan(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_set_var(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_register(integer, text, text, text, text, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_load(text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_align(integer, boolean) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_plan(integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_set_var(text, text) TO zerodown_deployer;

/* ---------- steps run outside a transaction (the zd client) ---------- */

CREATE FUNCTION @extschema@.zd_step_statements(number integer, direction text DEFAULT 'build')
RETURNS TABLE (ordinal integer, line integer, statement text, file text)
AS 'MODULE_PATHNAME', 'zd_step_statements'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_step_statements(integer, text) IS
'the statements of the next step (build or rollback of a patch), placeholders filled, for a client that runs them outside a transaction';

CREATE FUNCTION @extschema@.zd_step_done(number integer, direction text,
                                         started_at timestamptz, attempts integer DEFAULT 1)
RETURNS integer
AS 'MODULE_PATHNAME', 'zd_step_done'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_step_done(integer, text, timestamptz, integer) IS
'runs the verify of a step whose statements ran outside a transaction, and records it; returns the patch number reached';

REVOKE ALL ON FUNCTION @extschema@.zd_step_statements(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_step_done(integer, text, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_step_statements(integer, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_step_done(integer, text, timestamptz, integer) TO zerodown_deployer;

/* ---------- safe-deploy checks ---------- */

CREATE FUNCTION @extschema@.zd_lint(target integer DEFAULT NULL)
RETURNS TABLE (number integer, name text, direction text, line integer,
               rule text, statement text, message text, hint text)
AS 'MODULE_PATHNAME', 'zd_lint'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_lint(integer) IS
'the statements of the steps to target that are known to hurt a live database, each with its safe recipe';

CREATE FUNCTION @extschema@.zd_dry_run(target integer DEFAULT NULL)
RETURNS TABLE (step integer, number integer, name text, direction text,
               milliseconds double precision, locks text[], result text)
AS 'MODULE_PATHNAME', 'zd_dry_run'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_dry_run(integer) IS
'runs the steps to target in a subtransaction that is rolled back, and reports how long each took and the locks it took';

CREATE FUNCTION @extschema@.zd_check("from" integer, "to" integer)
RETURNS TABLE (number integer, name text, result text, differences text[])
AS 'MODULE_PATHNAME', 'zd_check'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_check(integer, integer) IS
'builds, rolls back and builds again each patch from+1..to in a subtransaction that is rolled back, and reports what each rollback fails to undo';

REVOKE ALL ON FUNCTION @extschema@.zd_lint(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_dry_run(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_check(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_lint(integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_dry_run(integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_check(integer, integer) TO zerodown_deployer;
