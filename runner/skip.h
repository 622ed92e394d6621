// Matching a workload's requirements against an adapter's capabilities.
#ifndef ALLOCBENCH_RUNNER_SKIP_H_
#define ALLOCBENCH_RUNNER_SKIP_H_

#include <cstdint>
#include <string>

#include "adapters/adapter.h"
#include "workloads/workload.h"

namespace allocbench {

// Empty if the adapter can run the workload; otherwise the reason it cannot,
// recorded in the `error` column of a `skipped` row.
std::string skip_reason(const Capabilities& caps, const WorkloadRequirements& req,
                        uint32_t threads);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_SKIP_H_
