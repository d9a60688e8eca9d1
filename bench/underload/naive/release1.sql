-- The same release, written the usual way and run with plain psql
-- (autocommit: one transaction per statement), no lock_timeout, no gate.

-- a new column with a volatile default: the table is rewritten under ACCESS EXCLUSIVE
ALTER TABLE users ADD COLUMN last_seen_at timestamptz DEFAULT clock_timestamp();

-- a plain CREATE INDEX: SHARE lock, writes to user_visits wait until it is built
CREATE INDEX user_visits_user_id ON user_visits (user_id);

-- a foreign key validated at once: SHARE ROW EXCLUSIVE on both tables during the scan
ALTER TABLE user_visits ADD CONSTRAINT user_visits_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id);

-- seed 004, ported from MySQL as written there: the new table, triggers that
-- copy users' address columns into it, then one INSERT ... SELECT of every user
CREATE TABLE addresses (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);
CREATE INDEX addresses_user_id ON addresses (user_id, id);

CREATE FUNCTION create_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO addresses (user_id, address_line_1, address_line_2)
    VALUES (NEW.id, NEW.address_line_1, NEW.address_line_2);
    RETURN NULL;
END $$;
CREATE TRIGGER create_addresses_trigger AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION create_addresses();

-- the seed's update trigger inserts the missing address of *every* user on
-- each update; this port limits that to the updated user (the seed's
-- statement would scan both tables on every update)
CREATE FUNCTION update_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE addresses SET address_line_1 = NEW.address_line_1, address_line_2 = NEW.address_line_2
     WHERE user_id = NEW.id;
    INSERT INTO addresses (user_id, address_line_1, address_line_2)
    SELECT u.id, u.address_line_1, u.address_line_2
      FROM users u
      LEFT JOIN addresses ua ON ua.user_id = u.id
     WHERE u.id = NEW.id AND ua.user_id IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER update_addresses_trigger AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_addresses();

CREATE FUNCTION delete_addresses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM addresses WHERE user_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER user_delete_addresses_trigger BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION delete_addresses();

-- the copy, in one statement, without batching
INSERT INTO addresses (user_id, address_line_1, address_line_2)
SELECT u.id, u.address_line_1, u.address_line_2
  FROM users u
  LEFT JOIN addresses ua ON ua.user_id = u.id
 WHERE ua.user_id IS NULL;
