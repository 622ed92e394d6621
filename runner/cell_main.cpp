// allocbench_cell[_<allocator>]: the child process of one benchmark cell.
// Started by allocbench; prints its measurements as "@ab key=value" lines.
//
//   allocbench_cell --adapter A --workload W --profile P --threads T --ops N
//                   --seed S [--warmup K] [--lat-sample R] [--min-time SECONDS]
//                   [--max-replays N] [--lat-out FILE] [--settle-ms MS]
//                   [--timeline-out FILE [--sample-ms MS]]
//   allocbench_cell --describe A     (prints the adapter's version, verify() and
//                                     the file that defines malloc in this process)
//   ... [--allocator-lib NAME=PATH@VERSION]   (a library adapter, run under LD_PRELOAD)
//
// The protocol is internal to allocbench (runner/cell_exec.cpp), but the
// command line is read like allocbench's own (runner/cli_options.h).
#include <dlfcn.h>

#include <cstdio>
#include <string>

#include "adapters/adapter.h"
#include "runner/cell.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"

namespace allocbench {
namespace {

template <typename T>
void add_number(CLI::App* app, const std::string& name, T* out, uint64_t lo = 0,
                uint64_t hi = UINT32_MAX) {
  add_valued(app, name, "N", "",
             [=](const std::string& v) { *out = static_cast<T>(number_in(name, v, lo, hi)); });
}

void declare(CLI::App* app, CellConfig* c, std::string* describe) {
  auto text = [app](const std::string& name, std::string* out) {
    add_valued(app, name, "TEXT", "", [out](const std::string& v) { *out = v; });
  };
  text("--adapter", &c->adapter);
  text("--workload", &c->workload);
  text("--profile", &c->profile);
  text("--describe", describe);
  text("--lat-out", &c->lat_out);
  text("--timeline-out", &c->timeline_out);
  // A library adapter's NAME=PATH@VERSION (runner/cell_exec.cpp), registered here too.
  add_valued(app, "--allocator-lib", "NAME=PATH[@VERSION]", "", [](const std::string& v) {
    const std::string err = register_library_adapter(v);
    if (!err.empty()) fail_usage(err);
  });
  add_number(app, "--threads", &c->threads);
  add_number(app, "--ops", &c->ops, 0, UINT64_MAX);
  add_number(app, "--seed", &c->seed, 0, UINT64_MAX);
  add_number(app, "--warmup", &c->warmup);
  add_number(app, "--lat-sample", &c->lat_sample);
  add_number(app, "--max-replays", &c->max_replays, 1);
  add_number(app, "--settle-ms", &c->settle_ms, 0, 60000);
  add_number(app, "--sample-ms", &c->sample_ms, 1, 60000);
  add_valued(app, "--min-time", "SECONDS", "", [c](const std::string& v) {
    if (!parse_seconds(v, &c->min_time_s))
      fail_usage("malformed number for --min-time: '" + v + "'");
  });
}

// The path of the object that defines `malloc` in this process (dladdr), or
// "" when the dynamic linker cannot tell. `allocbench exec` preloads it.
std::string malloc_library() {
  void* sym = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info;
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

// --describe: the adapter's version, verify() result and malloc's library.
int describe_adapter(const std::string& name) {
  const AdapterInfo* info = find_adapter(name);
  if (info == nullptr) {
    std::vector<std::string> names;
    for (const AdapterInfo& a : adapter_registry()) names.push_back(a.name);
    std::fprintf(stderr, "allocbench_cell: unknown adapter '%s'; choose from {%s}\n", name.c_str(),
                 join(names, ",").c_str());
    return 2;
  }
  auto a = make_adapter(*info);
  std::printf("@ab version=%s\n@ab verify=%s\n@ab malloc_library=%s\n", a->version().c_str(),
              a->verify().c_str(), malloc_library().c_str());
  return 0;
}

}  // namespace
}  // namespace allocbench

int main(int argc, char** argv) {
  using namespace allocbench;
  CLI::App app("The child process of one allocbench cell (internal).", "allocbench_cell");
  app.allow_extras();
  CellConfig c;
  std::string describe;
  declare(&app, &c, &describe);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "allocbench_cell: %s\n", e.what());
    return 2;
  }
  std::string err = extras_problem(app);
  if (!err.empty()) {
    std::fprintf(stderr, "allocbench_cell: %s\n", err.c_str());
    return 2;
  }
  if (!describe.empty()) return describe_adapter(describe);
  CellResult r = run_cell(c);
  std::fflush(stdout);
  write_cell_result(1, r);
  return 0;
}
