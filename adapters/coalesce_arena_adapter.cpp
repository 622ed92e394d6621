// `coalesce_arena` and `coalesce_arena_reclaim`: the per-thread coalescing
// arenas of allocators/coalesce_arena, without and with the background
// reclamation thread (period from ALLOCBENCH_RECLAIM_MS, default 10 ms).
#include <cstdlib>
#include <memory>

#include "adapters/adapter.h"
#include "allocators/coalesce_arena/coalesce_arena.h"

namespace allocbench {
namespace {

constexpr uint32_t kDefaultReclaimMs = 10;

uint32_t reclaim_period_from_env() {
  const char* v = std::getenv("ALLOCBENCH_RECLAIM_MS");
  if (v == nullptr || *v == '\0') return kDefaultReclaimMs;
  char* end = nullptr;
  unsigned long ms = std::strtoul(v, &end, 10);
  if (end == v || *end != '\0' || ms == 0 || ms > 60000) return kDefaultReclaimMs;
  return static_cast<uint32_t>(ms);
}

// Shared: one heap for all threads, any thread frees any block. Fast path is
// CoalesceHeap's (see coalesce_arena.h) plus the virtual call.
class CoalesceArenaAdapter : public Adapter {
 public:
  explicit CoalesceArenaAdapter(const CoalesceOptions& options) : heap_(options) {}
  void* allocate(size_t size, size_t alignment) override { return heap_.allocate(size, alignment); }
  void deallocate(void* p, size_t, size_t) override { heap_.deallocate(p); }
  void* reallocate(void* p, size_t, size_t new_size, size_t alignment) override {
    return heap_.reallocate(p, new_size, alignment);
  }
  void thread_exit() override { heap_.thread_exit(); }
  bool stats(AdapterStats* out) const override {
    CoalesceStats s = heap_.stats();
    out->bytes_mapped = s.bytes_mapped;
    out->bytes_in_use = s.bytes_in_use;
    out->fallback_allocations = s.direct_allocs;
    return true;
  }
  std::string version() const override { return "1"; }

 private:
  CoalesceHeap heap_;
};

}  // namespace

std::unique_ptr<Adapter> create_coalesce_arena_adapter() {
  return std::make_unique<CoalesceArenaAdapter>(CoalesceOptions{false, kDefaultReclaimMs});
}

std::unique_ptr<Adapter> create_coalesce_arena_reclaim_adapter() {
  return std::make_unique<CoalesceArenaAdapter>(CoalesceOptions{true, reclaim_period_from_env()});
}

}  // namespace allocbench
