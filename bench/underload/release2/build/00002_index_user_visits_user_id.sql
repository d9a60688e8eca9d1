-- zerodown:no-transaction
CREATE INDEX CONCURRENTLY user_visits_user_id ON user_visits (user_id);
