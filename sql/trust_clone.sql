--
-- trust_clone: zd_clone_schema makes a copy that is no part of an
-- expansion (issue 10 item 8: 0.1.0 copied zerodown's dual-write triggers,
-- so an UPDATE of the copy changed the production child table), reads the
-- source under a search_path where nothing of the source stands in for
-- pg_catalog (item 9: a source table named text broke the clone), and
-- locks nothing it may not read.
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

-- the triggers of a schema, as \d shows them
CREATE FUNCTION regress_triggers(nsp text) RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT c.relname || ': ' || g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE c.relnamespace = nsp::regnamespace AND NOT g.tgisinternal ORDER BY 1
$$;

-- production: users expanded into addresses, accounts with a column
-- expansion, and a trigger of the application's own
CREATE SCHEMA prod;
CREATE TABLE prod.users (id integer PRIMARY KEY, city text);
CREATE TABLE prod.addresses (id serial PRIMARY KEY,
                             user_id integer NOT NULL REFERENCES prod.users (id), city text);
CREATE INDEX ON prod.addresses (user_id, id);
CREATE TABLE prod.accounts (id integer PRIMARY KEY, email text, seen boolean);
CREATE FUNCTION public.regress_seen() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN NEW.seen := true; RETURN NEW; END $$;
CREATE TRIGGER mark_seen BEFORE INSERT OR UPDATE ON prod.accounts
    FOR EACH ROW EXECUTE FUNCTION public.regress_seen();
INSERT INTO prod.users VALUES (1, 'Paris'), (2, 'Lyon');
INSERT INTO prod.accounts VALUES (1, 'A@Example.org');
SELECT zd_expand_table('prod.users', 'prod.addresses', 'user_id', '{city}') > 0 AS expanded;
SELECT zd_expand_column('prod.accounts', 'email', 'email_normalized', 'text',
                        'lower(email)', 'email_normalized') > 0 AS expanded;
SET client_min_messages = warning;
CALL zd_backfill('prod.users', 'addresses');
RESET client_min_messages;
SELECT * FROM regress_triggers('prod');

-- the copy carries the application's trigger, never zerodown's
SELECT object, kind FROM zd_clone_schema('prod', 'prod_copy') WHERE kind = 'trigger' ORDER BY object;
SELECT * FROM regress_triggers('prod_copy');
SELECT count(*) AS expansions_of_the_copy FROM zerodown.expansions
 WHERE relid::regclass::text LIKE 'prod_copy.%' OR child::regclass::text LIKE 'prod_copy.%';

-- writes to the copy change the copy only (in 0.1.0 the copied trigger
-- updated prod.addresses)
UPDATE prod_copy.users SET city = 'Copied' WHERE id = 1;
INSERT INTO prod_copy.users VALUES (3, 'Nowhere');
UPDATE prod_copy.accounts SET email = 'B@Example.org';
SELECT id, city FROM prod.users ORDER BY id;
SELECT user_id, city FROM prod.addresses ORDER BY user_id;
SELECT user_id, city FROM prod_copy.addresses ORDER BY user_id;
SELECT email, email_normalized, seen FROM prod.accounts;
SELECT email, email_normalized, seen FROM prod_copy.accounts;

-- a source table named like a pg_catalog type (issue 10 item 9): the copy
-- is made, and its columns of type text are still pg_catalog's text
CREATE SCHEMA odd;
CREATE TABLE odd.text (id integer PRIMARY KEY, body text);
CREATE TABLE odd.int4 (id int4 PRIMARY KEY, ref integer REFERENCES odd.text (id), note text DEFAULT 'x'::text);
CREATE VIEW odd.name AS SELECT t.id, t.body::text AS body, i.note FROM odd.text t JOIN odd.int4 i ON i.ref = t.id;
INSERT INTO odd.text VALUES (1, 'one');
INSERT INTO odd.int4 VALUES (10, 1, 'ten');
SELECT object, kind, rows FROM zd_clone_schema('odd', 'odd_copy') ORDER BY kind, object;
SELECT attrelid::regclass, attname, atttypid::regtype
  FROM pg_attribute
 WHERE attrelid IN ('odd_copy.text'::regclass, 'odd_copy.int4'::regclass) AND attnum > 0
 ORDER BY 1, attnum;
SELECT * FROM odd_copy.name;
SELECT pg_get_viewdef('odd_copy.name'::regclass, true) LIKE '%odd.%' AS view_reads_the_source;

-- a role that may not read every relation of the source locks none of
-- them and creates nothing (42501)
CREATE ROLE regress_clone_deployer IN ROLE zerodown_deployer;
GRANT CREATE ON DATABASE contrib_regression TO regress_clone_deployer;
GRANT USAGE ON SCHEMA prod TO regress_clone_deployer;
GRANT SELECT ON prod.users, prod.accounts TO regress_clone_deployer;
SET ROLE regress_clone_deployer;
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('prod', 'prod_mine')$$);
SELECT * FROM regress_error($$SELECT * FROM zd_clone_schema('odd', 'odd_mine')$$);
SELECT to_regnamespace('prod_mine') AS prod_mine;
RESET ROLE;

SELECT zd_abort('prod.users', 'addresses');
SELECT zd_abort('prod.accounts', 'email_normalized');
DROP EXTENSION zerodown;
DROP SCHEMA prod, prod_copy, odd, odd_copy CASCADE;
DROP FUNCTION public.regress_seen(), regress_triggers(text), regress_error(text);
REVOKE CREATE ON DATABASE contrib_regression FROM regress_clone_deployer;
DROP ROLE regress_clone_deployer;
