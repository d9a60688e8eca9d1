
-- 80_replica_lag: the replica-lag brake (src/replica_lag.c).  zd_backfill,
-- the worker and zd align wait before each batch or step while a standby
-- replays further behind than zerodown.max_replica_lag or
-- zerodown.max_replica_lag_bytes; these functions show the standbys as the
-- brake sees them and let a client wait between its own steps, and the
-- backfill's progress shows what it waits for.

CREATE FUNCTION @extschema@.zd_replica_lag(
    OUT pid integer,
    OUT application_name text,
    OUT state text,
    OUT replay_lsn pg_lsn,
    OUT lag_bytes bigint,
    OUT replay_lag interval,
    OUT lag interval,
    OUT over_limit boolean,
    OUT ignored boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'zd_replica_lag'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_replica_lag() IS
'the streaming standbys as the replica-lag brake sees them: WAL not yet replayed (lag_bytes), pg_stat_replication''s replay_lag, the time lag the brake uses (lag), whether a limit is exceeded, and whether zerodown.replica_lag_ignore names it';

CREATE FUNCTION @extschema@.zd_wait_for_replicas()
RETURNS interval
AS 'MODULE_PATHNAME', 'zd_wait_for_replicas'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION @extschema@.zd_wait_for_replicas() IS
'waits while a standby replays further behind than zerodown.max_replica_lag or zerodown.max_replica_lag_bytes (up to zerodown.replica_lag_timeout); returns how long it waited';

REVOKE ALL ON FUNCTION @extschema@.zd_replica_lag() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.zd_wait_for_replicas() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.zd_replica_lag() TO zerodown_deployer;
GRANT EXECUTE ON FUNCTION @extschema@.zd_wait_for_replicas() TO zerodown_deployer;

-- what a running backfill waits for, committed when the wait starts and
-- every few seconds, cleared when it goes on
ALTER TABLE zerodown.expansions
    ADD COLUMN waiting_for text,
    ADD COLUMN waiting_since timestamptz;
COMMENT ON COLUMN zerodown.expansions.waiting_for IS
'while the backfill waits for lagging standbys: which one, how far behind, and the limit';

CREATE OR REPLACE VIEW zerodown.expansion_status AS
SELECT e.id,
       e.kind,
       e.relid AS table_name,
       e.target,
       e.child,
       e.state,
       e.old_columns,
       e.new_columns,
       e.rows_done,
       e.rows_total,
       CASE WHEN e.state IN ('backfilled', 'contracted') THEN 100.0
            WHEN e.rows_total > 0 THEN round(100.0 * least(e.rows_done, e.rows_total) / e.rows_total, 1)
            WHEN e.rows_total = 0 THEN 100.0 END AS percent,
       round(e.rows_per_second::numeric) AS rows_per_second,
       CASE WHEN e.state = 'expanded' AND e.rows_per_second > 0 AND e.rows_total IS NOT NULL
            THEN pg_catalog.make_interval(secs => round(greatest(e.rows_total - e.rows_done, 0) / e.rows_per_second))
       END AS time_left,
       e.rows_written,
       e.batches,
       e.longest_batch,
       l.pid AS backfill_pid,
       e.expanded_at,
       e.backfill_started_at,
       e.progress_at,
       e.backfilled_at,
       e.finished_at,
       CASE WHEN l.pid IS NOT NULL THEN e.waiting_for END AS waiting_for,
       CASE WHEN l.pid IS NOT NULL THEN e.waiting_since END AS waiting_since
  FROM zerodown.expansions e
  LEFT JOIN pg_catalog.pg_locks l
    ON l.locktype = 'advisory'
   AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
   AND l.classid = 2053399142 AND l.objid = e.id::oid AND l.objsubid = 2
   AND l.granted;
COMMENT ON VIEW zerodown.expansion_status IS 'every expansion: its state and its backfill''s progress (rows done and total, rate, time left, the pid of a running backfill, and what it waits for while standbys lag)';
