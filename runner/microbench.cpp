// Google Benchmark microbenchmarks: the cost of one allocate+free pair per
// size, for every adapter that lives in this executable's cell (the build
// makes one microbench binary per malloc implementation, like the cells).
//
//   microbench[_<allocator>] [--csv=FILE] [google benchmark flags]
//
// Registered as a matrix with RegisterBenchmark; `make microbench` runs them
// with repetitions and random interleaving. --csv appends our own CSV rows
// (cell, adapter, size, repetition aggregate, ns per pair).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"

#ifndef ALLOCBENCH_CELL_NAME
#define ALLOCBENCH_CELL_NAME ""
#endif

namespace allocbench {
namespace {

void pair_benchmark(benchmark::State& state, const AdapterInfo* info, size_t size) {
  std::unique_ptr<Adapter> a = make_adapter(*info);
  a->thread_init();
  int64_t since_reset = 0;
  for (auto _ : state) {
    void* p = a->allocate(size, 16);
    benchmark::DoNotOptimize(p);
    static_cast<volatile char*>(p)[0] = 1;
    a->deallocate(p, size, 16);
    if (!info->caps.individual_free && ++since_reset == 4096) {
      a->reset();
      since_reset = 0;
    }
  }
  a->thread_exit();
  state.SetItemsProcessed(state.iterations());
}

// Writes one CSV row per reported run next to the console output.
class CsvReporter : public benchmark::ConsoleReporter {
 public:
  explicit CsvReporter(FILE* f) : f_(f) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      std::string name = r.benchmark_name();
      std::fprintf(f_, "%s,%s,%s,%lld,%.3f,%.3f\n", cell_.c_str(), name.c_str(),
                   r.run_type == Run::RT_Aggregate ? r.aggregate_name.c_str() : "iteration",
                   static_cast<long long>(r.iterations), r.GetAdjustedRealTime(),
                   r.GetAdjustedCPUTime());
    }
    std::fflush(f_);
  }

 private:
  FILE* f_;
  std::string cell_ = ALLOCBENCH_CELL_NAME[0] ? ALLOCBENCH_CELL_NAME : "glibc";
};

}  // namespace
}  // namespace allocbench

int main(int argc, char** argv) {
  using namespace allocbench;
  std::string csv;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--csv=", 6) == 0) {
      csv = argv[i] + 6;
    } else {
      args.push_back(argv[i]);
    }
  }
  for (const AdapterInfo& info : adapter_registry()) {
    if (std::strcmp(info.cell, ALLOCBENCH_CELL_NAME) != 0 || info.test_only) continue;
    std::vector<size_t> sizes = {16, 64, 256, 4096};
    if (info.caps.fixed_size != 0) sizes = {info.caps.fixed_size};
    for (size_t size : sizes) {
      std::string name = std::string("pair/") + info.name + "/" + std::to_string(size);
      benchmark::RegisterBenchmark(name.c_str(), pair_benchmark, &info, size);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  if (csv.empty()) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    FILE* f = std::fopen(csv.c_str(), "a");
    if (f == nullptr) {
      std::fprintf(stderr, "microbench: cannot open %s\n", csv.c_str());
      return 1;
    }
    CsvReporter reporter(f);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::fclose(f);
  }
  benchmark::Shutdown();
  return 0;
}
