-- zerodown:no-transaction
DROP INDEX CONCURRENTLY user_visits_user_id;
