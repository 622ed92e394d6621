// The recorder's map from a live block's address to its object id, so that a
// trace holds ids, never pointers. Memory comes from the OS (platform.h), never
// from malloc: the map lives inside the malloc it records.
#ifndef ALLOCBENCH_RECORDER_OBJECT_MAP_H_
#define ALLOCBENCH_RECORDER_OBJECT_MAP_H_

#include <stddef.h>
#include <stdint.h>

#include "allocators/common/spin_lock.h"

namespace allocbench {
namespace detail {
namespace recorder {

// Thread-safe: kShards open-addressing tables (linear probing, backward-shift
// deletion, load at most 1/2), each behind its own spin lock, chosen by the
// address's hash. insert or erase: a hash, one uncontended exchange, usually
// one or two probes in a table that stays in cache for a hot heap.
class ObjectMap {
 public:
  static constexpr unsigned kShardBits = 6;
  static constexpr unsigned kShards = 1u << kShardBits;

  // Maps `key` (nonzero) to `id`, replacing an entry for it (an address the
  // recorder did not see freed). False when the OS refused memory to grow:
  // the entry is then missing and the block's free reads as unknown.
  bool insert(uintptr_t key, uint64_t id);

  // Removes `key`; returns its id, or 0 when it is not in the map.
  uint64_t erase(uintptr_t key);

  // fork(): the prepare handler takes every shard lock, so that no table is
  // half-modified in the child; the parent and the child release them.
  void lock_all();
  void unlock_all();

 private:
  struct Slot {
    uintptr_t key;  // 0: empty.
    uint64_t id;
  };
  struct alignas(64) Shard {
    SpinLock lock;
    Slot* slots = nullptr;  // capacity slots of mapped memory; under lock.
    size_t mask = 0;        // capacity - 1 (capacity a power of two); under lock.
    size_t count = 0;       // Entries in slots; under lock.
  };

  static uint64_t hash(uintptr_t key);
  static bool grow(Shard* s);  // Doubles the table (or maps the first). Under s->lock.

  Shard shards_[kShards];
};

}  // namespace recorder
}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_RECORDER_OBJECT_MAP_H_
