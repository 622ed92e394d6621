#!/bin/sh
# make test_slurm: a real single-node Slurm cluster (scripts/slurm/local_cluster.sh),
# scripts/slurm/bench_array.sbatch submitted with 2 array tasks on a tiny
# matrix, and the merged run checked: every cell of the plan once, from both
# shards, with the unsharded run's trace hashes, and a report. Needs root
# and Debian's slurm-wlm and munge. Stops the cluster if it started it.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/allocbench
fail() { echo "slurm_test: FAIL: $1" >&2; exit 1; }

STATE=${ALLOCBENCH_SLURM_STATE:-/tmp/allocbench-slurm}
started=0
if ! sh "$ROOT/scripts/slurm/local_cluster.sh" status 2>/dev/null | grep -q "slurmd: running"; then
  started=1
fi
eval "$(sh "$ROOT/scripts/slurm/local_cluster.sh" start)"
OUT=$(mktemp -d /tmp/abslurmXXXXXX)
cleanup() {
  [ "$started" = 1 ] && sh "$ROOT/scripts/slurm/local_cluster.sh" stop
  rm -rf "$OUT"
}
trap cleanup EXIT

ARGS="--allocators glibc,pmr_monotonic --workloads fixed_size:64,rl_churn:small --threads 1,2 --reps 2 --ops 3000 --seed 3 --order shuffled"
t0=$(date +%s)
jobs=$(ALLOCBENCH_ROOT=$ROOT BENCH_SHARDS=2 BENCH_OUT=$OUT BENCH_ARGS=$ARGS \
  sh "$ROOT/scripts/slurm/bench_array.sbatch" 2>"$OUT/submit.err") ||
  fail "submission failed: $(cat "$OUT/submit.err")"
merge_job=$(echo "$jobs" | tail -n 1)
grep -q -- "--array=0-1 --exclusive" "$OUT/submit.err" || fail "no 2-task exclusive array: $(cat "$OUT/submit.err")"
grep -q -- "--dependency=afterok:" "$OUT/submit.err" || fail "no afterok follow-up"

state=""
i=0
while [ $i -lt 600 ]; do
  state=$(scontrol show job "$merge_job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
  sleep 0.5
  i=$((i + 1))
done
t1=$(date +%s)
[ "$state" = COMPLETED ] || fail "merge job $merge_job ended $state: $(cat "$OUT"/slurm-*.out 2>/dev/null | tail -20)"

# The merged run: the unsharded plan's cells, each once, traces equal.
"$BIN" run $ARGS --out "$OUT/whole" 2>/dev/null
key() { sh "$ROOT/scripts/find_python.sh" >/dev/null; /usr/bin/python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in sorted(rows, key=lambda r: (r["allocator"], r["workload"], r["profile"], r["threads"], r["repetition"])):
    print(r["allocator"], r["workload"], r["profile"], r["threads"], r["repetition"], r["trace_hash"], r["status"])
PY
}
key "$OUT/whole/results.csv" > "$OUT/whole.keys"
key "$OUT/merged/results.csv" > "$OUT/merged.keys"
[ "$(wc -l < "$OUT/merged.keys")" = 24 ] || fail "merged run has $(wc -l < "$OUT/merged.keys") rows, not 24"
diff "$OUT/whole.keys" "$OUT/merged.keys" >&2 || fail "merged cells or traces differ from the unsharded run"
[ -f "$OUT/merged/hosts/shard-0-of-2/context.json" ] && [ -f "$OUT/merged/hosts/shard-1-of-2/context.json" ] ||
  fail "a shard's context.json is missing under merged/hosts/"
[ -f "$OUT/report/report.md" ] || fail "no report: $(cat "$OUT"/slurm-merge-*.out | tail -20)"
grep -q "SLURM_ARRAY_TASK_ID\|shard 1/2 on" "$OUT"/slurm-*_1.out || fail "task 1 did not run shard 1/2"
echo "slurm_test: ok: 2 array tasks + merge job in $((t1 - t0)) s (submit to merged report)"
