// Adapters that misbehave on purpose, for the runner's own tests: one crashes,
// one hangs, one runs out of memory, each after a fixed number of successful
// allocations. Registered only when ALLOCBENCH_TEST_ADAPTERS=1.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>

#include "adapters/adapter.h"

namespace allocbench {
namespace {

constexpr long kFaultAfter = 1000;

enum class Fault { kCrash, kHang, kOutOfMemory };

// Thread-safe (glibc malloc underneath, an atomic counter).
class FaultAdapter : public Adapter {
 public:
  explicit FaultAdapter(Fault fault) : fault_(fault) {}
  void* allocate(size_t size, size_t alignment) override {
    if (count_.fetch_add(1, std::memory_order_relaxed) == kFaultAfter) {
      switch (fault_) {
        case Fault::kCrash:
          raise(SIGSEGV);
          break;
        case Fault::kHang:
          for (;;) pause();
        case Fault::kOutOfMemory:
          return nullptr;
      }
    }
    void* p = nullptr;
    return posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment,
                          size == 0 ? 1 : size) == 0
               ? p
               : nullptr;
  }
  void deallocate(void* p, size_t, size_t) override { free(p); }
  std::string version() const override { return "1"; }

 private:
  Fault fault_;
  std::atomic<long> count_{0};  // Allocations so far, all threads.
};

}  // namespace

std::unique_ptr<Adapter> create_test_crash_adapter() {
  return std::make_unique<FaultAdapter>(Fault::kCrash);
}
std::unique_ptr<Adapter> create_test_hang_adapter() {
  return std::make_unique<FaultAdapter>(Fault::kHang);
}
std::unique_ptr<Adapter> create_test_oom_adapter() {
  return std::make_unique<FaultAdapter>(Fault::kOutOfMemory);
}

}  // namespace allocbench
