// The explicit list of adapters. To add one: write adapters/<name>_adapter.cpp
// with a factory function, declare the factory below and add one line to the
// table. See README "Adding an adapter".
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"

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
std::unique_ptr<Adapter> create_library_adapter(const AdapterInfo& info);
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
constexpr Capabilities kNull{Threading::kShared, size_t{64} << 20, 0, true, 1u << 16, false};

// Room for --allocator-lib entries: the registry never reallocates, so
// pointers into it stay valid.
constexpr size_t kMaxLibraryAdapters = 64;

// LLVM's Scudo (Debian libclang-rt-14-dev): the first installed standalone
// build, else the path of the Debian 12 package (its cells then say it is missing).
std::string scudo_path() {
  glob_t g;
  std::string path = "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.scudo_standalone-x86_64.so";
  if (glob("/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.scudo_standalone-x86_64.so", 0,
           nullptr, &g) == 0 && g.gl_pathc > 0) {
    path = g.gl_pathv[0];
  }
  globfree(&g);
  return path;
}

// A malloc-family adapter whose cells run under LD_PRELOAD of `path`.
AdapterInfo library_entry(const char* name, const char* family, const char* description,
                          std::string path, const char* package) {
  AdapterInfo a{name,         family, "", description, kMalloc, nullptr, false,
                CallPath::kProcessMalloc};
  a.preload = std::move(path);
  a.preload_package = package;
  a.create_for = create_library_adapter;
  return a;
}

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
      library_entry("tbbmalloc", "system", "oneTBB tbbmalloc through libtbbmalloc_proxy (LD_PRELOAD)",
                    "/usr/lib/x86_64-linux-gnu/libtbbmalloc_proxy.so.2", "libtbbmalloc2"),
      library_entry("scudo", "system", "LLVM Scudo, standalone (LD_PRELOAD)", scudo_path(),
                    "libclang-rt-14-dev"),
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
  std::vector<AdapterInfo> kept;
  kept.reserve(all.size() + kMaxLibraryAdapters);
  for (const AdapterInfo& a : all) {
    if (!a.test_only || test_adapters_enabled()) kept.push_back(a);
  }
  return kept;
}

std::vector<AdapterInfo>& registry() {
  static std::vector<AdapterInfo> r = build_registry();
  return r;
}

AdapterInfo* find_mutable(const std::string& name) {
  for (AdapterInfo& a : registry()) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

}  // namespace

const std::vector<AdapterInfo>& adapter_registry() { return registry(); }

std::string register_library_adapter(const std::string& spec) {
  const size_t eq = spec.find('=');
  const std::string name = spec.substr(0, eq);
  if (eq == std::string::npos || !valid_name(name)) {
    return "--allocator-lib takes NAME=PATH[@VERSION] with NAME of a-z, 0-9 and _ (at most 32, "
           "starting with a letter), not '" + spec + "'";
  }
  std::string path = spec.substr(eq + 1), version;
  const size_t at = path.rfind('@');
  if (at != std::string::npos && path.find('/', at) == std::string::npos) {
    version = path.substr(at + 1);
    path.resize(at);
  }
  struct stat st;
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return "--allocator-lib " + name + ": no library file '" + path + "'";
  }
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return "--allocator-lib " + name + ": cannot get cwd";
    path = std::string(cwd) + "/" + path;
  }
  if (AdapterInfo* known = find_mutable(name)) {
    if (known->preload.empty() || !platform::same_file(known->preload.c_str(), path.c_str())) {
      return "--allocator-lib " + name + ": '" + name +
             "' is already an allocator (`allocbench list`); choose another name";
    }
    if (!version.empty()) known->preload_version = version;
    return "";
  }
  if (registry().size() == registry().capacity()) {
    return "--allocator-lib: at most " + std::to_string(kMaxLibraryAdapters) + " libraries";
  }
  static std::deque<std::string> names;  // The entries' const char* fields point here.
  names.push_back(name);
  names.push_back(name + ": " + path + " (--allocator-lib, LD_PRELOAD)");
  AdapterInfo a = library_entry(names[names.size() - 2].c_str(), "external",
                                names.back().c_str(), path, "");
  a.preload_version = version;
  registry().push_back(a);
  return "";
}

void set_library_version(const std::string& name, const std::string& version) {
  if (AdapterInfo* a = find_mutable(name)) a->preload_version = version;
}

std::string library_spec(const AdapterInfo& info) {
  return std::string(info.name) + "=" + info.preload +
         (info.preload_version.empty() ? "" : "@" + info.preload_version);
}

}  // namespace allocbench
