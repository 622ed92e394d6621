#include "runner/rss_sampler.h"

#include <algorithm>
#include <fstream>

#include "allocators/common/platform.h"

namespace allocbench {
namespace {

// The pid in `path`, or 0 while the file does not exist.
int read_pid(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  return in >> pid ? pid : 0;
}

}  // namespace

RssSampler::RssSampler(std::string pid_file, uint64_t period_ns)
    : pid_file_(std::move(pid_file)),
      period_ns_(std::max<uint64_t>(period_ns, 1)),
      thread_([this] { run(); }) {}

const std::vector<RssSample>& RssSampler::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  return samples_;
}

void RssSampler::run() {
  const uint64_t poll_ns = std::max<uint64_t>(period_ns_ / 10, 200000);
  int pid = 0;
  while (pid == 0) {
    if (stop_.load(std::memory_order_relaxed)) return;
    platform::sleep_until_ns(platform::now_ns() + poll_ns);
    pid = read_pid(pid_file_);
  }
  const uint64_t t0 = platform::now_ns();
  for (uint64_t deadline = t0; !stop_.load(std::memory_order_relaxed);) {
    platform::sleep_until_ns(deadline);
    const uint64_t now = platform::now_ns();
    const size_t rss = platform::process_resident_bytes(pid);
    if (rss == 0) return;  // Exited (a zombie has no VmRSS) or gone.
    samples_.push_back({static_cast<double>(now - t0) / 1e6, rss});
    deadline += period_ns_;
    if (deadline <= now) deadline += (now - deadline) / period_ns_ * period_ns_ + period_ns_;
  }
}

}  // namespace allocbench
