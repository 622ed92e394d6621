// The MemoryPool family of allocators/mempool: one adapter per strategy
// (mempool_best_fit, mempool_fixed_size, mempool_pool_based,
// mempool_segregated; each one shared MemoryPool behind its mutex) and the
// seed benchmark's two front ends (mempool_baseline, mempool_sharded).
// mempool_fixed_size serves every size: requests up to 32 and 128 bytes come
// from the two FixedSizeAllocators, larger ones fall back to the segregated
// lists (counted in AdapterStats::fallback_allocations).
#include <memory>

#include "adapters/adapter.h"
#include "allocators/mempool/mempool.h"

namespace allocbench {
namespace {

constexpr const char* kVersion = "1";

// Shared: MemoryPool takes its mutex on every call; any thread frees any block.
class MemoryPoolAdapter : public Adapter {
 public:
  explicit MemoryPoolAdapter(AllocationStrategy strategy) : pool_(strategy) {}
  void* allocate(size_t size, size_t alignment) override { return pool_.allocate(size, alignment); }
  void deallocate(void* p, size_t, size_t) override { pool_.deallocate(p); }
  bool stats(AdapterStats* out) const override {
    out->bytes_mapped = pool_.bytes_mapped();
    out->bytes_in_use = pool_.stats().current_bytes();
    out->fallback_allocations = pool_.fallback_allocations();
    return true;
  }
  std::string version() const override { return kVersion; }

 private:
  MemoryPool pool_;
};

// Shared: one lock (baseline) or one lock per shard (sharded).
template <typename Frontend>
class FrontendAdapter : public Adapter {
 public:
  void* allocate(size_t size, size_t alignment) override { return impl_.allocate(size, alignment); }
  void deallocate(void* p, size_t, size_t) override { impl_.deallocate(p); }
  bool stats(AdapterStats* out) const override {
    out->bytes_mapped = impl_.bytes_mapped();
    return true;
  }
  std::string version() const override { return kVersion; }

 private:
  Frontend impl_;
};

}  // namespace

std::unique_ptr<Adapter> create_mempool_best_fit_adapter() {
  return std::make_unique<MemoryPoolAdapter>(AllocationStrategy::BEST_FIT);
}
std::unique_ptr<Adapter> create_mempool_fixed_size_adapter() {
  return std::make_unique<MemoryPoolAdapter>(AllocationStrategy::FIXED_SIZE);
}
std::unique_ptr<Adapter> create_mempool_pool_based_adapter() {
  return std::make_unique<MemoryPoolAdapter>(AllocationStrategy::POOL_BASED);
}
std::unique_ptr<Adapter> create_mempool_segregated_adapter() {
  return std::make_unique<MemoryPoolAdapter>(AllocationStrategy::SEGREGATED);
}
std::unique_ptr<Adapter> create_mempool_baseline_adapter() {
  return std::make_unique<FrontendAdapter<MempoolBaseline>>();
}
std::unique_ptr<Adapter> create_mempool_sharded_adapter() {
  return std::make_unique<FrontendAdapter<MempoolSharded>>();
}

}  // namespace allocbench
