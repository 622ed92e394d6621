#!/bin/sh
# Regenerates the tables of design note section 17 from the committed run
# docs/reports/i14g_ab (host C), run from the repository's root. inhouse is
# liballoc at c8dc853 (remote-free cache up to 64 B, batch 8); inhouse_c512
# the same code with kRemoteCacheMaxBlock 512, kRemoteCacheClasses 17 and
# kRemoteCacheBatch 32 (types.h), built in a worktree. The run:
#   build/allocbench run --allocators inhouse,inhouse_c512,tcmalloc,mimalloc \
#     --allocator-lib inhouse_c512=WORKTREE/build/allocators/inhouse/liballoc.so@c8dc853+cache512b32 \
#     --workloads larson,xmalloc --threads 1,2 --reps 11 --order shuffled \
#     --warmup 1 --min-time 0.3 --out /tmp/i14g_ab
# (then context.json, results.csv and run.json copied here).
set -eu
out=docs/reports/i14g
run=docs/reports/i14g_ab

. docs/reports/gen.sh

gen cache512_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse,inhouse_c512 --metric net_ns_per_op
gen liballoc_best_peer.md "$py" scripts/best_peer.py $run/results.csv --markdown
