--
-- trust_search_path: a role with CREATE on public plants functions,
-- aggregates and operators with the names zerodown's own statements use
-- (now, format, max, count, unnest, make_interval, =, ||), each recording
-- who called it.  A superuser whose search_path puts public first then uses
-- every zerodown function: none of the planted objects runs, because every
-- statement zerodown builds runs under search_path = pg_catalog, pg_temp or
-- names pg_catalog's functions and operators with their schema.  Patch text
-- is the deployer's and runs under the caller's search_path, on purpose, so
-- the patches here use none of the planted names.  Issue 10, item 3.
--
CREATE EXTENSION zerodown;

CREATE ROLE regress_trust_attacker;
GRANT CREATE ON SCHEMA public TO regress_trust_attacker;

SET ROLE regress_trust_attacker;
CREATE TABLE public.regress_hijacked (who name, what text);
GRANT INSERT, SELECT ON public.regress_hijacked TO PUBLIC;

CREATE FUNCTION public.regress_note(what text) RETURNS void
LANGUAGE sql AS $$ INSERT INTO public.regress_hijacked VALUES (current_user, what) $$;

CREATE FUNCTION public.now() RETURNS timestamptz
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION public.format(f text, a integer, b text, c timestamptz) RETURNS text
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('format(text,int,text,timestamptz)'); RETURN pg_catalog.format(f, a, b, c); END $$;
CREATE FUNCTION public.format(f text, a text) RETURNS text
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('format(text,text)'); RETURN pg_catalog.format(f, a); END $$;
CREATE FUNCTION public.format(f text, a text, b text) RETURNS text
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('format(text,text,text)'); RETURN pg_catalog.format(f, a, b); END $$;
CREATE FUNCTION public.unnest(a text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('unnest(text[])'); RETURN QUERY SELECT * FROM pg_catalog.unnest(a); END $$;
CREATE FUNCTION public.make_interval(secs double precision) RETURNS interval
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('make_interval(secs)'); RETURN pg_catalog.make_interval(secs => secs); END $$;
CREATE FUNCTION public.regress_int4larger(a integer, b integer) RETURNS integer
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('max(integer)'); RETURN pg_catalog.int4larger(a, b); END $$;
CREATE AGGREGATE public.max(integer) (sfunc = public.regress_int4larger, stype = integer);
CREATE FUNCTION public.regress_count(n bigint) RETURNS bigint
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('count(*)'); RETURN n + 1; END $$;
CREATE AGGREGATE public.count(*) (sfunc = public.regress_count, stype = bigint, initcond = '0');
CREATE FUNCTION public.regress_texteq(a text, b text) RETURNS boolean
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('=(text,text)'); RETURN pg_catalog.texteq(a, b); END $$;
CREATE OPERATOR public.= (leftarg = text, rightarg = text, function = public.regress_texteq);
CREATE FUNCTION public.regress_int8cat(a bigint, b text) RETURNS text
LANGUAGE plpgsql AS $$ BEGIN PERFORM public.regress_note('||(bigint,text)'); RETURN a::text || b; END $$;
CREATE OPERATOR public.|| (leftarg = bigint, rightarg = text, function = public.regress_int8cat);
RESET ROLE;

-- the application's tables, created before the hostile search_path
CREATE SCHEMA sp_app;
CREATE TABLE sp_app.users (id integer PRIMARY KEY, email text, city text);
INSERT INTO sp_app.users SELECT i, 'User' || i || '@Example.org', 'City ' || i FROM generate_series(1, 30) i;
CREATE TABLE sp_app.addresses (id serial PRIMARY KEY,
                               user_id integer NOT NULL REFERENCES sp_app.users (id),
                               city text);
CREATE INDEX ON sp_app.addresses (user_id, id);
CREATE TABLE sp_app.codes (code text PRIMARY KEY, label text);
CREATE SCHEMA sp_stage;
CREATE TABLE sp_stage.users (id integer PRIMARY KEY);

-- a superuser whose search_path puts public first (the test's own queries
-- name pg_catalog's count and = with their schema)
SET search_path = public, pg_catalog;
SET client_min_messages = warning;

SELECT zd_set_var('app', 'sp_app');
SELECT zd_register(1, 'create_t1', 'CREATE TABLE ${app}.t1 (id integer)', 'DROP TABLE ${app}.t1');
SELECT zd_register(2, 'create_t2', 'CREATE TABLE ${app}.t2 (id integer)', 'DROP TABLE ${app}.t2',
                   'SELECT true');
SELECT zd_register(2, 'create_t2', 'CREATE TABLE ${app}.t2 (id integer)', 'DROP TABLE ${app}.t2',
                   'SELECT true');
SELECT pg_catalog.count(*) > 0 AS planned FROM zd_plan(2);
SELECT pg_catalog.count(*) >= 0 AS linted FROM zd_lint(2);
SELECT pg_catalog.count(*) AS dry_run_steps FROM zd_dry_run(2);
SELECT zd_align(2);
SELECT zd_version();
SELECT pg_catalog.count(*) AS checked FROM zd_check(0, 2);
SELECT zd_align(1);
CALL zd_align_each(2);
SELECT number, applied, drift, intact FROM zerodown.status ORDER BY number;
SELECT number, direction FROM zerodown.history ORDER BY id;
SELECT * FROM zd_step_statements(3) WHERE false;

-- expand, write both ways, backfill, contract
SELECT zd_expand_column('sp_app.users', 'email', 'email_normalized', 'text',
                        'lower(email)', 'email_normalized') > 0 AS expanded;
INSERT INTO sp_app.users (id, email) VALUES (100, 'New@Example.org');
CALL zd_backfill('sp_app.users', 'email_normalized', 7);
SELECT pg_catalog.count(*) FILTER (WHERE email_normalized OPERATOR(pg_catalog.=) lower(email)) AS consistent FROM sp_app.users;
SELECT state FROM zd_expansion_status('sp_app.users');
SELECT zd_contract('sp_app.users', 'email_normalized');
SELECT zd_expand_table('sp_app.users', 'sp_app.addresses', 'user_id', '{city}') > 0 AS expanded;
UPDATE sp_app.users SET city = 'Moved' WHERE id = 1;
UPDATE sp_app.addresses SET city = 'Back' WHERE user_id = 1;
CALL zd_backfill('sp_app.users', 'addresses', 10);
SELECT zd_abort('sp_app.users', 'addresses');

-- reference data, publish, clone, the gate
SELECT * FROM zd_sync('sp_app.codes', '[{"code": "a", "label": "A"}, {"code": "b", "label": "B"}]');
SELECT * FROM zd_sync('sp_app.codes', '[{"code": "a", "label": "AA"}]', delete_absent => true);
SELECT pg_catalog.count(*) AS objects FROM zd_clone_schema('sp_app', 'sp_copy');
SELECT zd_publish('sp_stage', 'sp_copy', ARRAY['SELECT id FROM users WHERE id < 0']) > 0 AS published;
SELECT zd_unpublish('sp_copy') > 0 AS unpublished;
SELECT state FROM zd_gate_status();
SELECT zd_gate_close(1000);
SELECT zd_gate_open();
SELECT pg_catalog.count(*) FROM zerodown.gate_jobs;
SELECT zd_align(0);

RESET client_min_messages;
RESET search_path;

-- none of the planted objects ran, for anyone
SELECT who, what, count(*) FROM public.regress_hijacked GROUP BY who, what ORDER BY who, what;

DROP SCHEMA sp_copy, sp_copy_previous CASCADE;
DROP SCHEMA sp_app CASCADE;
DROP EXTENSION zerodown;
DROP OWNED BY regress_trust_attacker;
REVOKE CREATE ON SCHEMA public FROM regress_trust_attacker;
DROP ROLE regress_trust_attacker;
