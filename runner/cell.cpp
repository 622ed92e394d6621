#include "runner/cell.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"
#include "runner/skip.h"
#include "workloads/workload.h"

namespace allocbench {
namespace {

struct SlotEntry {
  void* ptr;      // Live block in this slot.
  uint64_t size;  // Its requested size.
};

// A single-producer single-consumer channel between a producer thread and its
// consumer (cross_thread workload). Lives in OS-mapped memory.
struct Channel {
  static constexpr uint64_t kCapacity = 1024;
  alignas(64) std::atomic<uint64_t> head;  // Next entry to pop; written by the consumer.
  alignas(64) std::atomic<uint64_t> tail;  // Next entry to fill; written by the producer.
  alignas(64) SlotEntry ring[kCapacity];   // Entries [head, tail) are filled.
};

// What a replaying thread shares with the others.
struct ReplayShared {
  Channel* channels;                 // Indexed by Op::channel.
  std::atomic<bool>* abort;          // Set when any thread fails: waiting threads give up.
  std::atomic<void*>* shared_slots;  // kToggle table; each block starts with its size.
};

// Per-thread replay counters. Owner thread only.
struct ReplayCounters {
  uint64_t toggle_allocs = 0;                  // kToggle ops that allocated.
  uint64_t toggle_frees = 0;                   // kToggle ops that freed (including lost races).
  MappedArray<uint64_t>* phase_rss = nullptr;  // RSS at each kPhase, when recorded.
};

// Why a replay stopped early.
struct ReplayFailure {
  bool failed = false;
  bool aborted = false;  // Stopped because another thread failed first.
  uint64_t size = 0;     // The request that returned nullptr.
};

// Writes the first byte, one byte in every 4 KiB page and the last byte, so
// the block's pages are really committed (as a program using the memory would
// commit them; peak RSS then counts them) and the compiler cannot drop the
// allocation. Cost: one store per page.
inline void touch(void* p, uint64_t size) {
  if (size == 0) return;
  volatile char* c = static_cast<volatile char*>(p);
  for (uint64_t off = 0; off < size; off += 4096) c[off] = 1;
  c[size - 1] = 1;
}

// Waits for a channel condition; false if the run was aborted meanwhile.
template <typename Ready>
bool wait_for(const ReplayShared& sh, Ready ready) {
  for (unsigned spins = 0; !ready(); ++spins) {
    if (sh.abort->load(std::memory_order_relaxed)) return false;
    if (spins > 64) std::this_thread::yield();
  }
  return true;
}

// Executes one op. Cost: the adapter call plus one store per page.
inline bool do_op(Adapter& a, const Op& op, SlotEntry* slots, bool reset_at_phase,
                  const ReplayShared& sh, ReplayCounters& ctr) {
  SlotEntry& s = slots[op.slot];
  const size_t align = size_t{1} << op.align_log2;
  switch (op.kind) {
    case OpKind::kAlloc: {
      void* p = a.allocate(op.size, align);
      if (p == nullptr && op.size != 0) return false;
      touch(p, op.size);
      s.ptr = p;
      s.size = op.size;
      return true;
    }
    case OpKind::kFree:
      if (s.ptr != nullptr) a.deallocate(s.ptr, s.size, align);
      s.ptr = nullptr;
      return true;
    case OpKind::kRealloc: {
      void* p = a.reallocate(s.ptr, s.size, op.size, align);
      if (p == nullptr && op.size != 0) return false;
      touch(p, op.size);
      s.ptr = p;
      s.size = op.size;
      return true;
    }
    case OpKind::kPhase:
      if (reset_at_phase) a.reset();
      if (ctr.phase_rss != nullptr) ctr.phase_rss->push_back(platform::resident_bytes());
      return true;
    case OpKind::kToggle: {
      std::atomic<void*>& cell = sh.shared_slots[op.slot];
      void* old = cell.exchange(nullptr, std::memory_order_acq_rel);
      if (old != nullptr) {
        uint64_t size;
        std::memcpy(&size, old, sizeof size);
        a.deallocate(old, size, align);
        ++ctr.toggle_frees;
        return true;
      }
      void* p = a.allocate(op.size, align);
      if (p == nullptr) return false;
      touch(p, op.size);
      std::memcpy(p, &op.size, sizeof op.size);
      ++ctr.toggle_allocs;
      void* expected = nullptr;
      if (!cell.compare_exchange_strong(expected, p, std::memory_order_acq_rel)) {
        a.deallocate(p, op.size, align);  // Another thread filled the slot first.
        ++ctr.toggle_frees;
      }
      return true;
    }
    case OpKind::kCalloc: {
      void* p = a.allocate_zeroed(op.size, align);
      if (p == nullptr && op.size != 0) return false;
      touch(p, op.size);
      s.ptr = p;
      s.size = op.size;
      return true;
    }
    case OpKind::kPush: {
      Channel& ch = sh.channels[op.channel];
      uint64_t tail = ch.tail.load(std::memory_order_relaxed);
      if (!wait_for(sh, [&] {
            return tail - ch.head.load(std::memory_order_acquire) < Channel::kCapacity;
          })) {
        return false;
      }
      ch.ring[tail % Channel::kCapacity] = s;
      ch.tail.store(tail + 1, std::memory_order_release);
      s.ptr = nullptr;
      return true;
    }
    case OpKind::kPop: {
      Channel& ch = sh.channels[op.channel];
      uint64_t head = ch.head.load(std::memory_order_relaxed);
      if (!wait_for(sh, [&] { return ch.tail.load(std::memory_order_acquire) != head; })) {
        return false;
      }
      s = ch.ring[head % Channel::kCapacity];
      ch.head.store(head + 1, std::memory_order_release);
      return true;
    }
  }
  return true;
}

// Replays a trace. When `lat` is non-null, about one op in `sample_every`
// (random gaps, mean sample_every) is timed with the monotonic clock and its
// duration appended to `lat`.
ReplayFailure replay(Adapter& a, const ThreadTrace& t, SlotEntry* slots, bool reset_at_phase,
                     const ReplayShared& sh, ReplayCounters& ctr, MappedArray<uint32_t>* lat,
                     uint32_t sample_every, uint64_t sample_seed) {
  ReplayFailure f;
  const Op* ops = t.ops.data();
  const size_t n = t.ops.size();
  uint64_t rng = sample_seed | 1;
  auto next_gap = [&]() -> size_t {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return 1 + static_cast<size_t>(rng % (2ull * sample_every - 1));
  };
  size_t next_sample = (lat != nullptr && sample_every > 0) ? next_gap() - 1 : SIZE_MAX;
  for (size_t i = 0; i < n; ++i) {
    bool ok;
    if (__builtin_expect(i == next_sample, 0)) {
      uint64_t t0 = platform::now_ns();
      ok = do_op(a, ops[i], slots, reset_at_phase, sh, ctr);
      uint64_t d = platform::now_ns() - t0;
      lat->push_back(d > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(d));
      next_sample = i + next_gap();
    } else {
      ok = do_op(a, ops[i], slots, reset_at_phase, sh, ctr);
    }
    if (!ok) {
      f.failed = true;
      f.size = ops[i].size;
      f.aborted = sh.abort->exchange(true);
      return f;
    }
  }
  return f;
}

// Nearest-rank percentile of sorted samples.
uint64_t percentile(const MappedArray<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t n = sorted.size();
  size_t rank = static_cast<size_t>(q * static_cast<double>(n) + 0.999999);
  if (rank == 0) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

double tv_seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

// Coordinates the worker threads: they spin at the start gate (so they all
// start within a few hundred ns of the release) and sleep when done.
class Gate {
 public:
  explicit Gate(uint32_t threads) : threads_(threads) {}

  // Worker: wait for round `round` to be released.
  void wait_start(uint32_t round) {
    while (round_.load(std::memory_order_acquire) < round) std::this_thread::yield();
  }
  // Main: release round `round`.
  void release(uint32_t round) { round_.store(round, std::memory_order_release); }

  // Worker: report this round finished.
  void arrive() {
    std::lock_guard<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
  }
  // Main: wait until `count` arrivals in total.
  void wait_arrivals(uint32_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= count; });
  }
  uint32_t threads() const { return threads_; }

 private:
  uint32_t threads_;
  std::atomic<uint32_t> round_{0};  // Released round; written by main.
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t arrived_ = 0;  // Guarded by mu_.
};

struct Worker {
  ThreadTrace trace;
  MappedArray<SlotEntry> slots;
  MappedArray<uint32_t> lat;
  MappedArray<uint64_t> phase_rss;  // Thread 0 only, timed round only.
  ReplayCounters counters;
  uint64_t end_ns = 0;
  ReplayFailure failure;
};

}  // namespace

CellResult run_cell(const CellConfig& c) {
  CellResult r;
  const AdapterInfo* info = find_adapter(c.adapter);
  const Workload* w = find_workload(c.workload);
  if (info == nullptr || w == nullptr || !has_profile(*w, c.profile) || c.threads == 0) {
    r.status = "error";
    r.error = "invalid cell configuration";
    return r;
  }
  std::unique_ptr<Adapter> adapter = info->create();
  r.adapter_version = adapter->version();
  std::string bad = adapter->verify();
  if (!bad.empty()) {
    r.status = "error";
    r.error = bad;
    return r;
  }
  std::string skip = skip_reason(info->caps, w->requirements(c.profile), c.threads);
  if (!skip.empty()) {
    r.status = "skipped";
    r.error = skip;
    return r;
  }
  const bool reset_at_phase = !info->caps.individual_free;

  // Traces first, before the clock, in OS-mapped memory.
  std::vector<Worker> workers(c.threads);
  std::vector<uint64_t> hashes(c.threads);
  for (uint32_t i = 0; i < c.threads; ++i) {
    TraceParams p{c.profile, c.seed, i, c.threads, c.ops};
    workers[i].trace = generate_trace(*w, p);
    workers[i].slots.resize_zeroed(workers[i].trace.slot_count + 1);
    if (c.lat_sample > 0) workers[i].lat.reserve(2 * (c.ops / c.lat_sample) + 64);
    hashes[i] = workers[i].trace.hash;
    r.peak_live_bytes += workers[i].trace.peak_live_bytes;
    r.total_ops += workers[i].trace.ops.size();
    r.allocs += workers[i].trace.allocs;
    r.frees += workers[i].trace.frees;
    r.reallocs += workers[i].trace.reallocs;
  }
  r.trace_hash = combine_trace_hashes(hashes.data(), hashes.size());

  // Channels for producer/consumer workloads, in OS-mapped memory.
  uint32_t channel_count = 1;
  for (const Worker& wk : workers) {
    for (const Op& op : wk.trace.ops) {
      if ((op.kind == OpKind::kPush || op.kind == OpKind::kPop) && op.channel >= channel_count) {
        channel_count = op.channel + 1u;
      }
    }
  }
  const size_t channel_bytes = sizeof(Channel) * channel_count;
  Channel* channels = static_cast<Channel*>(platform::map_pages(channel_bytes));
  if (channels == nullptr) {
    r.status = "error";
    r.error = "cannot map channels";
    return r;
  }
  for (uint32_t i = 0; i < channel_count; ++i) new (&channels[i]) Channel{};
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { platform::unmap_pages(p, n); }
  } unmap_channels{channels, channel_bytes};
  std::atomic<bool> abort{false};
  // The shared slot table of kToggle workloads.
  const WorkloadRequirements req = w->requirements(c.profile);
  const size_t shared_bytes = sizeof(std::atomic<void*>) * (req.shared_slots + 1);
  auto* shared_slots = static_cast<std::atomic<void*>*>(platform::map_pages(shared_bytes));
  if (shared_slots == nullptr) {
    r.status = "error";
    r.error = "cannot map the shared slot table";
    return r;
  }
  for (uint32_t i = 0; i <= req.shared_slots; ++i)
    new (&shared_slots[i]) std::atomic<void*>{nullptr};
  struct UnmapShared {
    void* p;
    size_t n;
    ~UnmapShared() { platform::unmap_pages(p, n); }
  } unmap_shared{shared_slots, shared_bytes};
  // Frees what the toggles left in the table (between rounds and at the end).
  auto drain_shared = [&] {
    for (uint32_t i = 0; i < req.shared_slots; ++i) {
      void* p = shared_slots[i].exchange(nullptr);
      if (p != nullptr) {
        uint64_t size;
        std::memcpy(&size, p, sizeof size);
        adapter->deallocate(p, size, 16);
      }
    }
  };
  if (req.shared_slots != 0) {
    // The live-bytes bound: every touched slot full at once.
    MappedArray<uint8_t> seen;
    seen.resize_zeroed(req.shared_slots);
    r.peak_live_bytes = 0;
    for (const Worker& wk : workers) {
      for (const Op& op : wk.trace.ops) {
        if (op.kind == OpKind::kToggle && !seen[op.slot]) {
          seen[op.slot] = 1;
          r.peak_live_bytes += op.size;
        }
      }
    }
    adapter->thread_init();  // The main thread frees leftovers.
  }
  const ReplayShared shared{channels, &abort, shared_slots};

  Gate gate(c.threads);
  const uint32_t rounds = c.warmup + 1;  // Last round is timed.
  std::vector<std::thread> threads;
  threads.reserve(c.threads);
  for (uint32_t i = 0; i < c.threads; ++i) {
    threads.emplace_back([&, i] {
      Worker& me = workers[i];
      adapter->thread_init();
      gate.arrive();  // Ready.
      for (uint32_t round = 1; round <= rounds; ++round) {
        gate.wait_start(round);
        bool timed = round == rounds;
        me.counters = ReplayCounters{};
        if (timed && i == 0 && req.record_phase_rss) me.counters.phase_rss = &me.phase_rss;
        me.failure =
            replay(*adapter, me.trace, me.slots.data(), reset_at_phase, shared, me.counters,
                   timed ? &me.lat : nullptr, c.lat_sample, mix64(c.seed ^ (uint64_t{i} << 32)));
        me.end_ns = platform::now_ns();
        gate.arrive();
        if (me.failure.failed) {
          // Stop taking part; the main thread sees the failure after this round.
          for (uint32_t later = round + 1; later <= rounds; ++later) {
            gate.wait_start(later);
            gate.arrive();
          }
          break;
        }
      }
      gate.wait_start(rounds + 1);  // Main has measured; now tear down.
      adapter->thread_exit();
    });
  }
  gate.wait_arrivals(c.threads);

  r.baseline_rss_bytes = platform::resident_bytes();
  platform::reset_peak_resident();
  for (uint32_t round = 1; round < rounds; ++round) {
    gate.release(round);
    gate.wait_arrivals(c.threads * (round + 1));
    drain_shared();
  }
  rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  uint64_t t0 = platform::now_ns();
  gate.release(rounds);
  gate.wait_arrivals(c.threads * (rounds + 1));
  uint64_t t_end = 0;
  for (const Worker& wk : workers) t_end = std::max(t_end, wk.end_ns);
  getrusage(RUSAGE_SELF, &ru1);
  r.wall_ns = t_end > t0 ? t_end - t0 : 1;
  drain_shared();
  if (req.shared_slots != 0) {
    r.allocs = r.frees = 0;
    for (const Worker& wk : workers) {
      r.allocs += wk.counters.toggle_allocs;
      r.frees += wk.counters.toggle_frees;
    }
  }
  r.peak_rss_bytes = platform::peak_resident_bytes();
  r.final_rss_bytes = platform::resident_bytes();
  r.minflt = static_cast<uint64_t>(ru1.ru_minflt - ru0.ru_minflt);
  r.majflt = static_cast<uint64_t>(ru1.ru_majflt - ru0.ru_majflt);
  r.nvcsw = static_cast<uint64_t>(ru1.ru_nvcsw - ru0.ru_nvcsw);
  r.nivcsw = static_cast<uint64_t>(ru1.ru_nivcsw - ru0.ru_nivcsw);
  r.user_s = tv_seconds(ru1.ru_utime) - tv_seconds(ru0.ru_utime);
  r.sys_s = tv_seconds(ru1.ru_stime) - tv_seconds(ru0.ru_stime);
  gate.release(rounds + 1);
  for (std::thread& t : threads) t.join();
  if (req.shared_slots != 0) adapter->thread_exit();
  for (uint64_t v : workers[0].phase_rss) {
    if (!r.phase_rss.empty()) r.phase_rss += ';';
    r.phase_rss += std::to_string(v);
  }

  for (const Worker& wk : workers) {
    if (wk.failure.failed && !wk.failure.aborted) {
      r.status = "oom";
      r.error = "allocation of " + std::to_string(wk.failure.size) + " bytes returned null";
      return r;
    }
  }

  // Latency percentiles over all threads' samples (after the measurements).
  MappedArray<uint32_t> all;
  for (const Worker& wk : workers) {
    for (uint32_t v : wk.lat) all.push_back(v);
  }
  std::sort(all.begin(), all.end());
  r.lat_samples = all.size();
  r.lat_p50_ns = percentile(all, 0.50);
  r.lat_p90_ns = percentile(all, 0.90);
  r.lat_p99_ns = percentile(all, 0.99);
  r.lat_p999_ns = percentile(all, 0.999);
  r.lat_max_ns = all.empty() ? 0 : all[all.size() - 1];
  return r;
}

namespace {

// Writes all of `s`, retrying on partial writes.
void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Error texts go on one line.
std::string one_line(std::string s) {
  for (char& ch : s) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return s;
}

}  // namespace

void write_cell_result(int fd, const CellResult& r) {
  char buf[256];
  std::string out;
  auto kv = [&](const char* k, const std::string& v) {
    out += "@ab ";
    out += k;
    out += '=';
    out += one_line(v);
    out += '\n';
  };
  auto ku = [&](const char* k, uint64_t v) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v));
    kv(k, buf);
  };
  auto kd = [&](const char* k, double v) {
    std::snprintf(buf, sizeof buf, "%.6f", v);
    kv(k, buf);
  };
  kv("status", r.status);
  kv("error", r.error);
  kv("adapter_version", r.adapter_version);
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r.trace_hash));
  kv("trace_hash", buf);
  ku("total_ops", r.total_ops);
  ku("allocs", r.allocs);
  ku("frees", r.frees);
  ku("reallocs", r.reallocs);
  ku("wall_ns", r.wall_ns);
  ku("lat_samples", r.lat_samples);
  ku("lat_p50_ns", r.lat_p50_ns);
  ku("lat_p90_ns", r.lat_p90_ns);
  ku("lat_p99_ns", r.lat_p99_ns);
  ku("lat_p999_ns", r.lat_p999_ns);
  ku("lat_max_ns", r.lat_max_ns);
  ku("baseline_rss_bytes", r.baseline_rss_bytes);
  ku("peak_rss_bytes", r.peak_rss_bytes);
  ku("final_rss_bytes", r.final_rss_bytes);
  ku("peak_live_bytes", r.peak_live_bytes);
  ku("minflt", r.minflt);
  ku("majflt", r.majflt);
  ku("nvcsw", r.nvcsw);
  ku("nivcsw", r.nivcsw);
  kd("user_s", r.user_s);
  kv("phase_rss", r.phase_rss);
  kd("sys_s", r.sys_s);
  out += "@ab end=1\n";
  write_all(fd, out);
}

}  // namespace allocbench
