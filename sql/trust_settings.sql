--
-- trust_settings: a patch's settings end with its step.  In 0.1.0 a
-- patch's SET (search_path, a timeout, default_transaction_read_only, SET
-- ROLE) stayed in the session of whoever aligned, for everything it ran
-- afterwards.  Now each step's settings are undone when the step ends, as
-- a function's SET clause scopes its settings.  Issue 10, item 9.
--
CREATE EXTENSION zerodown;
CREATE ROLE regress_settings_other;
GRANT CREATE ON SCHEMA public TO regress_settings_other;
CREATE SCHEMA settings_elsewhere;

SELECT zd_register(1, 'set_things', $$
SET search_path = settings_elsewhere;
SET statement_timeout = '1234ms';
SET default_transaction_read_only = on;
SET ROLE regress_settings_other;
CREATE TABLE public.settings_t (id integer, who name DEFAULT current_user);
$$, 'RESET ROLE; DROP TABLE public.settings_t;');
-- the next patch sees the settings of neither the session nor patch 1
SELECT zd_register(2, 'insert_settings_t', $$
INSERT INTO settings_t (id) VALUES (CASE WHEN current_setting('statement_timeout') = '1234ms' THEN 1 ELSE 0 END);
$$, 'DELETE FROM settings_t');

SELECT current_user, current_setting('search_path') AS search_path,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('default_transaction_read_only') AS read_only;
SELECT zd_align(2);
SELECT current_user, current_setting('search_path') AS search_path,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('default_transaction_read_only') AS read_only;
SELECT id AS patch_2_saw_patch_1_timeout, who FROM settings_t;
SELECT number, direction, role FROM zerodown.history ORDER BY id;

-- the same for a rollback, for zd_align_each, and for a dry run
SELECT zd_align(0);
SHOW search_path;
CALL zd_align_each(2);
SHOW search_path;
SHOW statement_timeout;
SELECT step, number, result FROM zd_dry_run(0) ORDER BY step;
SHOW search_path;
SELECT current_user;

SELECT zd_align(0);
DROP EXTENSION zerodown;
DROP SCHEMA settings_elsewhere;
REVOKE CREATE ON SCHEMA public FROM regress_settings_other;
DROP ROLE regress_settings_other;
