#include "runner/cell_timeline.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "allocators/common/platform.h"

namespace allocbench {

const char* cell_stage_name(CellStage s) {
  switch (s) {
    case CellStage::kSetup:
      return "setup";
    case CellStage::kWarmup:
      return "warmup";
    case CellStage::kTimed:
      return "timed";
    case CellStage::kSettle:
      return "settle";
    case CellStage::kLatency:
      return "latency";
    case CellStage::kExit:
      return "exit";
  }
  return "?";
}

CellTimeline::CellTimeline(uint64_t period_ns)
    : period_ns_(std::max<uint64_t>(period_ns, 1)),
      t0_ns_(platform::now_ns()),
      samples_(4096) {
  sample_locked();  // The first "setup" sample, before any set_stage() can come.
  thread_ = std::thread([this] { run(); });
}

void CellTimeline::set_stage(CellStage s) {
  std::lock_guard<std::mutex> lock(mu_);
  stage_ = static_cast<uint8_t>(s);
  sample_locked();
}

void CellTimeline::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  thread_.join();
}

void CellTimeline::sample_locked() {
  const uint64_t now = platform::now_ns();
  samples_.push_back({now - t0_ns_, platform::resident_bytes(), stage_});
}

void CellTimeline::run() {
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as platform::now_ns().
  uint64_t deadline = t0_ns_;  // Sampled by the constructor.
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const uint64_t now = platform::now_ns();
    if (now >= deadline) {
      deadline += period_ns_;
      if (deadline <= now) deadline += (now - deadline) / period_ns_ * period_ns_ + period_ns_;
    }
    const Clock::time_point until{std::chrono::nanoseconds(deadline)};
    cv_.wait_until(lock, until, [this] { return stop_; });  // Returns at the deadline or stop.
    sample_locked();
    if (stop_) return;
  }
}

std::string CellTimeline::write(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return "cannot write " + path + ": " + std::strerror(errno);
  bool ok = true;
  for (const Sample& s : samples_) {
    ok = ok && std::fprintf(f, "%.3f,%s,%llu\n", static_cast<double>(s.t_ns) / 1e6,
                            cell_stage_name(static_cast<CellStage>(s.stage)),
                            static_cast<unsigned long long>(s.rss)) > 0;
  }
  if (std::fclose(f) != 0) ok = false;
  return ok ? "" : "cannot write " + path;
}

}  // namespace allocbench
