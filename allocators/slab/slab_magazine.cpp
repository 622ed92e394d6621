#include "allocators/slab/slab_magazine.h"

#include <algorithm>
#include <utility>

namespace allocbench {

namespace {
constexpr uint64_t kCountMask = 0xFFFFFFFFu;
}  // namespace

SlabMagazines::SlabMagazines(Slab* slab, uint32_t capacity)
    : SlabMagazines(slab, Options{capacity, kDefaultDepotHalves, false}) {}

SlabMagazines::SlabMagazines(Slab* slab, const Options& o) : slab_(slab) {
  uint32_t capacity = std::min<uint32_t>(o.capacity, uint32_t{1} << 20);
  half_ = capacity == 0 ? 0 : std::max<uint32_t>(1, capacity / 2);
  depot_max_ = o.depot_halves;
  check_depot_ = o.check_depot;
  id_ = detail::thread_registry_add(this);
  // Ids are never reused; four billion owners in one process is not a case.
  if (id_ >= (uint64_t{1} << 32)) half_ = 0;
  key_base_ = id_ << 32;
}

SlabMagazines::~SlabMagazines() {
  // After this no exit hook or write-back touches the magazines.
  detail::thread_registry_remove(id_);
  detail::MagazineTls& t = detail::t_magazine;
  if (t.owner == id_) t = {0, nullptr, nullptr, 0};
  flush_depot();
  for (Magazine* m : magazines_) {
    delete[] m->slots;
    delete[] m->other;
    for (void** a : m->depot.empty) delete[] a;
    delete m;
  }
}

SlabMagazines::Magazine* SlabMagazines::attach() {
  Magazine* m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      m = spare_.back();
      spare_.pop_back();
    } else {
      m = new Magazine;
      m->slots = new void*[half_];
      m->other = new void*[half_];
      m->depot.full.reserve(depot_max_);
      magazines_.push_back(m);
    }
  }
  detail::thread_state_attach(id_, m);
  return m;
}

void SlabMagazines::write_back(void* tls) {
  auto* t = static_cast<detail::MagazineTls*>(tls);
  static_cast<Magazine*>(t->magazine)
      ->count.store(static_cast<uint32_t>(t->key & kCountMask), std::memory_order_relaxed);
}

bool SlabMagazines::make_current() {
  detail::MagazineTls& t = detail::t_magazine;
  if (t.owner == id_) return true;
  if (half_ == 0) return false;
  // The previous owner may have been destroyed since: write back only if not.
  if (t.owner != 0) detail::thread_registry_call_if_live(t.owner, &write_back, &t);
  t = {0, nullptr, nullptr, 0};
  auto* m = static_cast<Magazine*>(detail::thread_state_get(id_));
  if (m == nullptr) m = attach();
  t.magazine = m;
  t.slots = m->slots;
  t.owner = id_;
  t.key = key_base_ | m->count.load(std::memory_order_relaxed);
  return true;
}

void SlabMagazines::publish_count() {
  detail::MagazineTls& t = detail::t_magazine;
  if (t.owner == id_) write_back(&t);
}

void** SlabMagazines::depot_take(Depot& d, void** empty) {
  if (d.halves.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard<std::mutex> lock(d.mu);
  if (d.full.empty()) return nullptr;
  void** full = d.full.back();
  d.full.pop_back();
  d.empty.push_back(empty);
  d.halves.store(static_cast<uint32_t>(d.full.size()), std::memory_order_relaxed);
  return full;
}

bool SlabMagazines::depot_put(Depot& d, void** full, void*** empty_out) {
  std::lock_guard<std::mutex> lock(d.mu);
  if (d.full.size() >= depot_max_) return false;
  d.full.push_back(full);
  d.halves.store(static_cast<uint32_t>(d.full.size()), std::memory_order_relaxed);
  if (d.empty.empty()) {
    *empty_out = nullptr;
  } else {
    *empty_out = d.empty.back();
    d.empty.pop_back();
  }
  return true;
}

// Only when the thread's own depot is empty. The empty array stays in the
// victim's depot, so each depot's arrays (full plus empty) stay within its
// bound. Magazines are never freed before the destructor, so the scan is safe
// under mu_.
void** SlabMagazines::steal(Magazine* self, void** empty) {
  if (depot_max_ == 0) return nullptr;  // No depots: no registry lock per refill.
  std::lock_guard<std::mutex> lock(mu_);
  for (Magazine* v : magazines_) {
    if (v == self) continue;
    if (void** full = depot_take(v->depot, empty)) return full;
  }
  return nullptr;
}

void** SlabMagazines::retire(Magazine* m, void** half) {
  if (m->depot.halves.load(std::memory_order_relaxed) < depot_max_) {
    if (check_depot_) {
      slab_->depot_check_in(half, static_cast<unsigned>(half_));
    } else {
      slab_->check_block_starts(half, static_cast<unsigned>(half_));
    }
    void** empty = nullptr;
    if (depot_put(m->depot, half, &empty)) return empty != nullptr ? empty : new void*[half_];
  }
  // The depot is at its bound: the blocks go back to the slab (each checked).
  slab_->free_batch(half, static_cast<unsigned>(half_));
  return half;
}

uint32_t SlabMagazines::reload(Magazine* m) {
  detail::MagazineTls& t = detail::t_magazine;
  uint32_t n = static_cast<uint32_t>(half_);
  if (m->other_count.load(std::memory_order_relaxed) == half_) {
    std::swap(m->slots, m->other);
    m->other_count.store(0, std::memory_order_relaxed);
  } else {
    // The own depot first: the thread's blocks and arrays come back to it.
    void** full = depot_take(m->depot, m->slots);
    if (full == nullptr) full = steal(m, m->slots);
    if (full != nullptr) {
      if (check_depot_) slab_->depot_check_out(full, n);
      m->slots = full;
    } else {
      n = slab_->alloc_batch(m->slots, n, /*to_cache=*/true);
    }
  }
  t.slots = m->slots;
  return n;
}

void SlabMagazines::unload(Magazine* m) {
  detail::MagazineTls& t = detail::t_magazine;
  if (m->other_count.load(std::memory_order_relaxed) == 0) {
    std::swap(m->slots, m->other);
    m->other_count.store(static_cast<uint32_t>(half_), std::memory_order_relaxed);
  } else {
    m->slots = retire(m, m->slots);
  }
  t.slots = m->slots;
}

void* SlabMagazines::alloc_slow() {
  detail::MagazineTls& t = detail::t_magazine;
  if (!make_current()) return slab_->alloc();
  uint64_t n = t.key - key_base_;
  if (n == 0) {
    n = reload(static_cast<Magazine*>(t.magazine));
    if (n == 0) return nullptr;
  }
  t.key = key_base_ | (n - 1);
  publish_count();
  void* p = t.slots[n - 1];
#if ALLOCBENCH_SLAB_CHECKS
  check_alloc(p);
#endif
  return p;
}

void SlabMagazines::free_slow(void* p) {
  detail::MagazineTls& t = detail::t_magazine;
  if (!make_current()) {
    slab_->free_batch(&p, 1);
    return;
  }
  uint64_t n = t.key - key_base_;
  if (n >= half_) {
    unload(static_cast<Magazine*>(t.magazine));
    n = 0;
  }
  t.slots[n] = p;
  t.key = key_base_ | (n + 1);
  publish_count();
}

void SlabMagazines::check_alloc(void* p) {
  if (slab_->mark_handed_out(p) != SLAB_OK) Slab::misuse("corrupt magazine", p);
}

void SlabMagazines::check_free(void* p) {
  int rc = slab_->mark_cached(p);
  if (rc == SLAB_ERR_DOUBLE_FREE) Slab::misuse("double free", p);
  if (rc != SLAB_OK) Slab::misuse("invalid free", p);
}

void SlabMagazines::release_thread_state(void* state) {
  auto* m = static_cast<Magazine*>(state);
  detail::MagazineTls& t = detail::t_magazine;
  // Runs on the magazine's own thread: its live count may be in t_magazine.
  if (t.owner == id_ && t.magazine == m) {
    write_back(&t);
    t = {0, nullptr, nullptr, 0};
  }
  uint32_t n = m->count.load(std::memory_order_relaxed);
  if (n == half_) {
    m->slots = retire(m, m->slots);
  } else {
    slab_->free_batch(m->slots, n);
  }
  if (m->other_count.load(std::memory_order_relaxed) == half_) m->other = retire(m, m->other);
  m->count.store(0, std::memory_order_relaxed);
  m->other_count.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  spare_.push_back(m);
}

void SlabMagazines::flush_depot() {
  std::lock_guard<std::mutex> registry(mu_);
  for (Magazine* m : magazines_) {
    std::vector<void**> full;
    {
      std::lock_guard<std::mutex> lock(m->depot.mu);
      full.swap(m->depot.full);
      m->depot.full.reserve(depot_max_);
      m->depot.halves.store(0, std::memory_order_relaxed);
    }
    for (void** h : full) slab_->free_batch(h, static_cast<unsigned>(half_));
    std::lock_guard<std::mutex> lock(m->depot.mu);
    m->depot.empty.insert(m->depot.empty.end(), full.begin(), full.end());
  }
}

size_t SlabMagazines::depot_halves() {
  std::lock_guard<std::mutex> registry(mu_);
  size_t n = 0;
  for (Magazine* m : magazines_) {
    std::lock_guard<std::mutex> lock(m->depot.mu);
    n += m->depot.full.size();
  }
  return n;
}

size_t SlabMagazines::cached_blocks() {
  publish_count();
  size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Magazine* m : magazines_) {
      n +=
          m->count.load(std::memory_order_relaxed) + m->other_count.load(std::memory_order_relaxed);
    }
  }
  return n + depot_halves() * half_;
}

}  // namespace allocbench
