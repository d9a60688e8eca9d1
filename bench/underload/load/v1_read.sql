\set uid random(1, :nusers)
SELECT username, address_line_1, address_line_2 FROM users WHERE id = :uid;
