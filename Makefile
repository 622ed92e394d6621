# Thin front end over CMake and the allocbench CLI. See README.md.
BUILD      ?= build
JOBS       ?= $(shell nproc)
CORES      := $(shell nproc)
PYTHON      = $(shell sh scripts/find_python.sh)
ALLOCPLOT   = sh scripts/allocplot.sh
ALLOCBENCH  = $(BUILD)/allocbench
BENCH_TIMEOUT ?= 1200
export BENCH_TIMEOUT

# Smoke: every registered adapter x the main workloads, 1 and 2 threads. The
# page-fault-bound mixed_sizes:large profile runs separately with fewer ops.
# large_churn (1-32 MiB blocks) is left out: allocators that map every block
# afresh take 0.5-1.2 s a replay on it; `make bench` (`all`) runs it.
SMOKE_OPS        ?= 20000
SMOKE_LARGE_OPS  ?= 1000
SMOKE_REPS       ?= 3
SMOKE_MIN_TIME   ?= 0.05
SMOKE_ALLOCATORS ?= all
# --strict: the smoke run fails (exit 3, naming them) when any cell of a
# registered adapter ends other than ok or skipped; CI relies on it.
SMOKE_STRICT     ?= --strict
SMOKE_WORKLOADS  ?= rl_churn,ttl_ring,mixed_sizes:mixed,mixed_sizes:small,fixed_size:64,contention,cross_thread,basic_concurrency,size_ramp:alloc_all,larson,xmalloc,cache_scratch,cache_thrash,trace:workloads/traces/sqlite3.trace
# Smoke: 3 shuffled repetitions, a warm-up replay, each cell's timed replays repeated
# to at least 50 ms. Paper-grade: 5 repetitions, at least 200 ms, threads 1 .. 2 x cores.
BENCH_OPS        ?= 500000
BENCH_REPS       ?= 5
BENCH_MIN_TIME   ?= 0.2
BENCH_ALLOCATORS ?= all
BENCH_WORKLOADS  ?= all
# The recorded traces shipped in workloads/traces/ (trace:PATH; each runs at its own
# thread count). `all` names only the synthetic workloads.
comma := ,
empty :=
space := $(empty) $(empty)
BENCH_TRACES     ?= $(wildcard workloads/traces/*.trace)
BENCH_TRACE_SPECS = $(if $(strip $(BENCH_TRACES)),$(comma)$(subst $(space),$(comma),$(strip \
                    $(patsubst %,trace:%,$(BENCH_TRACES)))))
BENCH_THREADS    ?= $(shell seq -s, 1 $$(( 2 * $(CORES) )))
RESULTS          ?= $(firstword $(wildcard results/bench/results.csv) results/smoke/results.csv)
# `make report`: the run directory of RESULTS, written to REPORT (report.md, figures/).
REPORT           ?= report
REPORT_BASELINE  ?= glibc

.PHONY: all build setup test test_slurm bench_smoke bench bench_resume plots tables report microbench \
        bench_detailed bench_sizes bench_realprog \
        sanitize sanitize_asan sanitize_tsan clean

all: build

setup:
	@sh scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench_smoke: build
	@mkdir -p results
	$(ALLOCBENCH) run --allocators $(SMOKE_ALLOCATORS) --workloads $(SMOKE_WORKLOADS) \
	  --threads 1,2 --reps $(SMOKE_REPS) --order shuffled --warmup 1 --min-time $(SMOKE_MIN_TIME) \
	  --ops $(SMOKE_OPS) --seed 1 $(SMOKE_STRICT) --out results/smoke --force
	$(ALLOCBENCH) run --allocators $(SMOKE_ALLOCATORS) --workloads mixed_sizes:large \
	  --threads 1,2 --reps $(SMOKE_REPS) --order shuffled --warmup 1 --min-time $(SMOKE_MIN_TIME) \
	  --ops $(SMOKE_LARGE_OPS) --seed 1 $(SMOKE_STRICT) --out results/smoke_large --force
	$(MAKE) --no-print-directory plots RESULTS=results/smoke/results.csv
	$(ALLOCPLOT) table results/smoke/results.csv --metric net_ns_per_op --baseline glibc
	$(ALLOCPLOT) table results/smoke/results.csv --metric ns_per_op --baseline glibc
	$(ALLOCPLOT) table results/smoke/results.csv --metric peak_rss_net_bytes --baseline glibc

# The paper-grade matrix's arguments (make bench, and each shard of it).
BENCH_ARGS = --allocators $(BENCH_ALLOCATORS) --workloads $(BENCH_WORKLOADS)$(BENCH_TRACE_SPECS) \
  --threads $(BENCH_THREADS) --reps $(BENCH_REPS) --ops $(BENCH_OPS) --warmup 1 \
  --min-time $(BENCH_MIN_TIME) --order shuffled --seed 1
# SHARDS=N: print the plan split into N shards and the commands that run it
# elsewhere (one per machine, Slurm, GNU parallel) instead of running it here.
SHARDS ?=

ifeq ($(SHARDS),)
bench: build
	@mkdir -p results
	$(ALLOCBENCH) run $(BENCH_ARGS) --out results/bench
	$(MAKE) --no-print-directory plots RESULTS=results/bench/results.csv
else
bench: build
	@$(ALLOCBENCH) run $(BENCH_ARGS) --shard 0/$(SHARDS) --dry-run
	@echo
	@echo "One shard per machine (each built from the same commit; docs/scale_out.md):"
	@for i in $$(seq 0 $$(($(SHARDS) - 1))); do \
	  echo "  build/allocbench run $(BENCH_ARGS) --shard $$i/$(SHARDS) --out results/bench-shard-$$i"; \
	done
	@echo "then, with the shard directories copied here:"
	@echo "  build/allocbench merge --out results/bench $$(for i in $$(seq 0 $$(($(SHARDS) - 1))); do printf 'results/bench-shard-%s ' $$i; done)"
	@echo "  sh scripts/allocplot.sh report results/bench --out report"
	@echo
	@echo "Slurm (job array of $(SHARDS) whole nodes, then merge and report):"
	@echo "  BENCH_SHARDS=$(SHARDS) BENCH_OUT=$$PWD/results/sharded BENCH_ARGS='$(BENCH_ARGS)' sh scripts/slurm/bench_array.sbatch"
	@echo "GNU parallel over ssh:"
	@echo "  sh scripts/parallel_bench.sh HOSTFILE $(SHARDS) results/sharded $(BENCH_ARGS)"
endif

# A real one-node Slurm cluster on this machine (root; slurm-wlm, munge):
# a 2-task array on a tiny matrix, merged and checked (tests/slurm_test.sh).
test_slurm: build
	sh tests/slurm_test.sh $(abspath $(BUILD))

bench_resume: build
	$(ALLOCBENCH) run --resume --out results/bench
	$(MAKE) --no-print-directory plots RESULTS=results/bench/results.csv

plots:
	$(ALLOCPLOT) plot $(RESULTS) --out plots

tables:
	$(ALLOCPLOT) table $(RESULTS) --metric ns_per_op --baseline glibc

report:
	$(ALLOCPLOT) report $(patsubst %/,%,$(dir $(RESULTS))) --out $(REPORT) --baseline $(REPORT_BASELINE)

microbench: build
	@mkdir -p results/micro
	@rm -f results/micro/micro.csv
	@echo "cell,benchmark,kind,iterations,real_ns,cpu_ns" > results/micro/micro.csv
	for mb in $(BUILD)/microbench $(wildcard $(BUILD)/microbench_*); do \
	  $$mb --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
	    --benchmark_report_aggregates_only=true --benchmark_min_time=0.05 \
	    --csv=results/micro/micro.csv || exit 1; \
	done

# Seed 002's detailed comparison: system malloc vs coalescing arenas with
# reclamation off and on (plus jemalloc, mimalloc) on the concurrency tests and
# the ephemeral ring. The seed's 512 threads are scaled to 4 and 8.
DETAILED_ALLOCATORS ?= glibc,jemalloc,mimalloc,coalesce_arena,coalesce_arena_reclaim
bench_detailed: build
	@mkdir -p results
	$(ALLOCBENCH) run --allocators $(DETAILED_ALLOCATORS) \
	  --workloads basic_concurrency,ttl_ring,large_concurrency --threads 4,8 --reps 3 \
	  --ops 200000 --order shuffled --seed 1 --out results/detailed --force
	@for m in wall_s allocs frees peak_rss_net_bytes; do \
	  $(ALLOCPLOT) table results/detailed/results.csv --metric $$m; \
	done

# Seed 003's size patterns for every adapter, 1 thread: committed memory after
# each phase (results/sizes/phases.csv).
bench_sizes: build
	@mkdir -p results
	$(ALLOCBENCH) run --allocators all --workloads size_ramp,scatter_sizes,sparse_sizes \
	  --threads 1 --reps 3 --ops 400000 --order shuffled --seed 1 --out results/sizes --force
	@for w in size_ramp scatter_sizes sparse_sizes; do \
	  $(ALLOCPLOT) phases results/sizes/phases.csv --workload $$w; \
	done
	$(ALLOCPLOT) table results/sizes/results.csv --metric ns_per_op \
	  --baseline glibc

# Real programs (python, sqlite3, sort, git, g++) under LD_PRELOAD of liballoc,
# jemalloc and mimalloc against glibc: wall time and peak RSS.
# Real programs (python, sqlite3, sort, git log, g++) under glibc, jemalloc,
# mimalloc and liballoc through `allocbench exec`: results/realprog/.
REALPROG_REPS ?= 3
bench_realprog: build
	@mkdir -p results
	sh scripts/realprog.sh $(BUILD) results/realprog $(REALPROG_REPS)

# Every ctest label in quick mode (ALLOCBENCH_QUICK=1) but `timing` (a measured
# ratio). Not in these builds: the jemalloc/tcmalloc/mimalloc cells, liballoc's
# interposing libraries and tests/misuse (a sanitizer's malloc replaces them).
sanitize: sanitize_asan sanitize_tsan

sanitize_asan: setup
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DALLOCBENCH_SANITIZE=address \
	  -DALLOCBENCH_TEST_ENV=ALLOCBENCH_QUICK=1 >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) -LE timing

sanitize_tsan: setup
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=Debug -DALLOCBENCH_SANITIZE=thread \
	  -DALLOCBENCH_TEST_ENV=ALLOCBENCH_QUICK=1 >/dev/null
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && ctest --output-on-failure -j $(JOBS) -LE timing

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
