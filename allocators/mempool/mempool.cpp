#include "allocators/mempool/mempool.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iterator>
#include <ostream>

namespace allocbench {

const char* strategy_name(AllocationStrategy s) {
  switch (s) {
    case AllocationStrategy::BEST_FIT:
      return "BEST_FIT";
    case AllocationStrategy::FIXED_SIZE:
      return "FIXED_SIZE";
    case AllocationStrategy::POOL_BASED:
      return "POOL_BASED";
    case AllocationStrategy::SEGREGATED:
      return "SEGREGATED";
  }
  return "?";
}

// --- AllocationStats ---

void AllocationStats::record_allocation(size_t bytes) {
  allocations++;
  bytes_allocated += bytes;
  peak_bytes = std::max(peak_bytes, current_bytes());
}

void AllocationStats::record_deallocation(size_t bytes) {
  deallocations++;
  bytes_deallocated += bytes;
}

void AllocationStats::merge(const AllocationStats& other) {
  allocations += other.allocations;
  deallocations += other.deallocations;
  bytes_allocated += other.bytes_allocated;
  bytes_deallocated += other.bytes_deallocated;
  peak_bytes += other.peak_bytes;
  resets += other.resets;
}

void AllocationStats::print(std::ostream& out) const {
  out << "allocations=" << allocations << " deallocations=" << deallocations
      << " bytes_allocated=" << bytes_allocated << " bytes_deallocated=" << bytes_deallocated
      << " current_bytes=" << current_bytes() << " peak_bytes=" << peak_bytes
      << " resets=" << resets << "\n";
}

AllocationStats& AllocationStats::this_thread() {
  static thread_local AllocationStats stats;
  return stats;
}

namespace detail {
namespace {

constexpr size_t kHeader = sizeof(MemoryBlock);
constexpr size_t kLargePrefix = sizeof(LargeHeader) + sizeof(MemoryBlock);

constexpr size_t round_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

inline bool valid_alignment(size_t a) {
  return a != 0 && (a & (a - 1)) == 0 && a <= MemoryPool::kMaxAlignment;
}

// The request actually carved for `size` at `alignment` (room for the
// redirect), or 0 on overflow.
inline size_t padded_request(size_t size, size_t alignment) {
  if (size == 0) size = 1;
  if (alignment <= kHeader) return size;
  size_t need = size + alignment - kHeader;
  return need < size ? 0 : need;
}

// Capacity of a (resolved) block, measured from its payload.
size_t block_capacity(const MemoryBlock* h) {
  switch (h->kind) {
    case kKindBestFit:
      return h->size - kHeader;
    case kKindLarge:
      return large_header(const_cast<MemoryBlock*>(h))->map_bytes - kLargePrefix;
    default:
      return h->size;
  }
}

}  // namespace

void* align_payload(void* p, size_t alignment) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uintptr_t q = (a + alignment - 1) & ~(uintptr_t{alignment} - 1);
  if (q == a) return p;
  MemoryBlock* r = MemoryBlock::of(reinterpret_cast<void*>(q));
  *r = MemoryBlock{0, 0, kBlockRedirect, 0, 0, static_cast<uint32_t>(q - a)};
  return reinterpret_cast<void*>(q);
}

MemoryBlock* allocate_large(size_t size, void* owner, uint16_t shard, LargeMappingCache* cache) {
  size_t want = size + kLargePrefix;
  if (want < size) return nullptr;
  size_t bytes;
  bool fresh;
  void* mem = cache->map(want, &bytes, &fresh);
  if (mem == nullptr) return nullptr;
  auto* l = static_cast<LargeHeader*>(mem);
  l->owner = owner;
  l->prev = l->next = nullptr;
  l->map_bytes = bytes;
  auto* h = reinterpret_cast<MemoryBlock*>(l + 1);
  *h = MemoryBlock{0, kKindLarge, 0, shard, 0, 0};
  return h;
}

void free_large(MemoryBlock* h, LargeMappingCache* cache) {
  LargeHeader* l = large_header(h);
  cache->give(l, l->map_bytes);
}

// --- SizeClassLists ---

SizeClassLists::SizeClassLists(Mode mode, void* owner, uint16_t shard)
    : mode_(mode),
      kind_(mode == Mode::kPow2 ? kKindPool : kKindSegregated),
      owner_(owner),
      shard_(shard) {}

SizeClassLists::~SizeClassLists() { release_all(); }

int SizeClassLists::class_of(size_t size) const {
  if (size < 16) size = 16;
  if (mode_ == Mode::kPow2) return 64 - __builtin_clzll(size - 1) - 4;
  if (size <= 256) return static_cast<int>((size + 15) / 16) - 1;
  size_t s = size - 1;
  int lg = 63 - __builtin_clzll(s);
  int j = static_cast<int>((s >> (lg - 2)) & 3);
  return 16 + (lg - 8) * 4 + j;
}

size_t SizeClassLists::class_size(int c) const {
  if (mode_ == Mode::kPow2) return size_t{16} << c;
  if (c < 16) return static_cast<size_t>(c + 1) * 16;
  int k = c - 16;
  return static_cast<size_t>(5 + k % 4) << (8 + k / 4 - 2);
}

bool SizeClassLists::add_chunk() {
  void* mem = platform::map_aligned(kChunkBytes, kChunkBytes);
  if (mem == nullptr) return false;
  auto* c = static_cast<ChunkHeader*>(mem);
  c->owner = owner_;
  c->next = chunk_list_;
  chunk_list_ = c;
  chunks_++;
  bump_ = static_cast<char*>(mem) + sizeof(ChunkHeader);
  end_ = static_cast<char*>(mem) + kChunkBytes;
  return true;
}

// Before a new chunk replaces the current one, its tail becomes blocks of
// the largest classes that fit, so that nothing is wasted.
void SizeClassLists::carve_leftover() {
  if (bump_ == nullptr) return;
  int c = class_of(kMaxSize);
  while (c >= 0) {
    size_t bytes = class_size(c) + kHeader;
    if (static_cast<size_t>(end_ - bump_) < bytes) {
      --c;
      continue;
    }
    auto* h = reinterpret_cast<MemoryBlock*>(bump_);
    bump_ += bytes;
    *h = MemoryBlock{
        static_cast<uint32_t>(class_size(c)), kind_, 0, shard_, 0, static_cast<uint32_t>(c)};
    *static_cast<void**>(h->data()) = free_[c];
    free_[c] = h->data();
  }
}

MemoryBlock* SizeClassLists::allocate(size_t size) {
  int c = class_of(size);
  void* p = free_[c];
  if (p != nullptr) {
    free_[c] = *static_cast<void**>(p);
    MemoryBlock* h = MemoryBlock::of(p);
    h->flags = 0;
    return h;
  }
  const size_t cap = class_size(c);
  const size_t bytes = cap + kHeader;
  if (bump_ == nullptr || static_cast<size_t>(end_ - bump_) < bytes) {
    carve_leftover();
    if (!add_chunk()) return nullptr;
  }
  size_t batch = 1;
  if (mode_ == Mode::kPow2) batch = std::min<size_t>(32, std::max<size_t>(1, (16 << 10) / bytes));
  MemoryBlock* first = nullptr;
  for (size_t i = 0; i < batch && static_cast<size_t>(end_ - bump_) >= bytes; ++i) {
    auto* h = reinterpret_cast<MemoryBlock*>(bump_);
    bump_ += bytes;
    *h = MemoryBlock{static_cast<uint32_t>(cap), kind_, 0, shard_, 0, static_cast<uint32_t>(c)};
    if (first == nullptr) {
      first = h;
    } else {
      *static_cast<void**>(h->data()) = free_[c];
      free_[c] = h->data();
    }
  }
  return first;
}

void SizeClassLists::deallocate(MemoryBlock* h) {
  void* p = h->data();
  *static_cast<void**>(p) = free_[h->aux];
  free_[h->aux] = p;
}

void SizeClassLists::release_all() {
  while (chunk_list_ != nullptr) {
    ChunkHeader* c = chunk_list_;
    chunk_list_ = c->next;
    platform::unmap_pages(c, kChunkBytes);
  }
  chunks_ = 0;
  bump_ = end_ = nullptr;
  std::fill(std::begin(free_), std::end(free_), nullptr);
}

// --- BestFitHeap ---

namespace {

struct FreeLinks {
  MemoryBlock* next;  // Next free block in the bin.
  MemoryBlock* prev;  // Previous one, nullptr at the head.
};
constexpr size_t kBestFitMinBlock = kHeader + sizeof(FreeLinks);

inline FreeLinks* links(MemoryBlock* h) { return static_cast<FreeLinks*>(h->data()); }
inline MemoryBlock* next_block(MemoryBlock* h) {
  return reinterpret_cast<MemoryBlock*>(reinterpret_cast<char*>(h) + h->size);
}

// Exact 16-byte bins up to 1 KiB, then eight bins per power of two.
inline int best_fit_bin(size_t bytes) {
  if (bytes <= 1024) return static_cast<int>(bytes / 16) - 1;
  int lg = 63 - __builtin_clzll(bytes);
  return 64 + (lg - 10) * 8 + static_cast<int>((bytes >> (lg - 3)) & 7);
}

}  // namespace

BestFitHeap::BestFitHeap(void* owner) : owner_(owner) {}
BestFitHeap::~BestFitHeap() { release_all(); }

void BestFitHeap::insert_free(MemoryBlock* h) {
  h->flags = kBlockFree;
  int b = best_fit_bin(h->size);
  FreeLinks* l = links(h);
  l->next = bins_[b];
  l->prev = nullptr;
  if (l->next != nullptr) links(l->next)->prev = h;
  bins_[b] = h;
  bitmap_[b >> 6] |= uint64_t{1} << (b & 63);
}

void BestFitHeap::remove_free(MemoryBlock* h) {
  int b = best_fit_bin(h->size);
  FreeLinks* l = links(h);
  if (l->prev != nullptr) {
    links(l->prev)->next = l->next;
  } else {
    bins_[b] = l->next;
    if (l->next == nullptr) bitmap_[b >> 6] &= ~(uint64_t{1} << (b & 63));
  }
  if (l->next != nullptr) links(l->next)->prev = l->prev;
  h->flags = 0;
}

bool BestFitHeap::add_chunk() {
  void* mem = platform::map_aligned(kChunkBytes, kChunkBytes);
  if (mem == nullptr) return false;
  auto* c = static_cast<ChunkHeader*>(mem);
  c->owner = owner_;
  c->next = chunk_list_;
  chunk_list_ = c;
  chunks_++;
  char* base = static_cast<char*>(mem);
  auto* first = reinterpret_cast<MemoryBlock*>(base + sizeof(ChunkHeader));
  const size_t first_bytes = kChunkBytes - sizeof(ChunkHeader) - kHeader;
  *first = MemoryBlock{static_cast<uint32_t>(first_bytes), kKindBestFit, 0, 0, 0, 0};
  auto* sentinel = reinterpret_cast<MemoryBlock*>(base + kChunkBytes - kHeader);
  *sentinel = MemoryBlock{0, kKindSentinel, 0, 0, 0, static_cast<uint32_t>(first_bytes)};
  insert_free(first);
  return true;
}

MemoryBlock* BestFitHeap::allocate(size_t size) {
  const size_t need = std::max(kBestFitMinBlock, round_up(size, 16) + kHeader);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int b0 = best_fit_bin(need);
    MemoryBlock* best = nullptr;
    // The request's own bin may hold blocks too small; scan it for the best.
    for (MemoryBlock* h = bins_[b0]; h != nullptr; h = links(h)->next) {
      if (h->size >= need && (best == nullptr || h->size < best->size)) best = h;
    }
    // Otherwise the smallest block of the first non-empty higher bin.
    for (int w = (b0 + 1) >> 6; best == nullptr && w < (kBins + 63) / 64; ++w) {
      uint64_t bits = bitmap_[w];
      if (w == (b0 + 1) >> 6) bits &= ~uint64_t{0} << ((b0 + 1) & 63);
      if (bits == 0) continue;
      for (MemoryBlock* h = bins_[w * 64 + __builtin_ctzll(bits)]; h != nullptr;
           h = links(h)->next) {
        if (best == nullptr || h->size < best->size) best = h;
      }
    }
    if (best != nullptr) {
      remove_free(best);
      size_t rest = best->size - need;
      if (rest >= kBestFitMinBlock) {
        auto* r = reinterpret_cast<MemoryBlock*>(reinterpret_cast<char*>(best) + need);
        *r = MemoryBlock{static_cast<uint32_t>(rest), kKindBestFit, 0, 0, 0,
                         static_cast<uint32_t>(need)};
        next_block(r)->aux = static_cast<uint32_t>(rest);
        best->size = static_cast<uint32_t>(need);
        insert_free(r);
      }
      best->flags = 0;
      return best;
    }
    if (!add_chunk()) return nullptr;
  }
  return nullptr;
}

void BestFitHeap::deallocate(MemoryBlock* h) {
  MemoryBlock* next = next_block(h);
  if (next->kind != kKindSentinel && (next->flags & kBlockFree)) {
    remove_free(next);
    h->size += next->size;
  }
  if (h->aux != 0) {
    auto* prev = reinterpret_cast<MemoryBlock*>(reinterpret_cast<char*>(h) - h->aux);
    if (prev->flags & kBlockFree) {
      remove_free(prev);
      prev->size += h->size;
      h = prev;
    }
  }
  next_block(h)->aux = h->size;
  insert_free(h);
}

void BestFitHeap::release_all() {
  while (chunk_list_ != nullptr) {
    ChunkHeader* c = chunk_list_;
    chunk_list_ = c->next;
    platform::unmap_pages(c, kChunkBytes);
  }
  chunks_ = 0;
  std::fill(std::begin(bins_), std::end(bins_), nullptr);
  std::fill(std::begin(bitmap_), std::end(bitmap_), 0);
}

std::string BestFitHeap::check() const {
  char buf[128];
  size_t free_walk = 0;
  for (ChunkHeader* c = chunk_list_; c != nullptr; c = c->next) {
    char* base = reinterpret_cast<char*>(c);
    auto* h = reinterpret_cast<MemoryBlock*>(base + sizeof(ChunkHeader));
    uint32_t prev_size = 0;
    bool prev_free = false;
    while (h->kind != kKindSentinel) {
      size_t off = static_cast<size_t>(reinterpret_cast<char*>(h) - base);
      auto fail = [&](const char* what) {
        std::snprintf(buf, sizeof buf, "best-fit chunk %p offset %zu: %s", static_cast<void*>(c),
                      off, what);
        return std::string(buf);
      };
      if (h->kind != kKindBestFit) return fail("bad block kind");
      if (h->size < kBestFitMinBlock || h->size % 16 != 0 ||
          off + h->size > kChunkBytes - kHeader) {
        return fail("block size out of range");
      }
      if (h->aux != prev_size) return fail("previous-size tag disagrees");
      bool is_free = (h->flags & kBlockFree) != 0;
      if (is_free && prev_free) return fail("two adjacent free blocks");
      free_walk += is_free;
      prev_free = is_free;
      prev_size = h->size;
      h = next_block(h);
    }
    if (h->aux != prev_size) return "best-fit sentinel previous-size tag disagrees";
  }
  size_t listed = 0;
  for (int b = 0; b < kBins; ++b) {
    bool bit = (bitmap_[b >> 6] >> (b & 63)) & 1;
    if (bit != (bins_[b] != nullptr)) return "best-fit bitmap disagrees with the bins";
    for (MemoryBlock* h = bins_[b]; h != nullptr; h = links(h)->next) {
      if (!(h->flags & kBlockFree) || best_fit_bin(h->size) != b) {
        return "best-fit free list holds a used block or a block of another bin";
      }
      if (++listed > free_walk) return "best-fit free lists hold more blocks than the heap";
    }
  }
  if (listed != free_walk) return "best-fit free block missing from the free lists";
  return "";
}

}  // namespace detail

using detail::MemoryBlock;

// --- MemoryPool ---

MemoryPool::MemoryPool(AllocationStrategy strategy)
    : strategy_(strategy),
      fixed32_(this),
      fixed128_(this),
      segregated_(detail::SizeClassLists::Mode::kSegregated, this, 0),
      pooled_(detail::SizeClassLists::Mode::kPow2, this, 0),
      best_fit_(this) {}

MemoryPool::~MemoryPool() {
  while (large_ != nullptr) {
    detail::LargeHeader* l = large_;
    large_ = l->next;
    detail::free_large(reinterpret_cast<MemoryBlock*>(l + 1), &large_cache_);
  }
}

MemoryBlock* MemoryPool::allocate_locked(size_t need) {
  if (need > kLargeThreshold) {
    MemoryBlock* h = detail::allocate_large(need, this, 0, &large_cache_);
    if (h != nullptr) {
      detail::LargeHeader* l = detail::large_header(h);
      l->next = large_;
      if (large_ != nullptr) large_->prev = l;
      large_ = l;
      large_bytes_ += l->map_bytes;
    }
    return h;
  }
  void* p = nullptr;
  switch (strategy_) {
    case AllocationStrategy::FIXED_SIZE:
      if (need <= 32) {
        p = fixed32_.allocate_unlocked();
      } else if (need <= 128) {
        p = fixed128_.allocate_unlocked();
      } else {
        fallbacks_++;
        return segregated_.allocate(need);
      }
      return p == nullptr ? nullptr : MemoryBlock::of(p);
    case AllocationStrategy::SEGREGATED:
      return segregated_.allocate(need);
    case AllocationStrategy::POOL_BASED:
      return pooled_.allocate(need);
    case AllocationStrategy::BEST_FIT:
      return best_fit_.allocate(need);
  }
  return nullptr;
}

void MemoryPool::free_locked(MemoryBlock* h) {
  switch (h->kind) {
    case detail::kKindFixed:
      if (h->size == 32) {
        fixed32_.deallocate_unlocked(h->data());
      } else {
        fixed128_.deallocate_unlocked(h->data());
      }
      break;
    case detail::kKindSegregated:
      segregated_.deallocate(h);
      break;
    case detail::kKindPool:
      pooled_.deallocate(h);
      break;
    case detail::kKindBestFit:
      best_fit_.deallocate(h);
      break;
    case detail::kKindLarge: {
      detail::LargeHeader* l = detail::large_header(h);
      if (l->prev != nullptr) {
        l->prev->next = l->next;
      } else {
        large_ = l->next;
      }
      if (l->next != nullptr) l->next->prev = l->prev;
      large_bytes_ -= l->map_bytes;
      detail::free_large(h, &large_cache_);
      break;
    }
  }
  live_blocks_--;
}

size_t MemoryPool::capacity(const MemoryBlock* h) const { return detail::block_capacity(h); }

void* MemoryPool::allocate(size_t size, size_t alignment) {
  if (!detail::valid_alignment(alignment)) return nullptr;
  if (alignment < kMinAlignment) alignment = kMinAlignment;
  size_t need = detail::padded_request(size, alignment);
  if (need == 0) return nullptr;
  size_t cap;
  MemoryBlock* h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    h = allocate_locked(need);
    if (h == nullptr) return nullptr;
    if (!scope_marks_.empty()) {
      h->flags |= detail::kBlockInScope;
      h->scope_slot = static_cast<uint32_t>(scope_log_.size());
      scope_log_.push_back(h->data());
    }
    live_blocks_++;
    cap = capacity(h);
    stats_.record_allocation(cap);
  }
  AllocationStats::this_thread().record_allocation(cap);
  return alignment > kMinAlignment ? detail::align_payload(h->data(), alignment) : h->data();
}

void MemoryPool::deallocate(void* p) {
  if (p == nullptr) return;
  MemoryBlock* h = MemoryBlock::of(detail::resolve_payload(p));
  size_t cap;
  bool last_of_orphan;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (h->flags & detail::kBlockInScope) scope_log_[h->scope_slot] = nullptr;
    cap = capacity(h);
    free_locked(h);
    stats_.record_deallocation(cap);
    last_of_orphan = orphaned_ && live_blocks_ == 0;
  }
  AllocationStats::this_thread().record_deallocation(cap);
  if (last_of_orphan) delete this;
}

MemoryPool* MemoryPool::owner_of(const void* p) {
  void* base = detail::resolve_payload(const_cast<void*>(p));
  MemoryBlock* h = MemoryBlock::of(base);
  switch (h->kind) {
    case detail::kKindFixed:
      return static_cast<MemoryPool*>(FixedSizeAllocator<32>::context_of(base));
    case detail::kKindLarge:
      return static_cast<MemoryPool*>(detail::large_header(h)->owner);
    default: {
      uintptr_t chunk = reinterpret_cast<uintptr_t>(h) & ~(uintptr_t{kChunkBytes} - 1);
      return static_cast<MemoryPool*>(reinterpret_cast<detail::ChunkHeader*>(chunk)->owner);
    }
  }
}

void MemoryPool::deallocate_any(void* p) {
  if (p == nullptr) return;
  MemoryPool* pool = owner_of(p);
  if (pool != nullptr) pool->deallocate(p);
}

size_t MemoryPool::usable_size(const void* p) {
  void* base = detail::resolve_payload(const_cast<void*>(p));
  size_t offset = static_cast<size_t>(static_cast<const char*>(p) - static_cast<char*>(base));
  return detail::block_capacity(MemoryBlock::of(base)) - offset;
}

void MemoryPool::begin_scope() {
  std::lock_guard<std::mutex> lock(mu_);
  scope_marks_.push_back(scope_log_.size());
}

size_t MemoryPool::end_scope() {
  size_t freed = 0;
  uint64_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (scope_marks_.empty()) return 0;
    size_t mark = scope_marks_.back();
    scope_marks_.pop_back();
    for (size_t i = mark; i < scope_log_.size(); ++i) {
      if (scope_log_[i] == nullptr) continue;
      MemoryBlock* h = MemoryBlock::of(scope_log_[i]);
      size_t cap = capacity(h);
      free_locked(h);
      stats_.record_deallocation(cap);
      bytes += cap;
      freed++;
    }
    scope_log_.resize(mark);
  }
  AllocationStats& mine = AllocationStats::this_thread();
  mine.deallocations += freed;
  mine.bytes_deallocated += bytes;
  return freed;
}

size_t MemoryPool::scope_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scope_marks_.size();
}

void MemoryPool::reset() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    fixed32_.reset_unlocked();
    fixed128_.reset_unlocked();
    segregated_.release_all();
    pooled_.release_all();
    best_fit_.release_all();
    while (large_ != nullptr) {
      detail::LargeHeader* l = large_;
      large_ = l->next;
      detail::free_large(reinterpret_cast<MemoryBlock*>(l + 1), &large_cache_);
    }
    large_bytes_ = 0;
    large_cache_.trim(0);
    scope_log_.clear();
    scope_marks_.clear();
    live_blocks_ = 0;
    stats_.resets++;
    stats_.deallocations = stats_.allocations;
    stats_.bytes_deallocated = stats_.bytes_allocated;
  }
  AllocationStats::this_thread().resets++;
}

AllocationStats MemoryPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

size_t MemoryPool::bytes_mapped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fixed32_.bytes_mapped() + fixed128_.bytes_mapped() + segregated_.bytes_mapped() +
         pooled_.bytes_mapped() + best_fit_.bytes_mapped() + large_bytes_ +
         large_cache_.cached_bytes();
}

size_t MemoryPool::live_blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_blocks_;
}

uint64_t MemoryPool::fallback_allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fallbacks_;
}

std::string MemoryPool::check() const {
  std::lock_guard<std::mutex> lock(mu_);
  return best_fit_.check();
}

void MemoryPool::release_from_thread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (live_blocks_ != 0) {
      orphaned_ = true;
      return;
    }
  }
  delete this;
}

namespace {

// CustomAllocator's pools of the calling thread, one per strategy.
struct ThreadPools {
  MemoryPool* pools[4] = {};  // Indexed by AllocationStrategy; this thread only.
  ~ThreadPools() {
    for (MemoryPool*& p : pools) {
      if (p != nullptr) p->release_from_thread();
      p = nullptr;
    }
  }
};
thread_local ThreadPools tls_pools;

}  // namespace

MemoryPool& thread_local_pool(AllocationStrategy strategy) {
  MemoryPool*& slot = tls_pools.pools[static_cast<int>(strategy)];
  if (slot == nullptr) slot = new MemoryPool(strategy);
  return *slot;
}

// --- MempoolBaseline ---

MempoolBaseline::MempoolBaseline()
    : lists_(detail::SizeClassLists::Mode::kSegregated, nullptr, 0) {}
MempoolBaseline::~MempoolBaseline() = default;

void* MempoolBaseline::allocate(size_t size, size_t alignment) {
  if (!detail::valid_alignment(alignment)) return nullptr;
  size_t need = detail::padded_request(size, alignment);
  if (need == 0) return nullptr;
  MemoryBlock* h;
  if (need > detail::SizeClassLists::kMaxSize) {
    h = detail::allocate_large(need, nullptr, 0, &large_cache_);
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    h = lists_.allocate(need);
  }
  if (h == nullptr) return nullptr;
  return alignment > 16 ? detail::align_payload(h->data(), alignment) : h->data();
}

void MempoolBaseline::deallocate(void* p) {
  if (p == nullptr) return;
  MemoryBlock* h = MemoryBlock::of(detail::resolve_payload(p));
  if (h->kind == detail::kKindLarge) {
    detail::free_large(h, &large_cache_);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  lists_.deallocate(h);
}

size_t MempoolBaseline::bytes_mapped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lists_.bytes_mapped() + large_cache_.cached_bytes();
}

size_t MempoolBaseline::trim() { return large_cache_.trim(0); }

// --- MempoolSharded ---

namespace {
std::atomic<uint32_t> next_home_shard{0};
thread_local uint32_t tls_home_shard = UINT32_MAX;
}  // namespace

MempoolSharded::MempoolSharded(size_t shards) {
  if (shards == 0) {
    shards =
        std::min<size_t>(64, std::max<size_t>(4, 2 * static_cast<size_t>(platform::cpu_count())));
  }
  count_ = 1;
  while (count_ < shards && count_ < 65536) count_ <<= 1;
  shards_.reserve(count_);
  for (size_t i = 0; i < count_; ++i)
    shards_.push_back(std::make_unique<Shard>(static_cast<uint16_t>(i)));
}

MempoolSharded::~MempoolSharded() = default;

size_t MempoolSharded::home_shard() const {
  uint32_t idx = tls_home_shard;
  if (idx == UINT32_MAX) {
    idx = next_home_shard.fetch_add(1, std::memory_order_relaxed);
    tls_home_shard = idx;
  }
  return idx & (count_ - 1);
}

void* MempoolSharded::allocate(size_t size, size_t alignment) {
  if (!detail::valid_alignment(alignment)) return nullptr;
  size_t need = detail::padded_request(size, alignment);
  if (need == 0) return nullptr;
  size_t s = home_shard();
  MemoryBlock* h;
  if (need > detail::SizeClassLists::kMaxSize) {
    h = detail::allocate_large(need, nullptr, static_cast<uint16_t>(s), &large_cache_);
  } else {
    Shard& shard = *shards_[s];
    std::lock_guard<std::mutex> lock(shard.mu);
    h = shard.lists.allocate(need);
  }
  if (h == nullptr) return nullptr;
  return alignment > 16 ? detail::align_payload(h->data(), alignment) : h->data();
}

void MempoolSharded::deallocate(void* p) {
  if (p == nullptr) return;
  MemoryBlock* h = MemoryBlock::of(detail::resolve_payload(p));
  if (h->kind == detail::kKindLarge) {
    detail::free_large(h, &large_cache_);
    return;
  }
  Shard& shard = *shards_[h->shard];
  std::lock_guard<std::mutex> lock(shard.mu);
  shard.lists.deallocate(h);
}

size_t MempoolSharded::shard_of(const void* p) {
  return MemoryBlock::of(detail::resolve_payload(const_cast<void*>(p)))->shard;
}

size_t MempoolSharded::bytes_mapped() const {
  size_t total = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    total += s->lists.bytes_mapped();
  }
  return total + large_cache_.cached_bytes();
}

size_t MempoolSharded::trim() { return large_cache_.trim(0); }

}  // namespace allocbench
