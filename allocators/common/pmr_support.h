// One std::pmr::memory_resource and one STL allocator template for every
// in-house allocator. A "backend" is any class with
//   void* allocate(size_t bytes, size_t alignment);   // nullptr on failure
//   void deallocate(void* p, size_t bytes, size_t alignment);
// (Slab, Arena, Pool, PoolTls, PoolSharded, PoolLockFree all have them.)
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_PMR_SUPPORT_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_PMR_SUPPORT_H_

#include <cstddef>
#include <memory_resource>
#include <new>

namespace allocbench {

// A memory_resource over a backend it does not own. Thread-safety: that of
// the backend. Throws std::bad_alloc when the backend returns nullptr.
template <typename Backend>
class BackendResource final : public std::pmr::memory_resource {
 public:
  explicit BackendResource(Backend* backend) : backend_(backend) {}
  Backend* backend() const { return backend_; }

 private:
  void* do_allocate(size_t bytes, size_t alignment) override {
    void* p = backend_->allocate(bytes, alignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, size_t bytes, size_t alignment) override {
    backend_->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    auto* o = dynamic_cast<const BackendResource*>(&other);
    return o != nullptr && o->backend_ == backend_;
  }

  Backend* backend_;  // Not owned.
};

// An STL allocator (std::allocator_traits-complete) over a backend it does not
// own; copies compare equal when they share the backend.
template <typename T, typename Backend>
class BackendAllocator {
 public:
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = BackendAllocator<U, Backend>;
  };

  explicit BackendAllocator(Backend* backend) noexcept : backend_(backend) {}
  template <typename U>
  BackendAllocator(
      const BackendAllocator<U, Backend>& other) noexcept  // NOLINT: implicit by design
      : backend_(other.backend()) {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p = backend_->allocate(n * sizeof(T), alignof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept { backend_->deallocate(p, n * sizeof(T), alignof(T)); }

  Backend* backend() const noexcept { return backend_; }

  template <typename U>
  bool operator==(const BackendAllocator<U, Backend>& o) const noexcept {
    return backend_ == o.backend();
  }
  template <typename U>
  bool operator!=(const BackendAllocator<U, Backend>& o) const noexcept {
    return backend_ != o.backend();
  }

 private:
  Backend* backend_;  // Not owned.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_PMR_SUPPORT_H_
