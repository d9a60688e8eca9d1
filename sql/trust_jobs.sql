--
-- trust_jobs: who may be a managed job.  A session that holds the
-- deployment gate makes every deployment wait, then fail after
-- zerodown.drain_timeout; in 0.1.0 any login role could hold it.  Now only
-- members of zerodown_job (and superusers) may, by zd_job_begin or
-- zerodown.managed, and a job's name is cut on a character boundary (0.1.0
-- cut it inside one, and the invalid UTF-8 reached zerodown.deployments).
-- Issue 10, item 9.
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

CREATE ROLE regress_jobs_plain LOGIN;
CREATE ROLE regress_jobs_executor LOGIN;
GRANT EXECUTE ON FUNCTION zd_job_begin(text), zd_job_end() TO regress_jobs_executor;
CREATE ROLE regress_jobs_etl LOGIN IN ROLE zerodown_job;
CREATE TABLE jobs_t (id integer);
GRANT SELECT ON jobs_t TO PUBLIC;

-- a plain login role holds nothing (42501): neither a job nor a managed
-- session, and it can still turn the setting off
SET SESSION AUTHORIZATION regress_jobs_plain;
SELECT * FROM regress_error($$SELECT zd_job_begin('etl')$$);
SELECT * FROM regress_error($$SET zerodown.managed = on$$);
SHOW zerodown.managed;
SELECT count(*) AS jobs FROM zerodown.gate_jobs;
RESET SESSION AUTHORIZATION;

-- EXECUTE alone is not enough: the C code checks the role itself
SET SESSION AUTHORIZATION regress_jobs_executor;
SELECT * FROM regress_error($$SELECT zd_job_begin('etl')$$);
RESET SESSION AUTHORIZATION;

-- zerodown.managed set for the role by a superuser takes effect at login:
-- its statements are refused, but SET and SHOW let it turn it off
ALTER ROLE regress_jobs_plain SET zerodown.managed = on;
\c - regress_jobs_plain
SHOW zerodown.managed;
SELECT * FROM jobs_t;
SET zerodown.managed = off;
SELECT count(*) FROM jobs_t;
\c - postgres
ALTER ROLE regress_jobs_plain RESET zerodown.managed;

-- a member of zerodown_job runs jobs and managed sessions
SET SESSION AUTHORIZATION regress_jobs_etl;
SELECT zd_job_begin('nightly load');
SELECT job, status FROM zerodown.gate_jobs WHERE pid = pg_backend_pid();
SELECT zd_job_end();
SET zerodown.managed = on;
SELECT count(*) FROM jobs_t;
RESET zerodown.managed;

-- a name longer than 63 bytes is cut on a character boundary: ten
-- two-byte characters, then fourteen three-byte ones end at byte 62, and
-- the fifteenth, which would end at byte 65, is left out whole
SELECT zd_job_begin(repeat('é', 10) || repeat('€', 30));
SELECT octet_length(job) AS bytes, length(job) AS chars,
       convert_from(convert_to(job, 'UTF8'), 'UTF8') = job AS valid_utf8,
       job = repeat('é', 10) || repeat('€', 14) AS cut_between_characters
  FROM zerodown.gate_jobs WHERE pid = pg_backend_pid();
SELECT zd_job_end();
RESET SESSION AUTHORIZATION;

DROP EXTENSION zerodown;
DROP TABLE jobs_t;
DROP FUNCTION regress_error(text);
DROP ROLE regress_jobs_plain, regress_jobs_executor, regress_jobs_etl;
