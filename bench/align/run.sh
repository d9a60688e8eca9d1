#!/usr/bin/env bash
# bench/align: aligning 1,000 trivial patches (CREATE TABLE / DROP TABLE) up,
# then down, with zerodown, timed in the same run as the floor (psql -1 -f of
# the same statements) and as two peers doing the same 1,000 changes up and
# back down: Sqitch (Debian's sqitch package) and dbmate (the npm package
# dbmate, whose Go binary is called directly).  Prints one table of the
# times and the ratios, and writes it to bench/results/align.txt.
#
#   bench/align/run.sh          (as root, from anywhere in the checkout)
#   BENCH_PEERS=0 bench/align/run.sh     zerodown and the floors only
#
# It first installs what is missing: the build and test packages
# (tools/setup.sh), Debian's sqitch, and dbmate with npm install in
# bench/align/ (package.json, package-lock.json; node_modules/ is ignored).
#
# A private PostgreSQL: this machine is shared, and other people's
# "make install" of their own zerodown into /usr/lib/postgresql/15 can land in
# the middle of a run (a server whose zerodown.so or zerodown--0.1.0.sql
# changes under it).  So the script copies the PostgreSQL 15 installation
# (bindir, pkglibdir, sharedir) under $ZD_CLUSTER_DIR/pg, installs this
# checkout's build there (make install DESTDIR=...; PostgreSQL finds its
# lib and share directories relative to its binaries), and puts that bindir
# first on PATH: the server, initdb, psql, pg_config and zd all come from
# there.  Nothing is installed into the system directories.
#
# Settings (environment):
#   BENCH_N            patches (1000)
#   BENCH_RUNS         measured runs of the floors, zd_align and zd (5)
#   BENCH_PEER_RUNS    measured runs of dbmate and Sqitch (3)
#   BENCH_SQITCH_RUNS  measured runs of Sqitch (BENCH_PEER_RUNS)
#   BENCH_WARMUP       warm-up runs not counted (1; see "warm-up" below)
#   BENCH_PEERS        1: measure Sqitch and dbmate too; 0: skip them
#   ZD_CLUSTER_DIR     (/tmp/zerodown-bench-align), ZD_PORT (5493)
# The medians are reported.  Runs are interleaved: run r times every tool
# whose count reaches r, one after the other, so that the load of the
# machine weighs on all of them alike.
#
# What is timed, each as the wall-clock time of what a user would type
# (process start and connection included):
#   floor        psql -1 -f up.sql | down.sql      the N statements, one transaction
#   floor/stmt   psql -f up.sql | down.sql         the same, one transaction per statement
#   zd_align     SELECT zd_align(N) | zd_align(0)  after SELECT zd_load(dir) (timed apart:
#                                                  "register")
#   zd           zd -C DIR align N | zd -C DIR align 0, from a fresh extension: the
#                client reads the folder, registers it and runs one transaction per patch
#   Sqitch       sqitch deploy | sqitch revert -y  N changes in sqitch.plan, deploy/ and
#                revert/ scripts (BEGIN; ...; COMMIT; as sqitch add writes them); one
#                psql process per change
#   dbmate       dbmate up | N x dbmate rollback   N migration files with "-- migrate:up" /
#                "-- migrate:down", --no-dump-schema; dbmate rolls back one migration per call
# Before each timed step the database is vacuumed and checkpointed (untimed),
# so that the catalog bloat left by the previous step weighs on none of them.
# After each step the script checks the number of tables and the tool's own
# record (zd_version(), sqitch.changes, schema_migrations), and fails otherwise.
#
# Warm-up and one-time setup, untimed: zerodown's extension is created afresh
# before each run; Sqitch's registry (the sqitch schema) is created once by an
# untimed "sqitch deploy --to <first change>" + "sqitch revert -y"; dbmate's
# schema_migrations table once by an untimed "dbmate up" + "dbmate rollback" of
# a one-migration folder.  BENCH_WARMUP full runs of the floors, zd_align and
# zd are discarded.  Sqitch is given the psql binary itself (engine.pg.client)
# rather than Debian's /usr/bin/psql, a Perl wrapper that costs tens of
# milliseconds per call, i.e. per change; the floors call the same binary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-bench-align}
export ZD_PORT=${ZD_PORT:-5493}
N=${BENCH_N:-1000}
RUNS=${BENCH_RUNS:-5}
PEERS=${BENCH_PEERS:-1}
PEER_RUNS=${BENCH_PEER_RUNS:-3}
SQITCH_RUNS=${BENCH_SQITCH_RUNS:-$PEER_RUNS}
WARMUP=${BENCH_WARMUP:-1}
DB=zd_bench
WORK=$ZD_CLUSTER_DIR/align          # the patches, scripts and projects, readable by the server
PGTREE=$ZD_CLUSTER_DIR/pg           # the private copy of PostgreSQL 15
RESULTS_DIR=$ROOT/bench/results
RESULTS=$RESULTS_DIR/align.txt

cluster() { "$ROOT/tools/cluster.sh" "$@"; }
die() { echo "bench/align: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages; the cluster runs as postgres)"
[ "$PEERS" = 1 ] || { PEER_RUNS=0; SQITCH_RUNS=0; }

# ---------- what is missing ----------
setup_args=()
if [ "$PEERS" = 1 ]; then
    setup_args+=(sqitch)
    if ! command -v npm >/dev/null 2>&1; then setup_args+=(npm); fi
fi
"$ROOT/tools/setup.sh" "${setup_args[@]}" >/dev/null

case $(uname -m) in
x86_64) DBMATE_ARCH=x64 ;;
aarch64) DBMATE_ARCH=arm64 ;;
*) DBMATE_ARCH=$(uname -m) ;;
esac
DBMATE=$HERE/node_modules/@dbmate/linux-$DBMATE_ARCH/bin/dbmate
if [ "$PEERS" = 1 ] && [ ! -x "$DBMATE" ]; then
    echo "bench/align: npm install (dbmate) in ${HERE#"$ROOT"/}"
    (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    [ -x "$DBMATE" ] || die "npm install did not provide $DBMATE"
fi

# ---------- build, and a private PostgreSQL with this build installed ----------
trap 'cluster destroy >/dev/null 2>&1 || true' EXIT
cluster destroy >/dev/null 2>&1 || true

# what is measured: the checkout as it is when it is built (src/ may hold
# uncommitted changes); the build is copied into $PGTREE, so later changes to
# the checkout do not reach the run
if SOURCE=$(git -C "$ROOT" log -1 --format='commit %h (%cs)' 2>/dev/null); then
    changed=$(git -C "$ROOT" status --porcelain -- src sql 'zerodown--*.sql' Makefile 2>/dev/null | wc -l)
    [ "$changed" -eq 0 ] || SOURCE+=", plus $changed uncommitted file(s) under src/, sql/, Makefile"
else
    SOURCE="not a git checkout"
fi
make -C "$ROOT" -s with_llvm=no >/dev/null
SYS_BINDIR=$(pg_config --bindir)
rm -rf "$PGTREE"
for d in "$SYS_BINDIR" "$(pg_config --pkglibdir)" "$(pg_config --sharedir)"; do
    mkdir -p "$PGTREE$(dirname "$d")"
    [ -d "$PGTREE$d" ] || cp -a "$d" "$PGTREE$(dirname "$d")/"
done
make -C "$ROOT" -s with_llvm=no install DESTDIR="$PGTREE" >/dev/null
export PATH=$PGTREE$SYS_BINDIR:$PATH
BINDIR=$(pg_config --bindir)
[ "$BINDIR" = "$PGTREE$SYS_BINDIR" ] || die "pg_config --bindir is $BINDIR, not the private copy"
cmp -s "$ROOT/zerodown.so" "$(pg_config --pkglibdir)/zerodown.so" || die "zerodown.so was not installed in $PGTREE"
ZD=$BINDIR/zd
PSQL=$BINDIR/psql
[ -x "$ZD" ] || die "$ZD is missing"

cluster start >/dev/null
eval "$(cluster env)"
export PGDATABASE=$DB
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
server_pkglib=$("$PSQL" -X -qtA -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
[ "$server_pkglib" = "$(pg_config --pkglibdir)" ] || die "the server loads its libraries from $server_pkglib"

# ---------- the patches, the floor's scripts and the peers' projects ----------
rm -rf "$WORK"
mkdir -p "$WORK/patches/build" "$WORK/patches/rollback" \
    "$WORK/dbmate/migrations" "$WORK/dbmate/warm" "$WORK/sqitch"
: >"$WORK/up.sql"
: >"$WORK/down.sql"
for ((i = 1; i <= N; i++)); do
    printf -v f '%05d_create_bench_t%d.sql' "$i" "$i"
    printf 'CREATE TABLE bench_t%d (id int);\n' "$i" >"$WORK/patches/build/$f"
    printf 'DROP TABLE bench_t%d;\n' "$i" >"$WORK/patches/rollback/$f"
    printf 'CREATE TABLE bench_t%d (id int);\n' "$i" >>"$WORK/up.sql"
    printf -- '-- migrate:up\nCREATE TABLE bench_t%d (id int);\n\n-- migrate:down\nDROP TABLE bench_t%d;\n' \
        "$i" "$i" >"$WORK/dbmate/migrations/$f"
done
for ((i = N; i >= 1; i--)); do
    printf 'DROP TABLE bench_t%d;\n' "$i" >>"$WORK/down.sql"
done
printf -- '-- migrate:up\nCREATE TABLE bench_warm (id int);\n\n-- migrate:down\nDROP TABLE bench_warm;\n' \
    >"$WORK/dbmate/warm/00001_warm.sql"

# Sqitch: its own configuration only (no ~/.sqitch), a project made by
# sqitch init, then the N changes written as "sqitch add" would write them
# (running sqitch add N times would take minutes).
export SQITCH_USER_CONFIG=$WORK/sqitch-user.conf SQITCH_FULLNAME=bench SQITCH_EMAIL=bench@example.com
sqitch_() { sqitch --chdir "$WORK/sqitch" "$@"; }
if [ "$PEERS" = 1 ]; then
    sqitch_ init bench --engine pg --target "db:pg:$DB" --client "$PSQL" >/dev/null
    mkdir -p "$WORK/sqitch/deploy" "$WORK/sqitch/revert"
    planned=$(date -u '+%Y-%m-%dT%H:%M:%SZ')
    for ((i = 1; i <= N; i++)); do
        printf 'create_bench_t%d %s bench <bench@example.com> # CREATE TABLE bench_t%d\n' "$i" "$planned" "$i"
        printf -- '-- Deploy bench:create_bench_t%d to pg\n\nBEGIN;\n\nCREATE TABLE bench_t%d (id int);\n\nCOMMIT;\n' \
            "$i" "$i" >"$WORK/sqitch/deploy/create_bench_t$i.sql"
        printf -- '-- Revert bench:create_bench_t%d from pg\n\nBEGIN;\n\nDROP TABLE bench_t%d;\n\nCOMMIT;\n' \
            "$i" "$i" >"$WORK/sqitch/revert/create_bench_t$i.sql"
    done >>"$WORK/sqitch/sqitch.plan"
fi
chown -R postgres: "$WORK" 2>/dev/null || true

# dbmate: the socket directory and the port of the throwaway cluster; run
# from $WORK/dbmate (no .env file there), "-d DIR" relative to it
export DATABASE_URL="postgres://$PGUSER@:$PGPORT/$DB?socket=$PGHOST"
dbmate_() { (cd "$WORK/dbmate" && exec "$DBMATE" --no-dump-schema -d "$@"); }

# ---------- helpers ----------
q() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { "$PSQL" -X -qtA -v ON_ERROR_STOP=1 -c "$1"; }
settle() { q -c "VACUUM" -c "CHECKPOINT" >/dev/null; }
fresh_extension() {
    q -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS zerodown" -c "CREATE EXTENSION zerodown" >/dev/null
}

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

dbmate_down() {   # what dbmate offers to go back to the start: one call per migration
    (
        cd "$WORK/dbmate"
        for ((i = 0; i < N; i++)); do
            "$DBMATE" --no-dump-schema -d migrations rollback || exit 1
        done
    )
}

# ---------- one-time, untimed: the peers' registries ----------
if [ "$PEERS" = 1 ]; then
    sqitch_ deploy --to create_bench_t1 >/dev/null
    sqitch_ revert -y >/dev/null
    check "Sqitch registry" "SELECT count(*) FROM sqitch.changes WHERE project = 'bench'" 0
    dbmate_ warm up >/dev/null
    dbmate_ warm rollback >/dev/null
    check "dbmate's schema_migrations" "SELECT count(*) FROM schema_migrations" 0
    check "tables after the peers' setup" "$tables" 0
fi

# ---------- measure ----------
COLS=(reg up down fup fdown sup sdown cup cdown qup qdown mup mdown)
declare -A LABEL=(
    [reg]=register [up]=align-up [down]=align-dn [fup]=floor-up [fdown]=floor-dn
    [sup]=stmt-up [sdown]=stmt-dn [cup]=zd-up [cdown]=zd-dn
    [qup]=sqitch-up [qdown]=sqitch-dn [mup]=dbmate-up [mdown]=dbmate-dn
)
declare -A R=()      # R[col] = "t1 t2 ...", the measured runs
declare -A V=()      # V[col:run] = the time of that run
LOADS=()

one_run() {   # one_run NAME ZD? DBMATE? SQITCH?
    local name=$1 do_zd=$2 do_dbmate=$3 do_sqitch=$4 c line
    # shellcheck disable=SC2034  # read through ${!c} below
    local reg=- up=- down=- fup=- fdown=- sup=- sdown=- cup=- cdown=- qup=- qdown=- mup=- mdown=-
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)

    if [ "$do_zd" = 1 ]; then
        # zd_align, as the existing benchmark measured it
        fresh_extension
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

        # the floor: one transaction
        settle
        time_it fup q -1 -f "$WORK/up.sql"
        check "tables after psql -1 -f up.sql" "$tables" "$N"
        settle
        time_it fdown q -1 -f "$WORK/down.sql"
        check "tables after psql -1 -f down.sql" "$tables" 0

        # the floor with one transaction per statement (zd, dbmate and
        # Sqitch all commit each patch on its own)
        settle
        time_it sup q -f "$WORK/up.sql"
        check "tables after psql -f up.sql" "$tables" "$N"
        settle
        time_it sdown q -f "$WORK/down.sql"
        check "tables after psql -f down.sql" "$tables" 0

        # the zd client, from a fresh extension: registration included
        fresh_extension
        settle
        time_it cup "$ZD" -C "$WORK/patches" align "$N"
        check "version after zd align $N" "SELECT zd_version()" "$N"
        check "tables after zd align $N" "$tables" "$N"
        settle
        time_it cdown "$ZD" -C "$WORK/patches" align 0
        check "version after zd align 0" "SELECT zd_version()" 0
        check "tables after zd align 0" "$tables" 0
    fi

    if [ "$do_dbmate" = 1 ]; then
        settle
        time_it mup dbmate_ migrations up
        check "dbmate migrations after dbmate up" "SELECT count(*) FROM schema_migrations" "$N"
        check "tables after dbmate up" "$tables" "$N"
        settle
        time_it mdown dbmate_down
        check "dbmate migrations after $N x dbmate rollback" "SELECT count(*) FROM schema_migrations" 0
        check "tables after $N x dbmate rollback" "$tables" 0
    fi

    if [ "$do_sqitch" = 1 ]; then
        settle
        time_it qup sqitch_ deploy
        check "Sqitch changes after sqitch deploy" "SELECT count(*) FROM sqitch.changes WHERE project = 'bench'" "$N"
        check "tables after sqitch deploy" "$tables" "$N"
        settle
        time_it qdown sqitch_ revert -y
        check "Sqitch changes after sqitch revert" "SELECT count(*) FROM sqitch.changes WHERE project = 'bench'" 0
        check "tables after sqitch revert" "$tables" 0
    fi

    line=$(printf '%-7s %5s' "$name" "$load")
    for c in "${COLS[@]}"; do
        line+=$(printf ' %9s' "${!c}")
        if [ "$name" != warmup ] && [ "${!c}" != - ]; then R[$c]+="${!c} " V[$c:$name]=${!c}; fi
    done
    echo "$line"
    [ "$name" = warmup ] || LOADS+=("$load")
}

median() { [ -n "$1" ] || { echo -; return; }; printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
fastest() { [ -n "$1" ] || { echo -; return; }; printf '%s\n' $1 | sort -g | head -1; }
# ratio A B: the median over the runs that timed both of A's time / B's time
# (paired, so that a run under a heavier load weighs on both sides alike)
ratio() {
    local r all=""
    for ((r = 1; r <= rounds; r++)); do
        if [ -n "${V[$1:$r]:-}" ] && [ -n "${V[$2:$r]:-}" ]; then
            all+="$(awk -v a="${V[$1:$r]}" -v b="${V[$2:$r]}" 'BEGIN { printf "%.6f", a / b }') "
        fi
    done
    median "$all"
}
fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "-") print "-"; else printf f, v }'; }
# aim VALUE OP LIMIT: "met" when VALUE OP LIMIT holds
aim() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { if (v == "-") { print "-"; exit } v += 0; ok = (op == "<=") ? v <= l : v >= l; printf "%-8s(%.2f)", ok ? "met" : "NOT met", v }'; }

load_start=$(uptime)
rounds=$RUNS
((PEER_RUNS > rounds)) && rounds=$PEER_RUNS
((SQITCH_RUNS > rounds)) && rounds=$SQITCH_RUNS
echo "bench/align: $N patches; $WARMUP warm-up + $RUNS measured run(s) of the floors, zd_align and zd;" \
    "$PEER_RUNS of dbmate, $SQITCH_RUNS of Sqitch; wall-clock seconds"
echo "load at start: $load_start"
hdr=$(printf '%-7s %5s' run load)
for c in "${COLS[@]}"; do hdr+=$(printf ' %9s' "${LABEL[$c]:0:9}"); done
echo "$hdr"
for ((r = 1; r <= WARMUP; r++)); do one_run warmup 1 0 0; done
for ((r = 1; r <= rounds; r++)); do
    one_run "$r" $((r <= RUNS)) $((r <= PEER_RUNS)) $((r <= SQITCH_RUNS))
done
load_end=$(uptime)

declare -A M F
for c in "${COLS[@]}"; do
    M[$c]=$(median "${R[$c]:-}")
    F[$c]=$(fastest "${R[$c]:-}")
done

row() { printf '%-10s %-40s %8s %8s %7s %7s %8s %8s\n' "$@"; }
tool_row() {   # tool_row TOOL DESCRIPTION UPCOL DOWNCOL
    row "$1" "$2" "${M[$3]}" "${M[$4]}" "$(fmt "$(ratio "$3" fup)" %.2f)" "$(fmt "$(ratio "$4" fdown)" %.2f)" \
        "${F[$3]}" "${F[$4]}"
}
vs_row() {   # vs_row LABEL ZDUP ZDDOWN PEERUP PEERDOWN
    printf '  %-40s %8s %8s\n' "$1" "$(fmt "$(ratio "$4" "$2")" %.1fx)" "$(fmt "$(ratio "$5" "$3")" %.1fx)"
}

mkdir -p "$RESULTS_DIR"
{
    echo "zerodown bench/align: $N trivial patches (CREATE TABLE / DROP TABLE), up then back down"
    if [ "$PEERS" = 1 ]; then peer_runs="$PEER_RUNS (dbmate), $SQITCH_RUNS (Sqitch)"; else peer_runs="no peers (BENCH_PEERS=0)"; fi
    echo "medians of $RUNS runs (floors, zd_align, zd), $peer_runs; $WARMUP warm-up run(s) of the floors and zerodown discarded"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; $(. /etc/os-release && echo "$PRETTY_NAME"); PostgreSQL $(value 'SHOW server_version')"
    echo "zerodown: $SOURCE"
    if [ "$PEERS" = 1 ]; then
        echo "peers: $(sqitch --version); dbmate $("$DBMATE" --version | awk '{ print $NF }') (npm, binary called directly)"
    fi
    echo "load:  start$(echo "$load_start" | sed 's/.*load average/ load average/'); end$(echo "$load_end" | sed 's/.*load average/ load average/') (other test suites share the machine)"
    echo "ratios: the median of the per-run ratios (both sides timed in the same run)"
    echo "cluster: tools/cluster.sh defaults (fsync = off, synchronous_commit = off); wall-clock seconds of what a user types, process start and connection included"
    echo
    row "" "" "median (s)" "" "/ floor" "" "fastest (s)" ""
    row tool "up | down" up down up down up down
    tool_row floor "psql -1 -f up.sql | down.sql" fup fdown
    tool_row floor/stmt "psql -f (one transaction per statement)" sup sdown
    tool_row zd_align "SELECT zd_align($N) | zd_align(0)" up down
    tool_row zd "zd -C DIR align $N | align 0" cup cdown
    if [ "$PEERS" = 1 ]; then
        tool_row Sqitch "sqitch deploy | sqitch revert -y" qup qdown
        tool_row dbmate "dbmate up | $N x dbmate rollback" mup mdown
    fi
    row register "SELECT zd_load(dir), $((2 * N)) files" "${M[reg]}" - - - "${F[reg]}" -
    echo "(zd includes registration; zd_align does not: add the register line)"
    if [ "$PEERS" = 1 ]; then
        echo
        printf '  %-40s %8s %8s\n' "how many times faster (peer / zerodown)" up down
        vs_row "zd vs Sqitch" cup cdown qup qdown
        vs_row "zd vs dbmate" cup cdown mup mdown
        vs_row "zd_align vs Sqitch" up down qup qdown
        vs_row "zd_align vs dbmate" up down mup mdown
    fi
    echo
    printf '%-50s %-17s %s\n' "aims (median ratios)" zd zd_align
    printf '  %-48s %-17s %s\n' "up within 2x of the floor" \
        "$(aim "$(ratio cup fup)" "<=" 2)" "$(aim "$(ratio up fup)" "<=" 2)"
    printf '  %-48s %-17s %s\n' "down within 2x of the floor" \
        "$(aim "$(ratio cdown fdown)" "<=" 2)" "$(aim "$(ratio down fdown)" "<=" 2)"
    if [ "$PEERS" = 1 ]; then
        printf '  %-48s %-17s %s\n' "at least 10x faster than Sqitch, up" \
            "$(aim "$(ratio qup cup)" ">=" 10)" "$(aim "$(ratio qup up)" ">=" 10)"
        printf '  %-48s %-17s %s\n' "at least 10x faster than Sqitch, down" \
            "$(aim "$(ratio qdown cdown)" ">=" 10)" "$(aim "$(ratio qdown down)" ">=" 10)"
        printf '  %-48s %-17s %s\n' "no slower than dbmate, up" \
            "$(aim "$(ratio mup cup)" ">=" 1)" "$(aim "$(ratio mup up)" ">=" 1)"
        printf '  %-48s %-17s %s\n' "far (at least 10x) faster than dbmate, down" \
            "$(aim "$(ratio mdown cdown)" ">=" 10)" "$(aim "$(ratio mdown down)" ">=" 10)"
    fi
    echo
    echo "per run (s), in the order they ran (load: 1-minute load average when the run began: ${LOADS[*]}):"
    for c in "${COLS[@]}"; do
        if [ -n "${R[$c]:-}" ]; then printf '  %-10s %s\n' "${LABEL[$c]}:" "${R[$c]% }"; fi
    done
} | tee "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
echo "written to ${RESULTS#"$ROOT"/}"
