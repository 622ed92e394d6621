#include "allocators/common/thread_registry.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace allocbench {
namespace detail {
namespace {

// Live pools by id. Leaked on purpose: exit hooks of the main thread's
// thread-locals may run after static destructors would have run.
struct Registry {
  std::mutex mu;                                         // Guards everything here.
  uint64_t next_id = 1;                                  // Next id to hand out.
  std::unordered_map<uint64_t, ThreadStateOwner*> live;  // Registered pools.
};

Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

// The calling thread's (pool id, state) pairs; its destructor is the exit hook.
// Owner thread only.
struct ThreadStates {
  std::vector<std::pair<uint64_t, void*>> entries;
  ~ThreadStates() {
    t_state_cache = {0, nullptr};
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (auto& e : entries) {
      auto it = r.live.find(e.first);
      if (it != r.live.end()) it->second->release_thread_state(e.second);
    }
    entries.clear();
  }
};

ThreadStates& thread_states() {
  static thread_local ThreadStates states;
  return states;
}

}  // namespace

uint64_t thread_registry_add(ThreadStateOwner* owner) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  uint64_t id = r.next_id++;
  r.live.emplace(id, owner);
  return id;
}

void thread_registry_remove(uint64_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.live.erase(id);
}

bool thread_registry_call_if_live(uint64_t id, void (*fn)(void*), void* arg) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.live.count(id) == 0) return false;
  fn(arg);
  return true;
}

void* thread_state_lookup_slow(uint64_t id) {
  for (auto& e : thread_states().entries) {
    if (e.first == id) {
      t_state_cache = {id, e.second};
      return e.second;
    }
  }
  return nullptr;
}

void thread_state_attach(uint64_t id, void* state) {
  auto& entries = thread_states().entries;
  // Drop entries of pools destroyed since, so long-lived threads stay small.
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const std::pair<uint64_t, void*>& e) {
                                   return r.live.count(e.first) == 0;
                                 }),
                  entries.end());
  }
  entries.emplace_back(id, state);
  t_state_cache = {id, state};
}

void thread_state_release_current(uint64_t id) {
  auto& entries = thread_states().entries;
  if (t_state_cache.id == id) t_state_cache = {0, nullptr};
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first != id) continue;
    void* state = entries[i].second;
    entries.erase(entries.begin() + static_cast<long>(i));
    auto it = r.live.find(id);
    if (it != r.live.end()) it->second->release_thread_state(state);
    return;
  }
}

}  // namespace detail
}  // namespace allocbench
