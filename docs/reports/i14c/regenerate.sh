#!/bin/sh
# Regenerates every table of design note section 13 from the committed runs
# (run from the repository's root): host A's docs/reports/i14c_{fixed,liballoc}_run
# and host B's docs/reports/i14c_b_{fixed,liballoc,microbench}_run (b_*.md).
# Each file starts with the command that wrote it; after a change,
# `/usr/bin/python3 scripts/doc_tables.py --write` updates the note's copies.
set -eu
out=docs/reports/i14c
fixed=docs/reports/i14c_fixed_run
lib=docs/reports/i14c_liballoc_run
bfixed=docs/reports/i14c_b_fixed_run
blib=docs/reports/i14c_b_liballoc_run
bmicro=docs/reports/i14c_b_microbench_run

. docs/reports/gen.sh

gen fixed_contention_mops.md scripts/allocplot.sh table $fixed/results.csv --metric mops --allocators null,pool,slab,pool_tls,mimalloc,glibc
gen scaling.md scripts/allocplot.sh scaling $fixed/results.csv
for a in pool slab; do
  for b in mimalloc glibc; do
    gen ${a}_vs_$b.md scripts/allocplot.sh compare $fixed/results.csv --allocators $b,$a --metric net_ns_per_op
  done
done
gen liballoc_best_peer.md "$py" scripts/best_peer.py $lib/results.csv --markdown
gen liballoc_time_vs_mimalloc.md scripts/allocplot.sh compare $lib/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen liballoc_rss_vs_jemalloc.md scripts/allocplot.sh compare $lib/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes

gen b_fixed_contention_mops.md scripts/allocplot.sh table $bfixed/results.csv --metric mops --allocators null,pool,slab,pool_tls,mimalloc,glibc
gen b_scaling.md scripts/allocplot.sh scaling $bfixed/results.csv
for a in pool slab; do
  for b in mimalloc glibc; do
    gen b_${a}_vs_$b.md scripts/allocplot.sh compare $bfixed/results.csv --allocators $b,$a --metric net_ns_per_op
  done
done
gen b_microbench.md "$py" scripts/microbench_table.py $bmicro/microbench.json $bmicro/microbench_mimalloc.json \
  $bmicro/microbench_inhouse.json $bmicro/microbench_tcmalloc.json $bmicro/microbench_jemalloc.json
gen b_liballoc_best_peer.md "$py" scripts/best_peer.py $blib/results.csv --markdown
gen b_liballoc_time_vs_mimalloc.md scripts/allocplot.sh compare $blib/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen b_liballoc_rss_vs_jemalloc.md scripts/allocplot.sh compare $blib/results.csv --allocators jemalloc,inhouse --metric peak_rss_net_bytes

# After the review fix of pool_tls's limits (288567a), host B, 15 repetitions.
bfix=docs/reports/i14c_b_fix_run
gen b_fix_scaling.md scripts/allocplot.sh scaling $bfix/results.csv
gen b_fix_mops.md scripts/allocplot.sh table $bfix/results.csv --metric mops --allocators null,pool,slab,pool_tls,mimalloc,glibc
