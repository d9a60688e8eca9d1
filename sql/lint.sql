--
-- lint: zd_lint flags the statements of a plan known to hurt a live
-- database, each with its safe recipe, and only on relations that exist
-- before the plan runs; their safe rewrites are not flagged; zd_lint runs
-- nothing
--
CREATE EXTENSION zerodown;

-- where the database stands: version and history
CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT count(*) FROM zerodown.history) AS history;

-- existing tables with rows: the application uses them
SELECT zd_register(1, 'create_tables_lint',
                   E'CREATE TABLE lint_ref (id integer PRIMARY KEY);\n'
                   'INSERT INTO lint_ref SELECT g FROM generate_series(1, 10) g;\n'
                   'CREATE TABLE lint_a (id integer, ref_id integer, qty integer, code varchar(10), note text);\n'
                   'INSERT INTO lint_a SELECT g, g, g, g::text, NULL FROM generate_series(1, 10) g;',
                   'DROP TABLE lint_a, lint_ref');
SELECT zd_align(1);

--
-- one patch per rule, each on an existing table: flagged
--
SELECT zd_register(2, 'create_index_lint_a_qty',
                   'CREATE INDEX lint_a_qty ON lint_a (qty)',
                   'DROP INDEX lint_a_qty');
SELECT zd_register(3, 'add_fk_lint_a_ref',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_ref_fk FOREIGN KEY (ref_id) REFERENCES lint_ref (id)',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_ref_fk');
SELECT zd_register(4, 'add_check_lint_a_qty',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_qty_ck CHECK (qty >= 0)',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_qty_ck');
SELECT zd_register(5, 'set_not_null_lint_a_qty',
                   'ALTER TABLE lint_a ALTER COLUMN qty SET NOT NULL',
                   'ALTER TABLE lint_a ALTER COLUMN qty DROP NOT NULL');
SELECT zd_register(6, 'change_type_lint_a_qty',
                   'ALTER TABLE lint_a ALTER COLUMN qty TYPE bigint',
                   'ALTER TABLE lint_a ALTER COLUMN qty TYPE integer');
-- a volatile default (line 2), a serial (line 4) and an identity column
-- (line 5): each fills existing rows one by one
SELECT zd_register(7, 'add_columns_lint_a_volatile',
                   E'-- new columns filled for every existing row\n'
                   'ALTER TABLE lint_a ADD COLUMN token uuid DEFAULT gen_random_uuid();\n'
                   '\n'
                   'ALTER TABLE lint_a ADD COLUMN seq serial;\n'
                   'ALTER TABLE lint_a ADD COLUMN ident bigint GENERATED ALWAYS AS IDENTITY;',
                   'ALTER TABLE lint_a DROP COLUMN token, DROP COLUMN seq, DROP COLUMN ident');
SELECT zd_register(8, 'rename_column_lint_a_note',
                   'ALTER TABLE lint_a RENAME COLUMN note TO remark',
                   'ALTER TABLE lint_a RENAME COLUMN remark TO note');
SELECT zd_register(9, 'drop_column_lint_a_note',
                   'ALTER TABLE lint_a DROP COLUMN note',
                   'ALTER TABLE lint_a ADD COLUMN note text');
-- a UNIQUE constraint (line 1) and a primary key (line 2)
SELECT zd_register(10, 'add_keys_lint_a',
                   E'ALTER TABLE lint_a ADD CONSTRAINT lint_a_code_key UNIQUE (code);\n'
                   'ALTER TABLE lint_a ADD PRIMARY KEY (id);',
                   E'ALTER TABLE lint_a DROP CONSTRAINT lint_a_pkey;\n'
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_code_key;');
SELECT zd_register(11, 'rename_table_lint_a',
                   'ALTER TABLE lint_a RENAME TO lint_items',
                   'ALTER TABLE lint_items RENAME TO lint_a');

SELECT number, name, direction, line, rule
  FROM zd_lint(11)
 ORDER BY number, line, rule;

-- each rule's message and hint, once
\x on
SELECT DISTINCT ON (rule) rule, number, statement, message, hint
  FROM zd_lint(11)
 ORDER BY rule, number, line;
\x off

-- NULL lints up to the highest patch; nothing to do, nothing to flag
SELECT count(*) FROM zd_lint(NULL);
SELECT count(*) FROM zd_lint(1);

-- zd_lint checks what zd_plan checks (22023)
SELECT * FROM zd_lint(12) ORDER BY number, line;
\echo SQLSTATE :SQLSTATE

-- zd_lint ran nothing
SELECT * FROM regress_state;
SELECT attname FROM pg_attribute
 WHERE attrelid = 'lint_a'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
SELECT conname FROM pg_constraint WHERE conrelid = 'lint_a'::regclass ORDER BY conname;
SELECT indexrelid::regclass AS index FROM pg_index
 WHERE indrelid = 'lint_a'::regclass ORDER BY 1;

--
-- the safe rewrites of the same changes: nothing is flagged
--
-- a FOREIGN KEY and a CHECK added NOT VALID, validated in a later patch
SELECT zd_register(2, 'add_fk_lint_a_ref_not_valid',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_ref_fk FOREIGN KEY (ref_id) REFERENCES lint_ref (id) NOT VALID',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_ref_fk');
SELECT zd_register(3, 'validate_lint_a_ref_fk',
                   'ALTER TABLE lint_a VALIDATE CONSTRAINT lint_a_ref_fk', '');
SELECT zd_register(4, 'add_check_lint_a_qty_not_valid',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_qty_ck CHECK (qty >= 0) NOT VALID',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_qty_ck');
SELECT zd_register(5, 'validate_lint_a_qty_ck',
                   'ALTER TABLE lint_a VALIDATE CONSTRAINT lint_a_qty_ck', '');
-- the first half of SET NOT NULL: a CHECK (qty IS NOT NULL), validated
SELECT zd_register(6, 'add_check_lint_a_qty_not_null',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_qty_nn CHECK (qty IS NOT NULL) NOT VALID',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_qty_nn');
SELECT zd_register(7, 'validate_lint_a_qty_nn',
                   'ALTER TABLE lint_a VALIDATE CONSTRAINT lint_a_qty_nn', '');
-- new columns with a constant and a stable default: no rewrite
SELECT zd_register(8, 'add_columns_lint_a_status',
                   E'ALTER TABLE lint_a ADD COLUMN status text NOT NULL DEFAULT ''new'';\n'
                   'ALTER TABLE lint_a ADD COLUMN created_at timestamptz DEFAULT now();',
                   'ALTER TABLE lint_a DROP COLUMN status, DROP COLUMN created_at');
-- a new column without default, then the volatile default for new rows
SELECT zd_register(9, 'add_column_lint_a_token',
                   E'ALTER TABLE lint_a ADD COLUMN token uuid;\n'
                   'ALTER TABLE lint_a ALTER COLUMN token SET DEFAULT gen_random_uuid();',
                   'ALTER TABLE lint_a DROP COLUMN token');
-- a type change that rewrites nothing: a longer varchar
SELECT zd_register(10, 'widen_lint_a_code',
                   'ALTER TABLE lint_a ALTER COLUMN code TYPE varchar(20)',
                   'ALTER TABLE lint_a ALTER COLUMN code TYPE varchar(10)');
-- every rule on a table created in the same patch, which has no traffic
SELECT zd_register(11, 'create_table_lint_b',
                   E'CREATE TABLE lint_b (id integer, ref_id integer, qty integer, code varchar(10), note text);\n'
                   'CREATE INDEX lint_b_qty ON lint_b (qty);\n'
                   'ALTER TABLE lint_b ADD CONSTRAINT lint_b_ref_fk FOREIGN KEY (ref_id) REFERENCES lint_ref (id);\n'
                   'ALTER TABLE lint_b ADD CONSTRAINT lint_b_qty_ck CHECK (qty >= 0);\n'
                   'ALTER TABLE lint_b ALTER COLUMN qty SET NOT NULL;\n'
                   'ALTER TABLE lint_b ALTER COLUMN qty TYPE bigint;\n'
                   'ALTER TABLE lint_b ADD COLUMN token uuid DEFAULT gen_random_uuid();\n'
                   'ALTER TABLE lint_b RENAME TO lint_c;',
                   'DROP TABLE lint_c');
-- and on a table created by an earlier step of the plan
SELECT zd_register(12, 'alter_table_lint_c',
                   E'ALTER TABLE lint_c RENAME COLUMN note TO remark;\n'
                   'ALTER TABLE lint_c DROP COLUMN remark;\n'
                   'ALTER TABLE lint_c ADD CONSTRAINT lint_c_code_key UNIQUE (code);\n'
                   'ALTER TABLE lint_c ADD PRIMARY KEY (id);\n'
                   'CREATE INDEX lint_c_code ON lint_c (code);',
                   '');
-- the new name of a table as a view, while both application versions run
SELECT zd_register(13, 'create_view_lint_items',
                   'CREATE VIEW lint_items AS SELECT * FROM lint_a',
                   'DROP VIEW lint_items');
-- an index built concurrently, in a no-transaction patch
SELECT zd_register(14, 'create_index_lint_a_qty_concurrently',
                   E'-- zerodown:no-transaction\n'
                   'CREATE INDEX CONCURRENTLY lint_a_qty ON lint_a (qty);',
                   E'-- zerodown:no-transaction\n'
                   'DROP INDEX CONCURRENTLY lint_a_qty;');
-- a UNIQUE constraint added USING an index built concurrently
SELECT zd_register(15, 'create_unique_index_lint_a_code',
                   E'-- zerodown:no-transaction\n'
                   'CREATE UNIQUE INDEX CONCURRENTLY lint_a_code_key ON lint_a (code);',
                   E'-- zerodown:no-transaction\n'
                   'DROP INDEX CONCURRENTLY lint_a_code_key;');
SELECT zd_register(16, 'add_unique_lint_a_code_using_index',
                   'ALTER TABLE lint_a ADD CONSTRAINT lint_a_code_key UNIQUE USING INDEX lint_a_code_key',
                   'ALTER TABLE lint_a DROP CONSTRAINT lint_a_code_key');

SELECT number, name, transactional FROM zd_plan(16) ORDER BY step;
SELECT number, name, direction, line, rule
  FROM zd_lint(16)
 ORDER BY number, line, rule;
SELECT * FROM regress_state;

--
-- SET NOT NULL once a CHECK (qty IS NOT NULL) is validated uses the check
-- and skips the scan: not flagged; on a column without one it still is
--
SELECT zd_align(13);
SELECT conname, convalidated FROM pg_constraint
 WHERE conrelid = 'lint_a'::regclass ORDER BY conname;
SELECT zd_register(17, 'set_not_null_lint_a_qty',
                   'ALTER TABLE lint_a ALTER COLUMN qty SET NOT NULL',
                   'ALTER TABLE lint_a ALTER COLUMN qty DROP NOT NULL');
SELECT zd_register(18, 'set_not_null_lint_a_code',
                   'ALTER TABLE lint_a ALTER COLUMN code SET NOT NULL',
                   'ALTER TABLE lint_a ALTER COLUMN code DROP NOT NULL');
SELECT number, name, direction, line, rule
  FROM zd_lint(18)
 ORDER BY number, line, rule;

--
-- rollbacks are linted too: going down drops the columns the new
-- application version uses, and narrows a varchar again
--
SELECT number, name, direction, line, rule
  FROM zd_lint(7)
 ORDER BY number DESC, line, rule;
SELECT * FROM regress_state;

-- clean up
SELECT zd_align(0);
DROP VIEW regress_state;
DROP EXTENSION zerodown;
SELECT to_regclass('lint_a') AS lint_a, to_regclass('lint_ref') AS lint_ref,
       to_regclass('lint_c') AS lint_c, to_regclass('lint_items') AS lint_items;
