--
-- expand_column: a column changed in place, with writers of both shapes
--
CREATE EXTENSION zerodown;

-- the expansions of the database, without timestamps
CREATE VIEW regress_expansions AS
SELECT id, kind, table_name, target, state, old_columns, new_columns,
       rows_done, rows_total, percent
  FROM zerodown.expansion_status;

-- the triggers of a table, as \d shows them
CREATE FUNCTION regress_triggers(tbl regclass) RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT pg_get_triggerdef(oid) FROM pg_trigger
     WHERE tgrelid = tbl AND NOT tgisinternal ORDER BY tgname
$$;

--
-- email -> email_normalized, up = lower(email), down = email_normalized
--
CREATE TABLE accounts (id serial PRIMARY KEY, email text, note text);
INSERT INTO accounts (email) VALUES ('Alice@Example.com'), ('BOB@example.com'), (NULL), ('Carol@Example.com');

SELECT zd_expand_column('accounts', 'email', 'email_normalized', 'text',
                        'lower(email)', 'email_normalized');
SELECT * FROM regress_expansions;
SELECT * FROM regress_triggers('accounts');
-- the column was added without a default: no rewrite, existing rows NULL
SELECT attname, format_type(atttypid, atttypmod), atthasdef
  FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attnum > 0 ORDER BY attnum;
SELECT * FROM accounts ORDER BY id;

-- version 1 inserts the old column: up computes the new one
INSERT INTO accounts (email) VALUES ('Dave@Example.COM');
-- version 2 inserts the new column: down computes the old one
INSERT INTO accounts (email_normalized) VALUES ('erin@example.com');
-- a write that sets both is left as written
INSERT INTO accounts (email, email_normalized) VALUES ('Frank@X', 'frank@y');
-- neither set: up of NULL is NULL
INSERT INTO accounts (note) VALUES ('no email');
SELECT * FROM accounts WHERE id > 4 ORDER BY id;

-- version 1 updates the old column: up
UPDATE accounts SET email = 'ALICE@New.com' WHERE id = 1;
-- version 2 updates the new column: down
UPDATE accounts SET email_normalized = 'bob@new.com' WHERE id = 2;
-- an update of another column touches neither (the trigger does not even fire)
UPDATE accounts SET note = 'seen' WHERE id = 4;
-- both changed: as written
UPDATE accounts SET email = 'Frank@Z', email_normalized = 'frank@z' WHERE id = 7;
-- setting a column to the value it has is no change
UPDATE accounts SET email = email WHERE id = 6;
SELECT * FROM accounts ORDER BY id;

-- NULLs: version 1 clears the old column, version 2 clears the new one
UPDATE accounts SET email = NULL WHERE id = 5;
UPDATE accounts SET email_normalized = NULL WHERE id = 6;
-- version 1 sets an email on the row that had none
UPDATE accounts SET email = 'Grace@Example.com' WHERE id = 3;
SELECT * FROM accounts ORDER BY id;

-- the rows that existed before the expansion and were not written since
-- still have no new column; the backfill fills them
SELECT id, email FROM accounts WHERE email_normalized IS NULL AND email IS NOT NULL ORDER BY id;
SET client_min_messages = warning;
CALL zd_backfill('accounts', 'email_normalized');
RESET client_min_messages;
SELECT * FROM regress_expansions;
SELECT * FROM accounts ORDER BY id;
-- every row is consistent
SELECT id FROM accounts WHERE email_normalized IS DISTINCT FROM lower(email) ORDER BY id;

-- contract: the triggers and the old column go
SELECT zd_contract('accounts', 'email_normalized');
SELECT * FROM regress_expansions;
SELECT * FROM regress_triggers('accounts');
SELECT * FROM accounts ORDER BY id;

--
-- a type change, text -> integer, with a down that casts back
--
CREATE TABLE items (id integer PRIMARY KEY, qty text);
INSERT INTO items VALUES (1, '5'), (2, NULL), (3, '12');
SELECT zd_expand_column('items', 'qty', 'qty_int', 'integer', 'qty::integer', 'qty_int::text');
SELECT * FROM regress_triggers('items');
INSERT INTO items (id, qty) VALUES (4, '7');
INSERT INTO items (id, qty_int) VALUES (5, 42);
UPDATE items SET qty = '6' WHERE id = 1;
UPDATE items SET qty_int = 13 WHERE id = 3;
UPDATE items SET qty_int = NULL WHERE id = 4;
SELECT * FROM items ORDER BY id;
-- what up cannot convert fails the write, and nothing is written
INSERT INTO items (id, qty) VALUES (6, 'seven');
SELECT count(*) FROM items WHERE id = 6;
SET client_min_messages = warning;
CALL zd_backfill('items', 'qty_int');
RESET client_min_messages;
SELECT * FROM items ORDER BY id;
SELECT zd_contract('items', 'qty_int');
SELECT * FROM items ORDER BY id;

--
-- the old column has a constant default: a version 2 insert gets the
-- default in the old column, which does not count as set
--
CREATE TABLE tickets (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'new');
INSERT INTO tickets (status) VALUES ('open'), (DEFAULT);
SELECT zd_expand_column('tickets', 'status', 'state', 'text', 'upper(status)', 'lower(state)');
INSERT INTO tickets (state) VALUES ('CLOSED');
INSERT INTO tickets DEFAULT VALUES;
INSERT INTO tickets (status) VALUES ('open');
SELECT * FROM tickets ORDER BY id;
SELECT zd_abort('tickets', 'state');
SELECT * FROM tickets ORDER BY id;

--
-- splitting a column in two, and merging two in one
--
CREATE TABLE people (id integer PRIMARY KEY, full_name text);
INSERT INTO people VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing');
SELECT zd_expand_columns('people', ARRAY['full_name'], ARRAY['first_name', 'last_name'],
                         ARRAY['text', 'text'],
                         ARRAY[$$split_part(full_name, ' ', 1)$$, $$split_part(full_name, ' ', 2)$$],
                         ARRAY[$$first_name || ' ' || last_name$$]);
SELECT * FROM regress_triggers('people');
INSERT INTO people (id, full_name) VALUES (3, 'Grace Hopper');
INSERT INTO people (id, first_name, last_name) VALUES (4, 'Edsger', 'Dijkstra');
-- version 2 changes one of the new columns of a row the backfill has not
-- reached yet: the other one is computed from the old row first
UPDATE people SET last_name = 'King' WHERE id = 1;
UPDATE people SET full_name = 'Alan M Turing' WHERE id = 2;
SELECT * FROM people ORDER BY id;
SET client_min_messages = warning;
CALL zd_backfill('people', 'last_name');
RESET client_min_messages;
SELECT * FROM regress_expansions WHERE table_name = 'people'::regclass;
SELECT zd_contract('people', 'first_name');
SELECT * FROM people ORDER BY id;

-- and back: first_name, last_name -> display_name
SELECT zd_expand_columns('people', ARRAY['first_name', 'last_name'], ARRAY['display_name'],
                         ARRAY['text'], ARRAY[$$first_name || ' ' || last_name$$],
                         ARRAY[$$split_part(display_name, ' ', 1)$$, $$split_part(display_name, ' ', 2)$$]);
UPDATE people SET last_name = 'Byron' WHERE id = 1;
INSERT INTO people (id, display_name) VALUES (5, 'Barbara Liskov');
SELECT * FROM people ORDER BY id;
SELECT zd_abort('people', 'display_name');

--
-- names that need quotes: mixed case, spaces, a dash
--
CREATE TABLE "Mixed Case" ("Id" integer PRIMARY KEY, "E Mail" text);
INSERT INTO "Mixed Case" VALUES (1, 'A@B.c'), (2, NULL);
SELECT zd_expand_column('"Mixed Case"', 'E Mail', 'E-Mail Norm', 'text',
                        'lower("E Mail")', '"E-Mail Norm"');
SELECT * FROM regress_triggers('"Mixed Case"');
INSERT INTO "Mixed Case" VALUES (3, 'X@Y.z');
UPDATE "Mixed Case" SET "E-Mail Norm" = 'q@r.s' WHERE "Id" = 2;
SET client_min_messages = warning;
CALL zd_backfill('"Mixed Case"', 'E-Mail Norm');
RESET client_min_messages;
SELECT * FROM "Mixed Case" ORDER BY 1;
SELECT zd_contract('"Mixed Case"', 'E-Mail Norm');
SELECT * FROM "Mixed Case" ORDER BY 1;

--
-- the trigger's compiled expression follows the functions it calls and
-- the table it runs on
--
CREATE FUNCTION regress_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
CREATE TABLE contacts (id integer PRIMARY KEY, email text);
SELECT zd_expand_column('contacts', 'email', 'email_norm', 'text', 'regress_norm(email)', 'email_norm');
INSERT INTO contacts (id, email) VALUES (1, 'One@X');
CREATE OR REPLACE FUNCTION regress_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(t) $$;
INSERT INTO contacts (id, email) VALUES (2, 'Two@X');
-- a column added before the expansion's columns changes the table
ALTER TABLE contacts ADD COLUMN phone text;
INSERT INTO contacts (id, email, phone) VALUES (3, 'Three@X', '555');
SELECT * FROM contacts ORDER BY id;
-- a column of the expansion renamed: writes fail with a clear error
ALTER TABLE contacts RENAME COLUMN email TO mail;
INSERT INTO contacts (id, mail) VALUES (4, 'Four@X');
ALTER TABLE contacts RENAME COLUMN mail TO email;
INSERT INTO contacts (id, email) VALUES (4, 'Four@X');
SELECT * FROM contacts ORDER BY id;
SELECT zd_abort('contacts', 'email_norm');

--
-- a partitioned table: each partition's trigger compiles for its own
-- column numbers
--
CREATE TABLE events (id integer, region text, title text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_us (title text, region text, id integer, PRIMARY KEY (id, region));
ALTER TABLE events ATTACH PARTITION events_us FOR VALUES IN ('us');
SELECT zd_expand_column('events', 'title', 'title_upper', 'text', 'upper(title)', 'lower(title_upper)');
INSERT INTO events VALUES (1, 'eu', 'Launch'), (2, 'us', 'Party');
INSERT INTO events (id, region, title_upper) VALUES (3, 'us', 'MEETUP');
SELECT tableoid::regclass, * FROM events ORDER BY id;
SELECT zd_abort('events', 'title_upper');

--
-- inside patches: the build expands, the rollback aborts, and a round
-- trip leaves the schema as it was
--
CREATE TABLE customers (id integer PRIMARY KEY, name text);
INSERT INTO customers VALUES (1, 'Ann');
SELECT zd_register(1, 'expand_customers_name',
                   $$SELECT zd_expand_column('customers', 'name', 'display_name', 'text', 'initcap(name)', 'display_name');$$,
                   $$SELECT zd_abort('customers', 'display_name');$$);
SELECT zd_align(1);
SELECT * FROM regress_triggers('customers');
SELECT * FROM zd_check(0, 1);
SELECT zd_align(0);
SELECT * FROM regress_triggers('customers');
SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT zd_align(1);
SELECT id, state FROM zerodown.expansions WHERE relid = 'customers'::regclass ORDER BY id;

DROP TABLE accounts, items, tickets, people, "Mixed Case", contacts, events, customers;
DROP FUNCTION regress_norm(text);
DROP FUNCTION regress_triggers(regclass);
DROP VIEW regress_expansions;
DROP EXTENSION zerodown;
