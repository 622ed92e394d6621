// Memory over time of a program that another process starts: its RSS
// sampled at a fixed rate on a thread of its own (`allocbench exec`).
#ifndef ALLOCBENCH_RUNNER_RSS_SAMPLER_H_
#define ALLOCBENCH_RUNNER_RSS_SAMPLER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace allocbench {

struct RssSample {
  double t_ms;         // Milliseconds since the program's pid was first seen.
  uint64_t rss_bytes;  // Its VmRSS then.
};

// Waits for a pid to appear in `pid_file` (written whole by allocbench_exec
// as soon as it forks the program), then reads that process's VmRSS every
// `period_ns`, at absolute deadlines t0 + k * period (a late wake-up skips
// the deadlines it missed instead of sampling in a burst), until the process
// is gone or stop() is called. Before the pid appears the file is polled
// every period / 10 (at least 0.2 ms). Owner thread only: the sampling
// thread writes the samples, which the owner reads only after stop() joined it.
class RssSampler {
 public:
  RssSampler(std::string pid_file, uint64_t period_ns);
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  // Stops sampling (at the next deadline) and returns the samples, in time order.
  const std::vector<RssSample>& stop();

 private:
  void run();

  const std::string pid_file_;
  const uint64_t period_ns_;
  std::atomic<bool> stop_{false};   // Set by the owner, read by the sampling thread.
  std::vector<RssSample> samples_;  // Written by the sampling thread until joined.
  std::thread thread_;              // Last: starts once the fields above exist.
};

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RSS_SAMPLER_H_
