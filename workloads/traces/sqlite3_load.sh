#!/bin/sh
# Prints the SQL of sqlite3.trace (make_traces.sh): inserts through an index
# in one transaction, a group-by and a self-join.
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
