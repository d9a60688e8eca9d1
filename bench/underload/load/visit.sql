\set uid random(1, :nusers)
INSERT INTO user_visits (user_id, source) VALUES (:uid, 'app');
