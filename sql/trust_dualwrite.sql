--
-- trust_dualwrite: the dual-write triggers of a table expansion mirror a
-- write into the other table as the role that writes, never as the owner
-- of a table.  In 0.1.0 they ran as the owner of their table, so a deployer
-- with TRIGGER on a superuser's table could add a child with a trigger of
-- its own, expand the two, and have its trigger run as the superuser at the
-- application's next write.  zd_expand_table now checks that every role
-- that may write one table may write the other, and the mirrored statement
-- runs with the writer's privileges, row security and triggers.
-- Issue 10, item 4.
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

CREATE ROLE regress_dw_deployer IN ROLE zerodown_deployer;
CREATE ROLE regress_dw_app;
CREATE SCHEMA dw AUTHORIZATION regress_dw_deployer;
GRANT USAGE ON SCHEMA dw TO regress_dw_app;

-- the superuser's table: the deployer may add triggers and reference it,
-- the application writes it
CREATE TABLE dw.users (id integer PRIMARY KEY, city text);
GRANT TRIGGER, REFERENCES ON dw.users TO regress_dw_deployer;
GRANT SELECT, INSERT, UPDATE, DELETE ON dw.users TO regress_dw_app;

-- the deployer's child, with a trigger of its own that records who runs it
-- and tries to make the deployer superuser
SET ROLE regress_dw_deployer;
CREATE TABLE dw.snooped (who name);
GRANT INSERT ON dw.snooped TO PUBLIC;
CREATE TABLE dw.addresses (id serial PRIMARY KEY,
                           user_id integer NOT NULL REFERENCES dw.users (id),
                           city text);
CREATE INDEX ON dw.addresses (user_id, id);
CREATE FUNCTION dw.snoop() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dw.snooped VALUES (current_user);
    BEGIN
        ALTER ROLE regress_dw_deployer SUPERUSER;
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    RETURN NULL;
END
$$;
CREATE TRIGGER snoop AFTER INSERT OR UPDATE ON dw.addresses
    FOR EACH ROW EXECUTE FUNCTION dw.snoop();

-- the application may write users but not addresses: the expansion is
-- refused (42501), with the grants it would need, and nothing changes
SELECT * FROM regress_error($$SELECT zd_expand_table('dw.users', 'dw.addresses', 'user_id', '{city}')$$);
SELECT count(*) AS expansions FROM zerodown.expansions;
SELECT tgname FROM pg_trigger WHERE tgrelid IN ('dw.users'::regclass, 'dw.addresses'::regclass)
   AND NOT tgisinternal ORDER BY tgname;

-- the deployer owns addresses, so it may write it: its writes would update
-- users as the deployer, which may not
GRANT SELECT, INSERT, UPDATE, DELETE ON dw.addresses TO regress_dw_app;
GRANT USAGE ON SEQUENCE dw.addresses_id_seq TO regress_dw_app;
SELECT * FROM regress_error($$SELECT zd_expand_table('dw.users', 'dw.addresses', 'user_id', '{city}')$$);
RESET ROLE;

-- with the grants the expansion goes in
GRANT SELECT, UPDATE ON dw.users TO regress_dw_deployer;
SET ROLE regress_dw_deployer;
SELECT zd_expand_table('dw.users', 'dw.addresses', 'user_id', '{city}') > 0 AS expanded;
RESET ROLE;

-- the application writes: the mirrored insert, and the deployer's trigger,
-- run as the application's role, not as the owner of users
SET ROLE regress_dw_app;
INSERT INTO dw.users VALUES (1, 'Paris');
UPDATE dw.users SET city = 'Lyon' WHERE id = 1;
UPDATE dw.addresses SET city = 'Nice' WHERE user_id = 1;
SELECT u.city AS user_city, a.city AS address_city
  FROM dw.users u JOIN dw.addresses a ON a.user_id = u.id;
RESET ROLE;
SELECT who, count(*) FROM dw.snooped GROUP BY who ORDER BY who;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_dw_deployer';

-- a privilege taken away after the expansion is not given back by the
-- trigger: the application's write fails (42501), it does not run as
-- anyone else
REVOKE INSERT ON dw.addresses FROM regress_dw_app;
SET ROLE regress_dw_app;
SELECT * FROM regress_error($$INSERT INTO dw.users VALUES (2, 'Rome')$$);
SELECT count(*) AS users FROM dw.users;
RESET ROLE;

-- row security of the other table applies to the writer, as if it wrote
-- the table itself
GRANT INSERT ON dw.addresses TO regress_dw_app;
ALTER TABLE dw.addresses ENABLE ROW LEVEL SECURITY;
CREATE POLICY not_berlin ON dw.addresses USING (true) WITH CHECK (city <> 'Berlin');
SET ROLE regress_dw_app;
SELECT * FROM regress_error($$INSERT INTO dw.users VALUES (3, 'Berlin')$$);
INSERT INTO dw.users VALUES (4, 'Oslo');
RESET ROLE;
SELECT user_id, city FROM dw.addresses ORDER BY user_id;

-- dropping the triggers of users is for its owner; then PUBLIC counts as a
-- writer too
SET ROLE regress_dw_deployer;
SELECT * FROM regress_error($$SELECT zd_abort('dw.users', 'addresses')$$);
RESET ROLE;
SELECT zd_abort('dw.users', 'addresses');
GRANT INSERT ON dw.addresses TO PUBLIC;
SET ROLE regress_dw_deployer;
SELECT * FROM regress_error($$SELECT zd_expand_table('dw.users', 'dw.addresses', 'user_id', '{city}')$$);
RESET ROLE;
REVOKE INSERT ON dw.addresses FROM PUBLIC;

ALTER ROLE regress_dw_deployer NOSUPERUSER;
DROP EXTENSION zerodown;
DROP SCHEMA dw CASCADE;
DROP FUNCTION regress_error(text);
DROP ROLE regress_dw_deployer, regress_dw_app;
