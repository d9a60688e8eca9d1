#!/usr/bin/env bash
# bench/align: aligning 1,000 trivial patches (CREATE TABLE / DROP TABLE) up,
# then down, with zd_align, timed in the same run as the floor: psql -1 -f of
# the same statements.  Prints both and the ratio, and writes them to
# bench/results/align.txt.
#
#   bench/align/run.sh          (as root, from anywhere in the checkout)
#
# Like tools/demo.sh it first installs what is missing (tools/setup.sh) and
# builds and installs the extension.
#
# Settings (environment): BENCH_N patches (1000), BENCH_RUNS measured runs
# (5, the median is reported), BENCH_WARMUP runs not counted (1),
# ZD_CLUSTER_DIR (/tmp/zerodown-bench), ZD_PORT (5497).
#
# Each run starts from a fresh extension (DROP/CREATE EXTENSION, untimed), then
# times, each as one psql process (connection included, as for the floor):
#   register   SELECT * FROM zd_load(dir)   dir holds the N build/ and rollback/ files
#   up         SELECT zd_align(N)           N patches of CREATE TABLE bench_t<i> (id int)
#   down       SELECT zd_align(0)           N rollbacks of DROP TABLE bench_t<i>
#   floor up   psql -1 -f up.sql            the same N CREATE TABLE statements, one transaction
#   floor down psql -1 -f down.sql          the same N DROP TABLE statements, in reverse order
# Before each timed step the database is vacuumed and checkpointed (untimed),
# so that the catalog bloat left by the previous step weighs on neither side.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench}
export ZD_PORT=${ZD_PORT:-5497}
N=${BENCH_N:-1000}
RUNS=${BENCH_RUNS:-5}
WARMUP=${BENCH_WARMUP:-1}
DB=zd_bench
WORK=$ZD_CLUSTER_DIR/align          # the patches, up.sql and down.sql, readable by the server
RESULTS_DIR=$ROOT/bench/results
RESULTS=$RESULTS_DIR/align.txt

cluster() { "$ROOT/tools/cluster.sh" "$@"; }
die() { echo "bench/align: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs the extension; the cluster runs as postgres)"

"$ROOT/tools/setup.sh" >/dev/null
make -C "$ROOT" -s with_llvm=no >/dev/null
make -C "$ROOT" -s with_llvm=no install >/dev/null

trap 'cluster destroy >/dev/null 2>&1 || true' EXIT
cluster destroy >/dev/null 2>&1 || true
cluster start >/dev/null
eval "$(cluster env)"
export PGDATABASE=$DB
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"

# ---------- the patches and the floor's scripts ----------
mkdir -p "$WORK/patches/build" "$WORK/patches/rollback"
: >"$WORK/up.sql"
: >"$WORK/down.sql"
for ((i = 1; i <= N; i++)); do
    printf -v f '%05d_create_bench_t%d.sql' "$i" "$i"
    printf 'CREATE TABLE bench_t%d (id int);\n' "$i" >"$WORK/patches/build/$f"
    printf 'DROP TABLE bench_t%d;\n' "$i" >"$WORK/patches/rollback/$f"
    printf 'CREATE TABLE bench_t%d (id int);\n' "$i" >>"$WORK/up.sql"
done
for ((i = N; i >= 1; i--)); do
    printf 'DROP TABLE bench_t%d;\n' "$i" >>"$WORK/down.sql"
done
chown -R postgres: "$WORK" 2>/dev/null || true

# ---------- helpers ----------
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { psql -X -qtA -v ON_ERROR_STOP=1 -c "$1"; }
settle() { q -c "VACUUM" -c "CHECKPOINT" >/dev/null; }

# time_it VAR CMD...: wall-clock seconds of CMD into VAR
time_it() {
    local var=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    "$@" >/dev/null
    t1=$EPOCHREALTIME
    printf -v "$var" '%.4f' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

check() {   # check WHAT QUERY EXPECTED
    local got
    got=$(value "$2")
    [ "$got" = "$3" ] || die "$1: expected $3, got $got"
}

tables="SELECT count(*) FROM pg_class WHERE relname LIKE 'bench\\_t%' AND relkind = 'r'"

declare -a R_REG R_UP R_DOWN R_FUP R_FDOWN

one_run() {
    local reg up down fup fdown
    q -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS zerodown" -c "CREATE EXTENSION zerodown" >/dev/null
    settle
    time_it reg q -c "SELECT count(*) FROM zd_load('$WORK/patches')"
    check "registered patches" "SELECT count(*) FROM zerodown.patches" "$N"

    settle
    time_it up q -c "SELECT zd_align($N)"
    check "version after zd_align($N)" "SELECT zd_version()" "$N"
    check "tables after zd_align($N)" "$tables" "$N"

    settle
    time_it down q -c "SELECT zd_align(0)"
    check "version after zd_align(0)" "SELECT zd_version()" 0
    check "tables after zd_align(0)" "$tables" 0

    settle
    time_it fup q -1 -f "$WORK/up.sql"
    check "tables after up.sql" "$tables" "$N"

    settle
    time_it fdown q -1 -f "$WORK/down.sql"
    check "tables after down.sql" "$tables" 0

    printf '%-8s %9s %9s %9s %9s %9s\n' "$1" "$reg" "$up" "$down" "$fup" "$fdown"
    if [ "$1" != warmup ]; then
        R_REG+=("$reg") R_UP+=("$up") R_DOWN+=("$down") R_FUP+=("$fup") R_FDOWN+=("$fdown")
    fi
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ---------- measure ----------
echo "bench/align: $N patches, $WARMUP warm-up run(s) + $RUNS measured run(s), wall-clock seconds"
printf '%-8s %9s %9s %9s %9s %9s\n' run register up down "floor up" "floor dn"
for ((r = 1; r <= WARMUP; r++)); do one_run warmup; done
for ((r = 1; r <= RUNS; r++)); do one_run "$r"; done

mn() { printf '%s\n' "$@" | sort -g | head -1; }
m_reg=$(median "${R_REG[@]}")
m_up=$(median "${R_UP[@]}")
m_down=$(median "${R_DOWN[@]}")
m_fup=$(median "${R_FUP[@]}")
m_fdown=$(median "${R_FDOWN[@]}")

row() { printf '%-42s %12s %10s %7s   %12s %10s %7s\n' "$@"; }
mkdir -p "$RESULTS_DIR"
{
    echo "zerodown bench/align: $N trivial patches (CREATE TABLE / DROP TABLE), median (and fastest) of $RUNS runs"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(. /etc/os-release && echo "$PRETTY_NAME"); PostgreSQL $(value 'SHOW server_version')"
    echo "cluster: tools/cluster.sh defaults (fsync = off, synchronous_commit = off); wall-clock seconds of one psql process each, connection included"
    echo
    row "" "median:" "" "" "fastest:" "" ""
    row operation "zerodown (s)" "floor (s)" ratio "zerodown (s)" "floor (s)" ratio
    row "up   zd_align($N) | psql -1 -f up.sql" "$m_up" "$m_fup" "$(ratio "$m_up" "$m_fup")" \
        "$(mn "${R_UP[@]}")" "$(mn "${R_FUP[@]}")" "$(ratio "$(mn "${R_UP[@]}")" "$(mn "${R_FUP[@]}")")"
    row "down zd_align(0) | psql -1 -f down.sql" "$m_down" "$m_fdown" "$(ratio "$m_down" "$m_fdown")" \
        "$(mn "${R_DOWN[@]}")" "$(mn "${R_FDOWN[@]}")" "$(ratio "$(mn "${R_DOWN[@]}")" "$(mn "${R_FDOWN[@]}")")"
    row "register zd_load ($((2 * N)) files)" "$m_reg" "-" "-" "$(mn "${R_REG[@]}")" "-" "-"
    echo
    echo "per run (s), in the order they ran:"
    echo "  register: ${R_REG[*]}"
    echo "  up:       ${R_UP[*]}"
    echo "  down:     ${R_DOWN[*]}"
    echo "  floor up: ${R_FUP[*]}"
    echo "  floor dn: ${R_FDOWN[*]}"
} | tee "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
echo "written to ${RESULTS#"$ROOT"/}"
