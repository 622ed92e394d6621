#!/bin/sh
# Runs allocplot (scripts/allocplot/) from any directory under the python3 that
# has pandas, matplotlib and scipy (scripts/find_python.sh), e.g.
#   scripts/allocplot.sh table results/smoke/results.csv --metric net_ns_per_op
# Two more forms start that interpreter with scripts/ on PYTHONPATH, so that
# `import allocplot` works without touching sys.path (docs/analysis.md):
#   scripts/allocplot.sh python [ARGS...]    python3 ARGS (a script, -c CODE; none: a REPL)
#   scripts/allocplot.sh notebook [ARGS...]  Jupyter Notebook (Debian's python3-notebook)
here=$(cd "$(dirname "$0")" && pwd)
py=$(sh "$here/find_python.sh") || {
  echo "allocplot.sh: no Python interpreter with pandas, matplotlib and scipy found; run scripts/setup.sh" >&2
  exit 2
}
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
case "${1:-}" in
  python)
    shift
    exec "$py" "$@"
    ;;
  notebook)
    shift
    if ! "$py" -c 'import notebook' >/dev/null 2>&1; then
      echo "allocplot.sh: $py has no Jupyter Notebook; install it with: apt-get install python3-notebook" >&2
      exit 2
    fi
    exec "$py" -m notebook "$@"
    ;;
esac
exec "$py" -m allocplot "$@"
