--
-- register: zd_register registers, replaces or leaves a patch unchanged,
-- and refuses to change a patch once it is applied
--
CREATE EXTENSION zerodown;
\pset null '(null)'

-- the checksum: SHA-256 over name, build, rollback and verify, each tagged
-- T (text) or N (NULL) and followed by the byte 0x1f
CREATE FUNCTION regress_checksum(name text, build text, rollback text, verify text)
RETURNS text LANGUAGE sql IMMUTABLE
AS $$
SELECT encode(sha256(convert_to(
           'T' || name || chr(31) || 'T' || build || chr(31) ||
           coalesce('T' || rollback, 'N') || chr(31) ||
           coalesce('T' || verify, 'N') || chr(31), 'UTF8')), 'hex')
$$;

-- an error as SQLSTATE, message, detail and hint, with the time a patch
-- was applied masked
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
END
$fn$;

-- a new patch is registered; the same text again changes nothing; an
-- unapplied patch may be replaced freely
SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer)', 'DROP TABLE reg_a');
SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer)', 'DROP TABLE reg_a');
SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer PRIMARY KEY)', 'DROP TABLE reg_a');

-- an empty rollback is a rollback that does nothing; no rollback at all
-- makes the patch irreversible
SELECT zd_register(2, 'comment_on_reg_a', 'COMMENT ON TABLE reg_a IS ''registered''', '');
SELECT zd_register(3, 'create_table_reg_c', 'CREATE TABLE reg_c (id integer)');
SELECT zd_register(4, 'create_table_reg_d', 'CREATE TABLE reg_d (id integer)',
                   'DROP TABLE reg_d', 'SELECT count(*) = 0 FROM reg_d');

-- NULL and empty rollback, and NULL and empty verify, are different texts
SELECT zd_register(3, 'create_table_reg_c', 'CREATE TABLE reg_c (id integer)', '');
SELECT zd_register(3, 'create_table_reg_c', 'CREATE TABLE reg_c (id integer)', NULL);
SELECT zd_register(4, 'create_table_reg_d', 'CREATE TABLE reg_d (id integer)',
                   'DROP TABLE reg_d', NULL);
SELECT zd_register(4, 'create_table_reg_d', 'CREATE TABLE reg_d (id integer)',
                   'DROP TABLE reg_d', 'SELECT count(*) = 0 FROM reg_d');

-- what is stored
SELECT number, name, build_sql, rollback_sql, verify_sql,
       build_transactional, rollback_transactional, source,
       registered_by = current_user AS registered_by_me
  FROM zerodown.patches
 ORDER BY number;

-- the stored checksum is the documented one, and stays the same across
-- releases (an applied patch is compared with it)
SELECT number, checksum,
       checksum = regress_checksum(name, build_sql, rollback_sql, verify_sql) AS matches
  FROM zerodown.patches
 ORDER BY number;

-- what the status view says: patch 3 is irreversible, patch 2 is not
SELECT number, name, applied, reversible, transactional, drift
  FROM zerodown.status
 ORDER BY number;

-- apply patches 1 and 2
SELECT zd_align(2);
SELECT checksum AS checksum_1 FROM zerodown.patches WHERE number = 1 \gset
SELECT number, applied, applied_checksum = checksum AS applied_checksum_matches, drift
  FROM zerodown.status
 ORDER BY number;

-- the identical text of an applied patch is a no-op
SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer PRIMARY KEY)', 'DROP TABLE reg_a');

-- any change to an applied patch is refused: build, rollback, verify, name
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id bigint PRIMARY KEY)', 'DROP TABLE reg_a')$$);
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer PRIMARY KEY)', NULL)$$);
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_table_reg_a', 'CREATE TABLE reg_a (id integer PRIMARY KEY)', 'DROP TABLE reg_a', 'SELECT true')$$);
SELECT * FROM regress_error($$SELECT zd_register(1, 'create_reg_a', 'CREATE TABLE reg_a (id integer PRIMARY KEY)', 'DROP TABLE reg_a')$$);

-- and nothing changed
SELECT number, name, build_sql, rollback_sql, verify_sql, checksum = :'checksum_1' AS same_checksum
  FROM zerodown.patches
 WHERE number = 1;
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) AS history;

-- the empty rollback of patch 2 runs and does nothing: the comment stays
SELECT zd_align(1);
SELECT obj_description('reg_a'::regclass, 'pg_class') AS comment;

-- patch 2 is no longer applied, so it may be replaced again
SELECT zd_register(2, 'comment_on_reg_a', 'COMMENT ON TABLE reg_a IS ''replaced''', 'COMMENT ON TABLE reg_a IS NULL');
SELECT zd_align(3);
SELECT obj_description('reg_a'::regclass, 'pg_class') AS comment;
SELECT number, applied, reversible
  FROM zerodown.status
 ORDER BY number;

-- patch 3 is irreversible, so the database stays at 3 or above: clean up by hand
DROP EXTENSION zerodown;
DROP TABLE reg_a, reg_c;
DROP FUNCTION regress_checksum(text, text, text, text);
DROP FUNCTION regress_error(text);
