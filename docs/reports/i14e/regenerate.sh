#!/bin/sh
# Regenerates the tables of design note section 15 from the committed runs
# docs/reports/i14e_run, docs/reports/i14e_mission_run and
# docs/reports/i14e_explore/* (host C), run from the repository's root.
# inhouse is liballoc at 6abbc0a (the remote-free word counts its list),
# inhouse_baseline liballoc at 6db2230 (without it). The runs:
#   bash scripts/inhouse_baseline.sh 6db2230
#   build/allocbench run --allocators glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo,inhouse,inhouse_baseline \
#     --workloads larson,xmalloc,cache_scratch:default --threads 1,2 --reps 9 --order shuffled \
#     --warmup 1 --min-time 0.3 --out /tmp/i14e
#   build/allocbench run --allocators inhouse,inhouse_baseline,mimalloc,jemalloc \
#     --workloads mixed_sizes,rl_churn,ttl_ring --threads 1,2 --reps 7 --order shuffled \
#     --warmup 1 --min-time 0.2 --out /tmp/i14e_m
# (then context.json, results.csv and run.json of each copied here).
set -eu
out=docs/reports/i14e
run=docs/reports/i14e_run
mis=docs/reports/i14e_mission_run

. docs/reports/gen.sh

gen count_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen liballoc_best_peer.md "$py" scripts/best_peer.py $run/results.csv --markdown
gen mission_count_ab.md scripts/allocplot.sh compare $mis/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
gen mission_rss_vs_jemalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes
gen mission_time_vs_mimalloc.md scripts/allocplot.sh compare $mis/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op

# The exploratory A/B runs (docs/reports/i14e_explore/README.md says which
# build each name is): every variant against the build without the change.
ex=docs/reports/i14e_explore
{
  for d in count count2 pf x t64 ord ord2 nopf; do
    printf '### %s\n\n```sh\nscripts/allocplot.sh compare %s/%s/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op\n```\n\n' \
      "$d" "$ex" "$d"
    scripts/allocplot.sh compare $ex/$d/results.csv --allocators inhouse_baseline,inhouse --metric net_ns_per_op
    printf '\n'
  done
  for pair in 3way:la_count 3way:la_pf 3b:la_ord 3b:la_t64; do
    d=${pair%%:*}
    b=${pair#*:}
    printf '### %s, %s\n\n```sh\nscripts/allocplot.sh compare %s/%s/results.csv --allocators la_base,%s --metric net_ns_per_op\n```\n\n' \
      "$d" "$b" "$ex" "$d" "$b"
    scripts/allocplot.sh compare $ex/$d/results.csv --allocators la_base,$b --metric net_ns_per_op
    printf '\n'
  done
} > $out/explore_ab.md
