// Per-thread state for pools with thread caches (pool, pool_tls,
// pool_lockfree): a one-entry thread-local cache for the fast path, and a
// thread-exit hook that hands each thread's state back to its pool.
//
// Several pools may be alive at once and a pool may be destroyed while
// threads still hold state for it. Each pool gets an id that is never reused;
// a thread remembers (id, state) pairs. At thread exit, under one global lock,
// the hook calls owner->release_thread_state(state) only for pools still
// registered, and destroying a pool unregisters it under the same lock, so the
// hook never touches a destroyed pool and a pool never frees a state that a
// hook is using.
#ifndef ALLOCBENCH_ALLOCATORS_COMMON_THREAD_REGISTRY_H_
#define ALLOCBENCH_ALLOCATORS_COMMON_THREAD_REGISTRY_H_

#include <cstdint>

namespace allocbench {
namespace detail {

// Implemented by each pool. Thread-safety: release_thread_state runs on the
// exiting thread (or the thread calling thread_state_release_current) while
// the registry lock is held; it must not call back into this registry.
class ThreadStateOwner {
 public:
  virtual void release_thread_state(void* state) = 0;

 protected:
  ~ThreadStateOwner() = default;
};

// The calling thread's most recently used (pool id, state) pair. Owner
// thread only. Constant-initialised and trivially destructible, so reading it
// is a plain TLS load with no guard call.
struct ThreadStateCache {
  uint64_t id;  // Pool id whose state is cached (0: none).
  void* state;  // That pool's state for this thread.
};
inline thread_local ThreadStateCache t_state_cache{0, nullptr};

// Registers a pool; returns its id (nonzero, never reused).
uint64_t thread_registry_add(ThreadStateOwner* owner);

// Unregisters a pool. After return no exit hook calls it again; the pool then
// frees its states itself.
void thread_registry_remove(uint64_t id);

// The calling thread's state for pool `id`, or nullptr. Cost on a hit of
// t_state_cache: one TLS load and compare (callers check the cache first and
// call this only on a miss, which searches this thread's list).
void* thread_state_lookup_slow(uint64_t id);

// Calls fn(arg) under the registry lock if pool `id` is still registered (so
// it cannot be destroyed meanwhile); returns whether it did. For a thread that
// hands back a value cached in its own thread-locals to a pool it may have
// outlived. fn must not call back into this registry.
bool thread_registry_call_if_live(uint64_t id, void (*fn)(void*), void* arg);

// Records `state` as the calling thread's state for pool `id` (installs the
// thread-exit hook on first use) and caches it.
void thread_state_attach(uint64_t id, void* state);

// Hands the calling thread's state for pool `id` back now (as the exit hook
// would) and forgets it. No-op if the thread has none.
void thread_state_release_current(uint64_t id);

// Fast path: the calling thread's state for pool `id`, or nullptr.
inline void* thread_state_get(uint64_t id) {
  if (t_state_cache.id == id) return t_state_cache.state;
  return thread_state_lookup_slow(id);
}

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_COMMON_THREAD_REGISTRY_H_
