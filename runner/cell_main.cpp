// allocbench_cell[_<allocator>]: the child process of one benchmark cell.
// Started by allocbench; prints its measurements as "@ab key=value" lines.
//
//   allocbench_cell --adapter A --workload W --profile P --threads T --ops N
//                   --seed S [--warmup K] [--lat-sample R] [--min-time SECONDS]
//                   [--max-replays N] [--lat-out FILE]
//   allocbench_cell --describe A     (prints the adapter's version and verify())
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "adapters/adapter.h"
#include "runner/cell.h"
#include "runner/cli_util.h"

using allocbench::CellConfig;

int main(int argc, char** argv) {
  CellConfig c;
  std::string describe;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) {
      std::fprintf(stderr, "allocbench_cell: %s needs a value\n", a.c_str());
      return 2;
    }
    ++i;
    bool ok = true;
    if (a == "--adapter")
      c.adapter = v;
    else if (a == "--workload")
      c.workload = v;
    else if (a == "--profile")
      c.profile = v;
    else if (a == "--describe")
      describe = v;
    else if (a == "--threads")
      ok = allocbench::parse_u32(v, &c.threads);
    else if (a == "--ops")
      ok = allocbench::parse_u64(v, &c.ops);
    else if (a == "--seed")
      ok = allocbench::parse_u64(v, &c.seed);
    else if (a == "--warmup")
      ok = allocbench::parse_u32(v, &c.warmup);
    else if (a == "--lat-sample")
      ok = allocbench::parse_u32(v, &c.lat_sample);
    else if (a == "--min-time")
      ok = allocbench::parse_seconds(v, &c.min_time_s);
    else if (a == "--max-replays")
      ok = allocbench::parse_u32(v, &c.max_replays) && c.max_replays > 0;
    else if (a == "--lat-out")
      c.lat_out = v;
    else {
      std::fprintf(stderr, "allocbench_cell: unknown option %s\n", a.c_str());
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "allocbench_cell: malformed number for %s: %s\n", a.c_str(), v);
      return 2;
    }
  }
  if (!describe.empty()) {
    const allocbench::AdapterInfo* info = allocbench::find_adapter(describe);
    if (info == nullptr) {
      std::fprintf(stderr, "allocbench_cell: unknown adapter %s\n", describe.c_str());
      return 2;
    }
    auto a = info->create();
    std::printf("@ab version=%s\n@ab verify=%s\n", a->version().c_str(), a->verify().c_str());
    return 0;
  }
  allocbench::CellResult r = allocbench::run_cell(c);
  std::fflush(stdout);
  allocbench::write_cell_result(1, r);
  return 0;
}
