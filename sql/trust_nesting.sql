--
-- trust_nesting: a patch that calls zerodown back.  In 0.1.0 a patch that
-- ran SELECT zd_align(0) moved the version under the alignment running it,
-- and patch 1 calling zd_align(1) recursed until the stack gave out, then
-- spent minutes building ever longer error messages while it ignored
-- cancel and terminate.  Now the functions that align, register, set
-- variables, deploy or move the gate refuse to run inside a patch, at once,
-- and nothing of the alignment stays.  Issue 10, item 6.
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

CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.history) AS history,
       (SELECT count(*) FROM zerodown.applied) AS applied,
       to_regclass('nest_a') AS nest_a, to_regclass('nest_b') AS nest_b;

-- a guard: in 0.1.0 the recursion below ignored it
SET statement_timeout = '60s';

SELECT zd_register(1, 'create_table_nest_a', 'CREATE TABLE nest_a (id integer)', 'DROP TABLE nest_a');
SELECT zd_register(2, 'create_table_nest_b',
                   'CREATE TABLE nest_b (id integer); SELECT zd_align(0);', 'DROP TABLE nest_b');

-- patch 2 aligns the database back to 0 from inside: refused, and the
-- alignment is all or nothing
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT * FROM regress_state;

-- a patch that aligns to itself, and one that dry-runs itself
SELECT zd_register(2, 'create_table_nest_b',
                   'CREATE TABLE nest_b (id integer); SELECT zd_align(2);', 'DROP TABLE nest_b');
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b',
                   'CREATE TABLE nest_b (id integer); SELECT * FROM zd_dry_run(2);', 'DROP TABLE nest_b');
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT * FROM regress_state;

-- a dry run and a check of such a patch report the refusal as its result
SELECT step, number, result, locks FROM zd_dry_run(2) ORDER BY step;
SELECT number, result, differences FROM zd_check(0, 2) ORDER BY number;
SELECT * FROM regress_state;

-- every function that aligns, registers, sets variables, deploys or moves
-- the gate refuses; zd_plan and zd_version only read, and may be called
SELECT zd_align(1);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_register(9, ''x'', ''SELECT 1'')', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_set_var(''x'', ''y'')', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT * FROM zd_load(''/nonexistent'')', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_step_done(2, ''build'', now())', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT * FROM zd_check(0, 1)', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_deploy(1)', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_deploy_wait(1)', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_deploy_cancel(1)', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_gate_close(10)', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_gate_open()', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_job_begin(''etl'')', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_register(2, 'create_table_nest_b', 'SELECT zd_job_end()', NULL);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT * FROM regress_state;
SELECT zd_register(2, 'create_table_nest_b',
                   'CREATE TABLE nest_b (id integer); SELECT count(*) FROM zd_plan(1); SELECT zd_version();',
                   'DROP TABLE nest_b');
SELECT zd_align(2);
SELECT * FROM regress_state;

-- the rollback of a patch, calling zerodown: refused, the patch stays
SELECT zd_register(3, 'create_table_nest_c', 'CREATE TABLE nest_c (id integer)',
                   'DROP TABLE nest_c; SELECT zd_align(3);');
SELECT zd_align(3);
SELECT * FROM regress_error($$SELECT zd_align(2)$$);
SELECT zd_version(), to_regclass('nest_c') AS nest_c,
       (SELECT count(*) FROM zerodown.history) AS history;

RESET statement_timeout;
DROP VIEW regress_state;
DROP EXTENSION zerodown;
DROP TABLE nest_a, nest_b, nest_c;
DROP FUNCTION regress_error(text);
