#!/usr/bin/env bash
# bench/replica_lag — the replica-lag brake: a ROWS-row zd_backfill on a
# primary with a streaming standby whose replay is slowed, without the brake
# and with it, in the same run.
#
# The standby's replay is slowed on a schedule: paused PAUSE seconds, then
# let go RESUME seconds, over and over (pg_wal_replay_pause / _resume), like
# a standby whose replay keeps stopping behind long reports or a slow disk.
# Its replay then keeps up with less WAL than the backfill writes.
#
#   without: CALL zd_backfill(...) with zerodown.max_replica_lag and
#            zerodown.max_replica_lag_bytes off (0);
#   with:    the same on an identical table with max_replica_lag = LAG_TIME
#            and max_replica_lag_bytes = LAG_BYTES.
#
# A sampler (one psql session on the primary, \watch, dblink to the standby)
# reads the standby's pg_last_wal_replay_lsn() and then the primary's
# pg_current_wal_lsn() every SAMPLE seconds, from outside zerodown.
# The lag of a sample in bytes is the WAL the primary had written and the
# standby had not replayed; in time, how long ago the primary had first
# written WAL that the standby had still not replayed (the age of the oldest
# unreplayed WAL, from the sampler's own history).  Reported for each run:
# the backfill's total time, the peak lag in bytes and in time, the lag when
# the backfill ended, and how long after its end the standby had replayed
# everything (the schedule goes on until then).
#
# Self-contained: it installs what is missing (tools/setup.sh), copies
# PostgreSQL into DIR (tools/pgtree.sh), builds and installs zerodown there,
# and runs a primary on PORT and a standby on PORT+1 under DIR, removed at
# the end.  Run as root from the repository: bench/replica_lag/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${DIR:-/tmp/zerodown-bench-replica_lag}
PORT=${PORT:-5440}
SPORT=$((PORT + 1))
ROWS=${ROWS:-1000000}
BATCH=${BATCH:-1000}
PAUSE=${PAUSE:-4}
RESUME=${RESUME:-1}
LAG_BYTES=${LAG_BYTES:-16MB}
LAG_TIME=${LAG_TIME:-2s}
SAMPLE=${SAMPLE:-0.1}
STEP=${STEP:-2}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

"$ROOT/tools/setup.sh" >/dev/null
pkill_cluster() {
    for d in "$DIR/standby" "$DIR/primary"; do
        if [ -f "$d/postmaster.pid" ]; then
            as_postgres "$BINDIR/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
}
if [ -d "$DIR" ] && [ -x "$DIR/pg/usr/lib/postgresql/15/bin/pg_ctl" ]; then
    BINDIR=$DIR/pg/usr/lib/postgresql/15/bin
    pkill_cluster
fi
rm -rf "$DIR"
mkdir -p "$DIR"
PG_CONFIG=$("$ROOT/tools/pgtree.sh" "$DIR/pg")
BINDIR=$("$PG_CONFIG" --bindir)
export PATH=$BINDIR:$PATH

# build from a copy, so that the checkout stays as it is
mkdir -p "$DIR/src"
tar -C "$ROOT" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$DIR/src" -xf -
make -C "$DIR/src" -s with_llvm=no PG_CONFIG="$PG_CONFIG" >/dev/null
make -C "$DIR/src" -s with_llvm=no PG_CONFIG="$PG_CONFIG" install >/dev/null
chown -R postgres: "$DIR"

cleanup() {
    rm -f "$DIR"/running_*
    wait 2>/dev/null || true
    pkill_cluster
}
trap cleanup EXIT

as_postgres "$BINDIR/initdb" -D "$DIR/primary" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C >"$DIR/initdb.log"
cat >>"$DIR/primary/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'zerodown'
zerodown.database = 'bench'
wal_level = replica
max_wal_senders = 4
max_wal_size = 4GB
fsync = off
synchronous_commit = off
lc_messages = 'C'
log_min_messages = warning
CONF
as_postgres "$BINDIR/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w start >/dev/null
as_postgres "$BINDIR/pg_basebackup" -h "$DIR" -p "$PORT" -U postgres -D "$DIR/standby" -R
cat >>"$DIR/standby/postgresql.conf" <<CONF
port = $SPORT
hot_standby = on
# the checks of the rows on the standby are not cancelled by the cleanup
# the primary's autovacuum replays there
hot_standby_feedback = on
CONF
as_postgres "$BINDIR/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w start >/dev/null

export PGHOST=$DIR PGUSER=postgres
p() { psql -X -q -At -v ON_ERROR_STOP=1 -p "$PORT" -d "${DB:-bench}" "$@"; }
s() { psql -X -q -At -v ON_ERROR_STOP=1 -p "$SPORT" -d "${DB:-bench}" "$@"; }

DB=postgres p -c "CREATE DATABASE bench"
p -c "CREATE EXTENSION zerodown" -c "CREATE EXTENSION dblink"
for t in users_without users_with; do
    p -c "CREATE TABLE $t (id integer PRIMARY KEY, email text)" \
      -c "INSERT INTO $t SELECT i, 'User' || i || '@Example.org' FROM generate_series(1, $ROWS) i" \
      -c "SELECT zd_expand_column('$t', 'email', 'email_lower', 'text', 'lower(email)', 'email')" >/dev/null
done
p -c "VACUUM ANALYZE"

# wait until the standby has replayed all the WAL the primary has written
catch_up() {
    local lsn
    lsn=$(p -c "SELECT pg_current_wal_lsn()")
    until [ "$(s -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]; do sleep 0.1; done
}

# the replay schedule: paused PAUSE s, replaying RESUME s, until $1 goes
schedule() {
    local stop=$1
    while [ -f "$stop" ]; do
        s -c "SELECT pg_wal_replay_pause()" >/dev/null
        sleep "$PAUSE"
        s -c "SELECT pg_wal_replay_resume()" >/dev/null
        [ -f "$stop" ] && sleep "$RESUME"
    done
    s -c "SELECT pg_wal_replay_resume()" >/dev/null
}

# "epoch standby_replay_lsn primary_wal_lsn" every SAMPLE s into $1, until
# terminated: the standby is read first, then the primary
sampler() {
    exec psql -X -q -At -F ' ' -p "$PORT" -d bench >"$1" 2>/dev/null <<SQL
SELECT FROM dblink_connect('standby', 'host=$DIR port=$SPORT dbname=bench user=postgres');
SELECT extract(epoch FROM clock_timestamp()), s.r, pg_current_wal_lsn()
  FROM dblink('standby', 'SELECT pg_last_wal_replay_lsn()') AS s(r pg_lsn) \watch $SAMPLE
SQL
}

now() { date +%s.%N; }

# one run: $1 the table, $2 and $3 the limits; prints its figures
run() {
    local name=$1 table=$2 lag_time=$3 lag_bytes=$4
    local samples=$DIR/samples_$name.txt stop=$DIR/running_$name
    local t0 t1 t2 end_lsn notices sampler_pid

    p -c "ALTER SYSTEM SET zerodown.max_replica_lag = '$lag_time'" \
      -c "ALTER SYSTEM SET zerodown.max_replica_lag_bytes = '$lag_bytes'" \
      -c "SELECT pg_reload_conf()" >/dev/null
    # the previous run's dead rows are vacuumed first, not during this run
    p -c "VACUUM" -c "CHECKPOINT"
    catch_up
    touch "$stop"
    sampler "$DIR/watch_$name.txt" &
    sampler_pid=$!
    schedule "$stop" &
    t0=$(now)
    notices=$(p -c "CALL zd_backfill('$table', 'email_lower', $BATCH)" 2>&1)
    t1=$(now)
    end_lsn=$(p -c "SELECT pg_current_wal_lsn()")
    # the schedule and the sampler go on until the standby has replayed it all
    until [ "$(s -c "SELECT pg_last_wal_replay_lsn() >= '$end_lsn'::pg_lsn")" = t ]; do sleep 0.1; done
    t2=$(now)
    rm -f "$stop"
    kill -TERM "$sampler_pid" 2>/dev/null || true
    wait
    awk 'NF == 3' "$DIR/watch_$name.txt" >"$samples"
    [ "$(p -c "SELECT state FROM zerodown.expansions WHERE relid = '$table'::regclass")" = backfilled ] ||
        { echo "the backfill of $table did not finish" >&2; exit 1; }
    [ "$(s -c "SELECT count(*) FROM $table WHERE email_lower = lower(email)")" = "$ROWS" ] ||
        { echo "the standby does not have every row of $table" >&2; exit 1; }

    # the figures, computed from the samples by the primary
    p -c "CREATE TEMP TABLE samples (t double precision, r pg_lsn, w pg_lsn)" \
      -c "\\copy samples FROM '$samples' WITH (DELIMITER ' ')" \
      -c "SELECT '$name', round(($t1 - $t0)::numeric, 1),
                 round(max(pg_wal_lsn_diff(s.w, s.r)) / (1024 * 1024), 1),
                 round(max(greatest(s.t - (SELECT min(o.t) FROM samples o WHERE o.w > s.r), 0))::numeric, 1),
                 (SELECT round(pg_wal_lsn_diff(e.w, e.r) / (1024 * 1024), 1)
                    FROM samples e WHERE e.t <= $t1 ORDER BY e.t DESC LIMIT 1),
                 round(($t2 - $t1)::numeric, 1),
                 count(*)
            FROM samples s" | tr '|' ' '
    # the lag over time: the WAL not replayed (MB) at every STEP s from the start
    p -c "CREATE TEMP TABLE samples (t double precision, r pg_lsn, w pg_lsn)" \
      -c "\\copy samples FROM '$samples' WITH (DELIMITER ' ')" \
      -c "SELECT string_agg(coalesce((SELECT round(pg_wal_lsn_diff(s.w, s.r) / (1024 * 1024))::text
                                         FROM samples s
                                         ORDER BY abs(s.t - ($t0 + k * $STEP)) LIMIT 1), '-'), ' ' ORDER BY k)
            FROM generate_series(0, floor(($t2 - $t0) / $STEP)::int) k" >"$DIR/timeline_$name"
    echo "$notices" | sed -n 's/.*done: .*; waited \([0-9.]*\) s for lagging standbys.*/waited \1/p' >"$DIR/waited_$name"
}

echo "bench/replica_lag: a $ROWS-row zd_backfill (batches of $BATCH), the standby's replay paused $PAUSE s, let go $RESUME s, over and over" >&2
without=$(run without users_without 0 0)
with=$(run with users_with "$LAG_TIME" "$LAG_BYTES")
waited=$(sed -n 's/waited //p' "$DIR/waited_with")

report() {
    echo "bench/replica_lag: a $ROWS-row zd_backfill (batches of $BATCH); the standby's replay paused $PAUSE s, let go $RESUME s, over and over"
    echo "brake: zerodown.max_replica_lag = $LAG_TIME, zerodown.max_replica_lag_bytes = $LAG_BYTES; lag sampled every $SAMPLE s from outside zerodown"
    echo
    printf '%-17s %12s %16s %15s %16s %20s %8s\n' "" "total time" "peak lag (MB)" "peak lag (s)" "lag at end (MB)" "standby caught up" "samples"
    # shellcheck disable=SC2086
    set -- $without
    printf '%-17s %10s s %16s %15s %16s %18s s %8s\n' "without the brake" "$2" "$3" "$4" "$5" "+$6" "$7"
    # shellcheck disable=SC2086
    set -- $with
    printf '%-17s %10s s %16s %15s %16s %18s s %8s\n' "with the brake" "$2" "$3" "$4" "$5" "+$6" "$7"
    echo
    echo "with the brake, the backfill waited ${waited:-0} s in all for the standby (its last NOTICE)"
    echo
    echo "WAL not replayed (MB), every $STEP s from the backfill's start until the standby caught up:"
    echo "  without the brake: $(cat "$DIR/timeline_without")"
    echo "  with the brake:    $(cat "$DIR/timeline_with")"
}
report | tee "$RESULTS/replica_lag.txt"
