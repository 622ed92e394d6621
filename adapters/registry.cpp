// The explicit list of adapters. To add one: write adapters/<name>_adapter.cpp
// with a factory function, declare the factory below and add one line to the
// table. See README "Adding an adapter".
#include <cstdlib>
#include <cstring>

#include "adapters/adapter.h"

namespace allocbench {

std::unique_ptr<Adapter> create_glibc_adapter();
std::unique_ptr<Adapter> create_jemalloc_adapter();
std::unique_ptr<Adapter> create_tcmalloc_adapter();
std::unique_ptr<Adapter> create_mimalloc_adapter();
std::unique_ptr<Adapter> create_inhouse_adapter();
std::unique_ptr<Adapter> create_inhouse_baseline_adapter();
std::unique_ptr<Adapter> create_pmr_monotonic_adapter();
std::unique_ptr<Adapter> create_pmr_unsync_pool_adapter();
std::unique_ptr<Adapter> create_pmr_sync_pool_adapter();
std::unique_ptr<Adapter> create_null_adapter();
std::unique_ptr<Adapter> create_test_crash_adapter();
std::unique_ptr<Adapter> create_test_hang_adapter();
std::unique_ptr<Adapter> create_test_oom_adapter();
// --- factories of in-house adapters: add declarations below this line ---
std::unique_ptr<Adapter> create_slab_adapter();
std::unique_ptr<Adapter> create_arena_adapter();
std::unique_ptr<Adapter> create_pool_adapter();
std::unique_ptr<Adapter> create_pool_tls_adapter();
std::unique_ptr<Adapter> create_pool_sharded_adapter();
std::unique_ptr<Adapter> create_pool_lockfree_adapter();
Capabilities slab_adapter_caps();  // fixed_size from ALLOCBENCH_SLAB_BLOCK (default 64)
Capabilities pool_adapter_caps();  // fixed_size from ALLOCBENCH_POOL_BLOCK (default 64)
std::unique_ptr<Adapter> create_coalesce_arena_adapter();
std::unique_ptr<Adapter> create_coalesce_arena_reclaim_adapter();
std::unique_ptr<Adapter> create_mempool_baseline_adapter();
std::unique_ptr<Adapter> create_mempool_sharded_adapter();
std::unique_ptr<Adapter> create_mempool_best_fit_adapter();
std::unique_ptr<Adapter> create_mempool_fixed_size_adapter();
std::unique_ptr<Adapter> create_mempool_pool_based_adapter();
std::unique_ptr<Adapter> create_mempool_segregated_adapter();

namespace {

constexpr Capabilities kMalloc{};
constexpr Capabilities kPerThread{Threading::kPerThreadInstance};
constexpr Capabilities kPerThreadResetOnly{Threading::kPerThreadInstance, SIZE_MAX, 0, false};
constexpr Capabilities kNull{Threading::kShared, size_t{8} << 20, 0, true, 1u << 16, false};

bool test_adapters_enabled() {
  const char* v = std::getenv("ALLOCBENCH_TEST_ADAPTERS");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

std::vector<AdapterInfo> build_registry() {
  std::vector<AdapterInfo> all = {
      {"glibc", "system", "", "glibc ptmalloc2, the Debian libc malloc", kMalloc,
       create_glibc_adapter, false, CallPath::kProcessMalloc},
      {"jemalloc", "system", "jemalloc", "jemalloc (Debian libjemalloc)", kMalloc,
       create_jemalloc_adapter, false, CallPath::kProcessMalloc},
      {"tcmalloc", "system", "tcmalloc", "gperftools tcmalloc_minimal (Debian)", kMalloc,
       create_tcmalloc_adapter, false, CallPath::kProcessMalloc},
      {"mimalloc", "system", "mimalloc", "mimalloc (Debian libmimalloc)", kMalloc,
       create_mimalloc_adapter, false, CallPath::kProcessMalloc},
      {"inhouse", "inhouse", "inhouse", "liballoc, the in-house drop-in malloc (allocators/inhouse)",
       kMalloc, create_inhouse_adapter, false, CallPath::kProcessMalloc},
#ifdef ALLOCBENCH_INHOUSE_BASELINE
      {"inhouse_baseline", "inhouse", "inhouse_baseline",
       "liballoc.so of another commit (scripts/inhouse_baseline.sh)", kMalloc,
       create_inhouse_baseline_adapter, false, CallPath::kProcessMalloc},
#endif
      {"pmr_monotonic", "pmr", "", "std::pmr::monotonic_buffer_resource, one per thread",
       kPerThreadResetOnly, create_pmr_monotonic_adapter, false},
      {"pmr_unsync_pool", "pmr", "", "std::pmr::unsynchronized_pool_resource, one per thread",
       kPerThread, create_pmr_unsync_pool_adapter, false},
      {"pmr_sync_pool", "pmr", "", "std::pmr::synchronized_pool_resource, shared", kMalloc,
       create_pmr_sync_pool_adapter, false},
      {"null", "calibration", "", "no allocator: measures the harness's own cost per op", kNull,
       create_null_adapter, false, CallPath::kCalibration},
      // --- in-house adapters: add entries below this line ---
      {"slab", "inhouse", "", "lock-free tagged-index slab, fixed size (ALLOCBENCH_SLAB_BLOCK)",
       slab_adapter_caps(), create_slab_adapter, false},
      {"arena", "inhouse", "", "growing bump arena, one per thread, frees only by reset",
       kPerThreadResetOnly, create_arena_adapter, false},
      {"pool", "inhouse", "", "thread caches over a lock-free slab (ALLOCBENCH_POOL_BLOCK)",
       pool_adapter_caps(), create_pool_adapter, false},
      {"pool_tls", "inhouse", "", "size classes, thread caches over locked central lists", kMalloc,
       create_pool_tls_adapter, false},
      {"pool_sharded", "inhouse", "", "size classes, free lists split over spin-locked shards",
       kMalloc, create_pool_sharded_adapter, false},
      {"pool_lockfree", "inhouse", "", "size classes, owner-local lists + atomic remote-free lists",
       kMalloc, create_pool_lockfree_adapter, false},
      {"coalesce_arena", "inhouse", "", "per-thread coalescing arenas, reclamation off", kMalloc,
       create_coalesce_arena_adapter, false},
      {"coalesce_arena_reclaim", "inhouse", "",
       "per-thread coalescing arenas, background reclamation (ALLOCBENCH_RECLAIM_MS, 10 ms)",
       kMalloc, create_coalesce_arena_reclaim_adapter, false},
      {"mempool_baseline", "inhouse", "", "MemoryPool segregated lists under one lock", kMalloc,
       create_mempool_baseline_adapter, false},
      {"mempool_sharded", "inhouse", "", "MemoryPool segregated lists, one lock per shard",
       kMalloc, create_mempool_sharded_adapter, false},
      {"mempool_best_fit", "inhouse", "", "MemoryPool BEST_FIT (shared, mutex)", kMalloc,
       create_mempool_best_fit_adapter, false},
      {"mempool_fixed_size", "inhouse", "",
       "MemoryPool FIXED_SIZE: 32/128 B fixed allocators, larger sizes fall back to segregated",
       kMalloc, create_mempool_fixed_size_adapter, false},
      {"mempool_pool_based", "inhouse", "", "MemoryPool POOL_BASED (shared, mutex)", kMalloc,
       create_mempool_pool_based_adapter, false},
      {"mempool_segregated", "inhouse", "", "MemoryPool SEGREGATED (shared, mutex)", kMalloc,
       create_mempool_segregated_adapter, false},
      {"test_crash", "test", "", "raises SIGSEGV after 1000 allocations", kMalloc,
       create_test_crash_adapter, true},
      {"test_hang", "test", "", "hangs after 1000 allocations", kMalloc, create_test_hang_adapter,
       true},
      {"test_oom", "test", "", "returns nullptr after 1000 allocations", kMalloc,
       create_test_oom_adapter, true},
      {"test_spin_1x", "test", "",
       "calibration blocks plus a spin of ALLOCBENCH_SPIN_NS (400) ns per allocation", kNull,
       create_null_adapter, true, CallPath::kCalibration, 1},
      {"test_spin_2x", "test", "",
       "calibration blocks plus a spin of 2 x ALLOCBENCH_SPIN_NS ns per allocation",
       kNull, create_null_adapter, true, CallPath::kCalibration, 2},
  };
  if (!test_adapters_enabled()) {
    std::vector<AdapterInfo> kept;
    for (const AdapterInfo& a : all) {
      if (!a.test_only) kept.push_back(a);
    }
    return kept;
  }
  return all;
}

}  // namespace

const std::vector<AdapterInfo>& adapter_registry() {
  static const std::vector<AdapterInfo> registry = build_registry();
  return registry;
}

}  // namespace allocbench
