// 4 threads, cross-thread frees through queues, 10M operations (200k in
// quick mode), mixed sizes and alignments, fixed seed.
#include <gtest/gtest.h>

#include "allocators/common/testing/multi_size_pool_stress.h"
#include "allocators/pool_tls/pool_tls.h"

namespace allocbench {
namespace {

TEST(PoolTlsStress, FourThreads) { testing::run_multi_size_stress<PoolTls>(4); }

}  // namespace
}  // namespace allocbench
