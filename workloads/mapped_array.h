// MappedArray<T>: a growable array whose storage comes straight from the OS
// (platform::map_pages), never from malloc. The harness keeps traces, slot
// tables and latency samples in these so that the allocator under test sees
// no allocation but the ones the workload makes.
#ifndef ALLOCBENCH_WORKLOADS_MAPPED_ARRAY_H_
#define ALLOCBENCH_WORKLOADS_MAPPED_ARRAY_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "allocators/common/platform.h"

namespace allocbench {

// Owner thread only. T must be trivially copyable (it is moved with mremap).
template <typename T>
class MappedArray {
  static_assert(std::is_trivially_copyable<T>::value, "MappedArray holds trivial types");

 public:
  MappedArray() = default;
  explicit MappedArray(size_t capacity) { reserve(capacity); }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  MappedArray(MappedArray&& o) noexcept { swap(o); }
  MappedArray& operator=(MappedArray&& o) noexcept {
    MappedArray tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~MappedArray() {
    if (data_ != nullptr) platform::unmap_pages(data_, capacity_ * sizeof(T));
  }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    size_t bytes = n * sizeof(T);
    void* p = data_ == nullptr ? platform::map_pages(bytes)
                               : platform::remap_pages(data_, capacity_ * sizeof(T), bytes);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    capacity_ = n;
  }

  // Sets the size to n; new elements read as zero (fresh pages are zeroed).
  void resize_zeroed(size_t n) {
    reserve(n);
    for (size_t i = size_; i < n && i < capacity_; ++i) data_[i] = T{};
    size_ = n;
  }

  void push_back(const T& v) {
    if (size_ == capacity_) reserve(capacity_ < 1024 ? 1024 : capacity_ * 2);
    data_[size_++] = v;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  void swap(MappedArray& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
  }
  T* data_ = nullptr;    // Mapped storage, capacity_ elements.
  size_t size_ = 0;      // Elements in use.
  size_t capacity_ = 0;  // Elements mapped.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_MAPPED_ARRAY_H_
