#!/usr/bin/env bash
# A private copy of the PostgreSQL 15 installation, for the tests and the
# benchmarks:
#
#   tools/pgtree.sh DIR      copy PostgreSQL 15 (bindir, pkglibdir, sharedir)
#                            under DIR and print its pg_config
#
# PostgreSQL finds its lib and share directories relative to its binaries,
# so a copy under DIR is a complete installation of its own: "make install
# PG_CONFIG=DIR/.../pg_config" installs zerodown there and nowhere else, and
# a server started from DIR's bindir loads that build.  Two checkouts can
# then build, install and test at the same time on one machine without
# replacing each other's zerodown.so under a running server.  The headers
# and the client libraries are not copied: DIR links to the system's.
#
# Run it after tools/setup.sh, so that pg_cron and pgTAP are in the copy.
set -euo pipefail

DIR=${1:?usage: tools/pgtree.sh DIR}
SYS_PG_CONFIG=${SYS_PG_CONFIG:-$(command -v pg_config)}

bindir=$("$SYS_PG_CONFIG" --bindir)
pkglibdir=$("$SYS_PG_CONFIG" --pkglibdir)
sharedir=$("$SYS_PG_CONFIG" --sharedir)
includedir=$("$SYS_PG_CONFIG" --includedir)
libdir=$("$SYS_PG_CONFIG" --libdir)

rm -rf "$DIR"
for d in "$bindir" "$pkglibdir" "$sharedir"; do
    mkdir -p "$DIR$(dirname "$d")"
    cp -a "$d" "$DIR$(dirname "$d")/"
done
for d in "$includedir" "$libdir"; do
    if [ ! -e "$DIR$d" ]; then
        mkdir -p "$DIR$(dirname "$d")"
        ln -s "$d" "$DIR$d"
    fi
done

pg_config=$DIR$bindir/pg_config
[ "$("$pg_config" --bindir)" = "$DIR$bindir" ] ||
    { echo "pgtree: $pg_config does not report its own bindir" >&2; exit 1; }
echo "$pg_config"
