#!/usr/bin/env bash
# tools/pgindent.sh [--check] [--typedefs] [FILE...]
#
# Lays out zerodown's C code as pgindent lays out PostgreSQL's: pg_bsd_indent
# (Debian package pg-bsd-indent) with PostgreSQL's settings and the list of
# type names in src/typedefs.list, so that "Datum *values" is read as a
# declaration.  With no FILE it does every .c and .h file under src/.
#
#   --check      change nothing; list the files whose layout differs and
#                exit 2 if there is one (what `make pgindent-check` runs)
#   --typedefs   rebuild src/typedefs.list first: the typedef names in the
#                debugging information of the built objects (PostgreSQL's own
#                and the C library's that the code uses) and the ones the
#                project's headers declare.  Needs a build (make) first.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
TYPEDEFS=$SRC/src/typedefs.list
INDENT=${PGINDENT:-pg_bsd_indent}
# PostgreSQL's settings for pg_bsd_indent (src/tools/pgindent)
OPTS="-bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4 -l79 -lp -lpl -nip -npro -sac -tpg -ts4"

check=no
typedefs=no
files=()
for arg in "$@"; do
    case $arg in
        --check) check=yes ;;
        --typedefs) typedefs=yes ;;
        -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "pgindent: unknown option $arg" >&2; exit 1 ;;
        *) files+=("$arg") ;;
    esac
done

if ! command -v "$INDENT" >/dev/null 2>&1; then
    echo "pgindent: $INDENT not found; install it with: tools/setup.sh pg-bsd-indent" >&2
    exit 1
fi

if [ "$typedefs" = yes ]; then
    objs=$(find "$SRC/src" -name '*.o')
    if [ -z "$objs" ]; then
        echo "pgindent: no built objects under src/; run make first" >&2
        exit 1
    fi
    {
        # every typedef the compiler saw, as DWARF names it
        for o in $objs; do
            objdump --dwarf=info "$o" 2>/dev/null |
                awk '/DW_TAG_typedef/ { t = 1; next }
                     t && /DW_AT_name/ { sub(/.*: /, ""); print; t = 0 }'
        done
        # and those the project declares, used or not
        grep -rhoE '^\}[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;|^typedef[^;(]*[[:space:]*]([A-Za-z_][A-Za-z0-9_]*);' \
            "$SRC/src" --include='*.h' --include='*.c' |
            sed -E 's/.*[[:space:]*}]([A-Za-z_][A-Za-z0-9_]*);$/\1/'
        echo bool
    } | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | LC_ALL=C sort -u > "$TYPEDEFS"
    echo "pgindent: $(wc -l < "$TYPEDEFS") type names in src/typedefs.list"
fi

if [ ${#files[@]} -eq 0 ]; then
    mapfile -t files < <(cd "$SRC" && find src -name '*.[ch]' | LC_ALL=C sort)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
changed=0
for f in "${files[@]}"; do
    # protect block comments that start with dashes, as pgindent does
    perl -pe 's!/\* +---!/*---X_X!g' "$f" > "$tmp/in.c"
    if ! "$INDENT" $OPTS -U"$TYPEDEFS" "$tmp/in.c" "$tmp/out.c" 2> "$tmp/err" || [ -s "$tmp/err" ]; then
        echo "pgindent: $f: $(cat "$tmp/err")" >&2
        exit 1
    fi
    # undo the protection; one space before '*' in a function's return type;
    # a tab between two comments run together
    perl -pe 's!/\*---X_X!/* ---!g; s!^([A-Za-z_]\S*)[ \t]+\*$!$1 *!; s!\*/(/\*.*\*/)$!*/\t$1!' \
        "$tmp/out.c" > "$tmp/done.c"
    if ! cmp -s "$f" "$tmp/done.c"; then
        changed=$((changed + 1))
        if [ "$check" = yes ]; then
            echo "$f"
        else
            cp "$tmp/done.c" "$f"
        fi
    fi
done

if [ "$check" = yes ] && [ $changed -gt 0 ]; then
    echo "pgindent: $changed file(s) differ from the layout; run make pgindent" >&2
    exit 2
fi
[ "$check" = yes ] || echo "pgindent: $changed of ${#files[@]} file(s) changed"
