// Workloads: seeded, pure generators of operation traces.
//
// A workload turns (seed, thread index, op count, profile) into the complete
// list of operations one thread will replay. Generation happens before the
// clock starts and uses only OS-mapped memory (MappedArray); the timed loop in
// runner/ only replays. Generation uses integer arithmetic only, so the same
// inputs give the same trace (and trace hash) on every machine.
#ifndef ALLOCBENCH_WORKLOADS_WORKLOAD_H_
#define ALLOCBENCH_WORKLOADS_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/mapped_array.h"
#include "workloads/rng.h"

namespace allocbench {

enum class OpKind : uint8_t {
  kAlloc = 0,    // slots[slot] = allocate(size, 1 << align_log2)
  kFree = 1,     // deallocate(slots[slot]); `size` repeats the block's size
  kRealloc = 2,  // slots[slot] = reallocate(slots[slot], old size, size)
  kPhase = 3,    // Phase boundary: this thread holds nothing live here.
  kCalloc = 4,   // slots[slot] = allocate_zeroed(size, 1 << align_log2)
  kPush = 5,     // Hand slots[slot] to channel `channel` (waits while it is full).
  kPop = 6,      // slots[slot] = next block from channel `channel` (waits while empty).
  kToggle = 7,   // Shared slot `slot` (all threads): take and free its block if it holds
                 // one, otherwise allocate `size` bytes and publish the block there.
  kWrite = 8,    // Write the first 8 bytes of slots[slot]'s block `size` times (a load and a
                 // store each); the block has at least 8 bytes.
};

// One operation, 16 bytes.
struct Op {
  uint64_t size;  // Requested size (new size for kRealloc, number of writes for kWrite).
  uint32_t slot;  // Index in the thread's slot table.
  OpKind kind;
  uint8_t align_log2;  // log2 of the requested alignment.
  uint16_t channel;    // kPush / kPop: which producer-consumer channel.
};
static_assert(sizeof(Op) == 16, "Op is 16 bytes");

// What a workload needs from an allocator; compared with Capabilities.
struct WorkloadRequirements {
  size_t max_size = 0;              // Largest request.
  size_t max_alignment = 1;         // Largest alignment requested.
  size_t fixed_size = 0;            // Nonzero: every request has exactly this size.
  bool resets_at_phases = false;    // Phase boundaries come often enough that an allocator
                                    // freeing only by reset stays bounded.
  bool cross_thread_frees = false;  // Blocks are freed by other threads than their allocator's.
  bool even_threads = false;        // Runs only with an even thread count (thread pairs).
  uint32_t shared_slots = 0;        // kToggle ops address a table of this many slots shared by
                                    // all threads (any thread frees any block).
  bool record_phase_rss = false;    // Record RSS at every phase boundary (thread 0).
  uint32_t exact_threads = 0;       // Nonzero: runs with exactly this many threads (a recorded
                                    // trace: one replay thread per recorded thread).
};

// Blocks one producer-consumer channel holds (runner/replay.h's Channel).
// A push into a full channel waits; generators that cannot bound what is in
// flight spread a thread pair over enough channels (recorded traces).
constexpr uint64_t kChannelCapacity = 1024;

// One thread's trace. Owner: the generating thread, then read-only.
struct ThreadTrace {
  MappedArray<Op> ops;           // The operations, in order.
  uint32_t slot_count = 0;       // Slot table size needed for replay.
  uint64_t peak_live_bytes = 0;  // Largest sum of live requested sizes along the trace.
  uint64_t allocs = 0;           // kAlloc and kCalloc ops.
  uint64_t frees = 0;            // kFree ops.
  uint64_t reallocs = 0;         // kRealloc ops.
  uint64_t phases = 0;           // kPhase ops.
  uint64_t pushes = 0;           // kPush ops (blocks handed to another thread).
  uint64_t pops = 0;             // kPop ops (blocks received from another thread).
  uint64_t toggles = 0;          // kToggle ops (each an allocation or a free, decided at replay).
  uint64_t writes = 0;           // kWrite ops.
  uint64_t hash = 0;             // FNV-1a of the ops (kind, size, slot, alignment).
  // Recorded traces only (trace:PATH), what replaying them repaired:
  bool recorded = false;          // Converted from a recorded trace.
  uint64_t untimed_tail = 0;      // The last untimed_tail ops (kFree of the blocks the program
                                  // never freed) run after the clock stops, in every round.
  uint64_t dropped_frees = 0;     // Frees of objects the trace never allocated: dropped.
  uint64_t unknown_reallocs = 0;  // Reallocs of such objects: replayed as allocations.
};

// Builds one thread's trace within a fixed op budget. Keeps the live set so
// generators can free a random live block. Every block allocated is freed by
// the end: finish() frees what is still live. Owner thread only.
class TraceBuilder {
 public:
  explicit TraceBuilder(uint64_t op_budget);

  // True if one more allocation (and its eventual free) fits the budget.
  bool can_alloc() const { return emitted_ + live_.size() + 2 <= budget_; }
  // True while ops other than the final frees fit the budget.
  bool has_room() const { return emitted_ + live_.size() < budget_; }
  uint64_t emitted() const { return emitted_; }
  uint64_t budget() const { return budget_; }

  // Emits an allocation; returns its slot. Requires can_alloc().
  uint32_t alloc(uint64_t size, size_t alignment);
  // Emits a free of a live slot.
  void free(uint32_t slot);
  // Emits a realloc of a live slot to new_size. Requires has_room().
  void realloc(uint32_t slot, uint64_t new_size);
  // Emits a phase boundary; requires that nothing is live.
  void phase();
  // Emits a zeroed allocation (calloc); returns its slot. Requires can_alloc().
  uint32_t calloc(uint64_t size, size_t alignment);
  // Hands a live slot to another thread through `channel` (it stops being live here).
  void push(uint32_t slot, uint16_t channel);
  // Receives a block of `size` bytes from `channel` into a new live slot.
  uint32_t pop(uint64_t size, size_t alignment, uint16_t channel);
  // Emits a toggle of shared slot `shared_slot` with `size` (at least 8) bytes.
  void toggle(uint32_t shared_slot, uint64_t size);
  // Emits `count` writes to the first 8 bytes of a live slot's block (of at least 8 bytes).
  void write(uint32_t slot, uint64_t count);

  size_t live_count() const { return live_.size(); }
  // The i-th live slot (0 <= i < live_count()), in no particular order.
  uint32_t live_slot(size_t i) const { return live_[i]; }
  uint64_t size_of(uint32_t slot) const { return slot_size_[slot]; }
  size_t alignment_of(uint32_t slot) const { return size_t{1} << slot_align_[slot]; }

  // Frees every live block (oldest slot first) and returns the trace.
  ThreadTrace finish();

 private:
  void emit(OpKind kind, uint64_t size, uint32_t slot, uint8_t align_log2, uint16_t channel = 0);
  uint32_t make_live(uint64_t size, size_t alignment);  // Takes a slot, updates the live set.
  void drop_live(uint32_t slot);                        // Removes a slot from the live set.

  uint64_t budget_;
  uint64_t emitted_ = 0;
  uint64_t live_bytes_ = 0;
  ThreadTrace trace_;
  MappedArray<uint32_t> live_;        // Dense set of live slots.
  MappedArray<uint32_t> live_pos_;    // slot -> index in live_, or UINT32_MAX.
  MappedArray<uint64_t> slot_size_;   // slot -> current size.
  MappedArray<uint8_t> slot_align_;   // slot -> align_log2.
  MappedArray<uint32_t> free_slots_;  // Recycled slot numbers.
};

// Inputs of one trace.
struct TraceParams {
  std::string profile;  // One of the workload's profiles.
  uint64_t seed = 1;    // Run seed.
  uint32_t thread_index = 0;
  uint32_t threads = 1;  // Threads in the run (some workloads scale with it).
  uint64_t ops = 0;      // --ops: operations in this thread's trace (trace_ops() scales it).
};

// Thread-safe (stateless).
class Workload {
 public:
  virtual ~Workload() = default;
  virtual const char* name() const = 0;
  virtual const char* description() const = 0;
  // Profile names; the first is the default.
  virtual std::vector<std::string> profiles() const { return {"default"}; }
  virtual WorkloadRequirements requirements(const std::string& profile) const = 0;
  // False for fixed patterns (size_ramp, scatter_sizes): the trace does not
  // depend on the seed or the thread.
  virtual bool seeded() const { return true; }
  // The op budget of a trace for `--ops ops` (TraceParams::ops): `ops` for
  // every workload but those whose single op costs thousands of ordinary ones
  // (large_churn: ops / 2500), so that the default --ops keeps a cell short.
  virtual uint64_t trace_ops(uint64_t ops) const { return ops; }
  // Emits this thread's operations into `b` (the builder enforces the budget).
  virtual void generate(const TraceParams& p, Rng& rng, TraceBuilder& b) const = 0;
  // Why `profile` is not one of this workload's (empty: it is). The default
  // checks profiles(); a recorded trace's profile is a file path.
  virtual std::string profile_error(const std::string& profile) const;
  // This thread's trace. The default seeds an Rng from the inputs, runs
  // generate() within trace_ops(p.ops) and frees what is still live.
  virtual ThreadTrace make_trace(const TraceParams& p) const;
};

// The alignment a C program relies on from malloc for a block of `size`
// bytes: 16 (max_align_t) from 16 bytes up, 8 below (an object smaller than 16
// bytes cannot need more; tcmalloc and mimalloc return 8-aligned small blocks).
inline size_t natural_alignment(uint64_t size) { return size >= 16 ? 16 : 8; }

// The requirements of a workload whose requests go up to `max_size` bytes,
// each at its natural alignment; the caller adds the rest.
inline WorkloadRequirements natural_requirements(uint64_t max_size) {
  WorkloadRequirements r;
  r.max_size = max_size;
  r.max_alignment = natural_alignment(max_size);
  return r;
}

// Generates one thread's trace: seeds the generator from (seed, workload,
// profile, thread index), runs the workload and finishes the builder.
ThreadTrace generate_trace(const Workload& w, const TraceParams& p);

// Combines per-thread hashes into the run's trace hash.
uint64_t combine_trace_hashes(const uint64_t* hashes, size_t n);

// The explicit list of workloads (workloads/registry.cpp).
const std::vector<const Workload*>& workload_registry();
const Workload* find_workload(const std::string& name);
bool has_profile(const Workload& w, const std::string& profile);

}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_WORKLOAD_H_
