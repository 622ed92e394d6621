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
cat > "$work/dicts.py" <<'PY'
import random
random.seed(7)
total = 0
for r in range(3):
    d = {f"key{i}": "v" * (i % 40) + str(i) for i in range(12000)}
    words = [k.upper() for k in d if len(d[k]) % 3 == 0]
    total += len(d) + len(words) + sum(len(v) for v in d.values())
    del d, words
print(total)
PY
PYTHONMALLOC=malloc "$ab" record --out "$here/python_dicts.trace" -- /usr/bin/python3 "$work/dicts.py"

# sqlite3 in memory: inserts through an index, a group-by and a join.
{
  echo "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT);"
  echo "CREATE INDEX tk ON t(k);"
  echo "BEGIN;"
  i=0
  while [ $i -lt 4000 ]; do
    echo "INSERT INTO t(k, v) VALUES ('k$((i % 97))', printf('%0$((i % 200 + 1))d', $i));"
    i=$((i + 1))
  done
  echo "COMMIT;"
  echo "SELECT k, count(*), sum(length(v)) FROM t GROUP BY k ORDER BY 3 DESC LIMIT 5;"
  echo "SELECT count(*) FROM t a JOIN t b ON a.k = b.k AND a.id < b.id WHERE a.id % 50 = 0;"
} > "$work/load.sql"
"$ab" record --out "$here/sqlite3.trace" -- sh -c "sqlite3 :memory: < '$work/load.sql'"
rm -f "$here/sqlite3.trace"  # the shell's own trace; sqlite3's is the exec'd image
mv "$(ls "$here"/sqlite3.trace.* | head -1)" "$here/sqlite3.trace"
rm -f "$here"/sqlite3.trace.*

# g++ compiling one small translation unit (the standard library headers
# dominate): cc1plus's trace.
cat > "$work/unit.cpp" <<'CPP'
#include <map>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> index_words(const std::vector<std::string>& words) {
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < static_cast<int>(words.size()); ++i) m[words[i]].push_back(i);
  return m;
}
CPP
"$ab" record --out "$work/gxx.trace" -- g++ -std=c++17 -O1 -c "$work/unit.cpp" -o "$work/unit.o"
for f in "$work"/gxx.trace.*; do
  if "$ab" trace-info "$f" | grep -q '^command .*cc1plus'; then cp "$f" "$here/gxx_cc1plus.trace"; fi
done
test -s "$here/gxx_cc1plus.trace"
ls -l "$here"/*.trace
