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
#    ROUNDS rounds, the variants alternating; the median of each is kept.
#    Aims: (b) <= 1.5 x (a); (b) <= 0.6 x (c).
# 2. Single-row updates, pgbench with CLIENTS clients for DURATION seconds,
#    on a PGBENCH_ROWS-row table with (a) and (b), alternating, PGBENCH_ROUNDS
#    rounds each, the median kept: updates of the old column itself (the trigger
#    fires and computes the new one), and pgbench-style updates of another
#    column (balance; the trigger is declared UPDATE OF the expansion's
#    columns and does not fire).  Aim: the trigger costs under 5% of TPS.
# 3. The backfill: CALL zd_backfill of a ROWS-row table (batches of BATCH)
#    against one plain UPDATE that fills the column of an identical table;
#    both times, the ratio, and the longest batch (how long a batch holds
#    its row locks).
#
# Run as root from the repository: bench/dualwrite/run.sh.  It builds and
# installs zerodown, starts a throwaway cluster and removes it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-dualwrite}
export ZD_PORT=${ZD_PORT:-5493}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
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
# milliseconds one statement takes, as psql's \timing measures it
timed() {
    psql -X -q -At -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c '\timing on' -c "$1" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

q "CREATE EXTENSION zerodown"
q "CREATE TABLE bench_times (part text, variant text, round int, ms numeric)"

# the table of variant $1, empty, with its trigger
make_table() {
    local v=$1
    q "DROP TABLE IF EXISTS bench_$v"
    [ "$v" != c ] || q "DROP FUNCTION IF EXISTS bench_c_up(), bench_c_down()"
    case $v in
    a)
        q "CREATE TABLE bench_a (id integer PRIMARY KEY, email text, email_normalized text)"
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
        ins=$(timed "INSERT INTO bench_$v (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i")
        q "VACUUM ANALYZE bench_$v" "CHECKPOINT"
        upd=$(timed "UPDATE bench_$v SET email = 'Changed' || id || '@Example.COM'")
        # every variant with a trigger filled the new column
        if [ "$v" != a ]; then
            bad=$(q "SELECT count(*) FROM bench_$v WHERE email_normalized IS DISTINCT FROM lower(email)")
            [ "$bad" = 0 ] || { echo "bench/dualwrite: variant $v left $bad rows out of step" >&2; exit 1; }
        fi
        printf '  round %d  (%s)  insert %9.0f ms   update %9.0f ms\n' "$round" "$v" "$ins" "$upd"
        q "INSERT INTO bench_times VALUES ('insert', '$v', $round, $ins), ('update', '$v', $round, $upd)"
    done
done
q "DROP TABLE bench_a, bench_b, bench_c"

echo "== part 2: pgbench single-row UPDATEs, $CLIENTS clients, ${DURATION}s per run, $PGBENCH_ROUNDS rounds"
script=$(mktemp /tmp/zd-bench-dualwrite.XXXXXX.sql)
for v in a b; do
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
        for v in a b; do
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
            tps=$(pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -f "$script" 2>/dev/null |
                sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1)
            printf '  round %d  %-7s (%s)  %10.0f tps\n' "$round" "$workload" "$v" "$tps"
            q "INSERT INTO bench_times VALUES ('pgbench $workload', '$v', $round, $tps)"
        done
    done
done
rm -f "$script"
bad=$(q "SELECT count(*) FROM bench_b WHERE email_normalized IS DISTINCT FROM lower(email)")
[ "$bad" = 0 ] || { echo "bench/dualwrite: pgbench left $bad rows out of step" >&2; exit 1; }
q "DROP TABLE bench_a, bench_b"

echo "== part 3: zd_backfill of $ROWS rows (batches of $BATCH) against one plain UPDATE"
q "DROP TABLE IF EXISTS fill_plain, fill_zd;
   CREATE TABLE fill_plain (id integer PRIMARY KEY, email text, email_normalized text);
   CREATE TABLE fill_zd (id integer PRIMARY KEY, email text);
   INSERT INTO fill_plain (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i;
   INSERT INTO fill_zd (id, email) SELECT i, 'User' || i || '@Example.COM' FROM generate_series(1, $ROWS) i" \
  "VACUUM ANALYZE fill_plain" "VACUUM ANALYZE fill_zd"
q "SELECT zd_expand_column('fill_zd', 'email', 'email_normalized', 'text', 'lower(email)', 'email_normalized')" >/dev/null
q "CHECKPOINT"
plain=$(timed "UPDATE fill_plain SET email_normalized = lower(email)")
q "CHECKPOINT"
backfill=$(timed "CALL zd_backfill('fill_zd', 'email_normalized', batch_size => $BATCH)")
left=$(q "SELECT count(*) FROM fill_zd WHERE email_normalized IS DISTINCT FROM lower(email)")
[ "$left" = 0 ] || { echo "bench/dualwrite: the backfill left $left rows" >&2; exit 1; }
q "INSERT INTO bench_times VALUES ('fill', 'plain', 1, $plain), ('fill', 'backfill', 1, $backfill)"
printf '  plain UPDATE %9.0f ms   zd_backfill %9.0f ms\n' "$plain" "$backfill"

report=$(psql -X -q -v ON_ERROR_STOP=1 <<SQL
\pset footer off
WITH med AS (
    SELECT part, variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
      FROM bench_times GROUP BY part, variant)
SELECT m.part AS "$ROWS rows",
       round(a.ms) AS "(a) no trigger ms",
       round(b.ms) AS "(b) zerodown C ms",
       round(c.ms) AS "(c) PL/pgSQL ms",
       round((b.ms / a.ms)::numeric, 2) AS "b/a (aim <= 1.5)",
       round((b.ms / c.ms)::numeric, 2) AS "b/c (aim <= 0.6)"
  FROM (VALUES ('insert'), ('update')) m(part)
  JOIN med a ON a.part = m.part AND a.variant = 'a'
  JOIN med b ON b.part = m.part AND b.variant = 'b'
  JOIN med c ON c.part = m.part AND c.variant = 'c'
 ORDER BY m.part;
WITH med AS (
    SELECT part, variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS tps
      FROM bench_times WHERE part LIKE 'pgbench %' GROUP BY part, variant)
SELECT CASE a.part WHEN 'pgbench email' THEN 'UPDATE SET email (the old column)'
                   ELSE 'UPDATE SET balance (pgbench-style, another column)' END AS "single-row workload",
       round(a.tps) AS "(a) no trigger tps", round(b.tps) AS "(b) zerodown tps",
       round((100 * (1 - b.tps / a.tps))::numeric, 1) AS "trigger cost % (aim < 5)"
  FROM med a JOIN med b ON b.part = a.part AND b.variant = 'b'
 WHERE a.variant = 'a'
 ORDER BY a.part DESC;
SELECT round(p.ms) AS "plain UPDATE ms", round(z.ms) AS "zd_backfill ms",
       round((z.ms / p.ms)::numeric, 2) AS "backfill/plain",
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
