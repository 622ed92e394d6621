#!/bin/sh
# Regenerates the tables of design note section 18 from the committed run
# docs/reports/i14h_run (host C), run from the repository's root. inhouse is
# liballoc at 4fa16e3; inhouse_foreign and inhouse_unified are 4fa16e3 with
# foreign_cache.patch or unified_cache.patch applied (experiments, not kept;
# each patch's header lists its defects), each built in a worktree:
#   git worktree add /tmp/v_unified 4fa16e3 && cd /tmp/v_unified &&
#   git apply /path/to/main/docs/reports/i14h/unified_cache.patch &&
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build --target alloc_shared
# (the library is build/allocators/inhouse/liballoc.so). The run:
#   build/allocbench run --allocators inhouse,inhouse_foreign,inhouse_unified,tcmalloc,jemalloc,mimalloc \
#     --allocator-lib inhouse_foreign=/tmp/v_foreign/build/allocators/inhouse/liballoc.so@4fa16e3+foreign_cache \
#     --allocator-lib inhouse_unified=/tmp/v_unified/build/allocators/inhouse/liballoc.so@4fa16e3+unified_cache \
#     --workloads larson:default,mixed_sizes:small,xmalloc --threads 1,2 --reps 7 --order shuffled \
#     --warmup 1 --min-time 0.3 --out /tmp/i14h_run
# (then context.json, results.csv and run.json copied here).
# docs/reports/i14h_intr_run: the same, with inhouse_uni =
# intrusive_unified_cache.patch on eb936c0 (--allocator-lib
# inhouse_uni=...@eb936c0+uni_intrusive) in place of the two variants, and
# --allocators inhouse,inhouse_uni,tcmalloc,jemalloc,mimalloc.
set -eu
out=docs/reports/i14h
run=docs/reports/i14h_run

. docs/reports/gen.sh

gen unified_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse,inhouse_unified --metric net_ns_per_op
gen foreign_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse,inhouse_foreign --metric net_ns_per_op
gen unified_vs_tcmalloc.md scripts/allocplot.sh compare $run/results.csv --allocators tcmalloc,inhouse_unified --metric net_ns_per_op
gen unified_rss_ab.md scripts/allocplot.sh compare $run/results.csv --allocators inhouse,inhouse_unified --metric peak_rss_net_bytes
gen time_vs_mimalloc.md scripts/allocplot.sh compare $run/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen liballoc_best_peer.md "$py" scripts/best_peer.py $run/results.csv --markdown
gen intrusive_unified_ab.md scripts/allocplot.sh compare docs/reports/i14h_intr_run/results.csv --allocators inhouse,inhouse_uni --metric net_ns_per_op
gen intr_run_time_vs_mimalloc.md scripts/allocplot.sh compare docs/reports/i14h_intr_run/results.csv --allocators mimalloc,inhouse --metric net_ns_per_op
gen intr_run_liballoc_best_peer.md "$py" scripts/best_peer.py docs/reports/i14h_intr_run/results.csv --markdown
