#!/usr/bin/env bash
# bench/dualwrite — what the dual-write triggers and the backfill cost.
#
# 1. Bulk writes: a ROWS-row INSERT ... SELECT, then a ROWS-row UPDATE of the
#    old column, on a table (id, email, email_normalized) with
#      (a) no trigger,
#      (b) zerodown's C trigger of zd_expand_column (email_normalized =
#          lower(email) when email is written),
#      (c) the same done the way pgroll generates its triggers: PL/pgSQL, an
#          "up" and a "down" BEFORE INSERT OR UPDATE trigger, each declaring
#          every column %TYPE from NEW, reading search_path to pick its
#          direction, and clearing a needs-backfill flag column.
#    ROUNDS rounds, the variants alternating.  Each statement is measured
#    in wall time and in the CPU time of its backend (utime + stime from
#    /proc), which other load on the machine disturbs much less; the median
#    and the best round of each are reported.  Aims: (b) <= 1.5 x (a);
#    (b) <= 0.6 x (c).
# 2. Single-row updates, pgbench with CLIENTS clients for DURATION seconds,
#    on a PGBENCH_ROWS-row table with (a) and (b), alternating, PGBENCH_ROUNDS
#    rounds each, the median kept: updates of the old column itself (the trigger
#    fires and computes the new one), and pgbench-style updates of another
#    column (balance; the trigger is declared UPDATE OF the expansion's
#    columns and does not fire), with (a), (b) and (n), an empty PL/pgSQL
#    BEFORE UPDATE OF email trigger, to tell PostgreSQL's own cost of a
#    BEFORE UPDATE row trigger from zerodown's.  Besides TPS, the server CPU
#    per transaction: the CPU time of the finished pgbench backends (the
#    postmaster's cutime + cstime) over the transactions.  Aim: the trigger
#    costs under 5% of TPS.
# 3. The backfill: CALL zd_backfill of a ROWS-row table (batches of BATCH)
#    against one plain UPDATE that fills the column of an identical table;
#    both times (wall and backend CPU), the ratio, and the longest batch (how
#    long a batch holds its row locks).
#
# Run as root from the repository: bench/dualwrite/run.sh.  It builds and
# installs zerodown, starts a throwaway cluster and removes it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-dualwrite}
export ZD_PORT=${ZD_PORT:-5493}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
PGBENCH_ROUNDS=${PGBENCH_ROUNDS:-5}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-15}
PGBENCH_ROWS=${PGBENCH_ROWS:-100000}
BATCH=${BATCH:-1000}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"

if [ "${ZD_BENCH_NO_INSTALL:-}" = "" ]; then
    "$ROOT/tools/setup.sh" >/dev/null
    make -C "$ROOT" -s with_llvm=no >/dev/null
    make -C "$ROOT" -s with_llvm=no install >/dev/null
fi
"$ROOT/tools/cluster.sh" destroy >/dev/null 2>&1 || true
"$ROOT/tools/cluster.sh" start >/dev/null
trap '"$ROOT/tools/cluster.sh" destroy >/dev/null 2>&1 || true' EXIT
eval "$("$ROOT/tools/cluster.sh" env)"

export PGOPTIONS="-c client_min_messages=warning"
# each argument a statement, each in its own transaction
q() {
    local args=() s
    for s in "$@"; do args+=(-c "$s"); done
    psql -X -q -At -v ON_ERROR_STOP=1 "${args[@]}"
}
# "wall_ms cpu_ms" of one statement: psql's \timing, and the utime + stime
# its backend spent (from /proc, in clock ticks)
TICK_MS=$((1000 / $(getconf CLK_TCK)))
timed() {
    local out ticks0 ticks1 wall
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid \gset
\setenv ZD_BENCH_PID :pid
\! awk '{print \$14 + \$15}' /proc/\$ZD_BENCH_PID/stat
\timing on
$1;
\timing off
\! awk '{print \$14 + \$15}' /proc/\$ZD_BENCH_PID/stat
SQL
)
    ticks0=$(echo "$out" | grep -E '^[0-9]+$' | head -1)
    ticks1=$(echo "$out" | grep -E '^[0-9]+$' | tail -1)
    wall=$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    echo "$wall $(((ticks1 - ticks0) * TICK_MS))"
}
# the CPU ticks of the postmaster's finished children (the pgbench backends)
children_ticks() {
    awk '{print $16 + $17}' "/proc/$(head -1 "$ZD_CLUSTER_DIR/data/postmaster.pid")/stat"
}

q "CREATE EXTENSION zerodown"
q "CREATE TABLE bench_times (part text, variant text, round int, ms numeric, cpu_ms numeric)"

# the table of variant $1, empty, with its trigger
make_table() {
    local v=$1
    q "DROP TABLE IF EXISTS bench_$v"
    [ "$v" != c ] || q "DROP FUNCTION IF EXISTS bench_c_up(), bench_c_down()"
    case $v in
    a)
        q "CREATE TABLE bench_a (id integer PRIMARY KEY, email text, email_normalized text)"
        ;;
    n)
        q "CREATE TABLE bench_n (id integer PRIMARY KEY, email text, email_normalized text)"
        q "CREATE OR REPLACE FUNCTION bench_n_noop() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END \$\$"
        q "CREATE TRIGGER bench_n_noop BEFORE UPDATE OF email ON bench_n FOR EACH ROW EXECUTE FUNCTION bench_n_noop()"
        ;;
    b)
        q "CREATE TABLE bench_b (id integer PRIMARY KEY, email text)"
        q "SELECT zd_expand_column('bench_b', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized')" >/dev/null
        ;;
    c)
        q "CREATE TABLE bench_c (id integer PRIMARY KEY, email text, email_normalized text,
                                 _needs_backfill boolean DEFAULT true)"
        q "$(cat <<'SQL'
CREATE FUNCTION bench_c_up() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    "id" "public"."bench_c"."id"%TYPE := NEW."id";
    "email" "public"."bench_c"."email"%TYPE := NEW."email";
    "email_normalized" "public"."bench_c"."email_normalized"%TYPE := NEW."email_normalized";
    latest_schema text;
    search_path text;
BEGIN
    SELECT current_setting INTO search_path FROM current_setting('search_path');
    IF search_path != 'public_02_normalize_email' THEN
        NEW."email_normalized" = lower(email);
        NEW."_needs_backfill" = false;
    END IF;
    RETURN NEW;
END; $$;
CREATE FUNCTION bench_c_down() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    "id" "public"."bench_c"."id"%TYPE := NEW."id";
    "email" "public"."bench_c"."email"%TYPE := NEW."email";
    "email_normalized" "public"."bench_c"."email_normalized"%TYPE := NEW."email_normalized";
    latest_schema text;
    search_path text;
BEGIN
    SELECT current_setting INTO search_path FROM current_setting('search_path');
    IF search_path = 'public_02_normalize_email' THEN
        NEW."email" = email_normalized;
        NEW."_needs_backfill" = false;
    END IF;
    RETURN NEW;
END; $$;
CREATE TRIGGER bench_c_up BEFORE INSERT OR UPDATE ON bench_c FOR EACH ROW EXECUTE FUNCTION bench_c_up();
CREATE TRIGGER bench_c_down BEFORE INSERT OR UPDATE ON bench_c FOR EACH ROW EXECUTE FUNCTION bench_c_down();
SQL
)"
        ;;
    esac
}

echo "== part 1: $ROWS-row INSERT ... SELECT and UPDATE, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
    for v in a b c; do
        make_table "$v"
        q "CHECKPOINT"
        read -r ins ins_cpu < <(timed "INSERT INTO bench_$v (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i")
        q "VACUUM ANALYZE bench_$v" "CHECKPOINT"
        read -r upd upd_cpu < <(timed "UPDATE bench_$v SET email = 'Changed' || id || '@Example.COM'")
        # every variant with a trigger filled the new column
        if [ "$v" != a ]; then
            bad=$(q "SELECT count(*) FROM bench_$v WHERE email_normalized IS DISTINCT FROM lower(email)")
            [ "$bad" = 0 ] || { echo "bench/dualwrite: variant $v left $bad rows out of step" >&2; exit 1; }
        fi
        printf '  round %d  (%s)  insert %7.0f ms (cpu %7d)   update %7.0f ms (cpu %7d)\n' \
            "$round" "$v" "$ins" "$ins_cpu" "$upd" "$upd_cpu"
        q "INSERT INTO bench_times VALUES ('insert', '$v', $round, $ins, $ins_cpu), ('update', '$v', $round, $upd, $upd_cpu)"
    done
done
q "DROP TABLE bench_a, bench_b, bench_c"

echo "== part 2: pgbench single-row UPDATEs, $CLIENTS clients, ${DURATION}s per run, $PGBENCH_ROUNDS rounds"
script=$(mktemp /tmp/zd-bench-dualwrite.XXXXXX.sql)
for v in a b n; do
    make_table "$v"
    q "ALTER TABLE bench_$v ADD COLUMN balance integer NOT NULL DEFAULT 0" \
      "INSERT INTO bench_$v (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $PGBENCH_ROWS) i" \
      "VACUUM ANALYZE bench_$v"
done
# warm the caches and the connections once, unmeasured
printf '\\set id random(1, %d)\nSELECT email FROM bench_a WHERE id = :id;\n' "$PGBENCH_ROWS" >"$script"
pgbench -n -c "$CLIENTS" -j 2 -T 3 -f "$script" >/dev/null 2>&1
for round in $(seq 1 "$PGBENCH_ROUNDS"); do
    for workload in email balance; do
        for v in a b n; do
            if [ "$workload" = email ]; then
                # the old column itself: the trigger computes the new one
                set_clause="email = 'Round' || :id || '@Example.COM'"
            else
                # pgbench's TPC-B-like update of another column: the trigger
                # (UPDATE OF email, email_normalized) does not fire
                set_clause="balance = balance + :id % 100 - 50"
            fi
            printf '\\set id random(1, %d)\nUPDATE bench_%s SET %s WHERE id = :id;\n' \
                "$PGBENCH_ROWS" "$v" "$set_clause" >"$script"
            ticks0=$(children_ticks)
            out=$(pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -f "$script" 2>/dev/null)
            sleep 1    # the backends exit and are reaped
            ticks1=$(children_ticks)
            tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1)
            xacts=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
            us=$(awk -v t=$((ticks1 - ticks0)) -v ms="$TICK_MS" -v n="$xacts" 'BEGIN { printf "%.1f", t * ms * 1000 / n }')
            printf '  round %d  %-7s (%s)  %8.0f tps  %6.1f us cpu/xact\n' "$round" "$workload" "$v" "$tps" "$us"
            q "INSERT INTO bench_times VALUES ('pgbench $workload', '$v', $round, $tps, $us)"
        done
    done
done
rm -f "$script"
bad=$(q "SELECT count(*) FROM bench_b WHERE email_normalized IS DISTINCT FROM lower(email)")
[ "$bad" = 0 ] || { echo "bench/dualwrite: pgbench left $bad rows out of step" >&2; exit 1; }
q "DROP TABLE bench_a, bench_b, bench_n" "DROP FUNCTION bench_n_noop()"

echo "== part 3: zd_backfill of $ROWS rows (batches of $BATCH) against one plain UPDATE"
q "DROP TABLE IF EXISTS fill_plain, fill_zd;
   CREATE TABLE fill_plain (id integer PRIMARY KEY, email text, email_normalized text);
   CREATE TABLE fill_zd (id integer PRIMARY KEY, email text);
   INSERT INTO fill_plain (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i;
   INSERT INTO fill_zd (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i" \
  "VACUUM ANALYZE fill_plain" "VACUUM ANALYZE fill_zd"
q "SELECT zd_expand_column('fill_zd', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized')" >/dev/null
q "CHECKPOINT"
read -r plain plain_cpu < <(timed "UPDATE fill_plain SET email_normalized = lower(email)")
q "CHECKPOINT"
read -r backfill backfill_cpu < <(timed "CALL zd_backfill('fill_zd', 'email_normalized', batch_size => $BATCH)")
left=$(q "SELECT count(*) FROM fill_zd WHERE email_normalized IS DISTINCT FROM lower(email)")
[ "$left" = 0 ] || { echo "bench/dualwrite: the backfill left $left rows" >&2; exit 1; }
q "INSERT INTO bench_times VALUES ('fill', 'plain', 1, $plain, $plain_cpu), ('fill', 'backfill', 1, $backfill, $backfill_cpu)"
printf '  plain UPDATE %7.0f ms (cpu %7d)   zd_backfill %7.0f ms (cpu %7d)\n' \
    "$plain" "$plain_cpu" "$backfill" "$backfill_cpu"

report=$(psql -X -q -v ON_ERROR_STOP=1 <<SQL
\pset footer off
WITH s AS (
    SELECT part, variant,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, min(ms) AS best_ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_ms) AS cpu, min(cpu_ms) AS best_cpu
      FROM bench_times WHERE part IN ('insert', 'update') GROUP BY part, variant),
m AS (SELECT 'wall, median' AS measure, part, variant, ms AS v FROM s
      UNION ALL SELECT 'wall, best', part, variant, best_ms FROM s
      UNION ALL SELECT 'backend cpu, median', part, variant, cpu FROM s
      UNION ALL SELECT 'backend cpu, best', part, variant, best_cpu FROM s)
SELECT a.part AS "$ROWS rows", a.measure,
       round(a.v) AS "(a) no trigger ms", round(b.v) AS "(b) zerodown C ms", round(c.v) AS "(c) PL/pgSQL ms",
       round((b.v / a.v)::numeric, 2) AS "b/a (aim <= 1.5)",
       round((b.v / c.v)::numeric, 2) AS "b/c (aim <= 0.6)"
  FROM m a
  JOIN m b ON b.part = a.part AND b.measure = a.measure AND b.variant = 'b'
  JOIN m c ON c.part = a.part AND c.measure = a.measure AND c.variant = 'c'
 WHERE a.variant = 'a'
 ORDER BY a.part, a.measure DESC;
WITH s AS (
    SELECT part, variant,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS tps, max(ms) AS best_tps,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY cpu_ms) AS us
      FROM bench_times WHERE part LIKE 'pgbench %' GROUP BY part, variant)
SELECT CASE a.part WHEN 'pgbench email' THEN 'SET email (old column)'
                   ELSE 'SET balance (another column)' END AS "single-row UPDATE",
       round(a.tps) AS "(a) tps", round(b.tps) AS "(b) tps", round(n.tps) AS "(n) tps",
       round((100 * (1 - b.tps / a.tps))::numeric, 1) AS "b cost % tps (aim < 5)",
       round((100 * (1 - b.best_tps / a.best_tps))::numeric, 1) AS "b cost % best tps",
       round(a.us::numeric, 1) AS "(a) us cpu/xact", round(b.us::numeric, 1) AS "(b) us", round(n.us::numeric, 1) AS "(n) us",
       round((100 * (1 - a.us / b.us))::numeric, 1) AS "b cost % cpu",
       round((100 * (1 - a.us / n.us))::numeric, 1) AS "n cost % cpu"
  FROM s a
  JOIN s b ON b.part = a.part AND b.variant = 'b'
  JOIN s n ON n.part = a.part AND n.variant = 'n'
 WHERE a.variant = 'a'
 ORDER BY a.part DESC;
SELECT round(p.ms) AS "plain UPDATE ms", round(z.ms) AS "zd_backfill ms",
       round((z.ms / p.ms)::numeric, 2) AS "backfill/plain wall",
       round(p.cpu_ms) AS "plain cpu ms", round(z.cpu_ms) AS "backfill cpu ms",
       round((z.cpu_ms / nullif(p.cpu_ms, 0))::numeric, 2) AS "backfill/plain cpu",
       (SELECT batches FROM zerodown.expansion_status WHERE table_name = 'fill_zd'::regclass) AS batches,
       (SELECT round(extract(epoch FROM longest_batch) * 1000) FROM zerodown.expansion_status
         WHERE table_name = 'fill_zd'::regclass) AS "longest batch ms"
  FROM bench_times p, bench_times z
 WHERE p.part = 'fill' AND p.variant = 'plain' AND z.part = 'fill' AND z.variant = 'backfill';
SQL
)
echo "$report"
{
    echo "bench/dualwrite $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(pg_config --version)"
    echo "ROWS=$ROWS ROUNDS=$ROUNDS PGBENCH_ROUNDS=$PGBENCH_ROUNDS CLIENTS=$CLIENTS DURATION=$DURATION PGBENCH_ROWS=$PGBENCH_ROWS BATCH=$BATCH"
    echo "$report"
} >"$RESULTS/dualwrite.txt"
echo "(written to bench/results/dualwrite.txt)"
