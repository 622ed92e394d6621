#include "runner/skip.h"

namespace allocbench {

std::string skip_reason(const Capabilities& caps, const WorkloadRequirements& req,
                        uint32_t threads) {
  if (caps.fixed_size != 0 && req.fixed_size != caps.fixed_size) {
    return "adapter serves only " + std::to_string(caps.fixed_size) +
           "-byte blocks; workload requests " +
           (req.fixed_size != 0 ? std::to_string(req.fixed_size) + "-byte blocks"
                                : "sizes up to " + std::to_string(req.max_size) + " bytes");
  }
  if (req.max_size > caps.max_size) {
    return "workload requests up to " + std::to_string(req.max_size) +
           " bytes; adapter serves at most " + std::to_string(caps.max_size);
  }
  if (req.max_alignment > caps.max_alignment) {
    return "workload requests alignment " + std::to_string(req.max_alignment) +
           "; adapter honours at most " + std::to_string(caps.max_alignment);
  }
  if (!caps.individual_free && !req.resets_at_phases) {
    return "adapter frees only by reset; workload has no phase boundaries to reset at";
  }
  if (req.cross_thread_frees && threads > 1 && caps.threading == Threading::kPerThreadInstance) {
    return "workload frees blocks on other threads; adapter uses per-thread instances";
  }
  if (req.shared_slots != 0 && caps.threading == Threading::kPerThreadInstance) {
    return "workload shares blocks between threads through a slot table; adapter uses "
           "per-thread instances";
  }
  if (req.even_threads && threads % 2 != 0) {
    return "workload pairs producer and consumer threads; needs an even thread count";
  }
  return "";
}

}  // namespace allocbench
