--
-- trust_bad_input: every SQL function refuses bad input -- NULLs,
-- out-of-range numbers, over-long and multibyte names, missing objects --
-- with an SQLSTATE, a message and a detail or hint, and changes nothing.
-- Each case is one regress_error() row set; regress_state shows, after
-- each group, that nothing moved.  A database in UTF8 cannot hold invalid
-- UTF-8, so what reaches C is tested instead: names longer than a name
-- can be, in multibyte characters, cut on a character boundary or refused.
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
        RETURN NEXT 'DETAIL:  ' || regexp_replace(detail, 'applied at .* with checksum',
                                                  'applied at <time> with checksum');
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || hint;
    END IF;
    IF detail = '' AND hint = '' THEN
        RETURN NEXT 'NEITHER DETAIL NOR HINT';
    END IF;
END
$fn$;

CREATE TABLE bad_t (id integer PRIMARY KEY, email text);
INSERT INTO bad_t VALUES (1, 'A@Example.org');
CREATE TABLE bad_child (id serial PRIMARY KEY, bad_id integer NOT NULL REFERENCES bad_t, email text);
CREATE TABLE bad_ref (code text PRIMARY KEY, label text);
CREATE VIEW bad_v AS SELECT 1 AS id;
CREATE SCHEMA bad_live;
CREATE SCHEMA bad_stage;

-- everything a refused call could have changed
CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.patches) AS patches,
       (SELECT count(*) FROM zerodown.history) AS history,
       (SELECT count(*) FROM zerodown.vars) AS vars,
       (SELECT count(*) FROM zerodown.expansions) AS expansions,
       (SELECT count(*) FROM zerodown.publishes) AS publishes,
       (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bad\_%') AS schemas,
       (SELECT count(*) FROM pg_attribute WHERE attrelid = 'bad_t'::regclass AND attnum > 0 AND NOT attisdropped) AS bad_t_columns,
       (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) AS triggers,
       (SELECT count(*) FROM bad_ref) AS bad_ref_rows;

SELECT zd_register(1, 'create_table_bad_a', 'CREATE TABLE bad_a (id integer)', 'DROP TABLE bad_a');
SELECT zd_align(1);
SELECT * FROM regress_state;

--
-- patches: zd_register, zd_load, zd_set_var
--
SELECT * FROM regress_error($$SELECT zd_register(NULL, 'x', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, NULL, 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, 'x', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_register(0, 'x', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(-2147483648, 'x', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, '', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, 'two words', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, repeat('x', 201), 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(2, 'créer_table', 'SELECT 1')$$);
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_table_bad_a', 'CREATE TABLE bad_a (id bigint)', 'DROP TABLE bad_a')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_load(NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_load('/nonexistent/migrations')$$);
SELECT * FROM regress_error($$SELECT zd_set_var(NULL, 'v')$$);
SELECT * FROM regress_error($$SELECT zd_set_var('', 'v')$$);
SELECT * FROM regress_error($$SELECT zd_set_var('9lives', 'v')$$);
SELECT * FROM regress_error($$SELECT zd_set_var('naïve', 'v')$$);
SELECT * FROM regress_error($$SELECT zd_set_var(repeat('é', 150), 'v')$$);
SELECT * FROM regress_error($$SELECT zd_set_var(repeat('v', 201), 'v')$$);
SELECT * FROM regress_state;

--
-- alignment: zd_align, zd_align_each, zd_plan, zd_lint, zd_dry_run,
-- zd_check, zd_step_statements, zd_step_done
--
SELECT * FROM regress_error($$SELECT zd_align(-1)$$);
SELECT * FROM regress_error($$SELECT zd_align(2147483647)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(-1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_plan(99)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_lint(99)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_dry_run(-5)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_check(NULL, 1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_check(1, NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_check(1, 0)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_check(-1, 1)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_check(0, 99)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(2, NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(2, 'sideways')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(99)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_step_statements(1, 'build')$$);
SELECT * FROM regress_error($$SELECT zd_step_done(1, 'rollback', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_step_done(1, 'rollback', now(), NULL)$$);
SELECT * FROM regress_error($$SELECT zd_step_done(1, 'rollback', now(), 0)$$);
SELECT * FROM regress_error($$SELECT zd_step_done(1, 'rollback', now(), -2147483648)$$);
SELECT * FROM regress_state;
CALL zd_align_each(2147483647);
SELECT * FROM regress_state;

--
-- the gate and deployments
--
SELECT * FROM regress_error($$SELECT zd_job_begin(NULL)$$);
SELECT * FROM regress_error($$SELECT zd_job_end()$$);
SELECT * FROM regress_error($$SELECT zd_gate_close(-1)$$);
SELECT * FROM regress_error($$SELECT zd_gate_open()$$);
SELECT * FROM regress_error($$SELECT zd_deploy_wait(NULL)$$);
SELECT * FROM regress_error($$SELECT zd_deploy_wait(1, -1)$$);
SELECT * FROM regress_error($$SELECT zd_deploy_wait(424242, 1)$$);
SELECT * FROM regress_error($$SELECT zd_deploy_cancel(NULL)$$);
SELECT * FROM regress_error($$SELECT zd_deploy_cancel(424242)$$);
SELECT state, running_jobs FROM zd_gate_status();

--
-- expand and contract
--
SELECT * FROM regress_error($$SELECT zd_expand_column(NULL, 'email', 'e2', 'text', 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', NULL, 'e2', 'text', 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', NULL, 'text', 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'e2', NULL, 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'e2', 'text', NULL, 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'e2', 'text', 'email', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'no_such', 'e2', 'text', 'no_such', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'email', 'text', 'email', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', '', 'text', 'email', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', repeat('é', 32), 'text', 'email', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'e2', 'no_such_type', 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_t', 'email', 'e2', 'anyelement', 'email', 'e2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('bad_v', 'id', 'id2', 'bigint', 'id', 'id2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column(0, 'id', 'id2', 'bigint', 'id', 'id2')$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('bad_t', NULL, '{e2}', '{text}', '{email}', '{e2}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('bad_t', '{}', '{e2}', '{text}', '{email}', '{}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('bad_t', '{email}', ARRAY['e2', NULL], '{text,text}', '{email,email}', '{e2}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('bad_t', '{email}', '{e2,e3}', '{text}', '{email}', '{e2}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('bad_t', '{email}', '{e2,e2}', '{text,text}', '{email,email}', '{e2}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('bad_t', 'bad_t', 'id', '{email}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('bad_t', 'bad_child', NULL, '{email}')$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('bad_t', 'bad_child', 'bad_id', '{email}', '{email,id}')$$);
SELECT * FROM regress_error($$SELECT zd_contract('bad_t', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_contract('bad_t', 'no_such')$$);
SELECT * FROM regress_error($$SELECT zd_abort(NULL, 'x')$$);
SELECT * FROM regress_error($$SELECT zd_abort('bad_t', 'no_such')$$);
SELECT * FROM regress_error($$CALL zd_backfill(NULL, 'x')$$);
SELECT * FROM regress_error($$CALL zd_backfill('bad_t', 'x', 0)$$);
SELECT * FROM regress_error($$CALL zd_backfill('bad_t', 'x', 1000001)$$);
SELECT * FROM regress_error($$CALL zd_backfill('bad_t', 'x', 10, -1)$$);
SELECT * FROM regress_error($$CALL zd_backfill('bad_t', 'no_such')$$);
SELECT * FROM regress_state;

-- a multibyte column name of 62 bytes is kept whole, and the trigger name
-- made from it (zd_column_ and the name) is cut on a character boundary
SELECT zd_expand_column('bad_t', 'email', repeat('é', 31), 'text', 'email', repeat('é', 31)) > 0 AS expanded;
SELECT octet_length(tgname) AS bytes, convert_from(convert_to(tgname, 'UTF8'), 'UTF8') = tgname AS valid_utf8
  FROM pg_trigger WHERE tgrelid = 'bad_t'::regclass AND NOT tgisinternal;
SELECT zd_abort('bad_t', repeat('é', 31));

--
-- publish, clone, sync
--
SELECT * FROM regress_error($$SELECT zd_publish(NULL, 'bad_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_publish('', 'bad_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_live', 'bad_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_nowhere', 'bad_live')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', 'pg_catalog')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', 'bad_live', ARRAY[NULL])$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', 'bad_live', ARRAY['DELETE FROM bad_t'])$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', 'bad_live', gate_timeout_ms => -1)$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', 'bad_live', keep => 'bad_stage')$$);
SELECT * FROM regress_error($$SELECT zd_publish('bad_stage', repeat('é', 40)::name)$$);
SELECT * FROM regress_error($$SELECT zd_unpublish(NULL)$$);
SELECT * FROM regress_error($$SELECT zd_unpublish('bad_live')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema(NULL, 'bad_copy')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('bad_live', NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('bad_live', 'bad_live')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('bad_nowhere', 'bad_copy')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('bad_live', 'bad_stage')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('zerodown', 'bad_copy')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync(NULL, '[]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', NULL)$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '{"code": "a"}')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[1]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[{"code": "a", "nope": 1}]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[{"label": "A"}]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[{"code": "a"}, {"code": "a"}]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[]', '{}')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_ref', '[]', ARRAY[NULL])$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync('bad_v', '[]')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_sync(0, '[]')$$);
SELECT * FROM regress_state;

-- a schema name longer than a name may be is cut on a character boundary
-- (by the name type), and the copy is made under the cut name
SELECT count(*) > 0 AS copied FROM zd_clone_schema('bad_live', repeat('é', 40)::name);
SELECT octet_length(nspname) AS bytes, nspname = repeat('é', 31) AS cut_between_characters
  FROM pg_namespace WHERE nspname LIKE 'é%';
SELECT format('DROP SCHEMA %I', repeat('é', 31)) \gexec

SELECT zd_align(0);
DROP VIEW regress_state;
DROP EXTENSION zerodown;
DROP TABLE bad_child, bad_t, bad_ref;
DROP VIEW bad_v;
DROP SCHEMA bad_live, bad_stage;
DROP FUNCTION regress_error(text);
