#!/bin/sh
# Checks the Debian packages allocbench needs and installs the missing ones.
# Idempotent: when everything is installed it only runs dpkg-query and exits 0.
# As root it runs apt-get; otherwise it prints the exact command and exits 2.
# --slurm also installs what scale-out needs (docs/scale_out.md): Slurm and
# munge for make test_slurm's one-node cluster, GNU parallel for
# scripts/parallel_bench.sh.
set -eu

PACKAGES="g++ cmake make pkg-config git
libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev libtbbmalloc2 libclang-rt-14-dev
libbenchmark-dev libgtest-dev libgmock-dev
libcli11-dev nlohmann-json3-dev libfmt-dev
python3 python3-pandas python3-matplotlib python3-numpy python3-scipy
sqlite3 coreutils
valgrind linux-perf"

# Scale-out (--slurm): not needed to build, test or run on one machine.
SLURM_PACKAGES="slurm-wlm munge parallel"
if [ "${1:-}" = "--slurm" ]; then
  PACKAGES="$PACKAGES $SLURM_PACKAGES"
fi

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != "0" ]; then
  echo "setup: missing Debian packages:$missing" >&2
  echo "setup: run as root:  apt-get update && $cmd" >&2
  exit 2
fi

echo "setup: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when an install fails on stale ones.
if ! apt-get install -y --no-install-recommends $missing >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends $missing >&2
fi
