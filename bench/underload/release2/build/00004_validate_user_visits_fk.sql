-- SHARE UPDATE EXCLUSIVE on user_visits: reads and writes go on while it scans
ALTER TABLE user_visits VALIDATE CONSTRAINT user_visits_user_id_fkey;
