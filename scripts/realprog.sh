#!/bin/sh
# Real programs under LD_PRELOAD (`make bench_realprog`): each is run by
# `allocbench exec` (docs/exec.md) with glibc (no preload), jemalloc, mimalloc
# and the in-house liballoc, REPS times in a shuffled order, its output checked
# against glibc's; one run directory per program under OUT, all rows together
# in OUT/results.csv, and tables of median wall time and peak RSS as ratios to
# glibc. Exits 1 when a run failed or printed another output than glibc's.
#
#   sh scripts/realprog.sh BUILD_DIR OUT [REPS]
set -eu
build=$1
out=$2
reps=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
allocators=${REALPROG_ALLOCATORS:-glibc,jemalloc,mimalloc,inhouse}
inputs=$out/inputs
mkdir -p "$inputs"

# sqlite3's input: 150k inserts in one transaction, an index, a grouped query.
awk 'BEGIN {
  print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);"; print "BEGIN;"
  for (i = 0; i < 150000; i++)
    printf "INSERT INTO t(name, v) VALUES (%cname%d%c, %.1f);\n", 39, i % 997, 39, i * 0.5
  print "COMMIT;"; print "CREATE INDEX ti ON t(name);"
  print "SELECT name, count(*), sum(v) FROM t GROUP BY name ORDER BY name LIMIT 20;"
}' >"$inputs/rows.sql"
# sort's input: 400k lines of a random key and 0-40 bytes of padding.
awk 'BEGIN {
  srand(3); pad = sprintf("%40s", ""); gsub(/ /, "x", pad)
  for (i = 0; i < 400000; i++)
    printf "%04x%04x %s\n", int(rand() * 65536), int(rand() * 65536), substr(pad, 1, int(rand() * 41))
}' >"$inputs/lines.txt"

run() {
  name=$1
  shift
  "$build/allocbench" exec --allocators "$allocators" --reps "$reps" --seed 1 --name "$name" \
    --force --out "$out/$name" -- "$@"
}
run python_dicts /usr/bin/python3 "$src/scripts/realprog_dicts.py"
run sqlite3 sqlite3 :memory: ".read $inputs/rows.sql"
run sort sort "$inputs/lines.txt"
run git_log git -C "$src" log -p --stat
run gxx_compile g++ -std=c++17 -O1 -I "$src" -fsyntax-only "$src/runner/main.cpp"

programs="python_dicts sqlite3 sort git_log gxx_compile"
first=1
for p in $programs; do
  if [ $first = 1 ]; then cat "$out/$p/results.csv"; else tail -n +2 "$out/$p/results.csv"; fi
  first=0
done >"$out/results.csv"
for metric in wall_s peak_rss_bytes; do
  sh "$src/scripts/allocplot.sh" table "$out/results.csv" --metric "$metric" --baseline glibc
done
# The status column (the 10th) comes before any field that may hold a comma.
bad=$(awk -F, 'NR > 1 && $10 != "ok"' "$out/results.csv" | wc -l)
if [ "$bad" -ne 0 ]; then
  echo "realprog: $bad runs failed or differed from glibc's output (see $out/results.csv)" >&2
  exit 1
fi
