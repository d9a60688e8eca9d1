--
-- replica_lag: the settings of the replica-lag brake, their bounds and who
-- may change them, and the two functions on a server without standbys
-- (test/t/080_replica_lag.pl runs them against a real standby)
--
CREATE EXTENSION zerodown;

-- the settings and their defaults: off, off, ten minutes, nobody ignored
SELECT name, setting, unit, context, min_val, max_val
  FROM pg_settings
 WHERE name IN ('zerodown.max_replica_lag', 'zerodown.max_replica_lag_bytes',
                'zerodown.replica_lag_timeout', 'zerodown.replica_lag_ignore')
 ORDER BY name;

-- units: a time and a size, as in postgresql.conf
SET zerodown.max_replica_lag = '30s';
SET zerodown.max_replica_lag_bytes = '64MB';
SET zerodown.replica_lag_timeout = '2min';
SET zerodown.replica_lag_ignore = 'delayed, "Reports"';
SHOW zerodown.max_replica_lag;
SHOW zerodown.max_replica_lag_bytes;
SHOW zerodown.replica_lag_timeout;
SHOW zerodown.replica_lag_ignore;

-- out of bounds (22023), and nothing changes
SET zerodown.max_replica_lag = '500ms';
\echo SQLSTATE :SQLSTATE
SET zerodown.max_replica_lag = '2h';
\echo SQLSTATE :SQLSTATE
SET zerodown.max_replica_lag = -1;
\echo SQLSTATE :SQLSTATE
SET zerodown.max_replica_lag_bytes = -1;
\echo SQLSTATE :SQLSTATE
SET zerodown.max_replica_lag_bytes = '4TB';
\echo SQLSTATE :SQLSTATE
SET zerodown.replica_lag_timeout = -1;
\echo SQLSTATE :SQLSTATE
SET zerodown.replica_lag_ignore = '"unterminated';
\echo SQLSTATE :SQLSTATE
SHOW zerodown.max_replica_lag;
SHOW zerodown.max_replica_lag_bytes;
SHOW zerodown.replica_lag_timeout;
SHOW zerodown.replica_lag_ignore;

-- 0 turns a limit off
SET zerodown.max_replica_lag = 0;
SHOW zerodown.max_replica_lag;
SET zerodown.max_replica_lag = '30s';

-- no standby streams from the regression server: nothing to wait for,
-- even with both limits set
SELECT count(*) AS standbys FROM zd_replica_lag();
SELECT zd_wait_for_replicas() = interval '0' AS no_wait;

-- the columns of zd_replica_lag
SELECT p.proargnames, pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.oid = 'zd_replica_lag'::regproc;

-- the brake is the DBA's: a deployer may read it and wait, not turn it off
-- (42501), and a plain role may not call the functions (42501)
CREATE ROLE regress_lag_plain;
CREATE ROLE regress_lag_deployer IN ROLE zerodown_deployer;
SET ROLE regress_lag_deployer;
SET zerodown.max_replica_lag = 0;
\echo SQLSTATE :SQLSTATE
SET zerodown.max_replica_lag_bytes = 0;
\echo SQLSTATE :SQLSTATE
SET zerodown.replica_lag_timeout = 0;
\echo SQLSTATE :SQLSTATE
SET zerodown.replica_lag_ignore = 'standby1';
\echo SQLSTATE :SQLSTATE
SHOW zerodown.max_replica_lag;
SELECT count(*) AS standbys FROM zd_replica_lag();
SELECT zd_wait_for_replicas() = interval '0' AS no_wait;
RESET ROLE;
SET ROLE regress_lag_plain;
SELECT count(*) FROM zd_replica_lag();
\echo SQLSTATE :SQLSTATE
SELECT zd_wait_for_replicas();
\echo SQLSTATE :SQLSTATE
RESET ROLE;

-- a backfill's progress says what it waits for: nothing, here
CREATE TABLE lag_users (id integer PRIMARY KEY, email text);
INSERT INTO lag_users SELECT i, 'U' || i || '@Example.org' FROM generate_series(1, 30) i;
SELECT zd_expand_column('lag_users', 'email', 'email_lower', 'text', 'lower(email)', 'email') > 0 AS expanded;
SET client_min_messages = warning;
CALL zd_backfill('lag_users', 'email_lower', 10);
RESET client_min_messages;
SELECT state, rows_done, waiting_for, waiting_since
  FROM zerodown.expansion_status
 WHERE target = 'email_lower';
SELECT count(*) FILTER (WHERE email_lower = lower(email)) AS backfilled FROM lag_users;

RESET zerodown.max_replica_lag;
RESET zerodown.max_replica_lag_bytes;
RESET zerodown.replica_lag_timeout;
RESET zerodown.replica_lag_ignore;
DROP TABLE lag_users;
DROP EXTENSION zerodown;
DROP ROLE regress_lag_plain, regress_lag_deployer;
