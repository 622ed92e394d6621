#!/bin/sh
# Regenerates every table of design note section 12 from the committed runs
# docs/reports/i14b_{fixed,reclaim,liballoc}_run (run from the repository's
# root). Each file starts with the command that wrote it; after a change,
# `/usr/bin/python3 scripts/doc_tables.py --write` updates the note's copies.
set -eu
out=docs/reports/i14b
fixed=docs/reports/i14b_fixed_run
reclaim=docs/reports/i14b_reclaim_run
lib=docs/reports/i14b_liballoc_run

. docs/reports/gen.sh

gen fixed_contention_mops.md scripts/allocplot.sh table $fixed/results.csv --metric mops --allocators null,pool,slab,pool_tls,mimalloc,glibc
for a in pool slab; do
  for b in mimalloc glibc; do
    gen ${a}_vs_$b.md scripts/allocplot.sh compare $fixed/results.csv --allocators $b,$a --metric net_ns_per_op
  done
done
gen microbench.md "$py" docs/reports/i14/microbench_table.py $fixed/microbench.json $fixed/microbench_mimalloc.json
gen reclaim_settled.md scripts/allocplot.sh compare $reclaim/results.csv --allocators coalesce_arena,coalesce_arena_reclaim --metric settled_rss_net_bytes
gen reclaim_time.md scripts/allocplot.sh compare $reclaim/results.csv --allocators coalesce_arena,coalesce_arena_reclaim --metric net_ns_per_op
gen reclaim_vs_arena.md "$py" scripts/best_peer.py $reclaim/results.csv --target coalesce_arena_reclaim --peers coalesce_arena --markdown
gen liballoc_best_peer.md "$py" scripts/best_peer.py $lib/results.csv --markdown
gen liballoc_time_vs_mimalloc.md scripts/allocplot.sh compare $lib/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen liballoc_rss_vs_jemalloc.md scripts/allocplot.sh compare $lib/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes
gen liballoc_faults_vs_glibc.md scripts/allocplot.sh compare $lib/results.csv --allocators glibc,inhouse --metric minflt
gen scaling.md scripts/allocplot.sh scaling $fixed/results.csv
large=docs/reports/i14b_liballoc_large_run
gen large_time_vs_mimalloc.md scripts/allocplot.sh compare $large/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen large_rss_vs_jemalloc.md scripts/allocplot.sh compare $large/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes
gen large_best_peer.md "$py" scripts/best_peer.py $large/results.csv --peers glibc,jemalloc,tcmalloc,mimalloc --markdown
