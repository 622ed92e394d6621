#!/bin/sh
# Regenerates the tables of design note section 14 from the committed run
# docs/reports/i14d_run (host C), run from the repository's root. The run:
#   bash scripts/inhouse_baseline.sh 741891c
#   build/allocbench run --allocators glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo,inhouse,inhouse_baseline \
#     --workloads larson,xmalloc,cache_scratch:default --threads 1,2 --reps 7 --order shuffled \
#     --warmup 1 --min-time 0.3 --out /tmp/i14d   (then copied here)
# inhouse is liballoc with the remote-free cache (769f755), inhouse_baseline
# liballoc at 741891c, without it.
set -eu
out=docs/reports/i14d
run=docs/reports/i14d_run

. docs/reports/gen.sh

gen remote_cache_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen liballoc_best_peer.md "$py" scripts/best_peer.py $run/results.csv --markdown
# The mission cells, same build pair (written to /tmp/i14d_m, copied to
# docs/reports/i14d_mission_run):
#   build/allocbench run --allocators inhouse,inhouse_baseline,mimalloc,jemalloc \
#     --workloads mixed_sizes,rl_churn,ttl_ring --threads 1,2 --reps 5 --order shuffled \
#     --warmup 1 --min-time 0.2 --out /tmp/i14d_m
mis=docs/reports/i14d_mission_run
gen mission_remote_cache_ab.md scripts/allocplot.sh compare $mis/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen mission_rss_vs_jemalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes
gen mission_time_vs_mimalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
