--
-- extschema: the extension in a schema of its own (CREATE EXTENSION
-- zerodown SCHEMA zd_tools), as a DBA who keeps tools out of public
-- installs it; patches call zd_* functions unqualified, since patches run
-- with the extension's schema at the end of search_path, and that schema
-- is never where they create objects
--
CREATE SCHEMA zd_tools;
CREATE EXTENSION zerodown SCHEMA zd_tools;
-- the backfill's progress NOTICEs carry timings
SET client_min_messages = warning;
SHOW search_path;

SELECT zd_tools.zd_register(1, 'create_es_users',
    E'CREATE TABLE es_users (id int PRIMARY KEY, email text);\n'
    'INSERT INTO es_users SELECT g, ''User'' || g || ''@Example.com'' FROM generate_series(1, 5) g;',
    'DROP TABLE es_users');
SELECT zd_tools.zd_register(2, 'expand_es_email',
    $$SELECT zd_expand_column('es_users', 'email', 'email_lower', 'text', 'lower(email)', 'email_lower');$$,
    $$SELECT zd_abort('es_users', 'email_lower');$$);
-- a backfill inside a patch (its batches commit with the patch)
SELECT zd_tools.zd_register(3, 'backfill_es_email',
    $$CALL zd_backfill('es_users', 'email_lower', batch_size => 2);$$,
    '');
SELECT zd_tools.zd_register(4, 'es_kinds',
    E'CREATE TABLE es_kinds (code text PRIMARY KEY, label text);\n'
    'SELECT * FROM zd_sync(''es_kinds'', ''[{"code": "a", "label": "A"}]'');',
    'DROP TABLE es_kinds');

SELECT zd_tools.zd_align(4);
SELECT zd_tools.zd_version();
SELECT id, email_lower FROM es_users ORDER BY id;
SELECT state FROM zerodown.expansions ORDER BY id;
SELECT code, label FROM es_kinds ORDER BY code;
-- the tables were created where the session creates them, not in zd_tools
SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname IN ('es_users', 'es_kinds') ORDER BY 1;
-- the session's search_path is as it was
SHOW search_path;

-- down, through zd_abort in a rollback, and up again
SELECT zd_tools.zd_align(1);
SELECT state FROM zerodown.expansions ORDER BY id;
SELECT count(*) AS email_lower_columns FROM pg_attribute
 WHERE attrelid = 'es_users'::regclass AND attname = 'email_lower' AND NOT attisdropped;
SELECT zd_tools.zd_align(4);
SELECT state FROM zerodown.expansions ORDER BY id;

-- a dry run and a check run the patches the same way
SELECT zd_tools.zd_align(0);
SELECT number, result FROM zd_tools.zd_dry_run(4) ORDER BY step;
SELECT number, result FROM zd_tools.zd_check(0, 4) ORDER BY number;
SELECT zd_tools.zd_version();

DROP EXTENSION zerodown;
DROP SCHEMA zd_tools;
RESET client_min_messages;
