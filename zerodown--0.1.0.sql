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

CREATE TABLE zerodown.deployments (
    id bigserial PRIMARY KEY,
    target integer NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'draining', 'applying', 'done', 'failed', 'cancelled', 'interrupted')),
    requested_by name NOT NULL DEFAULT CURRENT_USER,
    requested_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    from_version integer,
    to_version integer,
    started_at timestamptz,
    gate_closed_at timestamptz,
    gate_opened_at timestamptz,
    finished_at timestamptz,
    error text
);
CREATE INDEX ON zerodown.deployments (state) WHERE state IN ('queued', 'draining', 'applying');
COMMENT ON TABLE zerodown.deployments IS 'deployments queued for the background worker (zd_deploy), and how each ended';

ALTER TABLE zerodown.history ADD COLUMN deployment bigint REFERENCES zerodown.deployments (id);

SELECT pg_catalog.pg_extension_config_dump('zerodown.patches', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.applied', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.history', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.vars', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.deployments_id_seq', '');

GRANT SELECT, INSERT, UPDATE, DELETE ON zerodown.patches, zerodown.applied, zerodown.vars TO zerodown_deployer;
GRANT SELECT, INSERT ON zerodown.history TO zerodown_deployer;
GRANT USAGE ON SEQUENCE zerodown.history_id_seq TO zerodown_deployer;
GRANT SELECT, INSERT, UPDATE ON zerodown.deployments TO zerodown_deployer;
GRANT USAGE ON SEQUENCE zerodown.deployments_id_seq TO zerodown_deployer;

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

CREATE PROCEDURE @extschema@.zd_align_each(target integer DEFAULT NULL)
AS 'MODULE_PATHNAME', 'zd_align_each'
LANGUAGE C;
COMMENT ON PROCEDURE @extschema@.zd_align_each(integer) IS
'as zd_align, but commits each patch, so that a failure leaves the database at the last good patch (CALL, outside a transaction block)';

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
REVOKE ALL ON PROCEDURE @extschema@.zd_align_each(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_plan(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_set_var(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_register(integer, text, text, text, text, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_load(text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_align(integer, boolean) TO zerodown_deployer;
GRANT EXECUTE ON PROCEDURE @extschema@.zd_align_each(integer) TO zerodown_deployer;
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

/* ---------- the deployment gate ---------- */

CREATE FUNCTION @extschema@.zd_job_begin(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'zd_job_begin'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_job_begin(text) IS
'this session runs a managed job: it holds the deployment gate shared until zd_job_end() or the end of the session';

CREATE FUNCTION @extschema@.zd_job_end()
RETURNS void
AS 'MODULE_PATHNAME', 'zd_job_end'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_job_end() IS
'ends the managed job zd_job_begin started';

CREATE FUNCTION @extschema@.zd_gate_close(timeout_ms integer DEFAULT 0)
RETURNS boolean
AS 'MODULE_PATHNAME', 'zd_gate_close'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_gate_close(integer) IS
'closes the deployment gate for a deployment done from outside: waits up to timeout_ms (0: as long as it takes) for running jobs while new ones queue; the session holds it until zd_gate_open() or its end';

CREATE FUNCTION @extschema@.zd_gate_open()
RETURNS void
AS 'MODULE_PATHNAME', 'zd_gate_open'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_gate_open() IS
'opens the deployment gate this session closed; the queued jobs start at once';

CREATE FUNCTION @extschema@.zd_job_slots()
RETURNS TABLE (pid integer, job text, since timestamptz)
AS 'MODULE_PATHNAME', 'zd_job_slots'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_job_slots() IS
'the named jobs of this database (internal; see zerodown.gate_jobs)';

CREATE VIEW zerodown.gate_jobs AS
SELECT l.pid,
       coalesce(s.job, 'managed transaction') AS job,
       CASE WHEN l.granted THEN 'running' ELSE 'waiting' END AS status,
       coalesce(s.since, a.xact_start) AS since,
       a.usename AS role,
       a.application_name,
       a.query
  FROM pg_catalog.pg_locks l
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
  LEFT JOIN (SELECT * FROM @extschema@.zd_job_slots() WHERE job IS NOT NULL) s ON s.pid = l.pid
 WHERE l.locktype = 'advisory'
   AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
   AND l.classid = 2053468783 AND l.objid = 1 AND l.objsubid = 2
   AND l.mode = 'ShareLock'
UNION ALL
-- managed transactions that hold the gate without a lock (the fast path)
SELECT f.pid, 'managed transaction', 'running', f.since, a.usename, a.application_name, a.query
  FROM @extschema@.zd_job_slots() f
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = f.pid
 WHERE f.job IS NULL;
COMMENT ON VIEW zerodown.gate_jobs IS 'the managed jobs of this database: running (holding the gate) or waiting at it';

CREATE FUNCTION @extschema@.zd_gate_status(
    OUT state text, OUT deployer_pid integer, OUT deployer text,
    OUT deployment bigint, OUT running_jobs integer, OUT waiting_jobs integer)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gate AS (
        SELECT l.pid, l.mode, l.granted
          FROM pg_catalog.pg_locks l
         WHERE l.locktype = 'advisory'
           AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
           AND l.classid = 2053468783 AND l.objid = 1 AND l.objsubid = 2
    ), holder AS (
        SELECT g.pid, g.granted, a.application_name, a.backend_type
          FROM gate g LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = g.pid
         WHERE g.mode = 'ExclusiveLock'
         ORDER BY g.granted DESC LIMIT 1
    )
    SELECT CASE WHEN h.pid IS NULL THEN 'open'
                WHEN h.granted AND NOT EXISTS (SELECT FROM zerodown.gate_jobs j WHERE j.status = 'running')
                THEN 'closed' ELSE 'closing' END,
           h.pid,
           CASE WHEN h.backend_type = 'zerodown launcher' THEN 'zerodown worker'
                ELSE h.application_name END,
           (SELECT d.id FROM zerodown.deployments d
             WHERE d.state IN ('draining', 'applying') AND h.backend_type = 'zerodown launcher'
             ORDER BY d.id LIMIT 1),
           (SELECT count(*)::int FROM zerodown.gate_jobs j WHERE j.status = 'running'),
           (SELECT count(*)::int FROM zerodown.gate_jobs j WHERE j.status = 'waiting')
      FROM (SELECT 1) one LEFT JOIN holder h ON true
$$;
COMMENT ON FUNCTION @extschema@.zd_gate_status() IS
'open, closing (a deployer waits for running jobs) or closed; the deployer; how many jobs run and wait';

GRANT SELECT ON zerodown.gate_jobs TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_gate_close(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_gate_close(integer) TO zerodown_deployer;

/* ---------- deployments run by the background worker ---------- */

CREATE FUNCTION @extschema@.zd_deploy(target integer DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_deploy'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_deploy(integer) IS
'queues a deployment to target (NULL: the highest registered patch) for the background worker; returns its id at once';

CREATE FUNCTION @extschema@.zd_deploy_wait(id bigint, timeout_ms integer DEFAULT 0)
RETURNS text
AS 'MODULE_PATHNAME', 'zd_deploy_wait'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_deploy_wait(bigint, integer) IS
'waits up to timeout_ms (0: as long as it takes) for a deployment to end; returns its final state, or its current one after the timeout';

CREATE FUNCTION @extschema@.zd_deploy_cancel(id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'zd_deploy_cancel'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_deploy_cancel(bigint) IS
'cancels a deployment that is still queued';

REVOKE ALL ON FUNCTION @extschema@.zd_deploy(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_deploy_cancel(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_deploy(integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_deploy_cancel(bigint) TO zerodown_deployer;
GRANT SELECT ON zerodown.deployments TO PUBLIC;

/* ---------- blue/green publish ---------- */

CREATE TABLE zerodown.publishes (
    id bigserial PRIMARY KEY,
    action text NOT NULL CHECK (action IN ('publish', 'unpublish')),
    live name NOT NULL,
    staging name,
    previous name NOT NULL,
    dropped name,
    audits text[] NOT NULL DEFAULT '{}',
    result text NOT NULL,
    forced_dependents text[],
    gated boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL,
    duration interval NOT NULL,
    swap_duration interval NOT NULL,
    lock_rounds integer NOT NULL DEFAULT 1,
    role name NOT NULL DEFAULT CURRENT_USER,
    backend_pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
CREATE INDEX ON zerodown.publishes (live, id);
COMMENT ON TABLE zerodown.publishes IS 'every publish and unpublish: who, when, the audits run, which schema became live and which was kept as the previous one';

SELECT pg_catalog.pg_extension_config_dump('zerodown.publishes', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.publishes_id_seq', '');
GRANT SELECT, INSERT ON zerodown.publishes TO zerodown_deployer;
GRANT USAGE ON SEQUENCE zerodown.publishes_id_seq TO zerodown_deployer;

CREATE FUNCTION @extschema@.zd_publish(staging name,
                                       live name,
                                       audits text[] DEFAULT '{}',
                                       keep name DEFAULT NULL,
                                       force boolean DEFAULT false,
                                       use_gate boolean DEFAULT false,
                                       gate_timeout_ms integer DEFAULT 0)
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_publish'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_publish(name, name, text[], name, boolean, boolean, integer) IS
'runs the audits (queries that must return no rows) against staging, then swaps in one short transaction: live becomes the previous schema keep (default live_previous, replacing the one kept before) and staging becomes live; refuses when objects outside the schemas depend on live, unless forced; returns the id in zerodown.publishes';

CREATE FUNCTION @extschema@.zd_unpublish(live name,
                                         force boolean DEFAULT false,
                                         use_gate boolean DEFAULT false,
                                         gate_timeout_ms integer DEFAULT 0)
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_unpublish'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_unpublish(name, boolean, boolean, integer) IS
'swaps the schema kept by the last publish of live back in (and live out, as the previous schema): a second call re-publishes; returns the id in zerodown.publishes';

CREATE FUNCTION @extschema@.zd_clone_schema(source name,
                                            target name,
                                            structure_only boolean DEFAULT false)
RETURNS TABLE (object text, kind text, rows bigint)
AS 'MODULE_PATHNAME', 'zd_clone_schema'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_clone_schema(name, name, boolean) IS
'creates schema target as a copy of source: tables with their data, defaults, constraints, indexes, sequences and their values, foreign keys and views re-pointed to the copies, materialized views, triggers, comments, privileges and owners; lists what it cannot copy in an error before creating anything';

CREATE FUNCTION @extschema@.zd_sync("table" regclass,
                                    rows jsonb,
                                    keys text[] DEFAULT NULL,
                                    delete_absent boolean DEFAULT false)
RETURNS TABLE (inserted bigint, updated bigint, deleted bigint)
AS 'MODULE_PATHNAME', 'zd_sync'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_sync(regclass, jsonb, text[], boolean) IS
'declarative reference data: makes table hold the given rows (a JSON array of objects), matched on keys (default: the primary key): inserts the missing, updates the changed, and with delete_absent deletes the others; returns the counts';

REVOKE ALL ON FUNCTION @extschema@.zd_publish(name, name, text[], name, boolean, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_unpublish(name, boolean, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_clone_schema(name, name, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_sync(regclass, jsonb, text[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_publish(name, name, text[], name, boolean, boolean, integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_unpublish(name, boolean, boolean, integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_clone_schema(name, name, boolean) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_sync(regclass, jsonb, text[], boolean) TO zerodown_deployer;
/* ---------- dual-write compatibility: expand, backfill, contract ---------- */

CREATE TABLE zerodown.expansions (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('column', 'table')),
    relid regclass NOT NULL,
    table_name text NOT NULL,
    target text NOT NULL,
    child regclass,
    child_name text,
    old_columns text[] NOT NULL,
    new_columns text[] NOT NULL,
    new_types text[],
    up text[],
    down text[],
    key_column text,
    child_key text,
    child_pk text,
    triggers text[] NOT NULL,
    child_triggers text[],
    watermark text,
    state text NOT NULL DEFAULT 'expanded'
        CHECK (state IN ('expanded', 'backfilled', 'contracted', 'aborted')),
    rows_total bigint,
    rows_done bigint NOT NULL DEFAULT 0,
    rows_written bigint NOT NULL DEFAULT 0,
    batches integer NOT NULL DEFAULT 0,
    last_key text,
    longest_batch interval,
    rows_per_second double precision,
    backfill_started_at timestamptz,
    run_started_at timestamptz,
    progress_at timestamptz,
    backfilled_at timestamptz,
    expanded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expanded_by name NOT NULL DEFAULT CURRENT_USER,
    finished_at timestamptz,
    finished_by name
);
CREATE UNIQUE INDEX expansions_active ON zerodown.expansions (relid, target)
    WHERE state IN ('expanded', 'backfilled');
COMMENT ON TABLE zerodown.expansions IS 'every expansion (zd_expand_column, zd_expand_table): its shapes, triggers, state and backfill progress';
COMMENT ON COLUMN zerodown.expansions.target IS 'how zd_backfill, zd_contract and zd_abort name it: the first new column, or the child table';
COMMENT ON COLUMN zerodown.expansions.old_columns IS 'column expansions: the old columns; table expansions: the parent''s mapped columns';
COMMENT ON COLUMN zerodown.expansions.new_columns IS 'column expansions: the new columns; table expansions: the child''s mapped columns';
COMMENT ON COLUMN zerodown.expansions.watermark IS 'the highest primary key when the triggers were installed: the backfill stops there';
COMMENT ON COLUMN zerodown.expansions.rows_done IS 'rows up to the watermark the backfill has visited';
COMMENT ON COLUMN zerodown.expansions.rows_written IS 'rows the backfill has filled (the others were right already)';

SELECT pg_catalog.pg_extension_config_dump('zerodown.expansions', '');
SELECT pg_catalog.pg_extension_config_dump('zerodown.expansions_id_seq', '');
GRANT SELECT, INSERT, UPDATE ON zerodown.expansions TO zerodown_deployer;
GRANT USAGE ON SEQUENCE zerodown.expansions_id_seq TO zerodown_deployer;

CREATE VIEW zerodown.expansion_status AS
SELECT e.id,
       e.kind,
       e.relid AS table_name,
       e.target,
       e.child,
       e.state,
       e.old_columns,
       e.new_columns,
       e.rows_done,
       e.rows_total,
       CASE WHEN e.state IN ('backfilled', 'contracted') THEN 100.0
            WHEN e.rows_total > 0 THEN round(100.0 * least(e.rows_done, e.rows_total) / e.rows_total, 1)
            WHEN e.rows_total = 0 THEN 100.0 END AS percent,
       round(e.rows_per_second::numeric) AS rows_per_second,
       CASE WHEN e.state = 'expanded' AND e.rows_per_second > 0 AND e.rows_total IS NOT NULL
            THEN pg_catalog.make_interval(secs => round(greatest(e.rows_total - e.rows_done, 0) / e.rows_per_second))
       END AS time_left,
       e.rows_written,
       e.batches,
       e.longest_batch,
       l.pid AS backfill_pid,
       e.expanded_at,
       e.backfill_started_at,
       e.progress_at,
       e.backfilled_at,
       e.finished_at
  FROM zerodown.expansions e
  LEFT JOIN pg_catalog.pg_locks l
    ON l.locktype = 'advisory'
   AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
   AND l.classid = 2053399142 AND l.objid = e.id::oid AND l.objsubid = 2
   AND l.granted;
COMMENT ON VIEW zerodown.expansion_status IS 'every expansion: its state and its backfill''s progress (rows done and total, rate, time left, the pid of a running backfill)';
GRANT SELECT ON zerodown.expansion_status TO zerodown_deployer;

CREATE FUNCTION @extschema@.zd_expansion_status(tbl regclass DEFAULT NULL)
RETURNS SETOF zerodown.expansion_status
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM zerodown.expansion_status WHERE $1 IS NULL OR table_name = $1 OR child = $1 ORDER BY id $$;
COMMENT ON FUNCTION @extschema@.zd_expansion_status(regclass) IS
'the expansions of a table (NULL: all), with their state and backfill progress';

CREATE FUNCTION @extschema@.zd_expand_column(tbl regclass, old_column text, new_column text,
                                             new_type text, up text, down text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_expand_column'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_expand_column(regclass, text, text, text, text, text) IS
'adds new_column (new_type) without a rewrite, and a trigger that sets it to up (new from old) when the old version writes, and old_column to down (old from new) when the new version writes; returns the expansion id';

CREATE FUNCTION @extschema@.zd_expand_columns(tbl regclass, old_columns text[], new_columns text[],
                                              new_types text[], ups text[], downs text[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_expand_columns'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_expand_columns(regclass, text[], text[], text[], text[], text[]) IS
'zd_expand_column for several columns at once (split one column into two, merge two into one): one up per new column, one down per old column';

CREATE FUNCTION @extschema@.zd_expand_table(parent regclass, child regclass, child_key text,
                                            columns text[], child_columns text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'zd_expand_table'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_expand_table(regclass, regclass, text, text[], text[]) IS
'installs triggers that keep the parent''s columns and its primary child row (lowest child key) in step, both ways; child_key references the parent''s primary key; returns the expansion id';

CREATE PROCEDURE @extschema@.zd_backfill(tbl regclass, target text,
                                         batch_size integer DEFAULT 1000,
                                         pause_ms integer DEFAULT 0)
AS 'MODULE_PATHNAME', 'zd_backfill'
LANGUAGE C;
COMMENT ON PROCEDURE @extschema@.zd_backfill(regclass, text, integer, integer) IS
'fills the new shape of an expansion for the rows that existed before its triggers, in keyset batches that each commit (CALL it outside a transaction block); stops and resumes safely';

CREATE FUNCTION @extschema@.zd_contract(tbl regclass, target text)
RETURNS text
AS 'MODULE_PATHNAME', 'zd_contract'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_contract(regclass, text) IS
'ends a backfilled expansion: drops its triggers and the old shape (the old columns, or the parent''s mapped columns)';

CREATE FUNCTION @extschema@.zd_abort(tbl regclass, target text)
RETURNS text
AS 'MODULE_PATHNAME', 'zd_abort'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_abort(regclass, text) IS
'undoes an expansion that is not contracted: drops its triggers and its new columns (a child table stays for the patch''s rollback to drop)';

CREATE FUNCTION @extschema@.zd_dualwrite_column()
RETURNS trigger
AS 'MODULE_PATHNAME', 'zd_dualwrite_column'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.zd_dualwrite_column() IS
'trigger of a column expansion (created by zd_expand_column)';

CREATE FUNCTION @extschema@.zd_dualwrite_parent()
RETURNS trigger
AS 'MODULE_PATHNAME', 'zd_dualwrite_parent'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.zd_dualwrite_parent() IS
'trigger on the parent of a table expansion (created by zd_expand_table)';

CREATE FUNCTION @extschema@.zd_dualwrite_child()
RETURNS trigger
AS 'MODULE_PATHNAME', 'zd_dualwrite_child'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.zd_dualwrite_child() IS
'trigger on the child of a table expansion (created by zd_expand_table)';

REVOKE ALL ON FUNCTION @extschema@.zd_expansion_status(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_expand_column(regclass, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_expand_columns(regclass, text[], text[], text[], text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_expand_table(regclass, regclass, text, text[], text[]) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.zd_backfill(regclass, text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_contract(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_abort(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_dualwrite_column() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_dualwrite_parent() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_dualwrite_child() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_expansion_status(regclass) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_expand_column(regclass, text, text, text, text, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_expand_columns(regclass, text[], text[], text[], text[], text[]) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_expand_table(regclass, regclass, text, text[], text[]) TO zerodown_deployer;
GRANT EXECUTE ON PROCEDURE @extschema@.zd_backfill(regclass, text, integer, integer) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_contract(regclass, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_abort(regclass, text) TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_dualwrite_column() TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_dualwrite_parent() TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_dualwrite_child() TO zerodown_deployer;
