#!/usr/bin/env bash
# bench/underload — a release deployed while traffic and jobs run, measured.
#
#   bench/underload/run.sh            the full run (1,000,000 users, ~6 minutes)
#   bench/underload/run.sh --quick    the short one (100,000 users, under 2 minutes)
#
# On a throwaway cluster, twice on identical data and under the same load:
#
#   zerodown  the release as patches (release1/, then release2/), deployed by
#             the background worker with "zd -C DIR deploy --wait";
#   naive     the same release written the usual way (naive/release1.sql,
#             naive/release2.sql), run with plain psql.
#
# The data: seed 004's users (id, username, address_line_1, address_line_2),
# USERS rows, and user_visits (USERS rows, no index on user_id, no foreign
# key).  The load, all the time:
#
#   version 1  pgbench, V1_CLIENTS clients at V1_RATE transactions/s (-R):
#              reads of a user by id, updates of its address columns, new
#              users, visits (an insert into user_visits);
#   jobs       ETL_LOOPS managed ETL jobs on a loop: zd_job_begin, one
#              transaction that scans users, inserts ETL_ROWS visits and
#              works ETL_SECONDS, zd_job_end;
#
# and the timeline of each run:
#
#   before     BEFORE seconds of version 1 and the jobs
#   release 1  a nullable column; CREATE INDEX CONCURRENTLY (a no-transaction
#              patch); a foreign key NOT VALID, validated by the next patch;
#              zd_expand_table users -> addresses; CALL zd_backfill (a
#              no-transaction patch the worker runs at top level, so it commits
#              batch by batch)
#   v1+v2      version 2 starts (V2_CLIENTS at V2_RATE: reads with the primary
#              address, updates of it, new users with an address, visits) while
#              version 1 goes on, MIXED seconds
#   v2         version 1 stops; the consistency check: every user's address
#              columns equal its primary address row (the lowest id)
#   release 2  the contract (zd_contract / the seed's DROP COLUMN)
#   after      AFTER seconds of version 2 and the jobs
#
# No transaction is retried (pgbench's default --max-tries=1): a failure
# counts.  pgbench runs in chunks of CHUNK seconds (so version 1 can stop at
# a point the script chooses) and logs every transaction (--log); latency is
# pgbench's under -R: from the scheduled start to the end (the schedule lag
# included), so a stalled client's late transactions count as slow.  The logs go into a table of a separate database at the end
# and the report computes, per run and phase (a transaction counts in the
# phase and second it was scheduled to start in), transactions, failures, p50,
# p99 and max latency; per second the same for the plot
# (bench/results/underload.png, gnuplot, installed with apt-get when
# missing); the time each managed job waited at the gate; and that nothing
# was lost: rows inserted by clients (successful transactions of each insert
# script in the logs) against the rows found.  Text: bench/results/underload.txt.
#
# A private PostgreSQL, as bench/align does: the installation is copied
# under $ZD_CLUSTER_DIR/pg and this checkout's build installed there, so
# other people's "make install" cannot land in the middle of a run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
QUICK=0
case "${1:-}" in
--quick) QUICK=1 ;;
"") ;;
*) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-underload}
export ZD_PORT=${ZD_PORT:-5490}
if [ "$QUICK" = 1 ]; then
    USERS=${USERS:-100000}
    BEFORE=${BEFORE:-8} MIXED=${MIXED:-6} AFTER=${AFTER:-6}
else
    USERS=${USERS:-1000000}
    BEFORE=${BEFORE:-25} MIXED=${MIXED:-20} AFTER=${AFTER:-20}
fi
V1_CLIENTS=${V1_CLIENTS:-6}
V1_RATE=${V1_RATE:-300}
V2_CLIENTS=${V2_CLIENTS:-4}
V2_RATE=${V2_RATE:-150}
ETL_LOOPS=${ETL_LOOPS:-2}
ETL_ROWS=${ETL_ROWS:-2000}
ETL_SECONDS=${ETL_SECONDS:-2}
CHUNK=${CHUNK:-5}
PGTREE=$ZD_CLUSTER_DIR/pg
WORK=$ZD_CLUSTER_DIR/work
RESULTS_DIR=$ROOT/bench/results
RESULTS=$RESULTS_DIR/underload.txt
PNG=$RESULTS_DIR/underload.png

cluster() { "$ROOT/tools/cluster.sh" "$@"; }
die() { echo "bench/underload: $*" >&2; exit 1; }
say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
now() { echo "$EPOCHREALTIME"; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages; the cluster runs as postgres)"

# ---------- what is missing; the build in a private PostgreSQL ----------
"$ROOT/tools/setup.sh" >/dev/null
if ! command -v gnuplot >/dev/null 2>&1; then
    say "installing gnuplot (apt-get install gnuplot-nox)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq gnuplot-nox >/dev/null ||
        echo "bench/underload: could not install gnuplot; no plot" >&2
fi

# KEEP=1: stop the cluster but keep $ZD_CLUSTER_DIR (the logs under work/)
if [ "${KEEP:-0}" = 1 ]; then
    trap 'stop_everything; cluster stop >/dev/null 2>&1 || true' EXIT
else
    trap 'stop_everything; cluster destroy >/dev/null 2>&1 || true' EXIT
fi
BG_PIDS=()
stop_everything() {
    local p
    touch "$WORK/stop_v1" "$WORK/stop_v2" "$WORK/stop_etl" 2>/dev/null || true
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    BG_PIDS=()
}
cluster destroy >/dev/null 2>&1 || true

if SOURCE=$(git -C "$ROOT" log -1 --format='commit %h (%cs)' 2>/dev/null); then
    changed=$(git -C "$ROOT" status --porcelain -- src sql 'zerodown--*.sql' Makefile 2>/dev/null | wc -l)
    [ "$changed" -eq 0 ] || SOURCE+=", plus $changed uncommitted file(s) under src/, sql/, Makefile"
else
    SOURCE="not a git checkout"
fi
say "building zerodown ($SOURCE) into a private copy of PostgreSQL under $PGTREE"
make -C "$ROOT" -s with_llvm=no >/dev/null
SYS_BINDIR=$(pg_config --bindir)
mkdir -p "$ZD_CLUSTER_DIR"
for d in "$SYS_BINDIR" "$(pg_config --pkglibdir)" "$(pg_config --sharedir)"; do
    mkdir -p "$PGTREE$(dirname "$d")"
    [ -d "$PGTREE$d" ] || cp -a "$d" "$PGTREE$(dirname "$d")/"
done
make -C "$ROOT" -s with_llvm=no install DESTDIR="$PGTREE" >/dev/null
export PATH=$PGTREE$SYS_BINDIR:$PATH
[ "$(pg_config --bindir)" = "$PGTREE$SYS_BINDIR" ] || die "pg_config is not the private copy"
cmp -s "$ROOT/zerodown.so" "$(pg_config --pkglibdir)/zerodown.so" || die "zerodown.so was not installed in $PGTREE"
[ -x "$(pg_config --bindir)/zd" ] || die "zd is missing from $(pg_config --bindir)"

cluster start >/dev/null
eval "$(cluster env)"
unset PGDATABASE
export PGOPTIONS="-c client_min_messages=warning"
mkdir -p "$WORK" "$RESULTS_DIR"
chown postgres: "$WORK"

q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# ---------- the data ----------
load_data() {
    local db=$1
    q "$db" <<SQL
CREATE EXTENSION IF NOT EXISTS zerodown;
CREATE TABLE users (
    id serial PRIMARY KEY,
    username varchar(20) NOT NULL,
    address_line_1 varchar(100),
    address_line_2 varchar(100)
);
INSERT INTO users (username, address_line_1, address_line_2)
SELECT 'user' || i,
       CASE WHEN i % 3 <> 0 THEN i || ' Main St' END,
       CASE WHEN i % 5 = 0 THEN 'Apt ' || i END
  FROM generate_series(1, $USERS) i;
CREATE TABLE user_visits (
    id bigserial PRIMARY KEY,
    user_id integer NOT NULL,
    source text NOT NULL DEFAULT 'app',
    visited_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO user_visits (user_id, source)
SELECT 1 + (i::bigint * 7919) % $USERS, 'history' FROM generate_series(1, $USERS) i;
SQL
    q "$db" -c "VACUUM ANALYZE users" -c "VACUUM ANALYZE user_visits" -c "CHECKPOINT"
}

# ---------- the load ----------
# pgbench in chunks of CHUNK seconds until $WORK/stop_VERSION exists
load_loop() {
    local run=$1 version=$2 db=$3 clients=$4 rate=$5 i=0
    shift 5
    local scripts=()
    for s in "$@"; do scripts+=(-f "$HERE/load/$s"); done
    while [ ! -f "$WORK/stop_$version" ]; do
        i=$((i + 1))
        (cd "$WORK/$run" && pgbench -n -d "$db" -c "$clients" -j 2 -R "$rate" -T "$CHUNK" \
            --failures-detailed -D nusers="$USERS" \
            --log --log-prefix="$version.$i" "${scripts[@]}") >>"$WORK/$run/$version.out" 2>&1 || true
    done
}
V1_SCRIPTS=(v1_read.sql@5 v1_update.sql@3 v1_insert.sql@1 visit.sql@3)
V2_SCRIPTS=(v2_read.sql@5 v2_update.sql@3 v2_insert.sql@1 visit.sql@3)

# a managed ETL job on a loop: one line per job, "asked began ended rows status"
etl_loop() {
    local run=$1 db=$2 name=$3 out
    while [ ! -f "$WORK/stop_etl" ]; do
        if out=$(q "$db" 2>>"$WORK/$run/etl.err" <<SQL
SELECT extract(epoch FROM clock_timestamp()) AS asked \gset
SELECT zd_job_begin('$name') \gset
SELECT extract(epoch FROM clock_timestamp()) AS began \gset
BEGIN;
SELECT count(*) AS app_users FROM users WHERE username NOT LIKE 'user%' \gset
INSERT INTO user_visits (user_id, source)
SELECT 1 + (random() * ($USERS - 1))::int, 'etl' FROM generate_series(1, $ETL_ROWS);
SELECT pg_sleep($ETL_SECONDS) \gset
COMMIT;
SELECT zd_job_end() \gset
\echo :asked :began
SQL
        ); then
            echo "$out $(now) $ETL_ROWS ok" >>"$WORK/$run/etl.log"
        else
            echo "0 0 $(now) 0 failed" >>"$WORK/$run/etl.log"
            sleep 0.2
        fi
    done
}

mark() { echo "$2 $(now)" >>"$WORK/$1/phases"; }

# the consistency check: users whose address columns differ from their primary address
inconsistent_users() {
    q "$1" -c "SELECT count(*) FROM users u
                LEFT JOIN LATERAL (SELECT a.address_line_1, a.address_line_2 FROM addresses a
                                    WHERE a.user_id = u.id ORDER BY a.id LIMIT 1) p ON true
               WHERE (u.address_line_1, u.address_line_2) IS DISTINCT FROM (p.address_line_1, p.address_line_2)"
}

# one run: zerodown or naive, in database $2
run_one() {
    local run=$1 db=$2 p rc
    rm -rf "${WORK:?}/$run" "$WORK"/stop_*
    mkdir -p "$WORK/$run"
    say "[$run] loading $USERS users and $USERS visits into database $db"
    load_data "$db"

    say "[$run] version 1 ($V1_CLIENTS clients, $V1_RATE tps) and $ETL_LOOPS managed ETL jobs start; ${BEFORE}s before the release"
    mark "$run" start
    load_loop "$run" v1 "$db" "$V1_CLIENTS" "$V1_RATE" "${V1_SCRIPTS[@]}" &
    local v1=$!
    BG_PIDS+=("$v1")
    local etl=()
    for i in $(seq 1 "$ETL_LOOPS"); do
        etl_loop "$run" "$db" "etl_$i" &
        etl+=($!)
        BG_PIDS+=($!)
    done
    sleep "$BEFORE"

    mark "$run" release1_start
    if [ "$run" = zerodown ]; then
        say "[$run] release 1: zd -C bench/underload/release1 deploy --wait"
        set +e
        zd -d "$db" -C "$HERE/release1" deploy --wait 2>&1 | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        set -e
    else
        say "[$run] release 1: psql -f bench/underload/naive/release1.sql"
        set +e
        psql -X -q -d "$db" -v ON_ERROR_STOP=1 -f "$HERE/naive/release1.sql" 2>&1 | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        set -e
    fi
    mark "$run" release1_end
    echo "release1 $rc" >>"$WORK/$run/status"
    say "[$run] release 1 ended (exit $rc)"

    say "[$run] version 2 starts ($V2_CLIENTS clients, $V2_RATE tps); version 1 goes on for ${MIXED}s"
    load_loop "$run" v2 "$db" "$V2_CLIENTS" "$V2_RATE" "${V2_SCRIPTS[@]}" &
    local v2=$!
    BG_PIDS+=("$v2")
    sleep "$MIXED"
    touch "$WORK/stop_v1"
    wait "$v1" || true
    mark "$run" v1_stop
    say "[$run] version 1 stopped; the consistency check"
    inconsistent_users "$db" >"$WORK/$run/inconsistent" || echo "error" >"$WORK/$run/inconsistent"
    say "[$run] users whose address columns differ from their primary address: $(cat "$WORK/$run/inconsistent")"

    mark "$run" release2_start
    if [ "$run" = zerodown ]; then
        say "[$run] release 2: zd -C bench/underload/release2 deploy --wait"
        set +e
        zd -d "$db" -C "$HERE/release2" deploy --wait 2>&1 | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        set -e
    else
        say "[$run] release 2: psql -f bench/underload/naive/release2.sql"
        set +e
        psql -X -q -d "$db" -v ON_ERROR_STOP=1 -f "$HERE/naive/release2.sql" 2>&1 | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        set -e
    fi
    mark "$run" release2_end
    echo "release2 $rc" >>"$WORK/$run/status"
    say "[$run] release 2 ended (exit $rc); ${AFTER}s after"
    sleep "$AFTER"
    touch "$WORK/stop_v2" "$WORK/stop_etl"
    wait "$v2" || true
    for p in "${etl[@]}"; do wait "$p" || true; done
    mark "$run" end
    BG_PIDS=()

    # what the clients and the jobs wrote, found
    q "$db" -F ' ' -c "SELECT (SELECT count(*) FROM users WHERE username LIKE 'v1-%'),
                               (SELECT count(*) FROM users WHERE username LIKE 'v2-%'),
                               (SELECT count(*) FROM users u WHERE username LIKE 'v2-%'
                                   AND EXISTS (SELECT FROM addresses a WHERE a.user_id = u.id
                                                 AND a.address_line_1 LIKE 'v2 % New Rd')),
                               (SELECT count(*) FROM user_visits WHERE source = 'app'),
                               (SELECT count(*) FROM user_visits WHERE source = 'etl')" >"$WORK/$run/found"
    if [ "$run" = zerodown ]; then
        q "$db" -F ' ' -c "SELECT id, state, from_version, to_version,
                                   extract(epoch FROM gate_closed_at), extract(epoch FROM gate_opened_at)
                              FROM zerodown.deployments ORDER BY id" >"$WORK/$run/deployments" 2>&1 || true
    fi
}

# ---------- the two runs ----------
q postgres -c "CREATE DATABASE naive" -c "CREATE DATABASE report"
T0=$(now)
run_one zerodown postgres
run_one naive naive
T1=$(now)

# ---------- the report ----------
say "loading the logs into database report"
# per-transaction log, pgbench 15 with -R: client_id transaction_no time script_no
# time_epoch time_us schedule_lag; under -R, time is measured from the
# scheduled start (the lag included); it is "failed", "serialization" or
# "deadlock" for a failed transaction
for run in zerodown naive; do
    for version in v1 v2; do
        for f in "$WORK/$run/$version".*; do
            case $f in *.out) continue ;; esac
            awk -v run="$run" -v version="$version" '{
                ok = ($3 ~ /^[0-9]+$/);
                # t: when the transaction was scheduled to start (its end
                # minus its latency), so a transaction stalled by a lock
                # counts in the phase that stalled it; a failed one: its end
                end = $5 + $6 / 1000000.0;
                printf "%s\t%s\t%d\t%.6f\t%s\t%s\n", run, version, $4,
                       ok ? end - $3 / 1000000.0 : end,
                       ok ? $3 / 1000.0 : "\\N", ok ? "ok" : $3 }' "$f"
        done
    done
done >"$WORK/tx.tsv"
for run in zerodown naive; do
    awk -v run="$run" '{ printf "%s\t%s\t%s\n", run, $1, $2 }' "$WORK/$run/phases"
done >"$WORK/phases.tsv"
for run in zerodown naive; do
    awk -v run="$run" '{ printf "%s\t%s\t%s\t%s\t%s\t%s\n", run, $1, $2, $3, $4, $5 }' "$WORK/$run/etl.log"
done >"$WORK/etl.tsv"
# the summaries pgbench printed: failed transactions and aborted clients
for run in zerodown naive; do
    for version in v1 v2; do
        awk -v run="$run" -v version="$version" '
            /number of failed transactions:/ { failed += $5 }
            /aborted/ { aborted++ }
            END { printf "%s\t%s\t%d\t%d\n", run, version, failed, aborted }' "$WORK/$run/$version.out"
    done
done >"$WORK/summaries.tsv"
for run in zerodown naive; do
    read -r v1_found v2_found v2_with_address app_visits etl_visits <"$WORK/$run/found"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$(cat "$WORK/$run/inconsistent")" \
        "$v1_found" "$v2_found" "$v2_with_address" "$app_visits" "$etl_visits" \
        "$(awk '$1 == "release1" { print $2 }' "$WORK/$run/status")" \
        "$(awk '$1 == "release2" { print $2 }' "$WORK/$run/status")"
done >"$WORK/found.tsv"

q report <<SQL
CREATE TABLE tx (run text, version text, script int, t numeric, ms numeric, status text);
CREATE TABLE phases (run text, name text, t numeric);
CREATE TABLE etl (run text, asked numeric, began numeric, ended numeric, rows int, status text);
CREATE TABLE summaries (run text, version text, failed int, aborted int);
CREATE TABLE found (run text, inconsistent text, v1_users bigint, v2_users bigint,
                    v2_with_address bigint, app_visits bigint, etl_visits bigint,
                    release1_rc int, release2_rc int);
\copy tx FROM '$WORK/tx.tsv'
\copy phases FROM '$WORK/phases.tsv'
\copy etl FROM '$WORK/etl.tsv'
\copy summaries FROM '$WORK/summaries.tsv'
\copy found FROM '$WORK/found.tsv'
-- the phase of an instant
CREATE FUNCTION phase_of(r text, at numeric) RETURNS text LANGUAGE sql STABLE AS \$\$
    SELECT CASE
        WHEN at < p.release1_start THEN '1 before'
        WHEN at < p.release1_end THEN '2 release 1'
        WHEN at < p.v1_stop THEN '3 v1+v2'
        WHEN at < p.release2_start THEN '4 v2, check'
        WHEN at < p.release2_end THEN '5 release 2'
        ELSE '6 after' END
      FROM (SELECT max(t) FILTER (WHERE name = 'release1_start') AS release1_start,
                   max(t) FILTER (WHERE name = 'release1_end') AS release1_end,
                   max(t) FILTER (WHERE name = 'v1_stop') AS v1_stop,
                   max(t) FILTER (WHERE name = 'release2_start') AS release2_start,
                   max(t) FILTER (WHERE name = 'release2_end') AS release2_end
              FROM phases WHERE run = r) p
\$\$;
ALTER TABLE tx ADD COLUMN phase text;
UPDATE tx SET phase = phase_of(run, t);
CREATE VIEW run_start AS SELECT run, t FROM phases WHERE name = 'start';
SQL

report=$(psql -X -q -d report -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
\echo 'Client transactions (latency in ms, from the scheduled start: pgbench -R)'
SELECT run, substr(phase, 3) AS phase,
       round(max(t) - min(t)) AS seconds,
       count(*) AS transactions,
       count(*) FILTER (WHERE status <> 'ok') AS failed,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p99,
       round(max(ms), 1) AS max
  FROM tx GROUP BY run, phase
 UNION ALL
SELECT run, 'during the deployment', NULL, count(*), count(*) FILTER (WHERE status <> 'ok'),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(max(ms), 1)
  FROM tx WHERE phase IN ('2 release 1', '5 release 2') GROUP BY run
 UNION ALL
SELECT run, 'whole run', NULL, count(*), count(*) FILTER (WHERE status <> 'ok'),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(max(ms), 1)
  FROM tx GROUP BY run
 ORDER BY 1 DESC, 2;

\echo 'Per-second p99 (ms): the median and the worst second of each phase'
WITH s AS (
    SELECT run, phase, floor(t) AS sec,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
      FROM tx GROUP BY run, phase, floor(t))
SELECT run, substr(phase, 3) AS phase, count(*) AS seconds,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p99)::numeric, 2) AS "median p99",
       round(max(p99)::numeric, 1) AS "worst p99"
  FROM s GROUP BY run, phase ORDER BY 1 DESC, 2;

\echo 'Failures: failed transactions in the logs, in pgbench''s summaries, aborted clients'
SELECT t.run, t.version,
       count(*) FILTER (WHERE t.status <> 'ok') AS "failed (logs)",
       string_agg(DISTINCT t.status, ',') FILTER (WHERE t.status <> 'ok') AS kinds,
       max(s.failed) AS "failed (summaries)", max(s.aborted) AS "aborted clients"
  FROM tx t JOIN summaries s USING (run, version)
 GROUP BY t.run, t.version ORDER BY 1 DESC, 2;

\echo 'Managed ETL jobs: the wait at the gate (zd_job_begin), their length'
SELECT run, count(*) FILTER (WHERE status = 'ok') AS jobs,
       count(*) FILTER (WHERE status <> 'ok') AS failed,
       count(*) FILTER (WHERE status = 'ok' AND began - asked > 0.1) AS "waited > 0.1 s",
       round(max(began - asked) FILTER (WHERE status = 'ok'), 2) AS "longest wait s",
       round(sum(began - asked) FILTER (WHERE status = 'ok'), 2) AS "total wait s",
       round(max(ended - began) FILTER (WHERE status = 'ok'), 2) AS "longest job s"
  FROM etl GROUP BY run ORDER BY 1 DESC;

\echo 'Deployments (seconds) and consistency'
SELECT f.run,
       round(max(p.t) FILTER (WHERE p.name = 'release1_end') - max(p.t) FILTER (WHERE p.name = 'release1_start'), 1) AS "release 1 s",
       f.release1_rc AS rc1,
       round(max(p.t) FILTER (WHERE p.name = 'release2_end') - max(p.t) FILTER (WHERE p.name = 'release2_start'), 1) AS "release 2 s",
       f.release2_rc AS rc2,
       f.inconsistent AS "inconsistent users"
  FROM found f JOIN phases p USING (run) GROUP BY f.run, f.release1_rc, f.release2_rc, f.inconsistent
 ORDER BY 1 DESC;

\echo 'Nothing lost: rows written (successful transactions, job rows) against rows found'
WITH w AS (
    SELECT run,
           count(*) FILTER (WHERE version = 'v1' AND script = 2 AND status = 'ok') AS v1_users,
           count(*) FILTER (WHERE version = 'v2' AND script = 2 AND status = 'ok') AS v2_users,
           count(*) FILTER (WHERE script = 3 AND status = 'ok') AS visits
      FROM tx GROUP BY run),
j AS (SELECT run, sum(rows) FILTER (WHERE status = 'ok') AS etl_rows FROM etl GROUP BY run)
SELECT f.run, w.v1_users || ' / ' || f.v1_users AS "v1 users",
       w.v2_users || ' / ' || f.v2_users || ' (' || f.v2_with_address || ' with their address)' AS "v2 users",
       w.visits || ' / ' || f.app_visits AS "visits",
       j.etl_rows || ' / ' || f.etl_visits AS "job rows",
       (w.v1_users = f.v1_users AND w.v2_users = f.v2_users AND w.v2_users = f.v2_with_address
        AND w.visits = f.app_visits AND j.etl_rows = f.etl_visits) AS "nothing lost"
  FROM found f JOIN w USING (run) JOIN j USING (run) ORDER BY 1 DESC;

\echo 'Aims (zerodown): 0 failed client transactions, 0 inconsistent users, p99 during the deployment <= 2 x p99 before'
WITH p AS (
    SELECT run,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE phase = '1 before') AS before,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE phase IN ('2 release 1', '5 release 2')) AS during,
           count(*) FILTER (WHERE status <> 'ok') AS failed
      FROM tx GROUP BY run)
SELECT p.run, p.failed AS "failed transactions", f.inconsistent AS "inconsistent users",
       round(p.before::numeric, 2) AS "p99 before", round(p.during::numeric, 2) AS "p99 during",
       round((p.during / p.before)::numeric, 2) AS "during / before",
       (p.failed = 0 AND f.inconsistent = '0' AND p.during <= 2 * p.before) AS "aims met"
  FROM p JOIN found f USING (run) ORDER BY 1 DESC;
SQL
)

# per-second series for the plot: seconds since the run started, p50, p99, max
for run in zerodown naive; do
    q report -F ' ' -c "SELECT floor(t - (SELECT t FROM run_start WHERE run = '$run'))::int AS sec,
                               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
                               round(max(ms), 3)
                          FROM tx WHERE run = '$run' AND status = 'ok' GROUP BY 1 ORDER BY 1" >"$WORK/$run.dat"
    q report -F ' ' -c "SELECT name, round(t - (SELECT t FROM run_start WHERE run = '$run'), 2)
                          FROM phases WHERE run = '$run' ORDER BY t" >"$WORK/$run.phases"
done
if command -v gnuplot >/dev/null 2>&1; then
    {
        echo "set terminal pngcairo size 1400,900 font ',10'"
        echo "set output '$PNG'"
        echo "set multiplot layout 2,1 title 'bench/underload: client latency per second (ms, log scale), $USERS users, $(date -u +%Y-%m-%d)'"
        echo "set logscale y; set grid ytics; set xlabel 'seconds since the load started'; set ylabel 'latency (ms)'"
        echo "set key bottom right opaque"
        for run in zerodown naive; do
            xmax=$(awk '$1 == "end" { print $2 }' "$WORK/$run.phases")
            echo "unset object; unset label; set xrange [0:$xmax]"
            awk -v run="$run" '
                { t[$1] = $2 }
                END {
                    printf "set object 1 rect from %s, graph 0 to %s, graph 1 behind fc rgb \"#ffd8a8\" fs solid 0.6 noborder\n", t["release1_start"], t["release1_end"];
                    printf "set object 2 rect from %s, graph 0 to %s, graph 1 behind fc rgb \"#ffd8a8\" fs solid 0.6 noborder\n", t["release2_start"], t["release2_end"];
                    printf "set object 3 rect from %s, graph 0 to %s, graph 1 behind fc rgb \"#d0ebff\" fs solid 0.5 noborder\n", t["release1_end"], t["v1_stop"];
                    printf "set label 1 \"release 1\" at %s, graph 0.95 offset 0.5,0\n", t["release1_start"];
                    printf "set label 2 \"v1+v2\" at %s, graph 0.95 offset 0.5,0\n", t["release1_end"];
                    printf "set label 3 \"release 2\" at %s, graph 0.88 offset 0.5,0\n", t["release2_start"];
                    printf "set label 4 \"before\" at 1, graph 0.95\n";
                    printf "set label 5 \"after\" at %s, graph 0.95 offset 0.5,0\n", t["release2_end"];
                }' "$WORK/$run.phases"
            echo "set title '$run'"
            echo "plot '$WORK/$run.dat' using 1:4 with steps lc rgb '#c92a2a' title 'max', \
                 '' using 1:3 with steps lw 2 lc rgb '#1864ab' title 'p99', \
                 '' using 1:2 with steps lw 2 lc rgb '#2b8a3e' title 'p50'"
        done
        echo "unset multiplot"
    } >"$WORK/plot.gp"
    gnuplot "$WORK/plot.gp" && PLOT="plot: bench/results/underload.png" || PLOT="plot: gnuplot failed"
else
    PLOT="plot: none (gnuplot missing)"
fi

header="bench/underload $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(pg_config --version), zerodown $SOURCE
USERS=$USERS BEFORE=$BEFORE MIXED=$MIXED AFTER=$AFTER V1=${V1_CLIENTS}x${V1_RATE}tps V2=${V2_CLIENTS}x${V2_RATE}tps ETL=${ETL_LOOPS}x(${ETL_ROWS} rows, ${ETL_SECONDS}s) CHUNK=${CHUNK}s; both runs took $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", b - a }') s"
echo
echo "$header"
echo "$report"
for run in zerodown naive; do
    if [ -s "$WORK/$run/etl.err" ]; then
        echo "errors of the $run run's ETL jobs:"
        sort "$WORK/$run/etl.err" | uniq -c | sed 's/^/  /'
    fi
done | tee "$WORK/errors"
echo "$PLOT"
{
    echo "$header"
    echo "$report"
    cat "$WORK/errors"
    echo "$PLOT"
} >"$RESULTS"
echo "(written to bench/results/underload.txt)"
