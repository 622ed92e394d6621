#include "runner/run_files.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "allocators/common/platform.h"
#include "runner/fileio.h"
#include "workloads/rng.h"

namespace allocbench {

using Json = nlohmann::ordered_json;

Json config_json(const RunConfig& c) {
  Json j;
  j["allocators"] = c.allocators;
  j["workloads"] = Json::array();
  for (const auto& w : c.workloads) j["workloads"].push_back(w.first + ":" + w.second);
  j["threads"] = c.threads;
  j["reps"] = c.reps;
  j["seed"] = c.seed;
  j["ops"] = c.ops;
  j["warmup"] = c.warmup;
  j["lat_sample"] = c.lat_sample;
  j["order"] = c.shuffled ? "shuffled" : "sequential";
  j["timeout_s"] = static_cast<uint64_t>(c.timeout_s);  // Whole seconds (--timeout).
  j["min_time_s"] = c.min_time_s;
  j["settle_ms"] = c.settle_ms;
  j["timeline"] = c.timeline;
  if (c.timeline) j["sample_ms"] = c.sample_ms;
  j["calibrate"] = c.calibrate;
  j["no_aslr"] = c.no_aslr;
  return j;
}

std::string write_run_json(const std::string& path, const std::string& run_id,
                           const std::vector<std::string>& args, const RunConfig& c,
                           const BuildIdentity& build) {
  Json j;
  j["run_id"] = run_id;
  j["git_commit"] = build.git_commit;
  j["build_flags"] = build.build_flags;
  j["binaries"] = build.binaries;
  j["plan_hash"] = plan_hash(c);
  j["shard"] = std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count);
  j["host"] = host_name();
  j["args"] = args;
  j["config"] = config_json(c);
  return write_file_atomically(path, json_text(j, 2) + "\n");
}

namespace {

// The string field `key` of `j`: "" when absent; false when not a string.
bool string_field(const Json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) {
    out->clear();
    return true;
  }
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

}  // namespace

std::string read_run_json(const std::string& path, std::string* run_id,
                          std::vector<std::string>* args, BuildIdentity* build) {
  std::ifstream in(path);
  if (!in) return "cannot resume: " + path + " not found (was the run started with --out there?)";
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) {
    return "cannot resume: " + path + " is empty (the run could not write it, e.g. a full disk); " +
           "start over with --force";
  }
  Json j = Json::parse(ss.str(), nullptr, false);
  if (!j.is_object()) return path + " is corrupt: not a JSON object";
  if (!j.contains("run_id")) return path + " is corrupt: no run_id";
  if (!string_field(j, "run_id", run_id) || run_id->empty()) {
    return path + " is corrupt: bad run_id";
  }
  if (!string_field(j, "git_commit", &build->git_commit) ||
      !string_field(j, "build_flags", &build->build_flags) ||
      !string_field(j, "binaries", &build->binaries)) {
    return path + " is corrupt: the build identity is not text";
  }
  auto a = j.find("args");
  if (a == j.end()) return path + " is corrupt: no args";
  if (!a->is_array()) return path + " is corrupt: bad args";
  for (const Json& v : *a) {
    if (!v.is_string()) return path + " is corrupt: bad args";
    args->push_back(v.get<std::string>());
  }
  return "";
}

std::string make_run_id() {
  char buf[64];
  uint64_t r = mix64(platform::now_ns() ^ (static_cast<uint64_t>(getpid()) << 32));
  std::string t = iso_time_now();
  std::string compact;
  for (char c : t) {
    if (c != '-' && c != ':') compact += c;
  }
  std::snprintf(buf, sizeof buf, "%s-%04llx", compact.c_str(),
                static_cast<unsigned long long>(r & 0xffff));
  return buf;
}

}  // namespace allocbench
