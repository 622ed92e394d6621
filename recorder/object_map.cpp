#include "recorder/object_map.h"

#include "allocators/common/platform.h"

namespace allocbench {
namespace detail {
namespace recorder {
namespace {

constexpr size_t kFirstCapacity = 1024;  // 16 KiB a shard, mapped on its first insert.

}  // namespace

uint64_t ObjectMap::hash(uintptr_t key) {
  uint64_t h = key;  // murmur3's finalizer: the low bits of an address are mostly zero
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool ObjectMap::grow(Shard* s) {
  size_t capacity = s->slots == nullptr ? kFirstCapacity : 2 * (s->mask + 1);
  Slot* fresh = static_cast<Slot*>(platform::map_pages(capacity * sizeof(Slot)));
  if (fresh == nullptr) return false;
  size_t mask = capacity - 1;
  if (s->slots != nullptr) {
    for (size_t i = 0; i <= s->mask; ++i) {
      if (s->slots[i].key == 0) continue;
      size_t j = (hash(s->slots[i].key) >> kShardBits) & mask;
      while (fresh[j].key != 0) j = (j + 1) & mask;
      fresh[j] = s->slots[i];
    }
    platform::unmap_pages(s->slots, (s->mask + 1) * sizeof(Slot));
  }
  s->slots = fresh;
  s->mask = mask;
  return true;
}

bool ObjectMap::insert(uintptr_t key, uint64_t id) {
  uint64_t h = hash(key);
  Shard& s = shards_[h & (kShards - 1)];
  s.lock.lock();
  if ((s.count + 1) * 2 > s.mask + 1 && !grow(&s)) {
    s.lock.unlock();
    return false;
  }
  size_t i = (h >> kShardBits) & s.mask;
  while (s.slots[i].key != 0 && s.slots[i].key != key) i = (i + 1) & s.mask;
  if (s.slots[i].key == 0) ++s.count;
  s.slots[i] = Slot{key, id};
  s.lock.unlock();
  return true;
}

uint64_t ObjectMap::erase(uintptr_t key) {
  uint64_t h = hash(key);
  Shard& s = shards_[h & (kShards - 1)];
  s.lock.lock();
  if (s.slots == nullptr) {
    s.lock.unlock();
    return 0;
  }
  size_t i = (h >> kShardBits) & s.mask;
  while (s.slots[i].key != key) {
    if (s.slots[i].key == 0) {
      s.lock.unlock();
      return 0;
    }
    i = (i + 1) & s.mask;
  }
  uint64_t id = s.slots[i].id;
  // Backward shift: move each later entry of the run whose home is not in
  // (i, j] into the hole, so that probing never needs tombstones.
  for (size_t j = (i + 1) & s.mask; s.slots[j].key != 0; j = (j + 1) & s.mask) {
    size_t home = (hash(s.slots[j].key) >> kShardBits) & s.mask;
    if (((j - home) & s.mask) >= ((j - i) & s.mask)) {
      s.slots[i] = s.slots[j];
      i = j;
    }
  }
  s.slots[i].key = 0;
  --s.count;
  s.lock.unlock();
  return id;
}

void ObjectMap::lock_all() {
  for (Shard& s : shards_) s.lock.lock();
}

void ObjectMap::unlock_all() {
  for (Shard& s : shards_) s.lock.unlock();
}

}  // namespace recorder
}  // namespace detail
}  // namespace allocbench
