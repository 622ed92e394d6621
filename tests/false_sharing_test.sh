#!/bin/sh
# scripts/false_sharing.sh end to end on glibc and liballoc (inhouse): the
# table has a row for each with counts, and liballoc hands the freeing thread
# no object on the line of the thread that handed it over.
set -eu
src=$1
build=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
table=$(FALSE_SHARING_NO_LINE_COST=1 sh "$src/scripts/false_sharing.sh" "$build" "$out/run" glibc,inhouse)
echo "$table"
echo "$table" | grep -q '^| glibc | [0-9]* of 200000 ' || { echo "FAIL: no glibc row"; exit 1; }
echo "$table" | grep -q '^| inhouse | 0 of 200000 (0.0%) | [0-9]* of 200000 ' ||
  { echo "FAIL: liballoc reuses the handed-over object's line (passive false sharing)"; exit 1; }
# A bad argument is refused with exit 2.
rc=0
"$build/tests/false_sharing_probe" --bogus 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: --bogus gave exit $rc, not 2"; exit 1; }
echo PASS
