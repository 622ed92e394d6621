#include "adapters/adapter.h"

#include <cstring>

namespace allocbench {

void* Adapter::reallocate(void* p, size_t old_size, size_t new_size, size_t alignment) {
  void* q = allocate(new_size, alignment);
  if (q == nullptr) return nullptr;
  std::memcpy(q, p, old_size < new_size ? old_size : new_size);
  deallocate(p, old_size, alignment);
  return q;
}

void* Adapter::allocate_zeroed(size_t size, size_t alignment) {
  void* p = allocate(size, alignment);
  if (p != nullptr) std::memset(p, 0, size);
  return p;
}

const AdapterInfo* find_adapter(const std::string& name) {
  for (const AdapterInfo& info : adapter_registry()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

}  // namespace allocbench
