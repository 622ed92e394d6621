#include "workloads/recorded_trace.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <new>
#include <queue>
#include <unordered_map>
#include <utility>

namespace allocbench {
namespace {

namespace tf = tracefmt;
using ErrKind = TraceError::Kind;

// Raised inside the reader, turned into a TraceError by read_bytes.
struct ParseFailure {
  ErrKind kind;
  std::string what;
};

[[noreturn]] void fail(ErrKind kind, const std::string& what) { throw ParseFailure{kind, what}; }
[[noreturn]] void corrupt(const std::string& what) { fail(ErrKind::kCorrupt, what); }

std::string num(uint64_t v) { return std::to_string(v); }

// Fields of the header after the magic and the version.
void parse_header(const uint8_t* d, size_t n, RecordedTraceHeader* h, size_t* header_bytes) {
  if (n == 0) fail(ErrKind::kTruncated, "empty file");
  const size_t magic = n < sizeof tf::kMagic ? n : sizeof tf::kMagic;
  if (std::memcmp(d, tf::kMagic, magic) != 0) {
    fail(ErrKind::kForeign, "not an allocbench trace (it does not start with \"ABTRACE\\0\")");
  }
  if (n < tf::kHeaderFixedBytes) {  // Also a file cut inside the magic.
    fail(ErrKind::kTruncated,
         "header cut short: " + num(n) + " of " + num(tf::kHeaderFixedBytes) + " bytes");
  }
  h->version = tf::get_u16(d + tf::kOffVersion);
  if (h->version != tf::kVersion) {
    fail(ErrKind::kVersion, "trace format version " + num(h->version) +
                                "; this allocbench reads version " + num(tf::kVersion));
  }
  uint32_t flags = tf::get_u32(d + tf::kOffFlags);
  if (flags != 0) corrupt("header: unknown flags " + num(flags));
  uint32_t command_bytes = tf::get_u32(d + tf::kOffCommandBytes);
  if (command_bytes > tf::kMaxCommandBytes) {
    corrupt("header: command of " + num(command_bytes) + " bytes (at most " +
            num(tf::kMaxCommandBytes) + ")");
  }
  *header_bytes = tf::get_u16(d + tf::kOffHeaderBytes);
  if (*header_bytes != tf::kHeaderFixedBytes + command_bytes) {
    corrupt("header: size " + num(*header_bytes) + " is not " + num(tf::kHeaderFixedBytes) +
            " + the command's " + num(command_bytes) + " bytes");
  }
  uint8_t origin = d[tf::kOffOrigin];
  if (origin > tf::kOriginExec) corrupt("header: unknown origin " + num(origin));
  for (size_t i :
       {tf::kOffOrigin + 1, tf::kOffOrigin + 2, tf::kOffOrigin + 3, tf::kOffCommandBytes + 4,
        tf::kOffCommandBytes + 5, tf::kOffCommandBytes + 6, tf::kOffCommandBytes + 7}) {
    if (d[i] != 0) corrupt("header: reserved byte " + num(i) + " is not zero");
  }
  if (n < *header_bytes) {
    fail(ErrKind::kTruncated,
         "header cut short in the command: " + num(n) + " of " + num(*header_bytes) + " bytes");
  }
  h->session = tf::get_u64(d + tf::kOffSession);
  h->pid = tf::get_u32(d + tf::kOffPid);
  h->parent_pid = tf::get_u32(d + tf::kOffParentPid);
  h->origin = static_cast<tf::Origin>(origin);
  h->page_size = tf::get_u32(d + tf::kOffPageSize);
  h->first_seq = tf::get_u64(d + tf::kOffFirstSeq);
  h->start_ns = tf::get_u64(d + tf::kOffStartNs);
  h->command.clear();
  std::string arg;
  for (size_t i = 0; i < command_bytes; ++i) {
    char c = static_cast<char>(d[tf::kHeaderFixedBytes + i]);
    if (c == '\0') {
      h->command.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) h->command.push_back(arg);
}

// Decodes the chunks after the header into per-thread event lists.
class ChunkDecoder {
 public:
  ChunkDecoder(uint64_t first_seq, std::vector<RecordedThread>* threads, RecordedTraceStats* stats)
      : first_seq_(first_seq), threads_(threads), stats_(stats) {}

  void decode(const uint8_t* d, size_t n, size_t off) {
    while (off < n) {
      if (n - off < tf::kChunkHeaderBytes) {
        fail(ErrKind::kTruncated, "chunk header at byte " + num(off) +
                                      " cut short: " + num(n - off) + " of " +
                                      num(tf::kChunkHeaderBytes) + " bytes");
      }
      const uint8_t* c = d + off;
      uint8_t type = c[tf::kOffChunkType];
      if (c[1] != 0 || c[2] != 0 || c[3] != 0) {
        corrupt("chunk at byte " + num(off) + ": reserved bytes are not zero");
      }
      uint32_t thread = tf::get_u32(c + tf::kOffChunkThread);
      uint32_t payload = tf::get_u32(c + tf::kOffChunkPayload);
      uint32_t records = tf::get_u32(c + tf::kOffChunkRecords);
      if (type != tf::kChunkRecords && type != tf::kChunkMarker) {
        corrupt("chunk at byte " + num(off) + ": unknown type " + num(type));
      }
      if (payload > tf::kMaxChunkPayload) {
        corrupt("chunk at byte " + num(off) + ": payload of " + num(payload) + " bytes (at most " +
                num(tf::kMaxChunkPayload) + ")");
      }
      if (n - off - tf::kChunkHeaderBytes < payload) {
        fail(ErrKind::kTruncated, "chunk at byte " + num(off) + " cut short: its payload has " +
                                      num(payload) + " bytes, the file " +
                                      num(n - off - tf::kChunkHeaderBytes) + " more");
      }
      const uint8_t* p = c + tf::kChunkHeaderBytes;
      if (tf::checksum(p, payload) != tf::get_u64(c + tf::kOffChunkChecksum)) {
        corrupt("chunk at byte " + num(off) + ": checksum mismatch");
      }
      if (type == tf::kChunkMarker) {
        marker(p, payload, records, off);
      } else {
        if (thread >= tf::kMaxThreads) {
          corrupt("chunk at byte " + num(off) + ": thread id " + num(thread) + " (at most " +
                  num(tf::kMaxThreads - 1) + ")");
        }
        if (records == 0) corrupt("chunk at byte " + num(off) + ": no records");
        decode_records(p, payload, records, thread, off);
        records_in_file_ += records;
        ++stats_->chunks;
      }
      off += tf::kChunkHeaderBytes + payload;
    }
  }

 private:
  void marker(const uint8_t* p, uint32_t payload, uint32_t records, size_t off) {
    if (payload != tf::kMarkerPayloadBytes || records != 0) {
      corrupt("marker at byte " + num(off) + ": " + num(payload) + " bytes and " + num(records) +
              " records (" + num(tf::kMarkerPayloadBytes) + " and 0 expected)");
    }
    uint8_t reason = p[tf::kOffMarkerReason];
    if (reason < tf::kEndExit || reason > tf::kEndSignal) {
      corrupt("marker at byte " + num(off) + ": unknown reason " + num(reason));
    }
    uint64_t before = tf::get_u64(p + tf::kOffMarkerRecords);
    if (before != records_in_file_) {
      corrupt("marker at byte " + num(off) + " counts " + num(before) +
              " records before it, the file has " + num(records_in_file_));
    }
    stats_->end = static_cast<tf::EndReason>(reason);
    stats_->end_signal = reason == tf::kEndSignal ? p[tf::kOffMarkerSignal] : 0;
    ++stats_->markers;
  }

  RecordedThread& thread_of(uint32_t id) {
    if (id >= index_.size()) index_.resize(id + 1, -1);
    if (index_[id] < 0) {
      index_[id] = static_cast<int32_t>(threads_->size());
      threads_->emplace_back();
      threads_->back().id = id;
      prev_seq_.push_back(0);
    }
    return (*threads_)[static_cast<size_t>(index_[id])];
  }

  uint64_t varint(const uint8_t** p, const uint8_t* end, size_t at, const char* what) {
    uint64_t v;
    if (!tf::get_varint(p, end, &v)) {
      corrupt("record at byte " + num(at) + ": " + what + " runs past its chunk or overflows");
    }
    return v;
  }

  void decode_records(const uint8_t* payload, uint32_t n, uint32_t records, uint32_t thread,
                      size_t chunk_off) {
    RecordedThread& t = thread_of(thread);
    uint64_t& prev = prev_seq_[static_cast<size_t>(index_[thread])];
    const uint8_t* p = payload;
    const uint8_t* end = payload + n;
    const size_t base = chunk_off + tf::kChunkHeaderBytes;
    for (uint32_t r = 0; r < records; ++r) {
      const size_t at = base + static_cast<size_t>(p - payload);
      if (p == end) {
        corrupt("chunk at byte " + num(chunk_off) + " declares " + num(records) +
                " records and holds " + num(r));
      }
      const uint8_t first = *p++;
      const uint8_t k = first & tf::kKindMask;
      if (k == 0 || k >= tf::kKindCount || (first & tf::kFlagReserved) != 0) {
        corrupt("record at byte " + num(at) + ": unknown kind byte " + num(first));
      }
      RecordedEvent ev{};
      ev.kind = static_cast<RecordedKind>(k);
      const tf::KindInfo& info = tf::kind_info(ev.kind);
      const bool unknown = (first & tf::kFlagUnknown) != 0;
      if (unknown && info.cls == tf::KindClass::kAlloc) {
        corrupt("record at byte " + num(at) + ": an allocation marked as of an unknown pointer");
      }
      const uint64_t delta = varint(&p, end, at, "the sequence delta");
      if (delta == 0 || delta > UINT64_MAX - prev) {
        corrupt("record at byte " + num(at) + ": sequence delta " + num(delta) + " (thread " +
                num(thread) + "'s sequence must increase)");
      }
      ev.seq = prev + delta;
      if (ev.seq <= first_seq_) {
        corrupt("record at byte " + num(at) + ": sequence number " + num(ev.seq) +
                " is not above the header's first " + num(first_seq_));
      }
      if (info.cls == tf::KindClass::kAlloc) {
        ev.object = ev.seq;
      } else if (unknown) {
        ev.flags = kEventUnknownObject;
        ev.object = info.cls == tf::KindClass::kRealloc ? ev.seq : 0;
      } else {
        const uint64_t od = varint(&p, end, at, "the object delta");
        if (od == 0 || od >= ev.seq) {
          corrupt("record at byte " + num(at) + ": object delta " + num(od) + " at sequence " +
                  num(ev.seq));
        }
        ev.object = ev.seq - od;
      }
      if (info.cls != tf::KindClass::kFree || info.sized) ev.size = varint(&p, end, at, "the size");
      if (info.aligned) {
        if (p == end) corrupt("record at byte " + num(at) + ": alignment runs past its chunk");
        const uint8_t log2 = *p++;
        if (log2 > 31) corrupt("record at byte " + num(at) + ": alignment 2^" + num(log2));
        ev.alignment = 1u << log2;
      }
      t.events.push_back(ev);
      prev = ev.seq;
    }
    if (p != end) {
      corrupt("chunk at byte " + num(chunk_off) + ": " + num(static_cast<size_t>(end - p)) +
              " bytes after its " + num(records) + " records");
    }
  }

  uint64_t first_seq_;
  std::vector<RecordedThread>* threads_;
  RecordedTraceStats* stats_;
  std::vector<int32_t> index_;      // Thread id -> index in threads_, or -1.
  std::vector<uint64_t> prev_seq_;  // By index in threads_: the last seq decoded.
  uint64_t records_in_file_ = 0;
};

// An object as the reader follows it, 16 bytes; also marks its seq as seen.
struct ObjState {
  uint64_t size;       // Current size.
  uint32_t thread;     // Index of the allocating thread (for cross-thread frees).
  uint8_t align_code;  // 0: the default alignment; else log2(alignment) + 1.
  uint8_t state;       // kNone, kLive, kFreed.
  uint8_t seen;        // An event has this seq.
};
static_assert(sizeof(ObjState) == 16, "ObjState is 16 bytes");
constexpr uint8_t kNone = 0, kLive = 1, kFreed = 2;

// Walks all events in seq order, following every object: fills the sizes
// the file leaves implicit, checks each object's life, computes the stats.
class ObjectWalk {
 public:
  ObjectWalk(uint64_t first_seq, RecordedTraceStats* stats) : first_(first_seq), stats_(stats) {}

  void run(std::vector<RecordedThread>* threads) {
    uint64_t events = 0, last = first_;
    for (const RecordedThread& t : *threads) {
      events += t.events.size();
      if (!t.events.empty()) last = std::max(last, t.events[t.events.size() - 1].seq);
    }
    const uint64_t span = last - first_;
    // Gaps are events lost with a killed process: a few buffers' worth, not more.
    if (span > 2 * events + (1u << 24)) {
      corrupt("sequence numbers reach " + num(last) + " with only " + num(events) + " events");
    }
    table_.resize_zeroed(span);
    using Head = std::pair<uint64_t, size_t>;  // (seq, index of the thread)
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    std::vector<size_t> pos(threads->size(), 0);
    for (size_t i = 0; i < threads->size(); ++i) {
      if (!(*threads)[i].events.empty()) heads.push({(*threads)[i].events[0].seq, i});
    }
    while (!heads.empty()) {
      const size_t i = heads.top().second;
      heads.pop();
      RecordedThread& t = (*threads)[i];
      step(&t.events[pos[i]], t.id, static_cast<uint32_t>(i));
      if (++pos[i] < t.events.size()) heads.push({t.events[pos[i]].seq, i});
    }
    stats_->events = events;
    stats_->last_seq = last;
    stats_->missing_seqs = span - events;
    stats_->leaked_objects = live_objects_;
    stats_->leaked_bytes = live_bytes_;
  }

 private:
  ObjState& at_seq(uint64_t seq) { return table_[seq - first_ - 1]; }

  // The object `id` refers to, or nullptr for one inherited at fork that
  // this file did not see before (then recorded as inherited).
  ObjState* object(uint64_t id, RecordedEvent* ev, bool* first_touch) {
    *first_touch = false;
    if (id > first_) return &at_seq(id);
    auto it = inherited_.find(id);
    if (it != inherited_.end()) return &it->second;
    *first_touch = true;
    ev->flags |= kEventInherited;
    return &inherited_[id];
  }

  static uint8_t align_code(uint32_t alignment) {
    return alignment == 0 ? 0 : static_cast<uint8_t>(__builtin_ctz(alignment) + 1);
  }
  static uint32_t alignment_of(const ObjState& o) {
    return o.align_code == 0 ? 0 : 1u << (o.align_code - 1);
  }

  void create(ObjState* o, const RecordedEvent& ev, uint32_t thread) {
    o->size = ev.size;
    o->align_code = align_code(ev.alignment);
    o->thread = thread;
    o->state = kLive;
    ++live_objects_;
    live_bytes_ += ev.size;
  }

  static unsigned bucket(uint64_t size) {
    return size == 0 ? 0 : 64 - static_cast<unsigned>(__builtin_clzll(size));
  }

  void step(RecordedEvent* ev, uint32_t thread_id, uint32_t thread) {
    ObjState& slot = at_seq(ev->seq);
    if (slot.seen) corrupt("sequence number " + num(ev->seq) + " appears twice");
    slot.seen = 1;
    ++stats_->by_kind[static_cast<uint8_t>(ev->kind)];
    switch (recorded_kind_class(ev->kind)) {
      case RecordedKindClass::kAlloc:
        ++stats_->allocations;
        ++stats_->size_histogram[bucket(ev->size)];
        create(&slot, *ev, thread);
        break;
      case RecordedKindClass::kFree:
        ++stats_->frees;
        free_event(ev, thread_id, thread);
        break;
      case RecordedKindClass::kRealloc:
        ++stats_->reallocs;
        ++stats_->size_histogram[bucket(ev->size)];
        realloc_event(ev, &slot, thread_id, thread);
        break;
      case RecordedKindClass::kInvalid:
        break;  // The decoder refused these.
    }
    if (live_bytes_ > stats_->peak_live_bytes) stats_->peak_live_bytes = live_bytes_;
    if (live_objects_ > stats_->peak_live_objects) stats_->peak_live_objects = live_objects_;
  }

  void free_event(RecordedEvent* ev, uint32_t thread_id, uint32_t thread) {
    if (ev->flags & kEventUnknownObject) {
      ++stats_->unknown_frees;
      return;
    }
    bool first_touch;
    ObjState* o = object(ev->object, ev, &first_touch);
    if (first_touch) {  // Allocated by the parent before the fork.
      ++stats_->inherited_frees;
      o->state = kFreed;
      return;
    }
    if (o->state == kFreed) dead_object(*ev, thread_id);
    if (o->state == kNone) {  // Its allocation was lost.
      ev->flags |= kEventUnmatched;
      ++stats_->unmatched;
      o->state = kFreed;
      return;
    }
    ev->size = o->size;
    ev->alignment = alignment_of(*o);
    if (o->thread != thread) ++stats_->cross_thread_frees;
    o->state = kFreed;
    --live_objects_;
    live_bytes_ -= o->size;
  }

  void realloc_event(RecordedEvent* ev, ObjState* slot, uint32_t thread_id, uint32_t thread) {
    if (ev->flags & kEventUnknownObject) {  // A new object, at this seq.
      ++stats_->unknown_reallocs;
      create(slot, *ev, thread);
      return;
    }
    bool first_touch;
    ObjState* o = object(ev->object, ev, &first_touch);
    if (o->state == kFreed) dead_object(*ev, thread_id);
    if (o->state == kNone) {
      if (first_touch) {
        ++stats_->inherited_reallocs;
      } else {
        ev->flags |= kEventUnmatched;
        ++stats_->unmatched;
      }
      create(o, *ev, thread);
      return;
    }
    ev->old_size = o->size;
    ev->alignment = alignment_of(*o);
    live_bytes_ += ev->size;
    live_bytes_ -= o->size;
    o->size = ev->size;
  }

  [[noreturn]] void dead_object(const RecordedEvent& ev, uint32_t thread_id) {
    corrupt(std::string(recorded_kind_name(ev.kind)) + " at sequence " + num(ev.seq) + " (thread " +
            num(thread_id) + ") of object " + num(ev.object) + ", which was already freed");
  }

  uint64_t first_;
  RecordedTraceStats* stats_;
  MappedArray<ObjState> table_;  // By seq - first_ - 1: the objects created in this file.
  std::unordered_map<uint64_t, ObjState> inherited_;  // Objects with ids <= first_.
  uint64_t live_objects_ = 0;
  uint64_t live_bytes_ = 0;
};

std::string error_prefix(ErrKind k) {
  switch (k) {
    case ErrKind::kTruncated:
      return "truncated: ";
    case ErrKind::kCorrupt:
      return "corrupt: ";
    default:
      return "";
  }
}

}  // namespace

TraceError RecordedTrace::read_bytes(const uint8_t* data, size_t n, const std::string& name) {
  header_ = RecordedTraceHeader();
  threads_.clear();
  stats_ = RecordedTraceStats();
  TraceError err;
  try {
    size_t header_bytes = 0;
    parse_header(data, n, &header_, &header_bytes);
    ChunkDecoder(header_.first_seq, &threads_, &stats_).decode(data, n, header_bytes);
    std::sort(threads_.begin(), threads_.end(),
              [](const RecordedThread& a, const RecordedThread& b) { return a.id < b.id; });
    ObjectWalk(header_.first_seq, &stats_).run(&threads_);
    return err;
  } catch (const ParseFailure& f) {
    err.kind = f.kind;
    err.message = name + ": " + error_prefix(f.kind) + f.what;
  } catch (const std::bad_alloc&) {
    err.kind = ErrKind::kIo;
    err.message = name + ": out of memory while reading the trace";
  }
  header_ = RecordedTraceHeader();
  threads_.clear();
  stats_ = RecordedTraceStats();
  return err;
}

TraceError RecordedTrace::read_file(const std::string& path) {
  TraceError err;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    err.kind = ErrKind::kIo;
    err.message = path + ": cannot open: " + std::strerror(errno);
    return err;
  }
  MappedArray<uint8_t> bytes;
  constexpr size_t kBlock = 1 << 20;
  size_t n = 0;
  try {
    for (;;) {
      bytes.resize_zeroed(n + kBlock);
      size_t got = std::fread(bytes.data() + n, 1, kBlock, f);
      n += got;
      if (got < kBlock) break;
    }
  } catch (const std::bad_alloc&) {
    std::fclose(f);
    err.kind = ErrKind::kIo;
    err.message = path + ": out of memory while reading the trace";
    return err;
  }
  bool failed = std::ferror(f) != 0;
  int saved = errno;
  std::fclose(f);
  if (failed) {
    err.kind = ErrKind::kIo;
    err.message = path + ": cannot read: " + std::strerror(saved);
    return err;
  }
  return read_bytes(bytes.data(), n, path);
}

const char* end_reason_name(tracefmt::EndReason r) {
  static const char* const kNames[] = {"none", "exit", "_exit", "exec", "signal"};
  return r <= tf::kEndSignal ? kNames[r] : "none";
}

const char* origin_name(tracefmt::Origin o) {
  static const char* const kNames[] = {"root", "fork", "exec"};
  return o <= tf::kOriginExec ? kNames[o] : "unknown";
}

}  // namespace allocbench
