\set n random(1, 1000000000)
BEGIN;
INSERT INTO users (username) VALUES ('v2-' || :n) RETURNING id AS new_id \gset
INSERT INTO addresses (user_id, address_line_1, address_line_2) VALUES (:new_id, 'v2 ' || :n || ' New Rd', 'Suite ' || :n);
COMMIT;
