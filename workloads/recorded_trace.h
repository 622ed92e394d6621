// A trace recorded by `allocbench record` (format: docs/trace_format.md,
// constants: recorded_trace_format.h), read and checked into per-thread event
// lists. Each event carries its global sequence number, which orders the
// events of all threads; the reader fills in what the file leaves implicit
// (a free's size, a realloc's old size) by following every object along
// that order, and computes the statistics `allocbench trace-info` prints.
//
// A file that is not a trace, has another version, is cut short or does not
// decode gives a TraceError naming the file, the byte offset and what is
// wrong; reading never crashes on bad input and never aborts.
#ifndef ALLOCBENCH_WORKLOADS_RECORDED_TRACE_H_
#define ALLOCBENCH_WORKLOADS_RECORDED_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/mapped_array.h"
#include "workloads/recorded_trace_format.h"

namespace allocbench {

using RecordedKind = tracefmt::Kind;
using RecordedKindClass = tracefmt::KindClass;

// The name of a kind as trace-info prints it ("malloc", "new[]_aligned", ...).
inline const char* recorded_kind_name(RecordedKind k) { return tracefmt::kind_info(k).name; }
inline RecordedKindClass recorded_kind_class(RecordedKind k) { return tracefmt::kind_info(k).cls; }

// RecordedEvent::flags.
constexpr uint8_t kEventUnknownObject = 1;  // Free or realloc of a pointer never seen allocated
                                            // (allocated before the recorder was loaded).
constexpr uint8_t kEventInherited = 2;      // Free or realloc of an object allocated before this
                                        // process forked (its allocation is in the parent's file).
constexpr uint8_t kEventUnmatched = 4;  // Free or realloc of an object whose allocation is not
                                        // in the file (records lost: see stats.unmatched).

// One recorded call, 40 bytes.
struct RecordedEvent {
  uint64_t seq;        // Global sequence number: the order of all the file's events.
  uint64_t object;     // Object id: the seq of the event that allocated the object (a realloc
                       // keeps it). A realloc of an unknown pointer starts an object with its own
                       // seq; a free of one has object 0.
  uint64_t size;       // Allocation: the bytes requested (calloc: count x size; realloc: the new
                       // size). Free: the object's size, or for an unknown object the size a sized
                       // delete passed (else 0).
  uint64_t old_size;   // Realloc: the object's size before (0 if unknown). Otherwise 0.
  uint32_t alignment;  // Aligned kinds: the alignment asked for (valloc, pvalloc: the page size).
                       // Free: the object's. 0: the allocator's default.
  RecordedKind kind;
  uint8_t flags;  // kEvent* bits.
  uint16_t reserved;
};
static_assert(sizeof(RecordedEvent) == 40, "RecordedEvent is 40 bytes");

// One thread's events, in its own order (seq increasing). Read-only after reading.
struct RecordedThread {
  uint32_t id = 0;  // The thread's dense id in the file.
  MappedArray<RecordedEvent> events;
};

// The file header.
struct RecordedTraceHeader {
  uint16_t version = 0;
  uint64_t session = 0;  // The `allocbench record` run that wrote it (all its files share it).
  uint32_t pid = 0, parent_pid = 0;
  tracefmt::Origin origin = tracefmt::kOriginRoot;
  uint32_t page_size = 0;
  uint64_t first_seq = 0;            // Every event's seq is larger; nonzero in a fork child.
  uint64_t start_ns = 0;             // CLOCK_REALTIME when recording started.
  std::vector<std::string> command;  // The recorded process's argv (/proc/self/cmdline).
};

// What the file says and what following its objects shows.
struct RecordedTraceStats {
  uint64_t events = 0;
  uint64_t by_kind[tracefmt::kKindCount] = {};
  uint64_t allocations = 0;  // Events of class kAlloc.
  uint64_t frees = 0;        // Events of class kFree.
  uint64_t reallocs = 0;     // Events of class kRealloc.
  // Requested sizes of allocations and reallocs: [0] counts size 0, [b] sizes
  // in [2^(b-1), 2^b).
  uint64_t size_histogram[65] = {};
  uint64_t peak_live_bytes = 0;     // Largest sum of the live objects' sizes along seq order.
  uint64_t peak_live_objects = 0;   // Largest number of live objects along seq order.
  uint64_t cross_thread_frees = 0;  // Frees by another thread than the allocating one.
  uint64_t unknown_frees = 0;       // Frees of pointers never seen allocated.
  uint64_t unknown_reallocs = 0;    // Reallocs of pointers never seen allocated.
  uint64_t inherited_frees = 0;     // Frees of objects inherited at fork.
  uint64_t inherited_reallocs = 0;  // Reallocs of objects inherited at fork.
  uint64_t unmatched = 0;           // Frees and reallocs of objects whose allocation is missing.
  uint64_t leaked_objects = 0;      // Live at the end of the file.
  uint64_t leaked_bytes = 0;
  uint64_t last_seq = 0;      // Largest seq (first_seq when there are no events).
  uint64_t missing_seqs = 0;  // Sequence numbers in (first_seq, last_seq] of no event.
  uint64_t chunks = 0;        // Record chunks.
  uint64_t markers = 0;       // End markers.
  tracefmt::EndReason end = static_cast<tracefmt::EndReason>(0);  // The last marker's; 0: none.
  int end_signal = 0;                                             // kEndSignal: the signal.
};

// Why a file could not be read; empty `message` means it was read.
struct TraceError {
  enum class Kind { kNone, kIo, kForeign, kVersion, kTruncated, kCorrupt };
  Kind kind = Kind::kNone;
  std::string message;  // "PATH: corrupt: chunk at byte 88: checksum mismatch"
  explicit operator bool() const { return kind != Kind::kNone; }
};

// Owner thread only; read-only (and then thread-safe) once read.
class RecordedTrace {
 public:
  // Reads and checks the file at `path`. On error the trace is left empty.
  TraceError read_file(const std::string& path);
  // The same from memory; `name` stands for the file in messages.
  TraceError read_bytes(const uint8_t* data, size_t n, const std::string& name);

  const RecordedTraceHeader& header() const { return header_; }
  const std::vector<RecordedThread>& threads() const { return threads_; }  // By id.
  const RecordedTraceStats& stats() const { return stats_; }
  // True when the file ends with an end marker (exit, _exit, exec or a
  // fatal signal): nothing was lost. False for a process killed by SIGKILL
  // or still running: events still in its buffers are missing.
  bool complete() const { return stats_.markers > 0; }

 private:
  RecordedTraceHeader header_;
  std::vector<RecordedThread> threads_;
  RecordedTraceStats stats_;
};

// "exit", "_exit", "exec", "signal", or "none".
const char* end_reason_name(tracefmt::EndReason r);
// "root", "fork", "exec".
const char* origin_name(tracefmt::Origin o);

}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_RECORDED_TRACE_H_
