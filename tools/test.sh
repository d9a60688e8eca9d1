#!/usr/bin/env bash
# Runs every zerodown test suite on a fresh machine, as root:
#   pg_regress (sql/ + expected/), isolation specs (test/specs),
#   TAP tests of restarts, crashes, the worker and the zd client (test/t),
#   and pgTAP (test/pgtap, with pg_prove).
# It installs what is missing (tools/setup.sh), builds with warnings as
# errors, installs into a private copy of PostgreSQL (tools/pgtree.sh; the
# system installation is not touched, so two checkouts can test at once),
# and starts a throwaway cluster that it removes at the end.  Exit status 0
# only when every suite passed.
#
#   tools/test.sh                   every suite
#   tools/test.sh tap pg_regress    only these (pg_regress, isolation, tap, pgtap)
#   ZD_TEST_DIR=/tmp/mine ZD_TEST_PORT=5401 tools/test.sh
#                                   another directory and port, beside a run
#                                   of the default ones
#   PROVE_TESTS='test/t/020_*.pl' tools/test.sh tap
#                                   some TAP files only
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${ZD_TEST_DIR:-/tmp/zerodown-test}
TREE=$ROOT/tree
export ZD_CLUSTER_DIR=$ROOT/cluster
export ZD_PORT=${ZD_TEST_PORT:-5496}
# the database the cluster's worker serves, set in its postgresql.conf as a
# DBA sets it: not "postgres", so that nothing works only by default
export ZD_DATABASE=zd_app
# every warning is an error (src/warnings.mk)
export WERROR=1
SUITES=${*:-pg_regress isolation tap pgtap}
# TAP nodes of every checkout reserve their ports in one place
export PG_TEST_PORT_DIR=/tmp/zerodown-test-ports
mkdir -p "$PG_TEST_PORT_DIR"
chmod 1777 "$PG_TEST_PORT_DIR"

"$SRC/tools/setup.sh"

# A copy of the tree that the postgres user owns: pg_regress writes results/
# into it and the TAP tests run initdb, which refuses root.
"$SRC/tools/cluster.sh" destroy >/dev/null 2>&1 || true
rm -rf "$ROOT"
mkdir -p "$TREE"
tar -C "$SRC" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$TREE" -xf -
chown -R postgres: "$ROOT"

# the private PostgreSQL: its bindir first on PATH, its pg_config for make
export PG_CONFIG
PG_CONFIG=$("$SRC/tools/pgtree.sh" "$ROOT/pg")
export PATH=$("$PG_CONFIG" --bindir):$PATH

cd "$TREE"
echo "== build (WERROR=1, into $ROOT/pg)"
make -s with_llvm=no >/dev/null
make -s with_llvm=no install >/dev/null
chown -R postgres: "$ROOT"

trap '"$SRC/tools/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
"$TREE/tools/cluster.sh" start
"$TREE/tools/cluster.sh" check
eval "$("$TREE/tools/cluster.sh" env)"

passed=0
failed=0
failures=()
suite() {
    local name=$1 start=$SECONDS
    shift
    case " $SUITES " in *" $name "*) ;; *) return 0 ;; esac
    echo "== $name"
    if runuser -u postgres --preserve-environment -- "$@"; then
        passed=$((passed + 1))
        echo "== $name: passed in $((SECONDS - start)) s"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "== $name: FAILED in $((SECONDS - start)) s"
    fi
}

suite "pg_regress" make -s with_llvm=no installcheck ISOLATION= TAP_TESTS=
suite "isolation" make -s with_llvm=no installcheck REGRESS= TAP_TESTS=
suite "tap" make -s with_llvm=no installcheck REGRESS= ISOLATION=
runuser -u postgres --preserve-environment -- createdb zd_pgtap 2>/dev/null || true
suite "pgtap" env PGDATABASE=zd_pgtap pg_prove --ext .sql --recurse test/pgtap

for f in regression.diffs test/output_iso/regression.diffs output_iso/regression.diffs; do
    [ -s "$f" ] && { echo "== $f"; cat "$f"; }
done

echo
echo "total time: ${SECONDS} s"
if [ $failed -gt 0 ]; then
    echo "failed suites: ${failures[*]}"
fi
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
