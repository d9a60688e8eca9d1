\set uid random(1, :nusers)
SELECT u.username, a.address_line_1, a.address_line_2
  FROM users u
  LEFT JOIN LATERAL (SELECT * FROM addresses WHERE user_id = u.id ORDER BY id LIMIT 1) a ON true
 WHERE u.id = :uid;
