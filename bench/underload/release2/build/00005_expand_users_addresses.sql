-- seed 004: a user's address moves to addresses; version 1 and version 2 write at once
CREATE TABLE addresses (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);
CREATE INDEX addresses_user_id ON addresses (user_id, id);
SELECT zd_expand_table('users', 'addresses', 'user_id', ARRAY['address_line_1', 'address_line_2']);
