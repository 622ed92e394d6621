// The replay loop and its call paths (see runner/replay.h).
#include "runner/replay.h"

#include <stdlib.h>

#include <cstring>
#include <thread>

#include "allocators/common/platform.h"

#define AB_NOIPA __attribute__((noipa))
#define AB_INLINE inline __attribute__((always_inline))
#define AB_COLD __attribute__((noinline, cold))

namespace allocbench {
namespace detail {

void spin_cycles(uint64_t ticks) {
  const uint64_t end = platform::read_cycles() + ticks;
  while (platform::read_cycles() < end) {
  }
}

namespace {

constexpr size_t kPrefetchAhead = kReplayPadding;  // Ops between a slot's prefetch and its use.

size_t align_of(const Op& op) { return size_t{1} << op.align_log2; }

// The process's malloc family, called directly (through the PLT) as a C
// program calls it. Thread-safe (as malloc is). Cost: the call itself.
struct MallocCalls {
  explicit MallocCalls(const CallContext&) {}

  AB_INLINE void* alloc(const Op& op, SlotEntry&) { return ::malloc(op.size); }
  AB_INLINE void* alloc_plain(const Op& op, void*&) { return ::malloc(op.size); }
  AB_INLINE void* alloc_general(const Op& op, SlotEntry&) {
    return aligned(op.size, align_of(op));
  }
  AB_INLINE void* alloc_zeroed(const Op& op, SlotEntry&) {
    if (malloc_aligned_enough(op.size, align_of(op))) return ::calloc(1, op.size);
    void* p = aligned(op.size, align_of(op));
    if (p != nullptr) std::memset(p, 0, op.size);
    return p;
  }
  AB_INLINE void* resize(const Op& op, SlotEntry& s) {
    if (malloc_aligned_enough(op.size, align_of(op))) return ::realloc(s.ptr, op.size);
    void* p = aligned(op.size, align_of(op));
    if (p != nullptr) {
      std::memcpy(p, s.ptr, s.aux < op.size ? s.aux : op.size);
      ::free(s.ptr);
    }
    return p;
  }
  AB_INLINE void release(void* p, const Op&) { ::free(p); }
  AB_INLINE void* toggle_alloc(const Op& op, uint32_t) { return aligned(op.size, align_of(op)); }
  AB_INLINE void* channel_alloc(const Op& op, SlotEntry& s) { return alloc_general(op, s); }
  bool reset() { return false; }

 private:
  static AB_INLINE void* aligned(uint64_t size, size_t alignment) {
    if (malloc_aligned_enough(size, alignment)) return ::malloc(size);
    void* p = nullptr;
    return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
  }
};

// An in-process Adapter: one virtual call per request. Thread-safety as the
// adapter's caps declare.
struct AdapterCalls {
  explicit AdapterCalls(const CallContext& c) : a(c.adapter) {}

  AB_INLINE void* alloc(const Op& op, SlotEntry&) { return a->allocate(op.size, align_of(op)); }
  AB_INLINE void* alloc_plain(const Op& op, void*&) { return a->allocate(op.size, align_of(op)); }
  AB_INLINE void* alloc_general(const Op& op, SlotEntry&) {
    return a->allocate(op.size, align_of(op));
  }
  AB_INLINE void* alloc_zeroed(const Op& op, SlotEntry&) {
    return a->allocate_zeroed(op.size, align_of(op));
  }
  AB_INLINE void* resize(const Op& op, SlotEntry& s) {
    return a->reallocate(s.ptr, s.aux, op.size, align_of(op));
  }
  AB_INLINE void release(void* p, const Op& op) {
    if (p != nullptr) a->deallocate(p, op.size, align_of(op));
  }
  AB_INLINE void* toggle_alloc(const Op& op, uint32_t) {
    return a->allocate(op.size, align_of(op));
  }
  AB_INLINE void* channel_alloc(const Op& op, SlotEntry&) {
    return a->allocate(op.size, align_of(op));
  }
  bool reset() { return a->reset(); }

  Adapter* a;
};

// The calibration: hands out the blocks planned before the clock (distinct,
// pre-faulted, in the same reuse pattern as the trace's slots), through one
// direct call that is not inlined (noipa: the compiler may not even assume
// what it returns). kSpin adds a fixed busy-wait per allocation (test
// adapters). Owner thread only. Cost: the call and one load.
template <bool kSpin>
struct CalibrationCalls {
  explicit CalibrationCalls(const CallContext& c)
      : stream(c.plan->stream), toggle_region(c.plan->toggle_region),
        spin_ticks(c.plan->spin_ticks) {}

  // One argument each, like malloc(size) and free(p).
  static AB_NOIPA void* planned(SlotEntry* s) { return s->ptr; }
  static AB_NOIPA void* planned_plain(void** s) { return *s; }
  static AB_NOIPA void* planned_plain_spin(void** s, uint64_t ticks) {
    spin(ticks);
    return *s;
  }
  static AB_NOIPA void* planned_spin(SlotEntry* s, uint64_t ticks) {
    spin(ticks);
    return s->ptr;
  }
  static AB_NOIPA void* next_in_ring(void* const** stream, uint64_t ticks) {
    if constexpr (kSpin) spin(ticks);
    return *(*stream)++;
  }
  static AB_NOIPA void* toggle_block(void* const* region, uint32_t slot, uint64_t ticks) {
    if constexpr (kSpin) spin(ticks);
    return region[slot];
  }
  static AB_NOIPA void discard(void*) {}

  AB_INLINE void* alloc(const Op&, SlotEntry& s) {
    if constexpr (kSpin) {
      return planned_spin(&s, spin_ticks);
    } else {
      return planned(&s);
    }
  }
  AB_INLINE void* alloc_plain(const Op&, void*& s) {
    if constexpr (kSpin) {
      return planned_plain_spin(&s, spin_ticks);
    } else {
      return planned_plain(&s);
    }
  }
  AB_INLINE void* alloc_general(const Op& op, SlotEntry& s) { return alloc(op, s); }
  AB_INLINE void* alloc_zeroed(const Op& op, SlotEntry& s) { return alloc(op, s); }
  AB_INLINE void* resize(const Op& op, SlotEntry& s) { return alloc(op, s); }
  AB_INLINE void release(void* p, const Op&) { discard(p); }
  AB_INLINE void* toggle_alloc(const Op& op, uint32_t) {
    return toggle_block(toggle_region, op.slot, spin_ticks);
  }
  AB_INLINE void* channel_alloc(const Op&, SlotEntry&) {
    return next_in_ring(&stream, spin_ticks);
  }
  bool reset() { return true; }

  static AB_INLINE void spin(uint64_t ticks) { spin_cycles(ticks); }

  void* const* stream;
  void* const* toggle_region;
  uint64_t spin_ticks;
};

// Waits for a channel condition; false if the run was aborted meanwhile.
template <typename Ready>
bool wait_for(const ReplayShared& sh, Ready ready) {
  for (unsigned spins = 0; !ready(); ++spins) {
    if (sh.abort->load(std::memory_order_relaxed)) return false;
    if (spins > 64) std::this_thread::yield();
  }
  return true;
}

// kPhase: rare (a few per thousand ops), so kept out of the loop body.
template <class Calls>
AB_COLD void on_phase(Calls& calls, ThreadReplay& t) {
  if (t.reset_at_phase) calls.reset();
  if (t.phase_rss != nullptr) t.phase_rss->push_back(platform::resident_bytes());
}

// Publishes this thread's live bytes and folds the sum over all threads into
// the peak. Cost: one store and `live_count` loads, every live_mask+1 ops.
AB_INLINE void sample_live(ThreadReplay& t, const ReplayShared& sh, int64_t live,
                           int64_t* peak) {
  sh.live[t.index].bytes.store(live, std::memory_order_relaxed);
  int64_t sum = 0;
  for (uint32_t k = 0; k < sh.live_count; ++k) {
    sum += sh.live[k].bytes.load(std::memory_order_relaxed);
  }
  if (sum > *peak) *peak = sum;
}

// One op of replay_loop for the mix kMix: the loop's body, split by kind and
// force-inlined, so each mix's loop compiles to one function as before. The
// object lives on the loop's stack and never escapes, so `live` stays in a
// register.
template <class Calls, unsigned kMix>
struct Step {
  static constexpr bool kGeneral = (kMix & kMixGeneral) != 0;
  static constexpr bool kChannel = (kMix & kMixChannel) != 0;
  static constexpr bool kToggle = (kMix & kMixToggle) != 0;
  static constexpr bool kLive = (kMix & kMixLive) != 0;
  static constexpr bool kWrite = (kMix & kMixWrite) != 0;
  // Plain mixes keep only the pointer per slot (8 bytes: index scaling, half the lines).
  static constexpr bool kPlain = !kGeneral && !kChannel && !kToggle;
  // Plain mixes know whether every block is 1 B-4 KiB (no kMixLarge).
  static constexpr bool kSmallBlocks = kPlain && (kMix & kMixLarge) == 0;

  Calls& calls;
  ThreadReplay& t;
  const ReplayShared& sh;
  SlotEntry* const slots;
  void** const plain_slots;
  int64_t live;  // This thread's live bytes (kLive mixes).

  static AB_INLINE void touch_block(void* p, uint64_t size) {
    if constexpr (kSmallBlocks) {
      touch_small(p, size);
    } else {
      touch(p, size);
    }
  }
  AB_INLINE void add_live(int64_t d) {
    if constexpr (kLive) live += d;
  }

  // Returns false when an allocation failed or the run was aborted.
  AB_INLINE bool operator()(const Op& op) {
    if constexpr (kToggle) {
      return toggle(op);
    } else if constexpr (kPlain) {
      return plain(op);
    } else {
      return slotted(op, slots[op.slot]);
    }
  }

  // kToggle: take and free the shared slot's block, or publish a new one.
  AB_INLINE bool toggle(const Op& op) {
    std::atomic<void*>& cell = sh.shared_slots[op.slot];
    void* old = cell.exchange(nullptr, std::memory_order_acq_rel);
    if (old != nullptr) {
      calls.release(old, op);
      ++t.toggle_frees;
      live -= static_cast<int64_t>(op.size);
      return true;
    }
    void* p = calls.toggle_alloc(op, t.index);
    if (__builtin_expect(p == nullptr, 0)) return false;
    touch(p, op.size);
    ++t.toggle_allocs;
    live += static_cast<int64_t>(op.size);
    void* expected = nullptr;
    if (!cell.compare_exchange_strong(expected, p, std::memory_order_acq_rel)) {
      calls.release(p, op);  // Another thread filled the slot first.
      ++t.toggle_frees;
      live -= static_cast<int64_t>(op.size);
    }
    return true;
  }

  // Plain mixes: the generators emit only kAlloc and kFree (and kWrite in kMixWrite).
  AB_INLINE bool plain(const Op& op) {
    void*& s = plain_slots[op.slot];
    if (op.kind == OpKind::kAlloc) {
      void* p = calls.alloc_plain(op, s);
      if (__builtin_expect(p == nullptr, 0) && op.size != 0) return false;
      touch_block(p, op.size);
      s = p;
      add_live(static_cast<int64_t>(op.size));
      return true;
    }
    if constexpr (kWrite) {
      if (op.kind == OpKind::kWrite) {
        write_repeatedly(s, op.size);
        return true;
      }
    }
    calls.release(s, op);
    add_live(-static_cast<int64_t>(op.size));
    return true;
  }

  // Mixes with a 16-byte slot entry: general and channel.
  AB_INLINE bool slotted(const Op& op, SlotEntry& s) {
    if (op.kind == OpKind::kAlloc) {
      void* p;
      if constexpr (kChannel) {
        p = calls.channel_alloc(op, s);
      } else if constexpr (kGeneral) {
        p = calls.alloc_general(op, s);
      } else {
        p = calls.alloc(op, s);
      }
      if (__builtin_expect(p == nullptr, 0) && op.size != 0) return false;
      touch_block(p, op.size);
      s.ptr = p;
      if constexpr (kGeneral) s.aux = op.size;
      add_live(static_cast<int64_t>(op.size));
      return true;
    }
    if constexpr (kWrite) {
      if (op.kind == OpKind::kWrite) {
        write_repeatedly(s.ptr, op.size);
        return true;
      }
    }
    if (!kGeneral || op.kind == OpKind::kFree) {  // Plain mix: alloc or free only.
      calls.release(s.ptr, op);
      add_live(-static_cast<int64_t>(op.size));
      return true;
    }
    if constexpr (kGeneral) {
      if (op.kind == OpKind::kRealloc) return resize(op, s);
      if (op.kind == OpKind::kCalloc) return zeroed(op, s);
    }
    if constexpr (kChannel) {
      if (op.kind == OpKind::kPush) return push(op, s);
      if (op.kind == OpKind::kPop) return pop(op, s);
    }
    return true;  // kPhase never reaches here (segments), and no other kind exists.
  }

  AB_INLINE bool resize(const Op& op, SlotEntry& s) {
    void* p = calls.resize(op, s);
    if (__builtin_expect(p == nullptr, 0) && op.size != 0) return false;
    touch(p, op.size);
    add_live(static_cast<int64_t>(op.size) - static_cast<int64_t>(s.aux));
    s.ptr = p;
    s.aux = op.size;
    return true;
  }

  AB_INLINE bool zeroed(const Op& op, SlotEntry& s) {
    void* p = calls.alloc_zeroed(op, s);
    if (__builtin_expect(p == nullptr, 0) && op.size != 0) return false;
    touch(p, op.size);
    s.ptr = p;
    s.aux = op.size;
    add_live(static_cast<int64_t>(op.size));
    return true;
  }

  AB_INLINE bool push(const Op& op, const SlotEntry& s) {
    Channel& ch = sh.channels[op.channel];
    const uint64_t tail = ch.tail.load(std::memory_order_relaxed);
    if (!wait_for(sh, [&] {
          return tail - ch.head.load(std::memory_order_acquire) < Channel::kCapacity;
        })) {
      return false;
    }
    ch.ring[tail % Channel::kCapacity] = s;
    ch.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  AB_INLINE bool pop(const Op& op, SlotEntry& s) {
    Channel& ch = sh.channels[op.channel];
    const uint64_t head = ch.head.load(std::memory_order_relaxed);
    if (!wait_for(sh, [&] { return ch.tail.load(std::memory_order_acquire) != head; })) {
      return false;
    }
    s = ch.ring[head % Channel::kCapacity];
    ch.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // The prefetch of the slot kPrefetchAhead ops ahead (the trace is padded,
  // so it needs no bound check).
  AB_INLINE void prefetch(const Op* p) const {
    const uint32_t slot = p[kPrefetchAhead].slot;
    if constexpr (kToggle) {
      __builtin_prefetch(&sh.shared_slots[slot], 1);
    } else if constexpr (kPlain) {
      __builtin_prefetch(&plain_slots[slot], 1);
    } else {
      __builtin_prefetch(&slots[slot], 1);
    }
  }
};

// Which ops the latency round times: gaps drawn uniformly from
// 1..2*sample_every-1 (mean sample_every) by a xorshift seeded per thread.
struct Sampler {
  uint64_t rng;
  uint64_t every;
  const Op* next = nullptr;

  AB_INLINE size_t gap() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return 1 + static_cast<size_t>(rng % (2ull * every - 1));
  }
};

template <class Calls, unsigned kMix, bool kSampled>
void replay_loop(Calls& calls, ThreadReplay& t, const ReplayShared& sh) {
  using S = Step<Calls, kMix>;
  S step{calls, t, sh, t.slots, t.plain_slots, t.live};
  const Op* const ops = t.ops;
  const Op* const end = ops + t.n;
  int64_t peak = t.peak_live;
  const uint64_t live_mask = t.live_mask;
  uint64_t live_countdown = live_mask + 1;
  Sampler sample{t.sample_rng | 1, t.sample_every};
  if constexpr (kSampled) sample.next = t.sample_every > 0 ? ops + sample.gap() - 1 : end;

  // One op, with the latency sample and the live-byte sample around it.
  auto one = [&](const Op* p) __attribute__((always_inline)) -> bool {
    bool ok;
    if (kSampled && __builtin_expect(p == sample.next, 0)) {
      const uint64_t c0 = platform::read_cycles();
      ok = step(*p);
      const uint64_t d = platform::read_cycles() - c0;
      t.lat->push_back(d > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(d));
      if (t.lat_kind != nullptr) t.lat_kind->push_back(static_cast<uint8_t>(p->kind));
      sample.next = p + sample.gap();
    } else {
      ok = step(*p);
    }
    if constexpr (S::kLive) {
      if (--live_countdown == 0) {
        sample_live(t, sh, step.live, &peak);
        live_countdown = live_mask + 1;
      }
    }
    return ok;
  };

  // Segments between phase boundaries: the inner loop never sees a kPhase.
  const Op* p = ops;
  size_t phase = 0;
  bool ok = true;
  for (;;) {
    const Op* seg_end = phase < t.phase_count ? ops + t.phases[phase] : end;
    for (; p != seg_end; ++p) {
      step.prefetch(p);
      if (__builtin_expect(!one(p), 0)) {
        ok = false;
        break;
      }
    }
    if (!ok || p == end) break;
    on_phase(calls, t);
    if constexpr (kSampled) {
      if (sample.next == p) sample.next = p + 1;  // Sample the op after the boundary.
    }
    ++p;
    ++phase;
  }
  if constexpr (S::kLive) sample_live(t, sh, step.live, &peak);
  t.live = step.live;
  t.peak_live = peak;
  t.sample_rng = sample.rng;
  if (!ok) {
    t.failed = true;
    t.fail_size = p->size;
    t.aborted = sh.abort->exchange(true);
  }
}

template <class Calls, unsigned kMix, bool kSampled>
void replay_entry(const CallContext& c, ThreadReplay& t, const ReplayShared& sh) {
  Calls calls(c);
  replay_loop<Calls, kMix, kSampled>(calls, t, sh);
}

// The mixes a replay loop is compiled for, one list (by_mix finds nothing for
// any other): those of the workloads' traces, each without kMixLive (the
// timed, warm-up and latency replays) and, where they run on several threads
// or toggle, with it (the counting replay; select_loops). The channel and
// write mixes are larson on one thread (a channel to itself), cache_thrash,
// and cache_scratch on one thread and on several.
template <unsigned... kMixes>
struct MixList {};
using CompiledMixes =
    MixList<0, kMixLive, kMixLarge, kMixLarge | kMixLive, kMixGeneral, kMixGeneral | kMixLive,
            kMixGeneral | kMixChannel, kMixGeneral | kMixChannel | kMixLive, kMixToggle,
            kMixToggle | kMixLive, kMixWrite, kMixWrite | kMixLive,
            kMixGeneral | kMixChannel | kMixWrite, kMixGeneral | kMixChannel | kMixWrite | kMixLive>;

template <class Calls, bool kSampled, unsigned... kMixes>
ReplayFn compiled(unsigned mix, MixList<kMixes...>) {
  ReplayFn fn = nullptr;
  (void)((mix == kMixes && (fn = replay_entry<Calls, kMixes, kSampled>) != nullptr) || ...);
  return fn;
}

template <class Calls, bool kSampled>
ReplayFn by_mix(unsigned mix) {
  if (ReplayFn fn = compiled<Calls, kSampled>(mix, CompiledMixes{})) return fn;
  // kMixLarge matters only to plain mixes; the others always check sizes.
  if ((mix & kMixLarge) != 0 && (mix & (kMixGeneral | kMixChannel | kMixToggle)) != 0) {
    return by_mix<Calls, kSampled>(mix & ~static_cast<unsigned>(kMixLarge));
  }
  return nullptr;
}

template <class Calls>
ReplayFn by_sampling(unsigned mix, bool sampled) {
  return sampled ? by_mix<Calls, true>(mix) : by_mix<Calls, false>(mix);
}

}  // namespace

ReplayFn select_replay(CallPath path, bool spin, unsigned mix, bool sampled) {
  switch (path) {
    case CallPath::kProcessMalloc:
      return by_sampling<MallocCalls>(mix, sampled);
    case CallPath::kCalibration:
      return spin ? by_sampling<CalibrationCalls<true>>(mix, sampled)
                  : by_sampling<CalibrationCalls<false>>(mix, sampled);
    case CallPath::kVirtual:
      break;
  }
  return by_sampling<AdapterCalls>(mix, sampled);
}

ReplayLoops select_loops(CallPath path, bool spin, unsigned mix) {
  const unsigned quiet = mix & ~kMixLive;
  return {select_replay(path, spin, quiet, false), select_replay(path, spin, quiet, true),
          select_replay(path, spin, mix, false)};
}

unsigned trace_mix(const ThreadTrace& trace) {
  bool toggles = false, general = false, channel = false, large = false, writes = false;
  for (const Op& op : trace.ops) {
    switch (op.kind) {
      case OpKind::kAlloc:
        if (!malloc_aligned_enough(op.size, align_of(op))) general = true;
        if (op.size == 0 || op.size > 4096) large = true;
        break;
      case OpKind::kFree:
      case OpKind::kPhase:
        break;
      case OpKind::kRealloc:
      case OpKind::kCalloc:
        general = true;
        break;
      case OpKind::kPush:
      case OpKind::kPop:
        channel = true;
        break;
      case OpKind::kToggle:
        toggles = true;
        break;
      case OpKind::kWrite:
        writes = true;
        break;
    }
  }
  const unsigned size_bit = large ? static_cast<unsigned>(kMixLarge) : 0u;
  const unsigned write_bit = writes ? static_cast<unsigned>(kMixWrite) : 0u;
  if (toggles) return kMixToggle | size_bit | write_bit;
  if (channel) return kMixGeneral | kMixChannel | size_bit | write_bit;
  return (general ? static_cast<unsigned>(kMixGeneral) : 0u) | size_bit | write_bit;
}

}  // namespace detail
}  // namespace allocbench
