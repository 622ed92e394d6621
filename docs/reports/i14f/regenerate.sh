#!/bin/sh
# Regenerates the tables of design note section 16 from the committed runs
# docs/reports/i14f_run, docs/reports/i14f_mission_run and
# docs/reports/i14f_explore/* (host C), run from the repository's root.
# inhouse is liballoc at 8585ad7 (the batch rule and the inlined
# remote-cache push), inhouse_baseline liballoc at 835e5a9 (this stop's
# start, section 15's code). The runs:
#   bash scripts/inhouse_baseline.sh 835e5a9
#   build/allocbench run --allocators glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo,inhouse,inhouse_baseline \
#     --workloads larson,xmalloc,cache_scratch --threads 1,2 --reps 9 --order shuffled \
#     --warmup 1 --min-time 0.3 --out /tmp/i14g
#   build/allocbench run --allocators inhouse,inhouse_baseline,mimalloc,jemalloc \
#     --workloads mixed_sizes,rl_churn,ttl_ring --threads 1,2 --reps 7 --order shuffled \
#     --warmup 1 --min-time 0.2 --out /tmp/i14g_m
# (then context.json, results.csv and run.json of each copied here).
# false_sharing.md is not regenerated from a run: it is what
# `sh scripts/false_sharing.sh build OUT` printed (its header says when).
set -eu
out=docs/reports/i14f
run=docs/reports/i14f_run
mis=docs/reports/i14f_mission_run

. docs/reports/gen.sh

gen stop_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen liballoc_best_peer.md "$py" scripts/best_peer.py $run/results.csv --markdown
gen mission_stop_ab.md scripts/allocplot.sh compare $mis/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen mission_rss_vs_jemalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes
gen mission_time_vs_mimalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op

ex=docs/reports/i14f_explore
{
  for pair in batch:inhouse_baseline,inhouse batch_xmalloc:inhouse_baseline,inhouse \
              cache512:inhouse,inhouse_baseline inline:inhouse_baseline,inhouse inline:inhouse_baseline,inl512 \
              inline:tcmalloc,inl512; do
    d=${pair%%:*}
    a=${pair#*:}
    printf '### %s, %s\n\n```sh\nscripts/allocplot.sh compare %s/%s/results.csv --allocators %s --metric net_ns_per_op\n```\n\n' \
      "$d" "$a" "$ex" "$d" "$a"
    scripts/allocplot.sh compare $ex/$d/results.csv --allocators $a --metric net_ns_per_op
    printf '\n'
  done
} > $out/explore_ab.md
