#!/bin/sh
# Prints the path of a python3 that can import pandas, matplotlib and scipy
# (the Debian packages scripts/setup.sh installs). Debian's /usr/bin/python3
# first: the python3 first on PATH may be another interpreter without them.
# Exit 1 (and print nothing) if none has them.
for py in /usr/bin/python3 "$(command -v python3 2>/dev/null)" /usr/local/bin/python3; do
  [ -n "$py" ] && [ -x "$py" ] || continue
  if "$py" -c 'import pandas, matplotlib, scipy' >/dev/null 2>&1; then
    echo "$py"
    exit 0
  fi
done
exit 1
