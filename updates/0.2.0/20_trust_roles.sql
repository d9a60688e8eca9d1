
/*
 * Who may be a managed job (issue 10 item 9).  A session that holds the
 * deployment gate makes every deployment wait for it, then fail after
 * zerodown.drain_timeout, so holding it is a right: the members of
 * zerodown_job (and superusers), checked by zd_job_begin and for
 * zerodown.managed in the C code.  In 0.1.0 any login role could.
 */
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'zerodown_job') THEN
        CREATE ROLE zerodown_job NOLOGIN;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.zd_job_begin(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_job_end() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_job_begin(text) TO zerodown_job;
GRANT EXECUTE ON FUNCTION @extschema@.zd_job_end() TO zerodown_job;

/*
 * What any login role may see (issue 10 item 9): the version, the gate
 * (zd_gate_status, zerodown.gate_jobs) and the state of a deployment it
 * waits for (zd_deploy_wait).  0.1.0 granted these to PUBLIC without USAGE
 * on schema zerodown, so they failed with 42501.  The deployments
 * themselves (their errors quote data and statements, and say who asked
 * for them) are for deployers; zd_gate_status reads them as its owner,
 * under its pinned search_path.
 */
GRANT USAGE ON SCHEMA zerodown TO PUBLIC;
REVOKE SELECT ON zerodown.deployments FROM PUBLIC;
GRANT SELECT ON zerodown.deployments TO zerodown_deployer;
ALTER FUNCTION @extschema@.zd_gate_status() SECURITY DEFINER;
