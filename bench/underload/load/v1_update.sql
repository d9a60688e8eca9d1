\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE users SET address_line_1 = 'v1 ' || :n || ' Side St', address_line_2 = 'Apt ' || :n WHERE id = :uid;
