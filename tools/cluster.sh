#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the demo, the tests and the benchmarks.
#
#   tools/cluster.sh start   initdb (if needed) and start it
#   tools/cluster.sh stop    stop it
#   tools/cluster.sh env     print the PG* exports for a shell: eval "$(tools/cluster.sh env)"
#
# It runs as the postgres user (PostgreSQL refuses root) in ZD_CLUSTER_DIR
# (default /tmp/zerodown-cluster) on port ZD_PORT (default 5499), with its
# socket in the data directory's parent, and preloads zerodown and pg_cron.
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
    echo "cluster running: PGHOST=$SOCK PGPORT=$ZD_PORT PGUSER=postgres"
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
    echo "usage: $0 start|stop|destroy|env" >&2
    exit 2
    ;;
esac
