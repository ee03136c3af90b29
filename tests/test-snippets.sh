#!/bin/sh
# test-snippets.sh - every C block in the lessons that claims to be
# complete compiles as shown.
#
# usage: test-snippets.sh SOURCE_ROOT CC [CC ARGS...]
#
# The lessons mark each code block with an info string after the opening
# fence; the renderer ignores it, this test reads it:
#
#   ```c            a complete translation unit: compiled with
#                   -std=c17 -Wall -Wextra -Werror -pthread, and linked
#                   too when a line starts with `int main(` and it uses
#                   no tutor header
#   ```c fragment   an excerpt (names declared elsewhere, `...`): skipped,
#                   and counted
#   ```rust, ```text, ```sh, ...   not C: counted as other
#
# A block with no info string at all is an error: say what it is, so that
# a C excerpt cannot slip past unmarked.  Blocks that include the tutor's
# own headers ("chan.h", "future.h", ...) compile against the include
# directories below, relative to SOURCE_ROOT.
set -u

# The one list of include directories for blocks that use tutor headers.
INCLUDE_DIRS="demos/lib demos/runner"

if [ $# -lt 2 ]; then
    echo "usage: $0 SOURCE_ROOT CC [CC ARGS...]" >&2
    exit 2
fi
root=$1
shift
cc="$*"     # the compiler command (e.g. "ccache cc"); paths without spaces

incs=
for d in $INCLUDE_DIRS; do
    incs="$incs -I$root/$d"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ct-snippets.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Split the lessons into blocks: tmp/N.c for each complete C block, and one
# line per block in tmp/list: "N KIND FILE LINE" (LINE of the opening fence).
awk -v dir="$tmp" '
    FNR == 1 { name = FILENAME; sub(".*/lessons/", "lessons/", name) }
    !inblock && /^```/ {
        info = substr($0, 4)
        gsub(/^[ \t]+|[ \t]+$/, "", info)
        if (info == "")
            kind = "unmarked"
        else if (info == "c")
            kind = "complete"
        else if (info ~ /^c[ \t]+fragment$/)
            kind = "fragment"
        else if (info ~ /^c([ \t]|$)/)
            kind = "badmark"
        else
            kind = "other"
        n++
        out = dir "/" n ".c"
        printf "%d %s %s %d\n", n, kind, name, FNR > (dir "/list")
        inblock = 1
        next
    }
    inblock && /^```/ { inblock = 0; close(out); next }
    inblock && kind == "complete" { print > out }
    END { if (inblock) printf "%d open %s %d\n", ++n, name, FNR > (dir "/list") }
' "$root"/lessons/*.md || exit 1

compiled=0 fragments=0 others=0 failed=0
while read -r n kind file line; do
    case $kind in
    fragment) fragments=$((fragments + 1)) ;;
    other) others=$((others + 1)) ;;
    unmarked)
        echo "$file:$line: code block without an info string" \
             "(use c, c fragment, rust, text or sh)"
        failed=$((failed + 1)) ;;
    badmark)
        echo "$file:$line: unknown C block marker (use 'c' or 'c fragment')"
        failed=$((failed + 1)) ;;
    open)
        echo "$file:$line: code block never closed"
        failed=$((failed + 1)) ;;
    complete)
        src=$tmp/$n.c
        if grep -q '^int main(' "$src" && ! grep -q '^#include "' "$src"; then
            what="$src -o $tmp/$n.out"
        else
            what="-c $src -o $tmp/$n.o"
        fi
        # shellcheck disable=SC2086 # $cc, $what and $incs are word lists
        if ! out=$($cc -std=c17 -Wall -Wextra -Werror -pthread $incs $what 2>&1); then
            echo "$file:$line: this C block does not compile:"
            # point compiler messages at the lesson's own lines
            echo "$out" | awk -v src="$src:" -v file="$file" -v base="$line" '
                index($0, src) == 1 {
                    rest = substr($0, length(src) + 1)
                    if (rest ~ /^[0-9]/) {
                        n = rest + 0
                        sub(/^[0-9]+/, "", rest)
                        $0 = file ":" (base + n) rest
                    } else {
                        $0 = file ":" rest
                    }
                }
                { print "    " $0 }'
            failed=$((failed + 1))
        fi
        compiled=$((compiled + 1)) ;;
    esac
done <"$tmp/list"

echo "snippets: $compiled complete C blocks compiled, $fragments fragments skipped," \
     "$others other blocks, $failed problems"
if [ "$compiled" -eq 0 ]; then
    echo "no complete C block found: is $root/lessons the lesson directory?"
    exit 1
fi
[ "$failed" -eq 0 ]
