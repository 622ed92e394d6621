// Leak check for liballoc's tests from what the allocator really holds
// (alloc_census), not from call counters: bytes_in_use balances as soon as
// every alloc_* call has a matching free, even when the blocks are stuck on a
// cross-thread list, a delayed list or an abandoned heap that nobody collects.
//
// Usage: take `census_baseline()` before the test; after it has freed
// everything and joined its threads, `EXPECT_TRUE(census_no_leak_since(b))`.
// Both run alloc_trim and alloc_census, so they must be called while no other
// thread allocates or frees.
#ifndef ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_CENSUS_CHECK_H_
#define ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_CENSUS_CHECK_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "allocators/inhouse/alloc.h"

namespace allocbench {
namespace testing {

// Gives back what the allocator can (this thread's heap, every abandoned
// heap, the global caches), then counts what it still holds. Three passes:
// an abandoned heap collected in one pass can empty a segment that only the
// next flush returns.
inline alloc_census_t trimmed_census() {
  for (int i = 0; i < 3; ++i) alloc_trim();
  alloc_census_t c;
  alloc_census(&c);
  return c;
}

inline alloc_census_t census_baseline() { return trimmed_census(); }

inline std::string census_to_string(const alloc_census_t& c) {
  std::string s;
  auto put = [&s](const char* name, uint64_t v) {
    s += ' ';
    s += name;
    s += '=';
    s += std::to_string(v);
  };
  put("heaps_active", c.heaps_active);
  put("heaps_abandoned", c.heaps_abandoned);
  put("segments", c.segments);
  put("segments_owned", c.segments_owned);
  put("segments_cached", c.segments_cached);
  put("spans", c.spans);
  put("pages_queued", c.pages_queued);
  put("pages_full", c.pages_full);
  put("large_spans", c.large_spans);
  put("blocks_live", c.blocks_live);
  put("blocks_remote", c.blocks_remote);
  put("blocks_delayed", c.blocks_delayed);
  put("blocks_cached", c.blocks_cached);
  put("huge_live", c.huge_live);
  put("huge_cached", c.huge_cached);
  put("bytes_active", c.bytes_active);
  put("bytes_dirty_free", c.bytes_dirty_free);
  put("bytes_mapped", c.bytes_mapped);
  return s;
}

// Success when, after trimming, no block, span or page is held beyond
// `before` and no more segments are owned; otherwise names every field that
// differs and prints both censuses.
inline ::testing::AssertionResult census_no_leak_since(const alloc_census_t& before) {
  alloc_census_t now = trimmed_census();
  std::string diff;
  auto same = [&diff](const char* name, uint64_t was, uint64_t is) {
    if (is != was) {
      diff += std::string(" ") + name + " " + std::to_string(was) + " -> " + std::to_string(is);
    }
  };
  same("blocks_live", before.blocks_live, now.blocks_live);
  same("blocks_remote", before.blocks_remote, now.blocks_remote);
  same("blocks_delayed", before.blocks_delayed, now.blocks_delayed);
  same("blocks_cached", before.blocks_cached, now.blocks_cached);
  same("large_spans", before.large_spans, now.large_spans);
  same("huge_live", before.huge_live, now.huge_live);
  same("pages_full", before.pages_full, now.pages_full);
  same("spans", before.spans, now.spans);
  if (now.segments_owned > before.segments_owned) {
    diff += " segments_owned " + std::to_string(before.segments_owned) + " -> " +
            std::to_string(now.segments_owned);
  }
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "allocator still holds memory after the test freed "
                                          "everything and alloc_trim:"
                                       << diff << "\n  before:" << census_to_string(before)
                                       << "\n  after: " << census_to_string(now);
}

}  // namespace testing
}  // namespace allocbench

#endif  // ALLOCBENCH_ALLOCATORS_INHOUSE_ALLOC_CENSUS_CHECK_H_
