// The `trace:PATH` workload: replays a trace recorded by `allocbench record`
// (workloads/recorded_replay.h says how). The profile is the file's path.
// Each file is read and converted once per process and kept: the parent
// reads it to plan (thread count, sizes, alignments), each cell's child to
// replay it.
#include <map>
#include <memory>
#include <mutex>

#include "workloads/recorded_replay.h"

namespace allocbench {
namespace {

class RecordedTraceWorkload final : public Workload {
 public:
  const char* name() const override { return "trace"; }
  const char* description() const override {
    return "replays a trace recorded by `allocbench record` (trace:PATH), one thread per "
           "recorded thread";
  }
  std::vector<std::string> profiles() const override { return {}; }
  bool seeded() const override { return false; }
  WorkloadRequirements requirements(const std::string& profile) const override {
    const Entry& e = load(profile);
    return e.error.empty() ? e.replay.req : WorkloadRequirements{};
  }
  std::string profile_error(const std::string& profile) const override {
    return load(profile).error;
  }
  void generate(const TraceParams&, Rng&, TraceBuilder&) const override {}  // make_trace does it.
  ThreadTrace make_trace(const TraceParams& p) const override;

 private:
  struct Entry {
    std::string error;  // Why the file cannot be replayed; empty: it can.
    RecordedReplay replay;
  };
  const Entry& load(const std::string& path) const;

  mutable std::mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Entry>> cache_;  // By path; guarded by mu_.
};

const RecordedTraceWorkload::Entry& RecordedTraceWorkload::load(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Entry>& e = cache_[path];
  if (e == nullptr) {
    e = std::make_unique<Entry>();
    e->error = path.empty() ? "workload trace needs a file: trace:PATH"
                            : load_recorded_replay(path, &e->replay);
  }
  return *e;
}

// A copy of the converted trace of thread p.thread_index (empty when the file
// cannot be replayed or has another thread count: the cell refuses those).
ThreadTrace RecordedTraceWorkload::make_trace(const TraceParams& p) const {
  const Entry& e = load(p.profile);
  ThreadTrace out;
  if (!e.error.empty() || p.threads != e.replay.threads.size()) return out;
  const ThreadTrace& t = e.replay.threads[p.thread_index];
  out.ops.reserve(t.ops.size() + 1);
  for (const Op& op : t.ops) out.ops.push_back(op);
  out.slot_count = t.slot_count;
  out.peak_live_bytes = t.peak_live_bytes;
  out.allocs = t.allocs;
  out.frees = t.frees;
  out.reallocs = t.reallocs;
  out.pushes = t.pushes;
  out.pops = t.pops;
  out.hash = t.hash;
  out.recorded = true;
  out.untimed_tail = t.untimed_tail;
  out.dropped_frees = t.dropped_frees;
  out.unknown_reallocs = t.unknown_reallocs;
  return out;
}

}  // namespace

const Workload* recorded_trace_workload() {
  static const RecordedTraceWorkload w;
  return &w;
}

}  // namespace allocbench
