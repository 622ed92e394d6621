#!/bin/sh
# Runs allocplot (scripts/allocplot/) from any directory under the python3 that
# has pandas, matplotlib and scipy (scripts/find_python.sh), e.g.
#   scripts/allocplot.sh table results/smoke/results.csv --metric net_ns_per_op
here=$(cd "$(dirname "$0")" && pwd)
py=$(sh "$here/find_python.sh") || {
  echo "allocplot.sh: no Python interpreter with pandas, matplotlib and scipy found; run scripts/setup.sh" >&2
  exit 2
}
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m allocplot "$@"
