// `null`: the calibration adapter. It hands out pointers into one per-thread
// scratch mapping, so a run against it measures the harness's own cost per
// operation (trace decode, slot bookkeeping, the writes to each block, the
// virtual call). Blocks overlap: capabilities say distinct_blocks = false.
#include <cstdint>

#include "adapters/adapter.h"
#include "adapters/per_thread.h"
#include "allocators/common/platform.h"

namespace allocbench {
namespace {

constexpr size_t kNullMaxSize = size_t{64} << 20;  // address space only; covers large_churn
constexpr size_t kNullMaxAlign = size_t{1} << 16;

// One scratch mapping per thread, large enough for the largest request at the
// largest alignment.
struct Scratch {
  Scratch() : base(static_cast<char*>(platform::map_pages(kNullMaxSize + kNullMaxAlign))) {}
  ~Scratch() { platform::unmap_pages(base, kNullMaxSize + kNullMaxAlign); }
  char* base;  // Owner thread only.
};

// Per-thread instance. Fast path: a thread-local compare and an align-up.
class NullAdapter : public Adapter {
 public:
  NullAdapter() : scratch_([] { return std::make_unique<Scratch>(); }) {}
  void* allocate(size_t size, size_t alignment) override {
    if (size > kNullMaxSize || alignment > kNullMaxAlign) return nullptr;
    uintptr_t b = reinterpret_cast<uintptr_t>(scratch_.get().base);
    return reinterpret_cast<void*>((b + alignment - 1) & ~(uintptr_t{alignment} - 1));
  }
  void deallocate(void*, size_t, size_t) override {}
  void* reallocate(void* p, size_t, size_t new_size, size_t alignment) override {
    return new_size <= kNullMaxSize && alignment <= kNullMaxAlign ? p : nullptr;
  }
  void thread_exit() override { scratch_.release_current(); }
  std::string version() const override { return "1"; }

 private:
  detail::PerThread<Scratch> scratch_;
};

}  // namespace

std::unique_ptr<Adapter> create_null_adapter() { return std::make_unique<NullAdapter>(); }

}  // namespace allocbench
