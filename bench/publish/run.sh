#!/usr/bin/env bash
# bench/publish — what blue/green publishing costs.
#
# 1. zd_publish of a schema of SMALL rows (default 10 thousand) and of
#    LARGE rows (default 10 million), narrow tables with a primary key: the
#    swap only renames schemas, so its time must not grow with the data.
#    Each size is published ROUNDS times (the previous schema renamed back
#    to staging between rounds), then once more with a previous schema of
#    the same size to drop.  Timed by psql (\timing), commit included, and
#    the time the swap held its locks (zerodown.publishes.swap_duration):
#    the files of a dropped previous schema are unlinked at commit, after
#    the locks are released, so readers never wait for that part.
# 2. zd_clone_schema of a schema of CLONE_ROWS rows (default 1 million:
#    a table with a bigserial key, a foreign key, a secondary index and a
#    view) against pg_dump -n SCHEMA | psql into a fresh database, the way
#    such a copy is made without zerodown, alternating, CLONE_ROUNDS each;
#    the ratio compares the best run of each (the machine may be shared).
#
# Run as root from the repository: bench/publish/run.sh.  It builds and
# installs zerodown, starts a throwaway cluster and removes it at the end.
# Takes about five minutes on two cores.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-publish}
export ZD_PORT=${ZD_PORT:-5493}
SMALL=${SMALL:-10000}
LARGE=${LARGE:-10000000}
ROUNDS=${ROUNDS:-5}
CLONE_ROWS=${CLONE_ROWS:-1000000}
CLONE_ROUNDS=${CLONE_ROUNDS:-3}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"

"$ROOT/tools/setup.sh" >/dev/null
make -C "$ROOT" -s with_llvm=no >/dev/null
make -C "$ROOT" -s with_llvm=no install >/dev/null
"$ROOT/tools/cluster.sh" destroy >/dev/null 2>&1 || true
"$ROOT/tools/cluster.sh" start >/dev/null
trap '"$ROOT/tools/cluster.sh" destroy >/dev/null 2>&1 || true' EXIT
eval "$("$ROOT/tools/cluster.sh" env)"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# milliseconds psql's \timing reports for one statement, commit included
timed() {
    psql -X -q -At -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
now_ms() { date +%s%3N; }

q "CREATE EXTENSION zerodown"
q "CREATE TABLE bench_figures (part text, size bigint, what text, ms numeric, locked_ms numeric)"
# how long the last publish held its locks (zerodown.publishes.swap_duration)
locked() { q "SELECT round(extract(epoch FROM swap_duration) * 1000, 2) FROM zerodown.publishes ORDER BY id DESC LIMIT 1"; }

# a schema NAME holding ROWS rows in a narrow table with a primary key
make_schema() {
    local name=$1 rows=$2
    q "CREATE SCHEMA $name"
    q "CREATE TABLE $name.facts (id integer, v integer)"
    q "INSERT INTO $name.facts SELECT i, i % 1000 FROM generate_series(1, $rows) i"
    q "ALTER TABLE $name.facts ADD PRIMARY KEY (id)"
    q "CREATE VIEW $name.summary AS SELECT v, count(*) FROM $name.facts GROUP BY v"
    q "VACUUM ANALYZE $name.facts"
}

echo "== part 1: zd_publish, $SMALL vs $LARGE rows, $ROUNDS rounds each"
for size in "$SMALL" "$LARGE"; do
    p=p$size
    t0=$(now_ms)
    make_schema "${p}_live" "$size"
    make_schema "${p}_staging" "$size"
    echo "  built two schemas of $size rows in $(( ($(now_ms) - t0) / 1000 )) s"
    q "CHECKPOINT"
    for round in $(seq 1 "$ROUNDS"); do
        ms=$(timed "SELECT zd_publish('${p}_staging', '${p}_live')")
        lk=$(locked)
        q "INSERT INTO bench_figures VALUES ('publish', $size, 'swap', $ms, $lk)"
        q "ALTER SCHEMA ${p}_live_previous RENAME TO ${p}_staging"
        printf '  %9d rows  round %d  %8.2f ms (locks held %6.2f ms)\n' "$size" "$round" "$ms" "$lk"
    done
    # once more, with a previous schema to drop: its files are unlinked at
    # commit, after the locks are released
    q "SELECT zd_publish('${p}_staging', '${p}_live')" >/dev/null
    make_schema "${p}_staging" "$size"
    q "CHECKPOINT"
    ms=$(timed "SELECT zd_publish('${p}_staging', '${p}_live')")
    lk=$(locked)
    q "INSERT INTO bench_figures VALUES ('publish', $size, 'swap, dropping the previous schema', $ms, $lk)"
    printf '  %9d rows  dropping the previous schema too  %8.2f ms (locks held %6.2f ms)\n' "$size" "$ms" "$lk"
    q "DROP SCHEMA ${p}_live, ${p}_live_previous CASCADE" 2>/dev/null
done

echo "== part 2: zd_clone_schema vs pg_dump -n | psql, $CLONE_ROWS rows, $CLONE_ROUNDS rounds each"
q "CREATE SCHEMA shop"
q "CREATE TABLE shop.customers (id serial PRIMARY KEY, name text NOT NULL)"
q "INSERT INTO shop.customers (name) SELECT 'customer ' || i FROM generate_series(1, 1000) i"
q "CREATE TABLE shop.orders (id bigserial PRIMARY KEY,
                             customer_id integer NOT NULL REFERENCES shop.customers,
                             amount numeric(10, 2) NOT NULL CHECK (amount >= 0),
                             placed timestamptz NOT NULL DEFAULT now(),
                             note text)"
q "INSERT INTO shop.orders (customer_id, amount, placed, note)
   SELECT 1 + i % 1000, (i % 10000) / 100.0, '2024-01-01'::timestamptz + i * interval '1 second',
          CASE WHEN i % 10 = 0 THEN 'gift' END
     FROM generate_series(1, $CLONE_ROWS) i"
q "CREATE INDEX orders_by_customer ON shop.orders (customer_id, placed)"
q "CREATE VIEW shop.order_totals AS SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id"
q "VACUUM ANALYZE shop.orders"
echo "  shop: $(q "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relnamespace = 'shop'::regnamespace AND c.relkind = 'r'")"
for round in $(seq 1 "$CLONE_ROUNDS"); do
    q "DROP SCHEMA IF EXISTS shop_copy CASCADE" 2>/dev/null
    q "CHECKPOINT"
    ms=$(timed "SELECT count(*) FROM zd_clone_schema('shop', 'shop_copy')")
    q "INSERT INTO bench_figures VALUES ('clone', $CLONE_ROWS, 'zd_clone_schema', $ms, NULL)"
    printf '  round %d  zd_clone_schema          %9.0f ms\n' "$round" "$ms"

    q "DROP DATABASE IF EXISTS bench_restore" 2>/dev/null
    q "CREATE DATABASE bench_restore"
    q "CHECKPOINT"
    t0=$(now_ms)
    pg_dump -n shop "$PGDATABASE" | psql -X -q -v ON_ERROR_STOP=1 -d bench_restore >/dev/null
    ms=$(( $(now_ms) - t0 ))
    q "INSERT INTO bench_figures VALUES ('clone', $CLONE_ROWS, 'pg_dump -n | psql', $ms, NULL)"
    printf '  round %d  pg_dump -n shop | psql  %9d ms\n' "$round" "$ms"
done
# the two copies hold the same rows
[ "$(q "SELECT count(*) FROM shop_copy.orders")" = "$(psql -X -At -d bench_restore -c "SELECT count(*) FROM shop.orders")" ]
q "DROP DATABASE bench_restore"

report=$(psql -X -q -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SELECT size AS rows, what, count(*) AS runs,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS "median ms",
       round(max(ms), 2) AS "max ms",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY locked_ms)::numeric, 2) AS "median ms locks held"
  FROM bench_figures WHERE part = 'publish' GROUP BY size, what ORDER BY what DESC, size;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench_figures
               WHERE part = 'publish' AND what = 'swap' AND size = $LARGE)::numeric /
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM bench_figures
               WHERE part = 'publish' AND what = 'swap' AND size = $SMALL)::numeric, 2)
       AS "publish time ratio $LARGE / $SMALL rows (aim: about 1)";
SELECT what, count(*) AS runs, round(avg(ms)) AS "mean ms", round(min(ms)) AS "min ms"
  FROM bench_figures WHERE part = 'clone' GROUP BY what ORDER BY what;
SELECT round((SELECT min(ms) FROM bench_figures WHERE part = 'clone' AND what = 'pg_dump -n | psql') /
             (SELECT min(ms) FROM bench_figures WHERE part = 'clone' AND what = 'zd_clone_schema'), 2)
       AS "pg_dump | psql time / zd_clone_schema time (best of each)";
SQL
)
echo "$report"
{
    echo "bench/publish $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(pg_config --version)"
    echo "$report"
} >"$RESULTS/publish.txt"
echo "(written to bench/results/publish.txt)"
