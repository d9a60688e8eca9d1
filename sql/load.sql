--
-- load: zd_load registers the patches of a folder on the server
--
CREATE EXTENSION zerodown;
\pset null '(null)'

-- pg_regress gives the source directory in the environment; the fixture
-- folders are under test/fixtures
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir/test/fixtures

-- an error as SQLSTATE, message, detail and hint, with the machine's
-- source directory masked
CREATE FUNCTION regress_error(stmt text, srcdir text) RETURNS SETOF text
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
    RETURN NEXT 'ERROR:  ' || replace(message, srcdir, '<srcdir>');
    IF detail <> '' THEN
        RETURN NEXT 'DETAIL:  ' || replace(detail, srcdir, '<srcdir>');
    END IF;
    IF hint <> '' THEN
        RETURN NEXT 'HINT:  ' || replace(hint, srcdir, '<srcdir>');
    END IF;
END
$fn$;

-- a good folder: four patches, two with a verify, patch 4 with an empty
-- rollback file (a rollback that does nothing)
SELECT * FROM zd_load(:'fixtures' || '/migrations_ok') ORDER BY number;

-- the texts are the files, byte for byte, and the source is the folder
SELECT number, name,
       replace(source, :'abs_srcdir', '<srcdir>') AS source,
       build_sql = pg_read_file(format('%s/build/%s_%s.sql', source, to_char(number, 'FM00000'), name)) AS build_is_file,
       rollback_sql = pg_read_file(format('%s/rollback/%s_%s.sql', source, to_char(number, 'FM00000'), name)) AS rollback_is_file,
       rollback_sql = '' AS empty_rollback,
       verify_sql IS NOT NULL AS has_verify
  FROM zerodown.patches
 ORDER BY number;
SELECT number, reversible, transactional
  FROM zerodown.status
 ORDER BY number;

-- messages and plans name the files
SELECT step, number, name, direction, transactional, statements,
       replace(file, :'abs_srcdir', '<srcdir>') AS file
  FROM zd_plan(NULL)
 ORDER BY step;

-- loading the same folder again changes nothing
SELECT * FROM zd_load(:'fixtures' || '/migrations_ok/') ORDER BY number;

SELECT zd_align(2);
SELECT load_label(1);

-- an error in a loaded patch names its file and line
INSERT INTO load_a VALUES (2, 'in the way');
SELECT * FROM regress_error('SELECT zd_align(4)', :'abs_srcdir');
DELETE FROM load_a;

SELECT zd_align(NULL);
SELECT load_label(2), load_label(3), obj_description('load_a'::regclass, 'pg_class') AS comment;

-- applied patches loaded again: unchanged
SELECT * FROM zd_load(:'fixtures' || '/migrations_ok') ORDER BY number;

-- the empty rollback of patch 4 does nothing; down to 0 drops everything
SELECT zd_align(3);
SELECT obj_description('load_a'::regclass, 'pg_class') AS comment;
SELECT zd_align(0);
SELECT to_regclass('load_a') AS load_a, to_regprocedure('load_label(integer)') AS load_label;

-- bad folders: each is refused before anything is registered
SELECT count(*) AS patches_before, string_agg(name, ',' ORDER BY number) AS names_before
  FROM zerodown.patches \gset

-- a folder that does not exist, or is a file (58P01)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_none'), :'abs_srcdir');
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_ok/build/00001_create_table_load_a.sql'), :'abs_srcdir');
-- a folder without build/ (58P01)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_no_build'), :'abs_srcdir');
-- a file name that is not NNNNN_name.sql (42602)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_bad_name'), :'abs_srcdir');
-- a build without its rollback file (58P01)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_missing_rollback'), :'abs_srcdir');
-- a rollback or a verify without its build file (58P01)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_orphan_rollback'), :'abs_srcdir');
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_orphan_verify'), :'abs_srcdir');
-- two build files with one number (42710)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_duplicate'), :'abs_srcdir');
-- a gap in the numbering (42704)
SELECT * FROM regress_error(format('SELECT * FROM zd_load(%L)', :'fixtures' || '/migrations_gap'), :'abs_srcdir');
-- NULL (22004)
SELECT * FROM zd_load(NULL);
\echo SQLSTATE :SQLSTATE

SELECT count(*) = :patches_before AS same_count,
       string_agg(name, ',' ORDER BY number) = :'names_before' AS same_names
  FROM zerodown.patches;
SELECT zd_version(), to_regclass('load_m') AS load_m, to_regclass('load_n') AS load_n,
       to_regclass('load_d') AS load_d, to_regclass('load_g') AS load_g;

DROP EXTENSION zerodown;
DROP FUNCTION regress_error(text, text);
