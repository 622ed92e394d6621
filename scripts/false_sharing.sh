#!/bin/sh
# Which allocators put two threads' 8-byte objects on one cache line
# (docs/workloads.md, "False sharing by address"): runs
# tests/false_sharing_probe under each allocator with `allocbench exec` and
# prints a markdown table of the probe's counts. The counts are of
# addresses, not times, so they hold on a host where a shared line costs no
# time. Exits 1 when the probe's self-check or a run failed.
#
#   sh scripts/false_sharing.sh BUILD_DIR OUT [ALLOCATORS [EXEC_ARGS...]]
#
# ALLOCATORS defaults to all; EXEC_ARGS go to `allocbench exec`, e.g.
# `--allocator-lib before=OLD.so` with ALLOCATORS `inhouse,before`.
set -eu
build=$1
out=$2
allocators=${3:-all}
shift $(($# < 3 ? $# : 3))
probe=$build/tests/false_sharing_probe
mkdir -p "$out"
"$probe" --self-check
# The timing (about 3 s) is skipped with FALSE_SHARING_NO_LINE_COST=1 (the test does).
if [ "${FALSE_SHARING_NO_LINE_COST:-0}" != 1 ]; then
  echo "This host, two threads writing (median [min, max] of 5): $("$probe" --line-cost)"
  echo
fi
echo "| allocator | passive: rounds on a shared line | active: rounds on a shared line |"
echo "|---|---|---|"
for pattern in passive active; do
  "$build/allocbench" exec --allocators "$allocators" --reps 1 --seed 1 --name "false_sharing_$pattern" \
    --force --out "$out/$pattern" "$@" -- "$probe" "$pattern" >"$out/$pattern.log" 2>&1 ||
    { cat "$out/$pattern.log" >&2; exit 1; }
done
status=0
for f in "$out"/passive/exec/*.r0.stderr; do
  a=$(basename "$f" .r0.stderr)
  row="| $a |"
  for pattern in passive active; do
    line=$(grep '^@fs pattern=' "$out/$pattern/exec/$a.r0.stderr" 2>/dev/null || true)
    if [ -z "$line" ]; then
      row="$row no result (see $out/$pattern/exec) |"
      status=1
      continue
    fi
    row="$row $(echo "$line" | awk '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%d of %d (%.1f%%)", v["shared"], 2 * v["rounds"], 50 * v["shared"] / v["rounds"] }') |"
  done
  echo "$row"
done
exit $status
