// A small test-and-test-and-set lock for short critical sections (a few list
// operations). Uncontended: one exchange to lock, one store to unlock, cheaper
// than std::mutex's two RMWs. Contended: spins reading, then yields, so it is
// safe with more threads than cores.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_SPIN_LOCK_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_SPIN_LOCK_H_

#include <atomic>
#include <thread>

namespace allocbench {
namespace detail {

// Thread-safe. Satisfies Lockable (usable with std::lock_guard).
class SpinLock {
 public:
  void lock() {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    lock_slow();
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  __attribute__((noinline)) void lock_slow() {
    for (unsigned spins = 0;; ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins >= 64) std::this_thread::yield();
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};  // true while held.
};

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_SPIN_LOCK_H_
