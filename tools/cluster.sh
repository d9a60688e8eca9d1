#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the demo, the tests and the benchmarks.
#
#   tools/cluster.sh start   initdb (if needed) and start it
#   tools/cluster.sh stop    stop it
#   tools/cluster.sh env     print the PG* exports for a shell: eval "$(tools/cluster.sh env)"
#   tools/cluster.sh check   check that the zerodown settings of postgresql.conf
#                            reached the server
#
# It runs as the postgres user (PostgreSQL refuses root) in ZD_CLUSTER_DIR
# (default /tmp/zerodown-cluster) on port ZD_PORT (default 5499), with its
# socket in the data directory's parent, and preloads zerodown and pg_cron.
# zerodown is set up as a DBA sets it up, in postgresql.conf: its worker
# serves the database ZD_DATABASE (default postgres; tools/test.sh uses one
# that is not), which "start" creates, and every zerodown setting is written
# there (with its default value), so that the suites run against settings
# read from the file.
set -euo pipefail

ZD_CLUSTER_DIR=${ZD_CLUSTER_DIR:-/tmp/zerodown-cluster}
ZD_PORT=${ZD_PORT:-5499}
ZD_DATABASE=${ZD_DATABASE:-postgres}
BINDIR=$(pg_config --bindir)
DATA=$ZD_CLUSTER_DIR/data
SOCK=$ZD_CLUSTER_DIR

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else (cd / && runuser -u postgres -- "$@"); fi
}

case "${1:-}" in
start)
    mkdir -p "$ZD_CLUSTER_DIR"
    chown postgres: "$ZD_CLUSTER_DIR" 2>/dev/null || true
    if [ ! -f "$DATA/PG_VERSION" ]; then
        as_postgres "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C >"$ZD_CLUSTER_DIR/initdb.log"
        cat >>"$DATA/postgresql.conf" <<CONF
port = $ZD_PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'zerodown, pg_cron'
zerodown.database = '$ZD_DATABASE'
zerodown.lock_timeout = '1s'
zerodown.lock_retries = 5
zerodown.lock_retry_delay = '500ms'
zerodown.gate_timeout = 0
zerodown.drain_timeout = '10min'
cron.database_name = '$ZD_DATABASE'
max_worker_processes = 16
fsync = off
synchronous_commit = off
full_page_writes = off
lc_messages = 'C'
log_min_messages = warning
CONF
    fi
    as_postgres "$BINDIR/pg_ctl" -D "$DATA" -l "$ZD_CLUSTER_DIR/server.log" -w start >/dev/null
    if [ "$ZD_DATABASE" != postgres ] &&
        [ -z "$(as_postgres "$BINDIR/psql" -X -h "$SOCK" -p "$ZD_PORT" -U postgres -d postgres -Atc \
            "SELECT 1 FROM pg_database WHERE datname = '$ZD_DATABASE'")" ]; then
        as_postgres "$BINDIR/createdb" -h "$SOCK" -p "$ZD_PORT" -U postgres "$ZD_DATABASE"
    fi
    echo "cluster running: PGHOST=$SOCK PGPORT=$ZD_PORT PGUSER=postgres PGDATABASE=$ZD_DATABASE"
    ;;
check)
    # every zerodown setting written in postgresql.conf reached the server
    # from the file, and none was thrown away at start
    bad=$(as_postgres "$BINDIR/psql" -X -h "$SOCK" -p "$ZD_PORT" -U postgres -d "$ZD_DATABASE" -Atc \
        "SELECT c.name || ' = ' || c.setting || coalesce(' (' || c.error || ')', '') || ': ' ||
                coalesce(s.source || ', ' || s.setting, 'not defined')
           FROM pg_file_settings c LEFT JOIN pg_settings s ON s.name = c.name
          WHERE c.name LIKE 'zerodown.%' AND c.applied IS NOT TRUE
             OR c.name LIKE 'zerodown.%' AND s.source IS DISTINCT FROM 'configuration file'
          ORDER BY 1")
    if [ -n "$bad" ] || grep -q 'invalid configuration parameter name "zerodown\.' "$ZD_CLUSTER_DIR/server.log"; then
        echo "zerodown settings of postgresql.conf that did not reach the server:" >&2
        echo "$bad" >&2
        grep 'invalid configuration parameter name "zerodown\.' "$ZD_CLUSTER_DIR/server.log" >&2 || true
        exit 1
    fi
    as_postgres "$BINDIR/psql" -X -h "$SOCK" -p "$ZD_PORT" -U postgres -d "$ZD_DATABASE" -Atc \
        "SELECT count(*) || ' zerodown settings read from postgresql.conf, the worker serves ' ||
                coalesce(current_setting('zerodown.database', true), 'every database')
           FROM pg_settings WHERE name LIKE 'zerodown.%' AND source = 'configuration file'"
    ;;
stop)
    if [ -f "$DATA/postmaster.pid" ]; then
        as_postgres "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    ;;
destroy)
    "$0" stop || true
    rm -rf "$ZD_CLUSTER_DIR"
    ;;
env)
    echo "export PGHOST=$SOCK PGPORT=$ZD_PORT PGUSER=postgres PGDATABASE=$ZD_DATABASE"
    ;;
*)
    echo "usage: $0 start|stop|destroy|env|check" >&2
    exit 2
    ;;
esac
