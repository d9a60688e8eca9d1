--
-- placeholders: ${name} in patch text takes the value set by zd_set_var
--
CREATE EXTENSION zerodown;
\pset null '(null)'

SELECT zd_set_var('ph_table', 'ph_items');
SELECT zd_set_var('greeting', 'hi');
SELECT zd_set_var('greeting', 'hello');      -- set again: replaced
SELECT zd_set_var('s3.bucket', 'unused');    -- dots are allowed
SELECT name, value, set_by = current_user AS set_by_me
  FROM zerodown.vars
 ORDER BY name;

-- a table name, in build, rollback and verify
SELECT zd_register(1, 'create_table_ph_items',
                   'CREATE TABLE ${ph_table} (id integer PRIMARY KEY, note text)',
                   'DROP TABLE ${ph_table}',
                   'SELECT count(*) = 0 FROM ${ph_table}');

-- next to dollar quotes: $$ and $fn$ stay as they are, $1 is no placeholder
SELECT zd_register(2, 'create_functions_ph', $patch$
CREATE FUNCTION ph_greet(who text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '${greeting}, ' || $1 $$;

CREATE FUNCTION ph_count() RETURNS bigint
LANGUAGE plpgsql STABLE
AS $fn$
BEGIN
    RETURN (SELECT count(*) FROM ${ph_table});
END
$fn$;
$patch$, $patch$
DROP FUNCTION ph_count();
DROP FUNCTION ph_greet(text);
$patch$);

-- a placeholder inside a dollar-quoted literal; things that are not
-- placeholders are left alone
SELECT zd_register(3, 'insert_ph_items', $patch$
INSERT INTO ${ph_table} VALUES
    (1, $$${greeting}$$),
    (2, $q$${greeting}, ${ph_note}$q$),
    (3, '${1x} ${a-b} $ {greeting} ${unterminated');
$patch$, 'DELETE FROM ${ph_table}');

-- ${ph_note} in patch 3 is unknown: nothing runs, not even patches 1 and 2
SELECT zd_align(3);
\echo SQLSTATE :SQLSTATE
SELECT zd_version(), (SELECT count(*) FROM zerodown.history) AS history,
       to_regclass('ph_items') AS ph_items, to_regprocedure('ph_count()') AS ph_count;

-- zd_plan checks placeholders too
SELECT * FROM zd_plan(3) ORDER BY step;

SELECT zd_set_var('ph_note', 'noted');
SELECT * FROM zd_plan(3) ORDER BY step;
SELECT zd_align(3);
SELECT to_regclass('ph_items') AS ph_items;
SELECT * FROM ph_items ORDER BY id;
SELECT ph_greet('world'), ph_count();

-- the checksum is taken over the text as written, so values do not change it
SELECT number, checksum = encode(sha256(convert_to(
           'T' || name || chr(31) || 'T' || build_sql || chr(31) ||
           coalesce('T' || rollback_sql, 'N') || chr(31) ||
           coalesce('T' || verify_sql, 'N') || chr(31), 'UTF8')), 'hex') AS raw_text_checksum,
       build_sql LIKE '%${ph_table}%' AS stored_as_written
  FROM zerodown.patches
 ORDER BY number;
SELECT zd_set_var('greeting', 'good morning');
SELECT zd_register(1, 'create_table_ph_items',
                   'CREATE TABLE ${ph_table} (id integer PRIMARY KEY, note text)',
                   'DROP TABLE ${ph_table}',
                   'SELECT count(*) = 0 FROM ${ph_table}');
SELECT number, drift
  FROM zerodown.status
 ORDER BY number;

-- a value changed since a patch was applied is drift of that patch (0.2.0:
-- patches 2 and 3 use ${greeting})
-- NULL removes a variable; the rollbacks of patches 3 and 1 need
-- ${ph_table}, so going down to 0 is refused before any rollback runs
SELECT zd_set_var('ph_table', NULL);
SELECT zd_set_var('never_set', NULL);        -- removing what is not there is fine
SELECT name, value
  FROM zerodown.vars
 ORDER BY name;
SELECT zd_align(0);
\echo SQLSTATE :SQLSTATE
SELECT zd_version(), to_regprocedure('ph_count()') AS ph_count,
       (SELECT count(*) FROM ph_items) AS ph_items_rows;

-- invalid names
SELECT zd_set_var('1x', 'v');
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var('a-b', 'v');
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var('${x}', 'v');
\echo SQLSTATE :SQLSTATE
SELECT zd_set_var('', 'v');
\echo SQLSTATE :SQLSTATE
SELECT name
  FROM zerodown.vars
 ORDER BY name;

-- a value is put in as written, quoting is the patch's business (or
-- ${name:literal}'s and ${name:ident}'s, see trust_placeholders); a rollback
-- runs with the values its build used, so other values are refused (0.2.0)
-- until they are set back
SELECT zd_set_var('ph_table', 'public.ph_items');
SELECT zd_align(0);
\echo SQLSTATE :SQLSTATE
SELECT number, drift, vars_changed FROM zerodown.status ORDER BY number;
SELECT zd_set_var('ph_table', 'ph_items');
SELECT zd_set_var('greeting', 'hello');
SELECT zd_align(0);
SELECT to_regclass('ph_items') AS ph_items, to_regprocedure('ph_count()') AS ph_count;

DROP EXTENSION zerodown;
