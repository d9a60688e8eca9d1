--
-- expand_table: seed 004's worked example, users.address_line_1/2 moved
-- into a new addresses table, with both application versions writing
--
CREATE EXTENSION zerodown;

CREATE FUNCTION regress_triggers(tbl regclass) RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT pg_get_triggerdef(oid) FROM pg_trigger
     WHERE tgrelid = tbl AND NOT tgisinternal ORDER BY tgname
$$;

-- version 1: the users table of the seed, with a few users
SELECT zd_register(1, 'create_users',
$$CREATE TABLE users (
    id serial PRIMARY KEY,
    username varchar(20) NOT NULL,
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);$$,
$$DROP TABLE users;$$);
SELECT zd_align(1);
INSERT INTO users (username, address_line_1, address_line_2) VALUES
    ('ann', '1 Main St', 'Springfield'),
    ('ben', NULL, NULL),
    ('cat', '2 Elm St', NULL),
    ('dan', NULL, 'PO Box 9');

-- the expand patch: the new table, with its foreign key and an index on
-- it, and the triggers; its rollback aborts and drops the table
SELECT zd_register(2, 'expand_users_addresses',
$$CREATE TABLE addresses (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);
CREATE INDEX addresses_user_id ON addresses (user_id, id);
SELECT zd_expand_table('users', 'addresses', 'user_id',
                       ARRAY['address_line_1', 'address_line_2']);$$,
$$SELECT zd_abort('users', 'addresses');
DROP TABLE addresses;$$);
SELECT zd_align(2);
SELECT * FROM regress_triggers('users');
SELECT * FROM regress_triggers('addresses');
SELECT id, kind, table_name, target, child, state, old_columns, new_columns
  FROM zerodown.expansion_status;

-- the rollback round trip leaves the schema as it was, and aligning down
-- and up again works
SELECT * FROM zd_check(1, 2);
SELECT zd_align(1);
SELECT to_regclass('addresses') AS addresses, (SELECT count(*) FROM regress_triggers('users')) AS triggers;
SELECT zd_align(2);
SELECT id, state FROM zerodown.expansions ORDER BY id;

-- every user whose columns differ from its primary address (the one with
-- the lowest id), or that has address values and no address row: none,
-- whenever the two shapes are in step
CREATE VIEW regress_out_of_step AS
SELECT u.id, u.address_line_1, u.address_line_2,
       a.id AS primary_address, a.address_line_1 AS a_line_1, a.address_line_2 AS a_line_2
  FROM users u
  LEFT JOIN LATERAL (SELECT * FROM addresses a WHERE a.user_id = u.id ORDER BY a.id LIMIT 1) a ON true
 WHERE (u.address_line_1, u.address_line_2) IS DISTINCT FROM (a.address_line_1, a.address_line_2);


--
-- version 1 writes users' columns; they reach the primary address
--
INSERT INTO users (username, address_line_1) VALUES ('eve', '3 Oak St');
-- a user without an address has no address row
INSERT INTO users (username) VALUES ('fay');
UPDATE users SET address_line_2 = 'Shelbyville' WHERE username = 'ann';
-- an update of another column does not fire
UPDATE users SET username = 'benjamin' WHERE username = 'ben';
SELECT * FROM users ORDER BY id;
SELECT * FROM addresses ORDER BY id;

--
-- version 2 writes addresses; the primary one reaches the user's columns
--
INSERT INTO users (username) VALUES ('gus');
INSERT INTO addresses (user_id, address_line_1) SELECT id, '4 Pine St' FROM users WHERE username = 'gus';
-- a second address is not the primary one: the user does not change
INSERT INTO addresses (user_id, address_line_1) SELECT id, '5 Beach Rd' FROM users WHERE username = 'gus';
-- updating the primary address updates the user
UPDATE addresses SET address_line_2 = 'Capital City' WHERE address_line_1 = '4 Pine St';
-- updating the other one does not
UPDATE addresses SET address_line_2 = 'Seaside' WHERE address_line_1 = '5 Beach Rd';
SELECT * FROM users WHERE username = 'gus';
-- deleting the primary address makes the next one primary
DELETE FROM addresses WHERE address_line_1 = '4 Pine St';
SELECT * FROM users WHERE username = 'gus';
-- moving an address to another user: both users follow
UPDATE addresses SET user_id = (SELECT id FROM users WHERE username = 'fay')
 WHERE address_line_1 = '5 Beach Rd';
SELECT * FROM users WHERE username IN ('fay', 'gus') ORDER BY id;
-- a version 2 update of a pre-existing user who has no address row yet
INSERT INTO addresses (user_id, address_line_1) SELECT id, '6 Hill Rd' FROM users WHERE username = 'cat';
SELECT * FROM users ORDER BY id;
SELECT * FROM addresses ORDER BY id;
SELECT * FROM regress_out_of_step;

-- version 1 clears the columns: the primary address keeps its row, empty
UPDATE users SET address_line_1 = NULL, address_line_2 = NULL WHERE username = 'eve';
SELECT a.* FROM addresses a JOIN users u ON u.id = a.user_id WHERE u.username = 'eve';
-- version 1 deletes a user: its addresses go first
DELETE FROM users WHERE username = 'gus';
SELECT count(*) FROM addresses WHERE user_id NOT IN (SELECT id FROM users);
-- version 2 deletes the last address of a user: the columns empty
DELETE FROM addresses WHERE user_id = (SELECT id FROM users WHERE username = 'fay');
SELECT * FROM users WHERE username = 'fay';
SELECT * FROM regress_out_of_step;

--
-- the backfill gives the users that existed before the expansion their
-- address rows (ann got hers from her update, cat from version 2)
--
SELECT u.id, u.username FROM users u
 WHERE (u.address_line_1 IS NOT NULL OR u.address_line_2 IS NOT NULL)
   AND NOT EXISTS (SELECT FROM addresses a WHERE a.user_id = u.id)
 ORDER BY u.id;
SET client_min_messages = warning;
CALL zd_backfill('users', 'addresses', batch_size => 2);
RESET client_min_messages;
SELECT id, state, rows_done, rows_total, rows_written, batches, percent
  FROM zerodown.expansion_status;
SELECT * FROM addresses ORDER BY id;
SELECT * FROM regress_out_of_step;

DROP VIEW regress_out_of_step;

--
-- the contract patch, once version 1 is gone: the triggers and the
-- users' address columns go
--
SELECT zd_register(3, 'contract_users_addresses',
$$SELECT zd_contract('users', 'addresses');$$);
SELECT zd_align(3);
SELECT * FROM regress_triggers('users');
SELECT * FROM regress_triggers('addresses');
SELECT attname FROM pg_attribute
 WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT id, state FROM zerodown.expansion_status ORDER BY id;
-- version 2 goes on alone
INSERT INTO addresses (user_id, address_line_1) SELECT id, '7 New St' FROM users WHERE username = 'fay';
SELECT count(*) FROM addresses;

--
-- a child named differently, columns mapped to other names, a text key,
-- and names that need quotes
--
CREATE TABLE "Shop Orders" ("Order Id" text PRIMARY KEY, "Ship To" text, note text);
INSERT INTO "Shop Orders" VALUES ('A-1', 'Paris', 'fragile'), ('B-2', NULL, NULL);
CREATE TABLE "Shipments" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          "Order" text NOT NULL REFERENCES "Shop Orders" ("Order Id"),
                          destination text);
SELECT zd_expand_table('"Shop Orders"', '"Shipments"', 'Order', ARRAY['Ship To'], ARRAY['destination']);
INSERT INTO "Shop Orders" VALUES ('C-3', 'Rome', NULL);
INSERT INTO "Shipments" ("Order", destination) VALUES ('B-2', 'Oslo');
SET client_min_messages = warning;
CALL zd_backfill('"Shop Orders"', 'Shipments');
RESET client_min_messages;
SELECT * FROM "Shop Orders" ORDER BY 1;
SELECT "Order", destination FROM "Shipments" ORDER BY id;
SELECT zd_abort('"Shop Orders"', 'Shipments');
SELECT * FROM regress_triggers('"Shop Orders"');
SELECT * FROM regress_triggers('"Shipments"');

DROP TABLE "Shipments", "Shop Orders";
DROP FUNCTION regress_triggers(regclass);
DROP TABLE addresses, users;
DROP EXTENSION zerodown;
