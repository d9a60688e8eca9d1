#!/usr/bin/env bash
# zerodown in a few minutes: a real deployment of seed 002's DbAlign example.
#
#   tools/demo.sh            (as root, on Debian 12)
#
# It installs what is missing (tools/setup.sh), builds and installs the
# extension, starts a throwaway PostgreSQL 15 cluster of its own
# (ZD_CLUSTER_DIR=/tmp/zerodown-demo, ZD_PORT=5498), and then, step by step:
# loads the patches of examples/dbalign, shows the plan, aligns to patch 3,
# rolls everything back, aligns again, shows the history, and shows the two
# refusals that keep a production database safe (an applied patch cannot be
# changed; a failing patch leaves nothing behind).  Every step is checked: the
# script exits non-zero as soon as something does not behave as shown.  The
# cluster is stopped and removed at the end (ZD_DEMO_KEEP=1 keeps it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-demo}
export ZD_PORT=${ZD_PORT:-5498}
DB=dbalign_demo
MIGRATIONS=$ZD_CLUSTER_DIR/dbalign          # a copy the server can read

if [ -t 1 ]; then
    B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
    B= G= R= D= N=
fi

step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
say()  { printf '%s\n' "$@" | fold -s -w 78 | sed 's/^/    /'; }
ok()   { printf '%s    ok: %s%s\n' "$G" "$*" "$N"; }
fail() { printf '\n%sDEMO FAILED: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

cluster() { "$ROOT/tools/cluster.sh" "$@"; }

finish() {
    local rc=$?
    if [ $rc -ne 0 ] && [ -f "$ZD_CLUSTER_DIR/server.log" ]; then
        printf '\n%sLast lines of the server log (%s):%s\n' "$D" "$ZD_CLUSTER_DIR/server.log" "$N" >&2
        tail -n 20 "$ZD_CLUSTER_DIR/server.log" >&2 || true
    fi
    if [ "${ZD_DEMO_KEEP:-0}" = 1 ]; then
        printf '\nThe cluster is still running (ZD_DEMO_KEEP=1): eval "$(ZD_CLUSTER_DIR=%s ZD_PORT=%s %s env)"\n' \
            "$ZD_CLUSTER_DIR" "$ZD_PORT" "$ROOT/tools/cluster.sh"
    else
        cluster destroy >/dev/null 2>&1 || true
    fi
    exit $rc
}

# psql that echoes what it runs and stops at the first error
run_sql() {
    psql -X -v ON_ERROR_STOP=1 --echo-all -d "$DB" -f - || fail "psql stopped at an error (above)"
}

# one value, for checks
value() {
    psql -X -v ON_ERROR_STOP=1 -qtA -d "$DB" -c "$1"
}

# expect_value DESCRIPTION QUERY EXPECTED
expect_value() {
    local got
    got=$(value "$2") || fail "$1: the check query failed: $2"
    [ "$got" = "$3" ] || fail "$1: expected '$3', got '$got' (from: $2)"
    ok "$1"
}

# expect_error DESCRIPTION EXPECTED-MESSAGE-PART...  (SQL on stdin, echoed)
expect_error() {
    local what=$1 out rc=0 part
    shift
    out=$(psql -X -v ON_ERROR_STOP=1 --echo-all -d "$DB" -f - 2>&1) || rc=$?
    printf '%s\n' "$out"
    [ $rc -ne 0 ] || fail "$what: it succeeded, but zerodown should have refused it"
    for part in "$@"; do
        grep -qF -- "$part" <<<"$out" || fail "$what: the error does not say \"$part\""
    done
    ok "$what"
}

[ "$(id -u)" -eq 0 ] || fail "run this script as root (it installs packages and the extension)"
trap finish EXIT

step "1. Install what is missing (tools/setup.sh)"
"$ROOT/tools/setup.sh"

step "2. Build and install the extension"
say "make with_llvm=no && make install with_llvm=no, in $ROOT"
make -C "$ROOT" -s with_llvm=no >/dev/null
make -C "$ROOT" -s install with_llvm=no >/dev/null
ok "installed $(pg_config --pkglibdir)/zerodown.so"

step "3. Start a throwaway PostgreSQL 15 cluster"
cluster destroy >/dev/null 2>&1 || true     # a left-over from an interrupted run
cluster start
eval "$(cluster env)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB" >/dev/null
say "database \"$DB\" on port $ZD_PORT, socket in $ZD_CLUSTER_DIR"

rm -rf "$MIGRATIONS"
cp -r "$ROOT/examples/dbalign" "$MIGRATIONS"
chown -R postgres: "$MIGRATIONS"
say "zd_load reads patch files on the database server, as the server's user (postgres), so the example folder is copied to $MIGRATIONS:"
(cd "$MIGRATIONS" && find build rollback verify -type f | sort | while read -r f; do
    printf '    %-45s %s\n' "$f" "$(grep -v '^--' "$f" | tr -s ' \n' ' ' | cut -c1-60)"
done)

step "4. Install zerodown in the database"
run_sql <<'SQL'
CREATE EXTENSION zerodown;
SELECT zd_version();
SQL
expect_value "the database stands at patch 0" "SELECT zd_version()" 0

step "5. Register the patches of the folder"
say "Each build/NNNNN_name.sql needs its rollback/NNNNN_name.sql; verify/ is optional. Registering runs nothing."
run_sql <<SQL
SELECT * FROM zd_load('$MIGRATIONS');
SQL
expect_value "3 patches registered, nothing applied yet" \
    "SELECT count(*) || ' ' || zd_version() FROM zerodown.patches" "3 0"

step "6. What would zd_align(3) do?"
run_sql <<'SQL'
SELECT * FROM zd_plan(3);
SQL
expect_value "the plan builds patches 1, 2, 3" \
    "SELECT string_agg(direction || ' ' || number, ', ' ORDER BY step) FROM zd_plan(3)" \
    "build 1, build 2, build 3"

step "7. Align the database to patch 3"
run_sql <<'SQL'
SELECT zd_align(3);
\d example_a
SELECT number, name, applied, applied_by, drift, reversible FROM zerodown.status;
SQL
expect_value "the database stands at patch 3" "SELECT zd_version()" 3
expect_value "example_a has example_column_2" \
    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'example_a' AND column_name = 'example_column_2'" 1

step "8. Align to patch 3 again: nothing to do (idempotence)"
run_sql <<'SQL'
SELECT count(*) AS steps_planned FROM zd_plan(3);
SELECT zd_align(3);
SQL
expect_value "still 3 history rows: nothing ran" "SELECT count(*) FROM zerodown.history" 3

step "9. Roll everything back: zd_align(0)"
say "The rollback files run in reverse order: 3, 2, 1."
run_sql <<'SQL'
SELECT zd_align(0);
SELECT to_regclass('example_a') AS example_a, to_regclass('example_b') AS example_b;
SQL
expect_value "the database stands at patch 0" "SELECT zd_version()" 0
expect_value "example_a and example_b are gone" \
    "SELECT to_regclass('example_a') IS NULL AND to_regclass('example_b') IS NULL" t

step "10. Build it again: zd_align(3)"
say "The same patches build an empty database and align a loaded one."
run_sql <<'SQL'
SELECT zd_align(3);
SELECT id, number, name, direction, outcome, duration FROM zerodown.history ORDER BY id;
SQL
expect_value "the database stands at patch 3" "SELECT zd_version()" 3
expect_value "history: 3 builds, 3 rollbacks, 3 builds" \
    "SELECT string_agg(left(direction, 1) || number, ' ' ORDER BY id) FROM zerodown.history" \
    "b1 b2 b3 r3 r2 r1 b1 b2 b3"

step "11. An applied patch is never changed: zerodown refuses"
say "Someone edits build/00001_create_table_example_a.sql (char(1) -> char(2)) and loads the folder again. Patch 1 is applied, so the database was built with the old text:"
sed -i 's/char(1)/char(2)/' "$MIGRATIONS/build/00001_create_table_example_a.sql"
printf '    %s$ cat build/00001_create_table_example_a.sql%s\n    ' "$D" "$N"
cat "$MIGRATIONS/build/00001_create_table_example_a.sql"
expect_error "changing applied patch 1 is refused" "is applied and cannot be changed" <<SQL
SELECT * FROM zd_load('$MIGRATIONS');
SQL
expect_value "patch 1 keeps the text it was applied with" \
    "SELECT build_sql FROM zerodown.patches WHERE number = 1" \
    "CREATE TABLE example_a (example_column_1 char(1));"
cp "$ROOT/examples/dbalign/build/00001_create_table_example_a.sql" "$MIGRATIONS/build/"
say "The change goes into a new patch instead, as patch 3 did. The file is restored."

step "12. All or nothing: a broken patch 4 leaves the database at patch 3"
cat >"$MIGRATIONS/build/00004_create_table_example_c.sql" <<'EOF'
CREATE TABLE example_c (example_column_1 char(1));
ALTER TABLE exmaple_b ADD COLUMN example_column_2 char(1);
EOF
cat >"$MIGRATIONS/rollback/00004_create_table_example_c.sql" <<'EOF'
ALTER TABLE example_b DROP COLUMN example_column_2;
DROP TABLE example_c;
EOF
chown postgres: "$MIGRATIONS"/*/00004_*
say "Patch 4 creates example_c, then alters \"exmaple_b\": a typo, there is no such table."
printf '    %s$ cat build/00004_create_table_example_c.sql%s\n' "$D" "$N"
sed 's/^/    /' "$MIGRATIONS/build/00004_create_table_example_c.sql"
run_sql <<SQL
SELECT * FROM zd_load('$MIGRATIONS');
SQL
expect_error "the failing patch 4 is reported with its file, line and statement" \
    'patch 4 "create_table_example_c" failed' \
    'build/00004_create_table_example_c.sql, line 2: ALTER TABLE exmaple_b' <<'SQL'
SELECT zd_align(4);
SQL
expect_value "the database still stands at patch 3" "SELECT zd_version()" 3
expect_value "example_c, created by the first statement of patch 4, is not there" \
    "SELECT to_regclass('example_c') IS NULL" t
expect_value "no trace of patch 4 in the history" \
    "SELECT count(*) FROM zerodown.history WHERE number = 4" 0

say "Patch 4 was never applied, so it may still be fixed and registered again:"
sed -i 's/exmaple_b/example_b/' "$MIGRATIONS/build/00004_create_table_example_c.sql"
run_sql <<SQL
SELECT * FROM zd_load('$MIGRATIONS');
SELECT zd_align(4);
SQL
expect_value "the database stands at patch 4" "SELECT zd_version()" 4
expect_value "example_c exists and example_b has example_column_2" \
    "SELECT to_regclass('example_c') IS NOT NULL AND EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'example_b' AND column_name = 'example_column_2')" t

step "Done"
say "zerodown registered a folder of patches, aligned a database up to patch 3, back to 0 and up again, kept a history of every step, refused to change an applied patch and rolled back a failing one completely."
say "Try it yourself: ZD_DEMO_KEEP=1 $0 keeps the cluster running at the end."
