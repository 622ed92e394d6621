#!/bin/sh
# The benchmark matrix over a few machines without a scheduler: GNU parallel
# runs shard I/N of `allocbench run` on the hosts of an --sshloginfile (one
# job per host at a time: -j1 per login), then merges the shards and writes
# the report here. docs/scale_out.md explains it.
#
#   sh scripts/parallel_bench.sh HOSTFILE N OUT [RUN ARGS...]
#
# HOSTFILE is GNU parallel's --sshloginfile (one `[user@]host` a line; `:`
# is this machine). Every host must have the repository at the same path as
# here (ALLOCBENCH_ROOT, default this checkout), built from the same commit
# (`allocbench merge` refuses shards of another commit or build flags), and
# OUT must be on a file system they share (or set BENCH_FETCH=1 to copy each
# shard back with rsync). A shard whose OUT/shard-I already holds a run is
# resumed, so rerunning the script after a failure reruns only what is missing.
# Exit status: 0, 2 on bad usage, else the failing step's.
set -eu

die() { echo "parallel_bench: $1" >&2; exit 2; }
[ $# -ge 3 ] || die "usage: parallel_bench.sh HOSTFILE N OUT [RUN ARGS...]"
hosts=$1 n=$2 out=$3
shift 3
[ -r "$hosts" ] || die "cannot read the sshloginfile '$hosts'"
case "$n" in '' | *[!0-9]*) die "N must be a number, not '$n'" ;; esac
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
command -v parallel >/dev/null 2>&1 || die "GNU parallel not found (Debian package: parallel)"
ROOT=${ALLOCBENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=$ROOT/build/allocbench
[ -x "$BIN" ] || die "$BIN not found; build first (make build)"
"$BIN" run "$@" --shard "0/$n" --dry-run >&2 || exit 2
mkdir -p "$out"

# One quoted argument list for the remote shell.
args=""
for a in "$@"; do args="$args '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"; done

seq 0 $((n - 1)) | parallel --sshloginfile "$hosts" -j1 --halt never --line-buffer \
  --tagstring 'shard {}' \
  "if [ -f '$out/shard-{}/run.json' ]; then '$BIN' run --resume --out '$out/shard-{}'; \
   else '$BIN' run $args --shard {}/$n --out '$out/shard-{}'; fi" || status=$?
if [ "${BENCH_FETCH:-0}" = 1 ]; then
  while read -r login; do
    case "$login" in '' | '#'* | :) continue ;; esac
    rsync -a "${login#*/}:$out/" "$out/" || true
  done < "$hosts"
fi
[ "${status:-0}" = 0 ] || echo "parallel_bench: some shards failed (parallel exit ${status}); merging what is there" >&2
dirs=""
i=0
while [ "$i" -lt "$n" ]; do
  [ -d "$out/shard-$i" ] && dirs="$dirs $out/shard-$i"
  i=$((i + 1))
done
# shellcheck disable=SC2086
"$BIN" merge --force ${BENCH_MERGE_ARGS:-} --out "$out/merged" $dirs
cd "$ROOT" && sh scripts/allocplot.sh report "$out/merged" --out "$out/report"
