ALTER TABLE user_visits DROP CONSTRAINT user_visits_user_id_fkey;
