// The three std::pmr resources as in-process baselines. Their upstream is
// std::pmr::new_delete_resource(), i.e. the default cell's glibc malloc.
#include <memory_resource>

#include "adapters/adapter.h"
#include "adapters/per_thread.h"

namespace allocbench {
namespace {

constexpr const char* kLibstdcxx = "libstdc++ " __VERSION__;

// libstdc++'s pool resources pick a pool by size alone and carve its blocks
// back to back, so a 24-byte block asked for at alignment 16 comes back
// 8-aligned every other time. Asking for a multiple of the alignment keeps
// the contract (the pool then serves the next block size up).
inline size_t aligned_request(size_t size, size_t alignment) {
  return (size + alignment - 1) & ~(alignment - 1);
}

// Per-thread instances: each worker thread allocates from its own resource
// (std::pmr::monotonic_buffer_resource and unsynchronized_pool_resource are not
// thread-safe). Fast path: one thread-local compare plus the resource's call.
template <typename Resource>
class PerThreadPmrAdapter : public Adapter {
 public:
  PerThreadPmrAdapter() : res_([] { return std::make_unique<Resource>(); }) {}
  void* allocate(size_t size, size_t alignment) override {
    return res_.get().allocate(aligned_request(size, alignment), alignment);
  }
  void deallocate(void* p, size_t size, size_t alignment) override {
    res_.get().deallocate(p, aligned_request(size, alignment), alignment);
  }
  bool reset() override {
    res_.get().release();
    return true;
  }
  void thread_exit() override { res_.release_current(); }
  std::string version() const override { return kLibstdcxx; }

 private:
  detail::PerThread<Resource> res_;
};

// Thread-safe: std::pmr::synchronized_pool_resource locks internally.
class SyncPoolAdapter : public Adapter {
 public:
  void* allocate(size_t size, size_t alignment) override {
    return res_.allocate(aligned_request(size, alignment), alignment);
  }
  void deallocate(void* p, size_t size, size_t alignment) override {
    res_.deallocate(p, aligned_request(size, alignment), alignment);
  }
  std::string version() const override { return kLibstdcxx; }

 private:
  std::pmr::synchronized_pool_resource res_;
};

}  // namespace

std::unique_ptr<Adapter> create_pmr_monotonic_adapter() {
  return std::make_unique<PerThreadPmrAdapter<std::pmr::monotonic_buffer_resource>>();
}
std::unique_ptr<Adapter> create_pmr_unsync_pool_adapter() {
  return std::make_unique<PerThreadPmrAdapter<std::pmr::unsynchronized_pool_resource>>();
}
std::unique_ptr<Adapter> create_pmr_sync_pool_adapter() {
  return std::make_unique<SyncPoolAdapter>();
}

}  // namespace allocbench
