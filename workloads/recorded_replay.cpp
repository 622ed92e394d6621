#include "workloads/recorded_replay.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <utility>

namespace allocbench {
namespace {

constexpr uint32_t kNone = UINT32_MAX;
constexpr uint64_t kMaxChannels = 65535;  // Op::channel is 16 bits.
constexpr uint8_t kNotOurs = kEventUnknownObject | kEventInherited | kEventUnmatched;

// A recorded object while it is live. Written by the converter only.
struct ObjectState {
  uint32_t owner = kNone;  // Index of the recorded thread holding it; kNone: not live.
  uint32_t slot = 0;       // Its slot in the owner's trace.
};

// The handovers from one thread to another.
struct PairState {
  uint64_t transfers = 0;  // Counted by the first pass.
  uint32_t base = 0;       // First channel of the pair.
  uint32_t channels = 0;   // Channels the pair's transfers are spread over, round robin.
  uint64_t next = 0;       // Transfers emitted so far (second pass).
};

// The events of all threads in sequence order: a k-way merge of the
// per-thread lists (each already in seq order).
class SeqMerge {
 public:
  explicit SeqMerge(const std::vector<RecordedThread>& threads)
      : threads_(threads), pos_(threads.size(), 0) {
    for (uint32_t t = 0; t < threads.size(); ++t) push(t);
  }
  // The next event and its thread's index; false at the end.
  bool next(uint32_t* thread, const RecordedEvent** e) {
    if (heap_.empty()) return false;
    const uint32_t t = heap_.top().second;
    heap_.pop();
    *thread = t;
    *e = &threads_[t].events[pos_[t]++];
    push(t);
    return true;
  }

 private:
  void push(uint32_t t) {
    if (pos_[t] < threads_[t].events.size()) heap_.push({threads_[t].events[pos_[t]].seq, t});
  }
  using Item = std::pair<uint64_t, uint32_t>;  // (seq, thread)
  const std::vector<RecordedThread>& threads_;
  std::vector<size_t> pos_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_;
};

enum class Action { kAlloc, kCalloc, kFree, kRealloc, kDropFree, kReallocAsAlloc };

size_t request_alignment(const RecordedEvent& e) {
  return std::max<size_t>(e.alignment, natural_alignment(e.size));
}

// Two passes over the merged events: the first follows each object's holder
// and counts ops and handovers; the second emits the ops.
class Converter {
 public:
  explicit Converter(const RecordedTrace& t) : t_(t), threads_(t.threads().size()) {}

  std::string run(uint64_t file_hash, RecordedReplay* out);

 private:
  Action classify(const RecordedEvent& e) const;
  ObjectState* object(uint64_t id);
  template <bool kEmit>
  void pass();
  template <bool kEmit>
  void hand_over(ObjectState& o, uint32_t to);
  std::string plan(RecordedReplay* out);
  void finish(uint64_t file_hash, RecordedReplay* out);

  const RecordedTrace& t_;
  const size_t threads_;
  uint64_t base_seq_ = 0;
  MappedArray<ObjectState> objects_;  // By object id - base_seq_ - 1.
  // Objects with ids at or below base_seq_ (a fork child's inherited objects,
  // once reallocated here): rare, so a node-based map.
  std::unordered_map<uint64_t, ObjectState> inherited_;
  MappedArray<PairState> pairs_;                         // By from * threads_ + to.
  MappedArray<uint64_t> op_count_;                       // By thread: ops the first pass counted.
  std::vector<std::unique_ptr<TraceBuilder>> builders_;  // By thread; null: no ops.
  uint64_t dropped_frees_ = 0, reallocs_as_allocs_ = 0, transfers_ = 0;
  uint64_t max_size_ = 0;
  size_t max_alignment_ = 8;
};

ObjectState* Converter::object(uint64_t id) {
  if (id > base_seq_ && id - base_seq_ <= objects_.size()) return &objects_[id - base_seq_ - 1];
  if (id == 0 || id > base_seq_) return nullptr;
  return &inherited_[id];  // A new entry is not live.
}

Action Converter::classify(const RecordedEvent& e) const {
  const bool ours = (e.flags & kNotOurs) == 0 && e.object != 0;
  const ObjectState* o = nullptr;
  if (ours) {
    auto it = inherited_.find(e.object);
    o = it != inherited_.end() ? &it->second : nullptr;
    if (e.object > base_seq_ && e.object - base_seq_ <= objects_.size()) {
      o = &objects_[e.object - base_seq_ - 1];
    }
  }
  const bool live = o != nullptr && o->owner != kNone;
  switch (recorded_kind_class(e.kind)) {
    case RecordedKindClass::kAlloc:
      return e.kind == RecordedKind::kCalloc ? Action::kCalloc : Action::kAlloc;
    case RecordedKindClass::kFree:
      return live ? Action::kFree : Action::kDropFree;
    default:
      return live ? Action::kRealloc : Action::kReallocAsAlloc;
  }
}

// Moves a live object to thread `to`: a push at the holder's end (its last
// event before this one), a pop in `to`.
template <bool kEmit>
void Converter::hand_over(ObjectState& o, uint32_t to) {
  PairState& p = pairs_[o.owner * threads_ + to];
  if (!kEmit) {
    ++p.transfers;
    ++op_count_[o.owner];
    ++op_count_[to];
    o.owner = to;
    return;
  }
  const uint16_t ch = static_cast<uint16_t>(p.base + p.next++ % p.channels);
  TraceBuilder& from = *builders_[o.owner];
  const uint64_t size = from.size_of(o.slot);
  const size_t alignment = from.alignment_of(o.slot);
  from.push(o.slot, ch);
  o.slot = builders_[to]->pop(size, alignment, ch);
  o.owner = to;
  ++transfers_;
}

template <bool kEmit>
void Converter::pass() {
  SeqMerge merge(t_.threads());
  uint32_t x;
  const RecordedEvent* e;
  while (merge.next(&x, &e)) {
    const Action a = classify(*e);
    if (a == Action::kDropFree) {
      if (kEmit) ++dropped_frees_;
      continue;
    }
    ObjectState* o = object(e->object);
    if (o == nullptr) continue;  // Outside the file's sequence range: the reader refuses it.
    if (a == Action::kFree || a == Action::kRealloc) {
      if (o->owner != x) hand_over<kEmit>(*o, x);
    }
    if (!kEmit) {
      ++op_count_[x];
      o->owner = a == Action::kFree ? kNone : x;
      continue;
    }
    TraceBuilder& b = *builders_[x];
    switch (a) {
      case Action::kFree:
        b.free(o->slot);
        o->owner = kNone;
        break;
      case Action::kRealloc:
        b.realloc(o->slot, e->size);
        break;
      default:
        if (a == Action::kReallocAsAlloc) ++reallocs_as_allocs_;
        o->slot = a == Action::kCalloc ? b.calloc(e->size, request_alignment(*e))
                                       : b.alloc(e->size, request_alignment(*e));
        o->owner = x;
        break;
    }
    if (a != Action::kFree) {
      max_size_ = std::max(max_size_, e->size);
      max_alignment_ = std::max(max_alignment_, request_alignment(*e));
    }
  }
}

// After the first pass: which threads replay, and the channels of each pair.
std::string Converter::plan(RecordedReplay* out) {
  builders_.resize(threads_);
  for (uint32_t t = 0; t < threads_; ++t) {
    if (op_count_[t] == 0) continue;
    if (out->recorded_ids.size() == kMaxReplayThreads) {
      return "the trace has more than " + std::to_string(kMaxReplayThreads) +
             " threads with allocations";
    }
    out->recorded_ids.push_back(t_.threads()[t].id);
    builders_[t] = std::make_unique<TraceBuilder>(op_count_[t]);
  }
  if (out->recorded_ids.empty()) return "the trace has no allocation to replay";
  uint64_t channels = 0;
  for (PairState& p : pairs_) {
    if (p.transfers == 0) continue;
    p.base = static_cast<uint32_t>(channels);
    p.channels = static_cast<uint32_t>((p.transfers + kChannelCapacity - 1) / kChannelCapacity);
    channels += p.channels;
    if (channels > kMaxChannels) {
      return "the trace hands more blocks between threads than " + std::to_string(kMaxChannels) +
             " channels of " + std::to_string(kChannelCapacity) + " hold";
    }
  }
  out->channels = static_cast<uint32_t>(channels);
  return "";
}

// The traces, with the leaks freed in an untimed tail.
void Converter::finish(uint64_t file_hash, RecordedReplay* out) {
  for (uint32_t t = 0; t < threads_; ++t) {
    if (builders_[t] == nullptr) continue;
    const uint64_t timed = builders_[t]->emitted();
    ThreadTrace tr = builders_[t]->finish();  // Frees what the program never freed.
    tr.recorded = true;
    tr.untimed_tail = tr.ops.size() - timed;
    const uint64_t h[2] = {tr.hash, file_hash};
    tr.hash = combine_trace_hashes(h, 2);
    out->threads.push_back(std::move(tr));
  }
  out->threads[0].dropped_frees = dropped_frees_;
  out->threads[0].unknown_reallocs = reallocs_as_allocs_;
  out->file_hash = file_hash;
  out->transfers = transfers_;
  WorkloadRequirements& r = out->req;
  r.max_size = max_size_;
  r.max_alignment = max_alignment_;
  r.cross_thread_frees = transfers_ > 0;
  r.exact_threads = static_cast<uint32_t>(out->threads.size());
}

std::string Converter::run(uint64_t file_hash, RecordedReplay* out) {
  const RecordedTraceStats& s = t_.stats();
  base_seq_ = t_.header().first_seq;
  const uint64_t span = s.last_seq - base_seq_;
  if (span > 2 * s.events + (uint64_t{1} << 20)) {
    return "the trace's sequence numbers are too sparse to replay (" + std::to_string(span) +
           " numbers for " + std::to_string(s.events) + " events)";
  }
  if (threads_ > kMaxReplayThreads) {
    return "the trace has " + std::to_string(threads_) + " threads; at most " +
           std::to_string(kMaxReplayThreads) + " can be replayed";
  }
  objects_.resize_zeroed(span);
  for (ObjectState& o : objects_) o.owner = kNone;
  pairs_.resize_zeroed(threads_ * threads_);
  op_count_.resize_zeroed(threads_);
  pass<false>();
  for (ObjectState& o : objects_) o.owner = kNone;
  inherited_.clear();
  std::string err = plan(out);
  if (!err.empty()) return err;
  pass<true>();
  finish(file_hash, out);
  return "";
}

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::string build_recorded_replay(const RecordedTrace& trace, uint64_t file_hash,
                                  RecordedReplay* out) {
  *out = RecordedReplay{};
  return Converter(trace).run(file_hash, out);
}

std::string load_recorded_replay(const std::string& path, RecordedReplay* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return path + ": cannot open the trace file";
  MappedArray<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    const size_t old = bytes.size();
    bytes.resize_zeroed(old + n);
    std::memcpy(bytes.data() + old, buf, n);
  }
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return path + ": cannot read the trace file";
  RecordedTrace trace;
  TraceError err = trace.read_bytes(bytes.data(), bytes.size(), path);
  if (err) return err.message;
  std::string conv = build_recorded_replay(trace, fnv1a(bytes.data(), bytes.size()), out);
  return conv.empty() ? "" : path + ": " + conv;
}

}  // namespace allocbench
