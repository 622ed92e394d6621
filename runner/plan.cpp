#include "runner/plan.h"

#include <cstdio>
#include <cstring>
#include <map>
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

std::vector<uint32_t> plan_threads(const RunConfig& c, const std::string& workload,
                                   const std::string& profile) {
  // A recorded trace runs with one thread per recorded thread, whatever --threads says.
  const Workload* w = find_workload(workload);
  const uint32_t exact = w != nullptr ? w->requirements(profile).exact_threads : 0;
  return exact != 0 ? std::vector<uint32_t>{exact} : c.threads;
}

std::vector<Cell> build_plan(const RunConfig& c) {
  std::vector<Cell> plan;
  for (uint32_t rep = 0; rep < c.reps; ++rep) {
    for (const auto& w : c.workloads) {
      for (uint32_t t : plan_threads(c, w.first, w.second)) {
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

double estimate_cell_seconds(const RunConfig& c, const Cell& cell) {
  const double replay_s =
      static_cast<double>(c.ops) * static_cast<double>(cell.threads) * kModelNsPerOp * 1e-9;
  const double generate_s = replay_s / 5;
  const double latency_s = c.lat_sample > 0 ? replay_s : 0;
  return kModelCellStartupS + generate_s + c.warmup * replay_s + std::max(c.min_time_s, replay_s) +
         latency_s;
}

std::string group_key(const std::string& workload, const std::string& profile, uint32_t threads) {
  return workload + "|" + profile + "|" + std::to_string(threads);
}

size_t group_count(const RunConfig& c) {
  size_t n = 0;
  for (const auto& w : c.workloads) n += plan_threads(c, w.first, w.second).size();
  return n;
}

std::vector<uint32_t> shard_of_groups(const RunConfig& c, std::vector<std::string>* keys) {
  struct Group {
    size_t index;  // Position in (workload, threads) order: the tie-break.
    double cost;
  };
  std::vector<Group> groups;
  keys->clear();
  for (const auto& w : c.workloads) {
    for (uint32_t t : plan_threads(c, w.first, w.second)) {
      Cell probe{"", w.first, w.second, t, 0};
      const double per_cell = estimate_cell_seconds(c, probe);
      groups.push_back({keys->size(), per_cell * c.reps * c.allocators.size()});
      keys->push_back(group_key(w.first, w.second, t));
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.cost > b.cost; });
  const uint32_t n = std::max<uint32_t>(1, c.shard_count);
  std::vector<double> load(n, 0);
  std::vector<uint32_t> shard(groups.size(), 0);
  for (const Group& g : groups) {
    const uint32_t s =
        static_cast<uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
    shard[g.index] = s;
    load[s] += g.cost;
  }
  return shard;
}

std::vector<Cell> shard_plan(const RunConfig& c) {
  std::vector<Cell> plan = build_plan(c);
  if (c.shard_count <= 1) return plan;
  std::vector<std::string> keys;
  const std::vector<uint32_t> shard = shard_of_groups(c, &keys);
  std::map<std::string, uint32_t> of;
  for (size_t i = 0; i < keys.size(); ++i) of[keys[i]] = shard[i];
  std::vector<Cell> mine;
  for (const Cell& cell : plan) {
    if (of[group_key(cell.workload, cell.profile, cell.threads)] == c.shard_index) {
      mine.push_back(cell);
    }
  }
  return mine;
}

std::string plan_hash(const RunConfig& c) {
  std::string text = "allocators=" + join(c.allocators, ",") + ";workloads=";
  for (const auto& w : c.workloads) text += w.first + ":" + w.second + ",";
  text += ";threads=";
  for (uint32_t t : c.threads) text += std::to_string(t) + ",";
  char settings[256];
  std::snprintf(settings, sizeof settings,
                ";reps=%u;seed=%llu;ops=%llu;warmup=%u;lat_sample=%u;shuffled=%d;min_time=%.9g;"
                "calibrate=%d;no_aslr=%d;shards=%u",
                c.reps, static_cast<unsigned long long>(c.seed),
                static_cast<unsigned long long>(c.ops), c.warmup, c.lat_sample, c.shuffled ? 1 : 0,
                c.min_time_s, c.calibrate ? 1 : 0, c.no_aslr ? 1 : 0, c.shard_count);
  text += settings;
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char ch : text) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace allocbench
