// 4 threads, cross-thread frees through queues, 10M operations (200k in quick
// mode), mixed sizes and alignments, fixed seed.
#include <gtest/gtest.h>

#include "allocators/common/testing/multi_size_pool_stress.h"
#include "allocators/pool_lockfree/pool_lockfree.h"

namespace allocbench {
namespace {

TEST(PoolLockFreeStress, FourThreads) { testing::run_multi_size_stress<PoolLockFree>(4); }

}  // namespace
}  // namespace allocbench
