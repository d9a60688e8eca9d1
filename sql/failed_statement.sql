--
-- failed_statement: a failed patch shows the whole statement that failed
-- (bounded: at most 30 lines and 2000 bytes), with its file and the line
-- the error points at
--
CREATE EXTENSION zerodown;
\set VERBOSITY default

SELECT zd_register(1, 'create_versions',
                   E'-- versions of each document\n'
                   'CREATE TABLE fs_versions (id int PRIMARY KEY);\n'
                   '\n'
                   'alter table fs_versions\n'
                   '  add column document_id int,\n'
                   '  add column body fs_no_such_type,\n'
                   '  add column created_at timestamptz;\n',
                   'DROP TABLE fs_versions');
-- the error points at line 6, inside the statement from line 4
SELECT zd_align(1);

-- an error without a position names the statement's first line
SELECT zd_register(1, 'create_versions',
                   E'CREATE TABLE fs_versions (id int PRIMARY KEY);\n'
                   'alter table fs_versions\n'
                   '  add column document_id int\n'
                   '    references fs_documents (id);\n',
                   'DROP TABLE fs_versions');
SELECT zd_align(1);

-- a statement in a DO block: the whole block, and PL/pgSQL's line in the
-- context
SELECT zd_register(1, 'create_versions',
                   E'CREATE TABLE fs_versions (id int PRIMARY KEY);\n'
                   'DO $$\n'
                   'BEGIN\n'
                   '    INSERT INTO fs_versions VALUES (1);\n'
                   '    INSERT INTO fs_versions VALUES (1);\n'
                   'END\n'
                   '$$;\n',
                   'DROP TABLE fs_versions');
SELECT zd_align(1);

-- a long statement is cut after 30 lines, saying how many are left out
SELECT zd_register(1, 'create_versions',
                   'CREATE TABLE fs_versions (id int PRIMARY KEY,' || E'\n'
                   || string_agg(format('    c%s int,', g), E'\n' ORDER BY g) || E'\n'
                   || '    c1 int);',
                   'DROP TABLE fs_versions')
  FROM generate_series(1, 40) g;
SELECT zd_align(1);

-- one line of one statement, as before
SELECT zd_register(1, 'create_versions', 'SELECT 1 / 0', 'SELECT 1');
SELECT zd_align(1);

SELECT zd_version(), to_regclass('fs_versions') IS NULL AS nothing_built;
DROP EXTENSION zerodown;
