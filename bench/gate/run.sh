#!/usr/bin/env bash
# bench/gate — what the deployment gate costs, and how fast it hands over.
#
# 1. pgbench -S (read-only, one SELECT per transaction) with CLIENTS clients
#    for DURATION seconds, zerodown.managed off vs on, alternating in one run
#    (ROUNDS rounds each).  Baseline: managed off.  Aim: on >= 0.97 x off.
# 2. The gaps around a deployment, over TRIALS trials: job A runs; a
#    deployment is queued (the gate is closing); job B asks to start and
#    waits; A ends.  Measured from timestamps the sessions and the patch
#    itself write:
#      drain gap   = first patch statement starts - job A ended
#      resume gap  = job B started - the worker opened the gate
#    Baseline: a block file polled every few seconds (seed 000).  Aim: each
#    median under 10 ms.
#
# Run as root from the repository: bench/gate/run.sh.  It builds and
# installs zerodown, starts a throwaway cluster and removes it at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-gate}
export ZD_PORT=${ZD_PORT:-5494}
DURATION=${DURATION:-20}
CLIENTS=${CLIENTS:-8}
ROUNDS=${ROUNDS:-2}
TRIALS=${TRIALS:-25}
SCALE=${SCALE:-10}
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
# wait (bounded) until a query returns t
await() {
    local i
    for i in $(seq 1 2000); do
        [ "$(q "$1")" = t ] && return 0
        sleep 0.005
    done
    echo "bench/gate: timed out waiting for: $1" >&2
    exit 1
}

q "CREATE EXTENSION zerodown"
echo "== part 1: pgbench -S, $CLIENTS clients, ${DURATION}s per run, scale $SCALE"
pgbench -i -q -s "$SCALE" >/dev/null 2>&1
# warm the cache and the connections once, unmeasured
pgbench -n -S -c "$CLIENTS" -j 2 -T 5 >/dev/null 2>&1
q "CREATE TABLE bench_tps (round int, managed text, tps numeric)"
for round in $(seq 1 "$ROUNDS"); do
    for managed in off on; do
        tps=$(PGOPTIONS="-c zerodown.managed=$managed" \
            pgbench -n -S -c "$CLIENTS" -j 2 -T "$DURATION" 2>/dev/null |
            sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1)
        printf '  round %d  managed=%-3s  %10.0f tps\n' "$round" "$managed" "$tps"
        q "INSERT INTO bench_tps VALUES ($round, '$managed', $tps)"
    done
done

echo "== part 2: the gaps around a deployment, $TRIALS trials"
q "CREATE TABLE gap_marks (trial int, mark text, at timestamptz DEFAULT clock_timestamp())"
for i in $(seq 1 "$TRIALS"); do
    q "SELECT zd_register($i, 'gap_$i', 'INSERT INTO gap_marks (trial, mark) VALUES ($i, ''patch'')', '')" >/dev/null
done

fifo=$(mktemp -u /tmp/zd-bench-gate.XXXXXX)
for i in $(seq 1 "$TRIALS"); do
    # job A runs, in a session fed through a fifo
    mkfifo "$fifo"
    psql -X -q -At -v ON_ERROR_STOP=1 <"$fifo" >/dev/null &
    apid=$!
    exec 3>"$fifo"
    echo "SELECT zd_job_begin('a');" >&3
    await "SELECT EXISTS (SELECT FROM zerodown.gate_jobs WHERE job = 'a' AND status = 'running')"

    # a deployment is queued: the gate is closing
    id=$(q "SELECT zd_deploy($i)")
    await "SELECT state = 'closing' FROM zd_gate_status()"

    # job B asks to start, and waits
    psql -X -q -At -v ON_ERROR_STOP=1 \
        -c "SELECT zd_job_begin('b')" \
        -c "INSERT INTO gap_marks (trial, mark) VALUES ($i, 'b_start')" \
        -c "SELECT zd_job_end()" >/dev/null &
    bpid=$!
    await "SELECT EXISTS (SELECT FROM zerodown.gate_jobs WHERE job = 'b' AND status = 'waiting')"

    # job A ends
    echo "INSERT INTO gap_marks (trial, mark) VALUES ($i, 'a_end'); SELECT zd_job_end();" >&3
    exec 3>&-
    wait "$apid"
    wait "$bpid"
    rm -f "$fifo"
    await "SELECT state = 'done' FROM zerodown.deployments WHERE id = $id"
done

report=$(psql -X -q -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SELECT managed, round(avg(tps)) AS mean_tps, count(*) AS runs
  FROM bench_tps GROUP BY managed ORDER BY managed DESC;
SELECT round((SELECT avg(tps) FROM bench_tps WHERE managed = 'on') /
             (SELECT avg(tps) FROM bench_tps WHERE managed = 'off'), 4) AS "ratio on/off (aim >= 0.97)";
WITH gaps AS (
    SELECT m.trial,
           extract(epoch FROM p.at - a.at) * 1000 AS drain_ms,
           extract(epoch FROM b.at - d.gate_opened_at) * 1000 AS resume_ms
      FROM gap_marks m
      JOIN gap_marks a ON a.trial = m.trial AND a.mark = 'a_end'
      JOIN gap_marks p ON p.trial = m.trial AND p.mark = 'patch'
      JOIN gap_marks b ON b.trial = m.trial AND b.mark = 'b_start'
      JOIN zerodown.deployments d ON d.target = m.trial AND d.state = 'done'
     WHERE m.mark = 'patch')
SELECT count(*) AS trials,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY drain_ms)::numeric, 2) AS "drain gap median ms",
       round(max(drain_ms)::numeric, 2) AS "drain max ms",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY resume_ms)::numeric, 2) AS "resume gap median ms",
       round(max(resume_ms)::numeric, 2) AS "resume max ms"
  FROM gaps;
SQL
)
echo "$report"
{
    echo "bench/gate $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(pg_config --version)"
    echo "$report"
} >"$RESULTS/gate.txt"
echo "(written to bench/results/gate.txt)"
