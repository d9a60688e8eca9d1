#!/usr/bin/env bash
# Installs what zerodown needs to build, test and benchmark on Debian 12 with
# PostgreSQL 15: the server headers (PGXS, pg_regress, the TAP modules),
# pgTAP and pg_prove, pg_cron, IPC::Run and libpq.  Idempotent: it only asks
# apt when a package is missing.  Run as root.
set -euo pipefail

PACKAGES=(
    postgresql-15
    postgresql-client-15
    postgresql-server-dev-15
    postgresql-15-pgtap
    pgtap
    postgresql-15-cron
    libipc-run-perl
    libpq-dev
    make
    gcc
)

missing=()
for p in "${PACKAGES[@]}" "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages (${missing[*]}); run this script as root" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Debian default cluster is not used: zerodown's scripts start their own.
echo "setup: $(pg_config --version), pgTAP $(dpkg-query -W -f='${Version}' postgresql-15-pgtap), pg_cron $(dpkg-query -W -f='${Version}' postgresql-15-cron)"
