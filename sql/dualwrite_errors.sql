--
-- dualwrite_errors: every bad input to expand, backfill, contract and
-- abort, with its SQLSTATE, message, detail and hint; after each, nothing
-- has changed
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

CREATE TABLE accounts (id serial PRIMARY KEY, email text, amount text, score integer, "Nick Name" text);
INSERT INTO accounts (email, amount) VALUES ('A@X', '1'), ('B@X', '2');
CREATE VIEW accounts_view AS SELECT * FROM accounts;

-- what must stay as it is: the tables' columns, their triggers, the
-- expansions
CREATE VIEW regress_state AS
SELECT (SELECT string_agg(attrelid::regclass || '.' || attname, ', ' ORDER BY attrelid, attnum)
          FROM pg_attribute
         WHERE attrelid IN (SELECT oid FROM pg_class WHERE relname IN ('accounts', 'users', 'addresses', 'nopk'))
           AND attnum > 0 AND NOT attisdropped) AS columns,
       (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) AS triggers,
       (SELECT count(*) FROM zerodown.expansions) AS expansions;
SELECT * FROM regress_state;

--
-- zd_expand_column
--

-- NULL arguments (22004)
SELECT * FROM regress_error($$SELECT zd_expand_column(NULL, 'email', 'email_n', 'text', 'lower(email)', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', NULL, 'text', 'lower(email)', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', 'email_n', 'text', NULL, 'email_n')$$);
-- an unknown table (42P01), a view (42809)
SELECT * FROM regress_error($$SELECT zd_expand_column('no_such_table', 'email', 'email_n', 'text', 'lower(email)', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts_view', 'email', 'email_n', 'text', 'lower(email)', 'email_n')$$);
-- an unknown old column (42703), also when its name is given quoted
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'mail', 'email_n', 'text', 'lower(mail)', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', '"Nick Name"', 'nick', 'text', '"Nick Name"', 'nick')$$);
-- a new column that exists (42701), an empty (22023) or too long (42622) name
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', 'amount', 'text', 'lower(email)', 'amount')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', 'xmin', 'text', 'lower(email)', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', '', 'text', 'lower(email)', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', repeat('n', 64), 'text', 'lower(email)', 'email')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', 'email', 'text', 'lower(email)', 'email')$$);
-- an unknown type (42704), a pseudo-type (42P16)
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'intger', 'amount::integer', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'anyelement', 'amount', 'amount_n')$$);
SELECT * FROM regress_state;

-- up or down that does not parse (42601), with the position in the
-- expression
SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer +', 'amount_n::text');
\echo SQLSTATE :SQLSTATE
SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer', 'amount_n::');
\echo SQLSTATE :SQLSTATE
-- more than one expression, or a whole query (42601)
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer; DROP TABLE accounts', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', '1 FROM pg_class', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer AS n', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', '', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', '*', 'amount_n::text')$$);
-- up or down of the wrong type (42804)
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'score', 'score_text', 'text', 'score::text', 'score_text')$$);
-- a column the expression cannot see (42703): up reads the table before
-- the new column exists
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount_n', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer', 'amuont::text')$$);
-- subqueries, aggregates, set-returning functions, system columns (0A000)
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', '(SELECT 1)', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'count(*)', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'generate_series(1, 2)', 'amount_n::text')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'xmin::text::integer', 'amount_n::text')$$);
-- a parameter (42P02)
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', '$1', 'amount_n::text')$$);
SELECT * FROM regress_state;

--
-- zd_expand_columns
--
SELECT * FROM regress_error($$SELECT zd_expand_columns('accounts', ARRAY['email'], ARRAY['a', 'b'], ARRAY['text'], ARRAY['email', 'email'], ARRAY['a'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('accounts', ARRAY['email'], ARRAY['a'], ARRAY['text'], ARRAY['email'], ARRAY['a', 'a'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('accounts', ARRAY[]::text[], ARRAY['a'], ARRAY['text'], ARRAY['email'], ARRAY[]::text[])$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('accounts', ARRAY['email', NULL], ARRAY['a'], ARRAY['text'], ARRAY['email'], ARRAY['a', 'a'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_columns('accounts', ARRAY['email'], ARRAY['a', 'a'], ARRAY['text', 'text'], ARRAY['email', 'email'], ARRAY['a'])$$);
SELECT * FROM regress_state;

-- a column that is part of an expansion still going on (42710)
SELECT zd_expand_column('accounts', 'email', 'email_n', 'text', 'lower(email)', 'email_n');
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email', 'email_m', 'text', 'lower(email)', 'email_m')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'email_n', 'email_o', 'text', 'email_n', 'email_o')$$);
SELECT * FROM regress_state;

--
-- zd_backfill, zd_contract and zd_abort of what is not there, or not ready
--

-- an expansion that does not exist (42704)
SELECT * FROM regress_error($$CALL zd_backfill('accounts', 'no_such_column')$$);
SELECT * FROM regress_error($$SELECT zd_contract('accounts', 'no_such_column')$$);
SELECT * FROM regress_error($$SELECT zd_abort('accounts', 'amount')$$);
-- NULL arguments (22004), a bad batch size or pause (22023)
SELECT * FROM regress_error($$CALL zd_backfill('accounts', NULL)$$);
SELECT * FROM regress_error($$CALL zd_backfill('accounts', 'email_n', 0)$$);
SELECT * FROM regress_error($$CALL zd_backfill('accounts', 'email_n', 2000000)$$);
SELECT * FROM regress_error($$CALL zd_backfill('accounts', 'email_n', 100, -1)$$);
SELECT * FROM regress_error($$SELECT zd_contract(NULL, 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_abort('accounts', NULL)$$);
-- contract before the backfill is done (55000)
SELECT * FROM regress_error($$SELECT zd_contract('accounts', 'email_n')$$);
SELECT * FROM regress_state;
-- a table without a primary key cannot be backfilled (55000)
CREATE TABLE nopk (id integer, v text);
INSERT INTO nopk VALUES (1, 'a');
SELECT zd_expand_column('nopk', 'v', 'w', 'text', 'upper(v)', 'lower(w)');
SELECT * FROM regress_error($$CALL zd_backfill('nopk', 'w')$$);
SELECT state, rows_done FROM zerodown.expansions WHERE target = 'w';
SELECT zd_abort('nopk', 'w');

-- contract, then contract again or abort (55000); an aborted expansion is
-- gone (42704)
SET client_min_messages = warning;
CALL zd_backfill('accounts', 'email_n');
RESET client_min_messages;
-- a view that reads the old column stops the contract (2BP01), and nothing
-- changed
SELECT * FROM regress_error($$SELECT zd_contract('accounts', 'email_n')$$);
SELECT * FROM regress_state;
SELECT state FROM zerodown.expansions WHERE target = 'email_n';
DROP VIEW accounts_view;
SELECT zd_contract('accounts', 'email_n');
SELECT * FROM regress_state;
SELECT * FROM regress_error($$SELECT zd_contract('accounts', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_abort('accounts', 'email_n')$$);
SELECT * FROM regress_error($$CALL zd_backfill('accounts', 'email_n')$$);
SELECT * FROM regress_error($$SELECT zd_abort('nopk', 'w')$$);
SELECT * FROM regress_error($$SELECT zd_contract('nopk', 'w')$$);
SELECT * FROM regress_state;

--
-- zd_expand_table
--
CREATE TABLE users (id serial PRIMARY KEY, name text, line_1 text, line_2 varchar(10), score integer);
INSERT INTO users (name, line_1) VALUES ('ann', 'x');
CREATE TABLE addresses (id serial PRIMARY KEY, user_id integer NOT NULL, line_1 text, line_2 varchar(10), score text);
CREATE TABLE nokey_child (user_id integer REFERENCES users, line_1 text);
CREATE TABLE kind_child (id serial PRIMARY KEY, user_id integer REFERENCES users, kind text NOT NULL, line_1 text);
CREATE TABLE manual_child (id integer PRIMARY KEY, user_id integer REFERENCES users, line_1 text);
SELECT * FROM regress_state;

-- NULL arguments (22004), empty or uneven column lists (22023), the same
-- table twice (22023)
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', NULL, ARRAY['line_1'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY[]::text[])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['line_1'], ARRAY['line_1', 'line_2'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'users', 'id', ARRAY['line_1'])$$);
-- no foreign key from the child to the parent's key (42830)
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['line_1'])$$);
ALTER TABLE addresses ADD FOREIGN KEY (user_id) REFERENCES users;
-- unknown columns (42703), key columns mapped (22023), types that differ
-- (42804)
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_ident', ARRAY['line_1'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['line_3'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['id'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['score'])$$);
-- a child without a single-column primary key (55000), one whose key
-- has no default, one with a NOT NULL column the trigger cannot fill
-- (55000)
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'nokey_child', 'user_id', ARRAY['line_1'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'manual_child', 'user_id', ARRAY['line_1'])$$);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'kind_child', 'user_id', ARRAY['line_1'])$$);
SELECT * FROM regress_state;
-- a parent without a primary key (55000)
SELECT * FROM regress_error($$SELECT zd_expand_table('nopk', 'addresses', 'user_id', ARRAY['v'])$$);
-- the triggers write as the role that writes (0.2.0): a child whose owner,
-- who may write it, may not update the parent is refused (42501)
CREATE ROLE regress_zd_other;
CREATE TABLE other_child (id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES users, line_1 text);
ALTER TABLE other_child OWNER TO regress_zd_other;
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'other_child', 'user_id', ARRAY['line_1'])$$);
DROP TABLE other_child;
DROP ROLE regress_zd_other;
-- twice (42710)
CREATE INDEX ON addresses (user_id);
SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['line_1', 'line_2']);
SELECT * FROM regress_error($$SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['line_1'])$$);
SELECT * FROM regress_state;
-- its column expansions are refused too, on either table (42710)
SELECT * FROM regress_error($$SELECT zd_expand_column('users', 'line_1', 'line_one', 'text', 'line_1', 'line_one')$$);
SELECT * FROM regress_error($$SELECT zd_expand_column('addresses', 'line_2', 'line_two', 'text', 'line_2', 'line_two')$$);
SELECT zd_abort('users', 'addresses');
SELECT * FROM regress_state;

--
-- only deployers expand (42501)
--
CREATE ROLE regress_zd_app;
GRANT ALL ON accounts TO regress_zd_app;
GRANT EXECUTE ON FUNCTION zd_expand_column TO regress_zd_app;
SET ROLE regress_zd_app;
SELECT * FROM regress_error($$SELECT zd_expand_column('accounts', 'amount', 'amount_n', 'integer', 'amount::integer', 'amount_n::text')$$);
RESET ROLE;
SELECT * FROM regress_state;
REVOKE ALL ON accounts FROM regress_zd_app;
REVOKE EXECUTE ON FUNCTION zd_expand_column FROM regress_zd_app;
DROP ROLE regress_zd_app;

-- the triggers are called only as triggers (39P01)
SELECT * FROM regress_error($$SELECT zd_dualwrite_column()$$);
CREATE TABLE misuse (id integer PRIMARY KEY, v text);
CREATE TRIGGER misuse_after AFTER INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION zd_dualwrite_column('1', '1', '1', 'v', 'v', 'v', 'v');
SELECT * FROM regress_error($$INSERT INTO misuse VALUES (1, 'x')$$);
DROP TRIGGER misuse_after ON misuse;
CREATE TRIGGER misuse_args BEFORE INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION zd_dualwrite_column('1');
SELECT * FROM regress_error($$INSERT INTO misuse VALUES (1, 'x')$$);
DROP TRIGGER misuse_args ON misuse;
CREATE TRIGGER misuse_stmt AFTER INSERT ON misuse FOR EACH STATEMENT EXECUTE FUNCTION zd_dualwrite_child();
SELECT * FROM regress_error($$INSERT INTO misuse VALUES (1, 'x')$$);
DROP TABLE misuse;

DROP VIEW regress_state;
DROP TABLE accounts, nopk, addresses, nokey_child, kind_child, manual_child, users;
DROP FUNCTION regress_error(text);
DROP EXTENSION zerodown;
