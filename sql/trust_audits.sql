--
-- trust_audits: the audits of zd_publish only read.  In 0.1.0 they ran
-- through a read-only SPI call, which does not stop a volatile function
-- from writing; now they run in a subtransaction with
-- transaction_read_only on, rolled back afterwards, so a function that
-- writes fails and nothing an audit does stays.  Issue 10, item 9.
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

CREATE SCHEMA audit_live;
CREATE TABLE audit_live.sales (id integer PRIMARY KEY, amount numeric);
CREATE SCHEMA audit_staging;
CREATE TABLE audit_staging.sales (id integer PRIMARY KEY, amount numeric);
INSERT INTO audit_staging.sales VALUES (1, 10), (2, 20);
CREATE TABLE public.audit_log (note text);
CREATE SEQUENCE public.audit_seq;

-- a volatile function that writes, and one that takes a sequence value
CREATE FUNCTION public.audit_writes(n integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO public.audit_log VALUES ('written by an audit');
    DELETE FROM audit_staging.sales WHERE id = n;
    RETURN false;
END
$$;

SELECT * FROM regress_error($$SELECT zd_publish('audit_staging', 'audit_live',
    ARRAY['SELECT id FROM sales WHERE public.audit_writes(id)'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('audit_staging', 'audit_live',
    ARRAY['SELECT nextval(''public.audit_seq'') WHERE false', 'SELECT 1 WHERE nextval(''public.audit_seq'') < 0'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('audit_staging', 'audit_live',
    ARRAY['SELECT id FROM sales WHERE amount < 0'])$$);
SELECT count(*) AS log_rows FROM public.audit_log;
SELECT count(*) AS staging_rows FROM audit_live.sales;
SELECT last_value, is_called FROM public.audit_seq;
SELECT current_setting('transaction_read_only') AS read_only;
SELECT id, action, live FROM zerodown.publishes ORDER BY id;

DROP EXTENSION zerodown;
DROP SCHEMA audit_live, audit_live_previous CASCADE;
DROP TABLE public.audit_log;
DROP SEQUENCE public.audit_seq;
DROP FUNCTION public.audit_writes(integer), regress_error(text);
