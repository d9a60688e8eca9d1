--
-- contract_rollback: a contract is irreversible.  Rolling back across the
-- patch that contracted an expansion is refused before anything runs
-- (before, the rollback failed at the expand patch and going up again failed
-- at the backfill patch: the database was stuck both ways); zd_check reports
-- the patch as irreversible; and after any failed alignment, both directions
-- still work from where the database stands
--
CREATE EXTENSION zerodown;
-- the backfill's progress NOTICEs carry timings
SET client_min_messages = warning;

CREATE VIEW regress_state AS
SELECT zd_version() AS version,
       (SELECT string_agg(e.id || ' ' || e.state || ' ' || coalesce(e.expanded_by_patch::text, '-')
                          || ' ' || coalesce(e.contracted_by_patch::text, '-'), ', ' ORDER BY e.id)
          FROM zerodown.expansions e) AS expansions;

SELECT zd_register(1, 'create_cr_users',
    E'CREATE TABLE cr_users (id int PRIMARY KEY, name text, address_line_1 text, address_line_2 text);\n'
    'INSERT INTO cr_users SELECT g, ''user '' || g, g || '' Main Street'', ''Flat '' || g FROM generate_series(1, 10) g;',
    'DROP TABLE cr_users');
SELECT zd_register(2, 'expand_cr_addresses',
    E'CREATE TABLE cr_addresses (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES cr_users (id),\n'
    '                           address_line_1 text, address_line_2 text);\n'
    'CREATE INDEX ON cr_addresses (user_id, id);\n'
    'SELECT zd_expand_table(''cr_users'', ''cr_addresses'', ''user_id'', ARRAY[''address_line_1'', ''address_line_2'']);',
    E'SELECT zd_abort(''cr_users'', ''cr_addresses'');\nDROP TABLE cr_addresses;');
SELECT zd_register(3, 'backfill_cr_addresses',
    $$CALL zd_backfill('cr_users', 'cr_addresses', batch_size => 4);$$, '');
-- the contract's hand-written rollback adds the columns back, empty: it
-- would run, but what it restores is not what the contract dropped
SELECT zd_register(4, 'contract_cr_addresses',
    $$SELECT zd_contract('cr_users', 'cr_addresses');$$,
    'ALTER TABLE cr_users ADD COLUMN address_line_1 text, ADD COLUMN address_line_2 text');
SELECT zd_register(5, 'create_cr_orders',
    'CREATE TABLE cr_orders (id int PRIMARY KEY, user_id int REFERENCES cr_users (id))',
    'DROP TABLE cr_orders');

-- zd_check reports the contract as irreversible, and checks the rest
SELECT number, name, result, differences FROM zd_check(0, 5) ORDER BY number;
SELECT * FROM regress_state;

-- a failed alignment up: the contract fails (a view uses an old column);
-- patch by patch, the database stands at 3
SELECT zd_align(3);
CREATE VIEW cr_v AS SELECT id, address_line_1 FROM cr_users;
CALL zd_align_each(5);
SELECT * FROM regress_state;

-- a failed alignment down: the expand patch's rollback fails (a view uses
-- the child table) after the backfill patch's was committed; zd_abort was
-- rolled back with it
CREATE VIEW cr_av AS SELECT user_id FROM cr_addresses;
CALL zd_align_each(0);
SELECT * FROM regress_state;

-- both directions work from there: up, down past the expansion (aborted),
-- up again (a new expansion, backfilled), and up past the contract
SELECT zd_align(3);
DROP VIEW cr_av;
SELECT zd_align(1);
SELECT * FROM regress_state;
SELECT zd_align(3);
DROP VIEW cr_v;
SELECT zd_align(5);
SELECT * FROM regress_state;
SELECT count(*) AS addresses FROM cr_addresses;

-- going below the contract is refused, by every way of aligning, before
-- anything runs
SELECT * FROM zd_plan(0);
SELECT zd_align(3);
CALL zd_align_each(0);
SELECT * FROM regress_state;

-- both directions still work above it
SELECT zd_align(4);
SELECT zd_align(5);
SELECT * FROM regress_state;

-- an expansion contracted outside any patch makes the patch that expanded it
-- irreversible
SELECT zd_register(6, 'expand_cr_orders_note',
    E'ALTER TABLE cr_orders ADD COLUMN note text;\n'
    'SELECT zd_expand_column(''cr_orders'', ''note'', ''remark'', ''text'', ''note'', ''remark'');',
    E'SELECT zd_abort(''cr_orders'', ''remark'');\nALTER TABLE cr_orders DROP COLUMN note;');
SELECT zd_align(6);
SELECT zd_contract('cr_orders', 'remark');
SELECT * FROM regress_state;
SELECT zd_align(5);
SELECT * FROM regress_state;

DROP VIEW regress_state;
DROP TABLE cr_orders, cr_addresses, cr_users;
DROP EXTENSION zerodown;
RESET client_min_messages;
