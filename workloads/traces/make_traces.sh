#!/bin/sh
# Records the traces shipped in workloads/traces/ (see README.md there):
#   sh workloads/traces/make_traces.sh BUILD_DIR
# Each program runs under `allocbench record`; the file kept is the image
# that does the work (for g++, the compiler proper, cc1plus, which the
# driver execs). Outputs go to workloads/traces/ next to this script.
set -eu
build=${1:?usage: make_traces.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ab="$build/allocbench"

# python3 with PYTHONMALLOC=malloc, so every object (not only the large
# ones pymalloc passes on) is a malloc call: dict and str churn.
PYTHONMALLOC=malloc "$ab" record --out "$here/python_dicts.trace" -- /usr/bin/python3 "$here/dicts.py"

# sqlite3 in memory: inserts through an index, a group-by and a join.
sh "$here/sqlite3_load.sh" > "$work/load.sql"
"$ab" record --out "$here/sqlite3.trace" -- sh -c "sqlite3 :memory: < '$work/load.sql'"
rm -f "$here/sqlite3.trace"  # the shell's own trace; sqlite3's is the exec'd image
mv "$(ls "$here"/sqlite3.trace.* | head -1)" "$here/sqlite3.trace"
rm -f "$here"/sqlite3.trace.*

# g++ compiling one small translation unit (the standard library headers
# dominate): cc1plus's trace.
"$ab" record --out "$work/gxx.trace" -- g++ -std=c++17 -O1 -c "$here/unit.cpp" -o "$work/unit.o"
for f in "$work"/gxx.trace.*; do
  if "$ab" trace-info "$f" | grep -q '^command .*cc1plus'; then cp "$f" "$here/gxx_cc1plus.trace"; fi
done
test -s "$here/gxx_cc1plus.trace"
ls -l "$here"/*.trace
