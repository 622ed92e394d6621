// The in-house pool family as adapters: slab, arena, pool (fixed size),
// pool_tls, pool_sharded, pool_lockfree (all sizes). See docs/pool_family.md.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "adapters/adapter.h"
#include "adapters/per_thread.h"
#include "allocators/arena/arena.h"
#include "allocators/pool/pool.h"
#include "allocators/pool_lockfree/pool_lockfree.h"
#include "allocators/pool_sharded/pool_sharded.h"
#include "allocators/pool_tls/pool_tls.h"
#include "allocators/slab/slab.h"
#include "allocators/slab/slab_magazine.h"

namespace allocbench {
namespace {

constexpr const char* kPoolFamilyVersion = "allocbench pool family 1";
constexpr size_t kMaxAlign = size_t{1} << 16;

// Block size from an environment variable (a positive integer), else 64.
size_t env_block_size(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 64;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0' || n == 0 || n > (1ull << 24)) return 64;
  return static_cast<size_t>(n);
}

// Blocks of the first slab region: 1 Mi blocks, at most 1 GiB of address
// space (committed only as blocks are first used); growth is on.
size_t generous_blocks(size_t block) {
  size_t n = (size_t{1} << 30) / block;
  return n < (size_t{1} << 20) ? (n == 0 ? 1 : n) : (size_t{1} << 20);
}

// The alignment every block of a fixed-size slab/pool has: the lowest set bit
// of the rounded block size, at most a page.
size_t fixed_block_alignment(size_t block) {
  size_t stride = (block + 15) & ~size_t{15};
  size_t low = stride & (~stride + 1);
  return low < 4096 ? low : 4096;
}

// Blocks per thread magazine of the slab and pool adapters, in two halves:
// halves move to and from the shared depot (or, when it is empty or full, the
// slab's stack), so a thread touches shared state once per 128 operations at
// most.
constexpr uint32_t kMagazineBlocks = 256;

// An unsigned integer from an environment variable: `fallback` when unset or
// empty; false (with *error set) when it is not an integer in 0..max.
bool env_uint(const char* name, unsigned long fallback, unsigned long max, unsigned long* out,
              std::string* error) {
  *out = fallback;
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return true;
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || *v == '-' || n > max) {
    *error = std::string(name) + "=" + v + ": not an integer in 0.." + std::to_string(max);
    return false;
  }
  *out = static_cast<unsigned long>(n);
  return true;
}

// The slab adapter's magazine options. ALLOCBENCH_SLAB_DEPOT_HALVES bounds the
// depot (default SlabMagazines::kDefaultDepotHalves; 0: no depot, every
// overflow goes to the slab) and ALLOCBENCH_SLAB_DEPOT_CHECK=1 turns on the
// tagging check of halves entering and leaving the depot (default 0: the
// block-start check only), for measuring what each costs
// (docs/pool_family.md).
SlabMagazines::Options slab_magazine_options(std::string* error) {
  SlabMagazines::Options m;
  m.capacity = kMagazineBlocks;
  unsigned long halves = 0;
  unsigned long check = 0;
  if (!env_uint("ALLOCBENCH_SLAB_DEPOT_HALVES", SlabMagazines::kDefaultDepotHalves, 1ul << 20,
                &halves, error) ||
      !env_uint("ALLOCBENCH_SLAB_DEPOT_CHECK", 0, 1, &check, error)) {
    return m;
  }
  m.depot_halves = static_cast<uint32_t>(halves);
  m.check_depot = check != 0;
  return m;
}

// Thread-safe: the slab's lock-free core under per-thread magazines and a
// depot of full halves (slab/slab_magazine.h). Per call the adapter adds only
// its size check (two compares against members of this object) to the
// magazine's fast path.
class SlabAdapter : public Adapter {
 public:
  SlabAdapter() {
    SlabMagazines::Options m = slab_magazine_options(&error_);
    if (!error_.empty()) return;
    Slab::Options o;
    o.block_size = env_block_size("ALLOCBENCH_SLAB_BLOCK");
    o.num_blocks = generous_blocks(o.block_size);
    o.grow = true;
    slab_.reset(Slab::create(o));
    if (slab_ == nullptr) {
      error_ = "slab_create failed";
      return;
    }
    block_size_ = slab_->block_size();
    block_alignment_ = slab_->block_alignment();
    magazines_.emplace(slab_.get(), m);
  }
  void* allocate(size_t size, size_t alignment) override {
    if (size > block_size_ || alignment > block_alignment_) return nullptr;
    return magazines_->alloc();
  }
  void deallocate(void* p, size_t, size_t) override { magazines_->free(p); }
  void* reallocate(void* p, size_t, size_t new_size, size_t alignment) override {
    return new_size <= block_size_ && alignment <= block_alignment_ ? p : nullptr;
  }
  void thread_exit() override {
    if (magazines_) magazines_->thread_flush();
  }
  bool stats(AdapterStats* out) const override {
    if (slab_ == nullptr) return false;
    size_t used = slab_->used_blocks();
    size_t cached = magazines_->cached_blocks();
    out->bytes_mapped = slab_->mapped_bytes();
    out->bytes_in_use = (used > cached ? used - cached : 0) * block_size_;
    return true;
  }
  std::string verify() const override { return error_; }
  std::string version() const override { return kPoolFamilyVersion; }

 private:
  struct SlabDeleter {
    void operator()(Slab* s) const { Slab::destroy(s); }
  };
  size_t block_size_ = 0;       // Largest request served (0 if creation failed). Immutable.
  size_t block_alignment_ = 0;  // Alignment every block honours. Immutable.
  std::string error_;           // Why construction failed (verify()); empty if it did not.
  // The slab outlives its magazines (members are destroyed in reverse order).
  std::unique_ptr<Slab, SlabDeleter> slab_;         // Owned.
  mutable std::optional<SlabMagazines> magazines_;  // In place: no pointer to chase per call.
};

// One growing arena per thread (single-owner mode: no CAS, the arena is never
// shared). ALLOCBENCH_ARENA_ATOMIC=1 selects the thread-safe CAS mode instead.
struct ArenaHolder {
  ArenaHolder() {
    Arena::Options o;
    o.chunk_size = size_t{1} << 20;
    o.grow = true;
    const char* v = std::getenv("ALLOCBENCH_ARENA_ATOMIC");
    o.single_owner = !(v != nullptr && std::strcmp(v, "1") == 0);
    arena = Arena::create(o);
  }
  ~ArenaHolder() { Arena::destroy(arena); }
  Arena* arena;  // Owned; used by one thread.
};

// Per-thread instances; deallocate is a no-op, reset() rewinds the calling
// thread's arena.
class ArenaAdapter : public Adapter {
 public:
  ArenaAdapter() : arenas_([] { return std::make_unique<ArenaHolder>(); }) {}
  void* allocate(size_t size, size_t alignment) override {
    Arena* a = arenas_.get().arena;
    return a == nullptr ? nullptr : a->alloc(size, alignment < 16 ? 16 : alignment);
  }
  void deallocate(void*, size_t, size_t) override {}
  bool reset() override {
    Arena* a = arenas_.get().arena;
    if (a != nullptr) a->reset();
    return true;
  }
  void thread_exit() override { arenas_.release_current(); }
  std::string version() const override { return kPoolFamilyVersion; }

 private:
  detail::PerThread<ArenaHolder> arenas_;
};

// Thread-safe; any thread may free any block. Fast path: the pool's magazine
// (Pool::alloc / Pool::free_trusted); per call the adapter adds only its size
// check against members of this object.
class PoolAdapter : public Adapter {
 public:
  PoolAdapter() {
    Pool::Options o;
    o.block_size = env_block_size("ALLOCBENCH_POOL_BLOCK");
    o.blocks_per_thread = kMagazineBlocks;
    o.total_blocks = generous_blocks(o.block_size);
    o.grow = true;
    pool_ = Pool::create(o);
    if (pool_ == nullptr) return;
    block_size_ = pool_->block_size();
    block_alignment_ = pool_->block_alignment();
  }
  ~PoolAdapter() override { Pool::destroy(pool_); }
  void* allocate(size_t size, size_t alignment) override {
    if (size > block_size_ || alignment > block_alignment_) return nullptr;
    return pool_->alloc();
  }
  void deallocate(void* p, size_t, size_t) override { pool_->free_trusted(p); }
  void* reallocate(void* p, size_t, size_t new_size, size_t alignment) override {
    return new_size <= block_size_ && alignment <= block_alignment_ ? p : nullptr;
  }
  void thread_exit() override {
    if (pool_ != nullptr) pool_->thread_flush();
  }
  bool stats(AdapterStats* out) const override {
    if (pool_ == nullptr) return false;
    Pool::Stats s = pool_->stats();
    out->bytes_mapped = pool_->mapped_bytes();
    out->bytes_in_use = s.allocated * pool_->block_size();
    return true;
  }
  std::string verify() const override { return pool_ == nullptr ? "pool_create failed" : ""; }
  std::string version() const override { return kPoolFamilyVersion; }

 private:
  size_t block_size_ = 0;       // Largest request served (0 if creation failed). Immutable.
  size_t block_alignment_ = 0;  // Alignment every block honours. Immutable.
  Pool* pool_;                  // Owned.
};

// The three multi-size pools share one adapter template. Thread-safe; any
// thread may free any block.
template <typename P>
class MultiSizeAdapter : public Adapter {
 public:
  void* allocate(size_t size, size_t alignment) override { return pool_.allocate(size, alignment); }
  void deallocate(void* p, size_t size, size_t alignment) override {
    pool_.deallocate(p, size, alignment);
  }
  // In place when the block is big enough; a large block grows by moving its
  // pages (no copy); otherwise allocate, copy, free.
  void* reallocate(void* p, size_t old_size, size_t new_size, size_t alignment) override {
    if (void* q = pool_.resize(p, new_size)) return q;  // Blocks keep their alignment.
    return Adapter::reallocate(p, old_size, new_size, alignment);
  }
  void thread_exit() override { pool_.thread_flush(); }
  bool stats(AdapterStats* out) const override {
    pool_family_stats_t s = pool_.stats();
    out->bytes_mapped = s.mapped_bytes;
    out->bytes_in_use = s.allocated_bytes;
    out->fallback_allocations = s.fallback_allocations;
    return true;
  }
  std::string version() const override { return kPoolFamilyVersion; }

 private:
  mutable P pool_;  // stats() locks internally, hence mutable.
};

}  // namespace

namespace {

// A fixed-size adapter's capabilities, its block size read from `env_var`.
Capabilities fixed_block_caps(const char* env_var) {
  size_t block = env_block_size(env_var);
  Capabilities c;
  c.threading = Threading::kShared;
  c.max_size = (block + 15) & ~size_t{15};
  c.fixed_size = block;
  c.max_alignment = fixed_block_alignment(block);
  return c;
}

}  // namespace

Capabilities slab_adapter_caps() { return fixed_block_caps("ALLOCBENCH_SLAB_BLOCK"); }
Capabilities pool_adapter_caps() { return fixed_block_caps("ALLOCBENCH_POOL_BLOCK"); }

std::unique_ptr<Adapter> create_slab_adapter() { return std::make_unique<SlabAdapter>(); }
std::unique_ptr<Adapter> create_arena_adapter() { return std::make_unique<ArenaAdapter>(); }
std::unique_ptr<Adapter> create_pool_adapter() { return std::make_unique<PoolAdapter>(); }
std::unique_ptr<Adapter> create_pool_tls_adapter() {
  return std::make_unique<MultiSizeAdapter<PoolTls>>();
}
std::unique_ptr<Adapter> create_pool_sharded_adapter() {
  return std::make_unique<MultiSizeAdapter<PoolSharded>>();
}
std::unique_ptr<Adapter> create_pool_lockfree_adapter() {
  return std::make_unique<MultiSizeAdapter<PoolLockFree>>();
}

}  // namespace allocbench
