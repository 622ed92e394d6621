// PerThread<T>: one T per (adapter instance, thread), for adapters whose
// allocator is used through per-thread instances (Threading::kPerThreadInstance).
#ifndef ALLOCBENCH_ADAPTERS_PER_THREAD_H_
#define ALLOCBENCH_ADAPTERS_PER_THREAD_H_

#include <memory>
#include <mutex>
#include <vector>

namespace allocbench {
namespace detail {

// Thread-safe. get() costs one thread-local load and one compare when the
// calling thread last used this same PerThread (always, in the timed loop);
// otherwise it takes the cold path, which searches under a lock.
template <typename T>
class PerThread {
 public:
  template <typename Make>
  explicit PerThread(Make make) : make_(make) {}
  PerThread(const PerThread&) = delete;
  PerThread& operator=(const PerThread&) = delete;
  ~PerThread() {
    if (cache_.owner == this) cache_ = {};
  }

  T& get() {
    if (cache_.owner == this) return *cache_.value;
    return get_slow();
  }

  // Destroys the calling thread's T (it is made anew on the next get()).
  void release_current() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_) {
      if (e.thread == cache_id()) e.value.reset();
    }
    if (cache_.owner == this) cache_ = {};
  }

 private:
  struct Cache {
    const void* owner = nullptr;  // The PerThread whose value is cached.
    T* value = nullptr;
  };
  struct Entry {
    const void* thread;  // Address of the owning thread's cache_ (unique per live thread).
    std::unique_ptr<T> value;
  };
  static const void* cache_id() { return &cache_; }

  __attribute__((noinline)) T& get_slow() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_) {
      if (e.thread == cache_id() && e.value) {
        cache_ = {this, e.value.get()};
        return *e.value;
      }
    }
    entries_.push_back(Entry{cache_id(), make_()});
    cache_ = {this, entries_.back().value.get()};
    return *cache_.value;
  }

  std::unique_ptr<T> (*make_)();
  std::mutex mu_;
  std::vector<Entry> entries_;  // Guarded by mu_.
  static thread_local Cache cache_;
};

template <typename T>
thread_local typename PerThread<T>::Cache PerThread<T>::cache_;

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ADAPTERS_PER_THREAD_H_
