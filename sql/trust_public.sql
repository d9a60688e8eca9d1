--
-- trust_public: what a plain login role may see and do.  It may ask the
-- version, watch the gate (zd_gate_status, zerodown.gate_jobs) and wait
-- for a deployment by id; in 0.1.0 these were granted to PUBLIC but failed
-- with 42501 (no USAGE on schema zerodown).  Everything else is refused,
-- and nothing it tries changes anything.  Issue 10, item 9.
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

SELECT zd_register(1, 'create_table_pub', 'CREATE TABLE pub (id integer)', 'DROP TABLE pub');
SELECT zd_align(1);

CREATE ROLE regress_pub_plain LOGIN;
SET SESSION AUTHORIZATION regress_pub_plain;

-- what it may see
SELECT zd_version();
SELECT state, deployer_pid, running_jobs, waiting_jobs FROM zd_gate_status();
SELECT count(*) AS jobs FROM zerodown.gate_jobs;
SELECT * FROM regress_error($$SELECT zd_deploy_wait(1, 10)$$);

-- what it may not (42501), each refused before anything changes
SELECT * FROM regress_error($$SELECT * FROM zerodown.deployments$$);
SELECT * FROM regress_error($$SELECT * FROM zerodown.status$$);
SELECT * FROM regress_error($$SELECT * FROM zerodown.patches$$);
SELECT * FROM regress_error($$SELECT * FROM zerodown.vars$$);
SELECT * FROM regress_error($$SELECT * FROM zerodown.history$$);
SELECT * FROM regress_error($$SELECT * FROM zerodown.expansion_status$$);
SELECT * FROM regress_error($$INSERT INTO zerodown.applied VALUES (2, 'x', 'x', now(), current_user)$$);
SELECT * FROM regress_error($$CREATE TABLE zerodown.mine (id integer)$$);
SELECT * FROM regress_error($$SELECT zd_register(2, 'x', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_align(0)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(0)$$);
SELECT * FROM regress_error($$SELECT zd_set_var('x', 'y')$$);
SELECT * FROM regress_error($$SELECT zd_deploy(0)$$);
SELECT * FROM regress_error($$SELECT zd_deploy_cancel(1)$$);
SELECT * FROM regress_error($$SELECT zd_gate_close(10)$$);
SELECT * FROM regress_error($$SELECT zd_job_begin('etl')$$);
SELECT * FROM regress_error($$SELECT zd_gate_open()$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('pub', 'id', 'id2', 'bigint', 'id', 'id2')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('pub', '[]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('public', 'pub_copy')$$);
RESET SESSION AUTHORIZATION;
SELECT zd_version(), (SELECT count(*) FROM zerodown.patches) AS patches,
       (SELECT count(*) FROM zerodown.history) AS history, to_regnamespace('pub_copy') AS pub_copy;

SELECT zd_align(0);
DROP EXTENSION zerodown;
DROP FUNCTION regress_error(text);
DROP ROLE regress_pub_plain;
