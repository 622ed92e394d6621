// The explicit list of workloads. To add one: write workloads/<name>.cpp with
// an accessor returning a static instance, declare it below and add it to the
// list. See README "Adding a workload".
#include "workloads/workload.h"

namespace allocbench {

const Workload* rl_churn_workload();
const Workload* ttl_ring_workload();
const Workload* mixed_sizes_workload();
const Workload* fixed_size_workload();
const Workload* fixed_size_calloc_workload();
const Workload* contention_workload();
const Workload* cross_thread_workload();
const Workload* basic_concurrency_workload();
const Workload* large_concurrency_workload();
const Workload* size_ramp_workload();
const Workload* scatter_sizes_workload();
const Workload* sparse_sizes_workload();
const Workload* larson_workload();
const Workload* xmalloc_workload();
const Workload* cache_scratch_workload();
const Workload* cache_thrash_workload();
const Workload* burst_idle_workload();
const Workload* large_churn_workload();
const Workload* recorded_trace_workload();

const std::vector<const Workload*>& workload_registry() {
  static const std::vector<const Workload*> all = {
      rl_churn_workload(),     ttl_ring_workload(),          mixed_sizes_workload(),
      fixed_size_workload(),   fixed_size_calloc_workload(), contention_workload(),
      cross_thread_workload(), basic_concurrency_workload(), large_concurrency_workload(),
      size_ramp_workload(),    scatter_sizes_workload(),     sparse_sizes_workload(),
      larson_workload(),       xmalloc_workload(),           cache_scratch_workload(),
      cache_thrash_workload(), burst_idle_workload(),        large_churn_workload(),
      recorded_trace_workload(),
  };
  return all;
}

}  // namespace allocbench
