#include "runner/plan.h"

#include <cstring>
#include <set>

#include "adapters/adapter.h"
#include "runner/cli_util.h"
#include "workloads/rng.h"
#include "workloads/workload.h"

namespace allocbench {

std::string Cell::key() const {
  return allocator + "|" + workload + "|" + profile + "|" + std::to_string(threads) + "|" +
         std::to_string(rep);
}

std::vector<std::string> adapter_names() {
  std::vector<std::string> out;
  for (const AdapterInfo& a : adapter_registry()) out.push_back(a.name);
  return out;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> out;
  for (const Workload* w : workload_registry()) out.push_back(w->name());
  return out;
}

namespace {

std::string resolve_allocators(const std::string& list, RunConfig* c) {
  std::vector<std::string> names;
  if (list == "all") {
    for (const AdapterInfo& a : adapter_registry()) {
      if (std::strcmp(a.family, "test") != 0) names.push_back(a.name);
    }
  } else {
    names = split(list, ',');
  }
  for (const std::string& n : names) {
    if (find_adapter(n) == nullptr) {
      return "unknown allocator '" + n + "'; choose from {" + join(adapter_names(), ",") + "}";
    }
  }
  if (names.empty()) return "--allocators needs at least one name";
  c->allocators.clear();
  for (const std::string& n : names) push_unique(&c->allocators, n);
  // The calibration runs on every (workload, profile, threads) of the run.
  if (c->calibrate) push_unique(&c->allocators, std::string("null"));
  return "";
}

std::string resolve_workloads(const std::string& list, RunConfig* c) {
  // "all" (alone or in a list) names every synthetic workload with all its profiles.
  std::vector<std::string> specs;
  std::set<std::string> from_all;
  for (const std::string& s : split(list, ',')) {
    if (s != "all") {
      specs.push_back(s);
      continue;
    }
    for (const std::string& n : workload_names()) {
      specs.push_back(n);
      from_all.insert(n);
    }
  }
  if (specs.empty()) return "--workloads needs at least one name";
  c->workloads.clear();
  for (const std::string& spec : specs) {
    size_t colon = spec.find(':');
    std::string name = spec.substr(0, colon);
    const Workload* w = find_workload(name);
    if (w == nullptr) {
      return "unknown workload '" + name + "'; choose from {" + join(workload_names(), ",") + "}";
    }
    if (colon == std::string::npos) {
      if (w->profiles().empty() && from_all.count(name) == 0) {
        return "workload " + name + " needs a file: " + name + ":PATH (" + w->description() + ")";
      }
      for (const std::string& p : w->profiles()) push_unique(&c->workloads, {name, p});
      continue;
    }
    std::string prof = spec.substr(colon + 1);
    std::string perr = w->profile_error(prof);
    if (!perr.empty()) return perr;
    push_unique(&c->workloads, {name, prof});
  }
  return "";
}

}  // namespace

std::string resolve_matrix(const std::string& allocators, const std::string& workloads,
                           RunConfig* c) {
  std::string err = resolve_allocators(allocators, c);
  if (err.empty()) err = resolve_workloads(workloads, c);
  if (!err.empty()) return err;
  const double cells = static_cast<double>(c->reps) * static_cast<double>(c->workloads.size()) *
                       static_cast<double>(c->threads.size()) *
                       static_cast<double>(c->allocators.size());
  if (cells > static_cast<double>(kMaxPlanCells)) {
    return "the plan has " + std::to_string(static_cast<uint64_t>(cells)) + " cells; at most " +
           std::to_string(kMaxPlanCells) + " are allowed (fewer --reps, allocators or workloads)";
  }
  return "";
}

std::vector<Cell> build_plan(const RunConfig& c) {
  std::vector<Cell> plan;
  for (uint32_t rep = 0; rep < c.reps; ++rep) {
    for (const auto& w : c.workloads) {
      // A recorded trace runs with one thread per recorded thread, whatever --threads says.
      const Workload* wl = find_workload(w.first);
      const uint32_t exact = wl != nullptr ? wl->requirements(w.second).exact_threads : 0;
      const std::vector<uint32_t> exact_list{exact};
      for (uint32_t t : exact != 0 ? exact_list : c.threads) {
        for (const std::string& a : c.allocators) {
          plan.push_back(Cell{a, w.first, w.second, t, rep});
        }
      }
    }
  }
  if (c.shuffled) {
    Rng rng(mix64(c.seed ^ 0x5eed0fde11ull));
    for (size_t i = plan.size(); i > 1; --i) std::swap(plan[i - 1], plan[rng.below(i)]);
  }
  return plan;
}

}  // namespace allocbench
