\set n random(1, 1000000000)
INSERT INTO users (username, address_line_1) VALUES ('v1-' || :n, :n || ' New St');
