// The replay engine: the timed loop that turns a pre-generated trace into
// allocator calls. Internal to the runner (runner/cell.cpp drives it).
//
// The loop is a template over how the allocator is called (`Calls`) and over
// the op mix the trace contains (`kMix`), so a trace of plain allocations and
// frees compiles to a loop with only those two branches and the phase check:
// no toggle, channel, write, realloc or alignment branches. Each allocator request is
// one call that is not inlined (docs/csv_schema.md, "Call cost"):
//   - MallocCalls: malloc/free/calloc/realloc/posix_memalign through the PLT,
//     exactly as a C program calls them;
//   - AdapterCalls: one virtual call into an in-process Adapter;
//   - CalibrationCalls: the `null` calibration, one direct noipa call that
//     returns a distinct pre-faulted block planned from the trace.
// Everything else per op (the trace read, the slot read and write, touch(),
// the prefetch, kWrite's writes, live-byte counting where needed) is the same for every
// allocator, so the calibration's time is the harness's own cost.
#ifndef ALLOCBENCH_RUNNER_REPLAY_H_
#define ALLOCBENCH_RUNNER_REPLAY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "adapters/adapter.h"
#include "workloads/mapped_array.h"
#include "workloads/workload.h"

namespace allocbench {
namespace detail {

// One entry of a thread's slot table, 16 bytes.
struct SlotEntry {
  void* ptr;     // Live block in this slot. Owner thread only. Calibration: the slot's
                 // planned block, written before the clock and handed out again.
  uint64_t aux;  // General mix: the block's size (realloc's old size).
};

// A single-producer single-consumer channel between a producer thread and its
// consumer (cross_thread workload). Lives in OS-mapped memory.
struct Channel {
  static constexpr uint64_t kCapacity = kChannelCapacity;  // workloads/workload.h
  alignas(64) std::atomic<uint64_t> head;  // Next entry to pop; written by the consumer.
  alignas(64) std::atomic<uint64_t> tail;  // Next entry to fill; written by the producer.
  alignas(64) SlotEntry ring[kCapacity];   // Entries [head, tail) are filled.
};

// One thread's published live-byte count, on its own cache line.
struct LiveCounter {
  alignas(64) std::atomic<int64_t> bytes{0};  // Written by its thread; read by all.
};

// Op mixes the replay loop is specialised for (bit flags).
enum : unsigned {
  kMixGeneral = 1,  // kRealloc, kCalloc, over-aligned kAlloc (posix_memalign), kPhase.
  kMixChannel = 2,  // kPush / kPop between thread pairs.
  kMixToggle = 4,   // kToggle only (shared slot table).
  kMixLive = 8,     // Count live bytes at replay and sample their sum over threads.
  kMixLarge = 16,   // Some request exceeds 4 KiB (touch() loops over pages); without it,
                    // touch() is two stores with no branch (plain mixes only).
  kMixWrite = 32,   // kWrite: repeated writes to a live block (plain or channel mixes).
};
// Without flags: kAlloc (natural alignment), kFree and kPhase only.

// What the replaying threads share. Read-only after setup.
struct ReplayShared {
  Channel* channels = nullptr;               // Indexed by Op::channel.
  std::atomic<bool>* abort = nullptr;        // Set when any thread fails: waiting threads give up.
  std::atomic<void*>* shared_slots = nullptr;  // kToggle table.
  LiveCounter* live = nullptr;                 // One per worker thread, then one for main.
  uint32_t live_count = 0;                     // Entries in `live`.
};

// One thread's replay state. Owner thread only.
struct ThreadReplay {
  const Op* ops = nullptr;  // Followed by kReplayPadding readable ops past n.
  size_t n = 0;
  const uint64_t* phases = nullptr;  // Indices of the kPhase ops, ascending.
  size_t phase_count = 0;
  SlotEntry* slots = nullptr;                  // General, channel mixes.
  void** plain_slots = nullptr;                // Plain mixes: the live block of each slot
                                               // (calibration: its planned block).
  uint32_t index = 0;                          // Thread index (its live counter).
  bool reset_at_phase = false;                 // Call reset() at kPhase (reset-only adapters).
  MappedArray<uint64_t>* phase_rss = nullptr;  // RSS at each kPhase, when recorded.
  uint64_t live_mask = 63;                     // Publish and sum live bytes every mask+1 ops.
  int64_t live = 0;                            // This thread's allocated minus freed bytes.
  int64_t peak_live = 0;                       // Largest sum over threads seen.
  uint64_t toggle_allocs = 0;                  // kToggle ops that allocated.
  uint64_t toggle_frees = 0;                   // kToggle ops that freed (including lost races).
  // Latency sampling (sampled replays only): cycle counts of single ops.
  MappedArray<uint32_t>* lat = nullptr;
  MappedArray<uint8_t>* lat_kind = nullptr;  // The OpKind of each sample in `lat`, or nullptr.
  uint32_t sample_every = 64;  // Mean gap between sampled ops.
  uint64_t sample_rng = 1;     // xorshift state for the random gaps.
  // Why the replay stopped early.
  bool failed = false;
  bool aborted = false;    // Stopped because another thread failed first.
  uint64_t fail_size = 0;  // The request that returned nullptr.
};

// A calibration thread's plan: where each of its allocations goes.
struct CalibrationPlan {
  void* const* stream = nullptr;         // Channel mixes: the block of each kAlloc in order
                                         // (blocks handed over come from a ring; calibration.h).
  void* const* toggle_region = nullptr;  // kToggle traces: this thread's block per shared slot.
  uint64_t spin_ticks = 0;               // Test adapters: spin_cycles() ticks per allocation.
};

// How a replay reaches the allocator; see the header comment.
struct CallContext {
  Adapter* adapter = nullptr;
  const CalibrationPlan* plan = nullptr;
};

// Ops that must be readable past a trace's end (the loop prefetches ahead).
constexpr size_t kReplayPadding = 8;

using ReplayFn = void (*)(const CallContext&, ThreadReplay&, const ReplayShared&);

// The replay loop for this call path and op mix; `sampled` selects the
// variant that times about one op in `sample_every` with the cycle counter.
ReplayFn select_replay(CallPath path, bool spin, unsigned mix, bool sampled);

// The loops one cell needs. Only `counting` has kMixLive: publishing and
// summing the threads' live bytes every 64 ops moves a cache line between
// the threads, which costs a multi-threaded replay about as much as the
// rest of the harness, so the timed, warm-up and latency replays never do it
// and one untimed replay counts the peak instead (runner/cell.cpp).
struct ReplayLoops {
  ReplayFn timed = nullptr;     // Timed, warm-up and tail replays: mix without kMixLive.
  ReplayFn sampled = nullptr;   // The latency replay: the same, timing sampled ops.
  ReplayFn counting = nullptr;  // The live-byte replay: the mix as given (with kMixLive).
};
ReplayLoops select_loops(CallPath path, bool spin, unsigned mix);

// The mix a trace needs (kMixLive is added by the caller). A trace with
// toggles gets kMixToggle; the caller refuses traces that combine toggles
// with other ops (no replay loop handles both).
unsigned trace_mix(const ThreadTrace& trace);

// A fixed amount of time: busy-waits until the cycle counter has advanced by
// `ticks` (its reads serialise, so out-of-order execution cannot hide it).
// The test spin adapters run it once per allocation.
void spin_cycles(uint64_t ticks);

// True when malloc's own alignment covers a request (no posix_memalign
// needed): 8 bytes always, 16 bytes from 16 bytes up (natural_alignment()).
inline bool malloc_aligned_enough(uint64_t size, size_t alignment) {
  return alignment <= 8 || (alignment <= alignof(std::max_align_t) && size >= alignment);
}

// kWrite: `count` writes to the block's first 8 bytes, each a load of the
// word and a store of the count. The store does not wait for the load, so
// while the line stays in this core's cache a write costs the core's load and
// store rate (1-2 cycles), wherever the block is; when another core writes the
// same line, the line moves between the caches. (A dependent read-modify-write
// chain was tried first: on the development VM it ran 1.5-1.7x slower after
// malloc's calls than after the calibration's, on one thread, which the net
// figures would have shown as allocator cost.)
inline void write_repeatedly(void* p, uint64_t count) {
  volatile uint64_t* w = static_cast<volatile uint64_t*>(p);
  for (uint64_t k = 0; k < count; ++k) {
    (void)*w;
    *w = k;
  }
}

// Writes the first byte, one byte in every 4 KiB page and the last byte, so
// the block's pages are really committed (as a program using the memory
// would commit them; peak RSS then counts them) and the compiler cannot drop
// the allocation. Cost: two stores for a block of up to 4 KiB, one store per
// page above.
// Blocks of 1 B to 4 KiB only: two stores, no branch.
inline void touch_small(void* p, uint64_t size) {
  volatile char* c = static_cast<volatile char*>(p);
  c[0] = 1;
  c[size - 1] = 1;
}

inline void touch(void* p, uint64_t size) {
  volatile char* c = static_cast<volatile char*>(p);
  if (__builtin_expect(size - 1 < 4096, 1)) {
    c[0] = 1;
    c[size - 1] = 1;
    return;
  }
  if (size == 0) return;
  for (uint64_t off = 0; off < size; off += 4096) c[off] = 1;
  c[size - 1] = 1;
}

}  // namespace detail
}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_REPLAY_H_
