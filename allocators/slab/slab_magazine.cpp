#include "allocators/slab/slab_magazine.h"

#include <algorithm>

namespace allocbench {

namespace {
constexpr uint64_t kCountMask = 0xFFFFFFFFu;
}  // namespace

SlabMagazines::SlabMagazines(Slab* slab, uint32_t capacity) : slab_(slab) {
  capacity_ = std::min<uint32_t>(capacity, uint32_t{1} << 20);
  id_ = detail::thread_registry_add(this);
  // Ids are never reused; four billion owners in one process is not a case.
  if (id_ >= (uint64_t{1} << 32)) capacity_ = 0;
  key_base_ = id_ << 32;
}

SlabMagazines::~SlabMagazines() {
  // After this no exit hook or write-back touches the magazines.
  detail::thread_registry_remove(id_);
  detail::MagazineTls& t = detail::t_magazine;
  if (t.owner == id_) t = {0, nullptr, nullptr, 0};
  for (Magazine* m : magazines_) {
    delete[] m->slots;
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
      m->slots = new void*[capacity_];
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
  if (capacity_ == 0) return false;
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

void* SlabMagazines::alloc_slow() {
  detail::MagazineTls& t = detail::t_magazine;
  if (!make_current()) return slab_->alloc();
  uint64_t n = t.key - key_base_;
  if (n == 0) {
    // Empty: refill half the magazine with one CAS on the slab.
    unsigned want = std::max<unsigned>(1, static_cast<unsigned>(capacity_ / 2));
    n = slab_->alloc_batch(t.slots, want, /*to_cache=*/true);
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
  if (n >= capacity_) {
    // Full: spill the upper half with one CAS, then keep p.
    uint64_t half = std::max<uint64_t>(1, n / 2);
    slab_->free_batch(t.slots + (n - half), static_cast<unsigned>(half));
    n -= half;
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
  slab_->free_batch(m->slots, m->count.load(std::memory_order_relaxed));
  m->count.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  spare_.push_back(m);
}

size_t SlabMagazines::cached_blocks() {
  publish_count();
  size_t n = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (Magazine* m : magazines_) n += m->count.load(std::memory_order_relaxed);
  return n;
}

}  // namespace allocbench
