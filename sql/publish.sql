--
-- publish: write-audit-publish by schema swap, unpublish, the incremental
-- build of seed 001, dependents outside the schemas, the gate, bad input
--
CREATE EXTENSION zerodown;

-- an error as SQLSTATE, message, detail and hint
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

-- which data each schema holds
CREATE FUNCTION regress_schemas() RETURNS TABLE (schema name, batch text, rows bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    s name;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace
              WHERE nspname IN ('wap_live', 'wap_live_previous', 'wap_staging')
              ORDER BY nspname
    LOOP
        RETURN QUERY EXECUTE format('SELECT %L::name, string_agg(DISTINCT batch, '',''), count(*) FROM %I.sales', s, s);
    END LOOP;
END
$fn$;

--
-- write, audit, publish
--
CREATE SCHEMA wap_live;
CREATE TABLE wap_live.sales (id integer PRIMARY KEY, amount numeric NOT NULL, batch text NOT NULL);
INSERT INTO wap_live.sales SELECT i, i * 10, 'monday' FROM generate_series(1, 3) i;

-- build tuesday's data set in staging
CREATE SCHEMA wap_staging;
CREATE TABLE wap_staging.sales (id integer PRIMARY KEY, amount numeric NOT NULL, batch text NOT NULL);
INSERT INTO wap_staging.sales SELECT i, i * 10, 'tuesday' FROM generate_series(1, 5) i;
SELECT * FROM regress_schemas();

-- audits pass (no rows): publish; unqualified names in audits mean staging
SELECT zd_publish('wap_staging', 'wap_live',
                  audits => ARRAY['SELECT * FROM sales WHERE amount <= 0',
                                  'SELECT id FROM sales GROUP BY id HAVING count(*) > 1']);
SELECT * FROM regress_schemas();
-- the new data is live, the old data still readable in the previous schema
SELECT batch, count(*) FROM wap_live.sales GROUP BY batch;
SELECT batch, count(*) FROM wap_live_previous.sales GROUP BY batch;

-- unpublish swaps the previous schema back in, instantly
SELECT zd_unpublish('wap_live');
SELECT * FROM regress_schemas();
-- a second call re-publishes
SELECT zd_unpublish('wap_live');
SELECT * FROM regress_schemas();

-- each publish and unpublish is recorded
SELECT id, action, live, staging, previous, dropped, audits, result, gated, role = current_user AS by_me,
       swap_duration < interval '10 s' AS quick
  FROM zerodown.publishes ORDER BY id;

--
-- a failing audit: nothing changes, the error shows the bad rows
--
CREATE SCHEMA wap_staging;
CREATE TABLE wap_staging.sales (id integer PRIMARY KEY, amount numeric NOT NULL, batch text NOT NULL);
INSERT INTO wap_staging.sales SELECT i, 10 - i * 2, 'wednesday' FROM generate_series(1, 8) i;
SELECT * FROM regress_error($$
    SELECT zd_publish('wap_staging', 'wap_live',
                      ARRAY['SELECT id, amount FROM sales WHERE amount < 0 ORDER BY id'])$$);
SELECT * FROM regress_schemas();
-- two failing audits of three: each is listed
SELECT * FROM regress_error($$
    SELECT zd_publish('wap_staging', 'wap_live',
                      ARRAY['SELECT id, amount FROM sales WHERE amount < 0 ORDER BY id',
                            'SELECT * FROM sales WHERE batch <> ''wednesday''',
                            'SELECT id FROM sales WHERE amount = 0'])$$);
SELECT * FROM regress_schemas();
SELECT count(*) AS publishes FROM zerodown.publishes;

-- fixed, it publishes; the schema kept before (monday) is dropped
UPDATE wap_staging.sales SET amount = abs(amount);
SELECT zd_publish('wap_staging', 'wap_live',
                  ARRAY['SELECT id, amount FROM sales WHERE amount < 0 ORDER BY id']);
SELECT * FROM regress_schemas();
SELECT id, action, previous, dropped FROM zerodown.publishes ORDER BY id DESC LIMIT 1;

--
-- seed 001's trap: an incremental build on top of the previous schema
-- loses the last publish; cloning live into staging does not
--
-- thursday: clone live (wednesday's 8 rows), add only the new rows
SELECT kind, object, rows FROM zd_clone_schema('wap_live', 'wap_staging') ORDER BY kind, object;
INSERT INTO wap_staging.sales SELECT i, i * 10, 'thursday' FROM generate_series(9, 10) i;
SELECT zd_publish('wap_staging', 'wap_live');
-- nothing of wednesday's publish is lost
SELECT batch, count(*) FROM wap_live.sales GROUP BY batch ORDER BY batch;
-- friday: again
SELECT count(*) AS cloned FROM zd_clone_schema('wap_live', 'wap_staging');
INSERT INTO wap_staging.sales VALUES (11, 110, 'friday');
UPDATE wap_staging.sales SET amount = amount + 1 WHERE id = 9;
SELECT zd_publish('wap_staging', 'wap_live');
SELECT batch, count(*), sum(amount) FROM wap_live.sales GROUP BY batch ORDER BY batch;
SELECT batch, count(*) FROM wap_live_previous.sales GROUP BY batch ORDER BY batch;

--
-- objects outside the two schemas that depend on live
--
CREATE VIEW public.wap_report AS SELECT batch, count(*) FROM wap_live.sales GROUP BY batch;
CREATE TABLE public.wap_refunds (sale_id integer REFERENCES wap_live.sales);
CREATE FUNCTION public.wap_total() RETURNS numeric LANGUAGE sql
BEGIN ATOMIC SELECT sum(amount) FROM wap_live.sales; END;
SELECT count(*) AS cloned FROM zd_clone_schema('wap_live', 'wap_staging');
INSERT INTO wap_staging.sales VALUES (12, 120, 'saturday');
-- refused, with the list
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live')$$);
SELECT * FROM regress_schemas();
-- forced: published, with a warning; the view still reads the previous data
SELECT zd_publish('wap_staging', 'wap_live', force => true);
SELECT * FROM wap_report ORDER BY batch;
SELECT forced_dependents FROM zerodown.publishes ORDER BY id DESC LIMIT 1;
-- the next publish would drop the previous schema they use: refused, not forceable
SELECT count(*) AS cloned FROM zd_clone_schema('wap_live', 'wap_staging');
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', force => true)$$);
-- unless the previous schema is kept under another name
SELECT zd_publish('wap_staging', 'wap_live', keep => 'wap_live_saturday', force => true);
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'wap%' ORDER BY nspname;
DROP VIEW public.wap_report;
DROP TABLE public.wap_refunds;
DROP FUNCTION public.wap_total();
-- unpublish follows the name the last publish kept
SELECT zd_unpublish('wap_live');
SELECT id, action, live, previous FROM zerodown.publishes ORDER BY id DESC LIMIT 1;
SELECT zd_unpublish('wap_live');

-- objects in staging that use live would read the previous data: refused too
SELECT count(*) AS cloned FROM zd_clone_schema('wap_live', 'wap_staging');
CREATE VIEW wap_staging.old_sales AS SELECT * FROM wap_live.sales;
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live')$$);
DROP VIEW wap_staging.old_sales;

--
-- behind the deployment gate: closed for the swap, open afterwards
--
SELECT zd_publish('wap_staging', 'wap_live', use_gate => true, gate_timeout_ms => 1000);
SELECT state FROM zd_gate_status();
SELECT gated FROM zerodown.publishes ORDER BY id DESC LIMIT 1;
SELECT zd_unpublish('wap_live', use_gate => true);
SELECT state FROM zd_gate_status();
-- a gate this session closed itself stays closed
SELECT zd_gate_close(1000);
SELECT zd_unpublish('wap_live', use_gate => true);
SELECT state FROM zd_gate_status();
SELECT zd_gate_open();

--
-- names that need quotes
--
CREATE SCHEMA "Live Data";
CREATE TABLE "Live Data"."Sales" (id integer);
INSERT INTO "Live Data"."Sales" VALUES (1);
SELECT count(*) AS cloned FROM zd_clone_schema('Live Data', 'Staging "Data"');
INSERT INTO "Staging ""Data"""."Sales" VALUES (2);
SELECT zd_publish('Staging "Data"', 'Live Data',
                  ARRAY['SELECT * FROM "Sales" WHERE id IS NULL']);
SELECT count(*) FROM "Live Data"."Sales";
SELECT count(*) FROM "Live Data_previous"."Sales";
SELECT zd_unpublish('Live Data');
SELECT count(*) FROM "Live Data"."Sales";
-- names are taken as written (no folding)
SELECT * FROM regress_error($$SELECT zd_unpublish('live data')$$);

--
-- bad input: every check runs before anything changes
--
SELECT count(*) AS cloned FROM zd_clone_schema('wap_live', 'wap_staging');
SELECT count(*) AS publishes_before FROM zerodown.publishes;
-- schemas that do not exist (3F000)
SELECT * FROM regress_error($$SELECT zd_publish('wap_nothing', 'wap_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_nothing')$$);
SELECT * FROM regress_error($$SELECT zd_unpublish('wap_nothing')$$);
-- staging = live, keep = staging (22023)
SELECT * FROM regress_error($$SELECT zd_publish('wap_live', 'wap_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', keep => 'wap_staging')$$);
-- NULL and empty names (22004, 22023)
SELECT * FROM regress_error($$SELECT zd_publish(NULL, 'wap_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', '')$$);
-- system schemas, zerodown's own and the extension's (22023)
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'pg_catalog')$$);
SELECT * FROM regress_error($$SELECT zd_publish('zerodown', 'wap_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'public')$$);
-- audits that are not one query or write (22023), do not parse (42601),
-- are NULL (22004), or name what does not exist (42P01)
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['SELECT 1 WHERE false', 'DELETE FROM sales'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['SELECT 1; SELECT 2'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['SELECT * INTO wap_copy FROM sales'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['SELEC 1'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY[NULL])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['WITH d AS (DELETE FROM sales RETURNING *) SELECT * FROM d'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', ARRAY['SELECT * FROM no_such_table'])$$);
-- a previous schema that zerodown did not keep is never dropped (42P06)
CREATE SCHEMA wap_reports;
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', keep => 'wap_reports')$$);
DROP SCHEMA wap_reports;
-- a negative gate timeout (22023)
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live', use_gate => true, gate_timeout_ms => -1)$$);
-- no previous schema to unpublish (55000)
CREATE SCHEMA wap_fresh;
SELECT * FROM regress_error($$SELECT zd_unpublish('wap_fresh')$$);
-- in a REPEATABLE READ transaction (25000)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live')$$);
ROLLBACK;
-- nothing changed
SELECT count(*) AS publishes_after FROM zerodown.publishes;
SELECT * FROM regress_schemas();
SELECT count(*) FROM wap_staging.sales;

--
-- deployers only (42501)
--
CREATE ROLE regress_zd_publisher;
GRANT EXECUTE ON FUNCTION zd_publish, zd_unpublish TO regress_zd_publisher;
SET ROLE regress_zd_publisher;
SELECT * FROM regress_error($$SELECT zd_publish('wap_staging', 'wap_live')$$);
SELECT * FROM regress_error($$SELECT zd_unpublish('wap_live')$$);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION zd_publish, zd_unpublish FROM regress_zd_publisher;
DROP ROLE regress_zd_publisher;

DROP SCHEMA wap_live, wap_live_previous, wap_staging, wap_fresh, wap_live_saturday,
            "Live Data", "Live Data_previous" CASCADE;
DROP FUNCTION regress_error(text);
DROP FUNCTION regress_schemas();
DROP EXTENSION zerodown;
