#!/bin/sh
# ctest's python_allocplot: the allocplot tests under the interpreter
# scripts/find_python.sh picks, found when the test runs (installing the
# packages needs no re-configure). Without one it fails saying what to do.
src=$(cd "$(dirname "$0")/../.." && pwd)
if ! py=$(sh "$src/scripts/find_python.sh"); then
  echo "python_allocplot: no Python interpreter with pandas, matplotlib and scipy found;" \
       "run scripts/setup.sh" >&2
  exit 1
fi
PYTHONPATH="$src/scripts" MPLBACKEND=Agg exec "$py" -m unittest discover -s "$src/tests/python" -v
