\set uid random(1, :nusers)
\set n random(1, 1000000)
UPDATE addresses SET address_line_1 = 'v2 ' || :n || ' Main St', address_line_2 = 'Floor ' || :n
 WHERE id = (SELECT min(id) FROM addresses WHERE user_id = :uid);
