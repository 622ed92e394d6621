#include "runner/context.h"

#include <dirent.h>
#include <gnu/libc-version.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "allocators/common/platform.h"
#include "runner/fileio.h"

#ifndef ALLOCBENCH_SOURCE_DIR
#define ALLOCBENCH_SOURCE_DIR "."
#endif
#ifndef ALLOCBENCH_BUILD_FLAGS
#define ALLOCBENCH_BUILD_FLAGS ""
#endif

namespace allocbench {
namespace {

// Output of a shell command, trailing whitespace removed ("" on failure).
std::string command_output(const std::string& cmd) {
  FILE* f = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 10, "model name") == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// The first processor's vendor, family, model, stepping and cache size from
// /proc/cpuinfo. "model name" alone can be the same string on different parts
// (a VM often shows just "AMD EPYC"), and runs on two of them do not compare.
std::string cpu_id() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string vendor, family, model, stepping, cache;
  while (std::getline(in, line) && !line.empty()) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "vendor_id") vendor = value;
    else if (key == "cpu family") family = value;
    else if (key == "model") model = value;
    else if (key == "stepping") stepping = value;
    else if (key == "cache size") cache = value;
  }
  if (vendor.empty() && family.empty() && model.empty()) return "unknown";
  std::string out = vendor + " family " + family + " model " + model + " stepping " + stepping;
  if (!cache.empty()) out += ", cache " + cache;
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace

std::string json_text(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string json_quote(const std::string& s) { return json_text(nlohmann::ordered_json(s), -1); }

std::vector<std::string> lock_mismatches(const std::string& lock_path) {
  std::vector<std::string> out;
  std::ifstream in(lock_path);
  if (!in) {
    out.push_back("toolchain.lock not found at " + lock_path);
    return out;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string component, package, locked, optional;
    if (!(fields >> component >> package >> locked)) continue;
    fields >> optional;  // "optional": not installed is no mismatch (scale-out tools).
    std::string installed = command_output("dpkg-query -W -f='${Version}' " + shell_quote(package));
    if (installed.empty() && optional == "optional") continue;
    if (installed.empty()) installed = "not installed";
    if (installed != locked) {
      out.push_back(component + " (" + package + "): locked " + locked + ", installed " +
                    installed);
    }
  }
  return out;
}

std::string iso_time_now() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

BuildIdentity build_identity(const std::string& exe_dir) {
  const std::string src = ALLOCBENCH_SOURCE_DIR;
  BuildIdentity id;
  id.git_commit = command_output("git -C " + shell_quote(src) + " rev-parse HEAD");
  if (id.git_commit.empty()) id.git_commit = "unknown";
  if (!command_output("git -C " + shell_quote(src) + " status --porcelain --untracked-files=no")
           .empty()) {
    id.git_commit += "-dirty";
  }
  id.build_flags = ALLOCBENCH_BUILD_FLAGS;
  // Every executable the run starts: the CLI and the cell binaries.
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<std::string> names;
  if (DIR* d = opendir(exe_dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "allocbench" || n.rfind("allocbench_cell", 0) == 0) names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    struct stat st;
    if (stat((exe_dir + "/" + n).c_str(), &st) != 0) continue;
    for (char c : n + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime)) {
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  id.binaries = buf;
  return id;
}

namespace {

// A sysfs or procfs setting as one line, or "unreadable".
std::string setting(const char* path) {
  char buf[512];
  if (platform::read_text_file(path, buf, sizeof buf) < 0) return "unreadable";
  return buf;
}

}  // namespace

std::string host_name() {
  struct utsname u;
  if (uname(&u) != 0 || u.nodename[0] == '\0') return "unknown";
  return u.nodename;
}

std::string write_context(const std::string& path, const RunContext& ctx) {
  struct utsname u;
  uname(&u);
  const std::string src = ALLOCBENCH_SOURCE_DIR;
  std::string commit = command_output("git -C " + shell_quote(src) + " rev-parse HEAD");
  std::string porcelain = command_output("git -C " + shell_quote(src) + " status --porcelain");
  std::vector<std::string> mismatches = lock_mismatches(src + "/toolchain.lock");

  nlohmann::ordered_json j;
  j["run_id"] = ctx.run_id;
  j["start_time"] = ctx.start_time;
  j["command_line"] = ctx.command_line;
  j["cpu_model"] = cpu_model();
  j["cpu_id"] = cpu_id();
  j["cores"] = platform::cpu_count();
  j["page_size"] = platform::page_size();
  j["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.version;
  j["machine"] = u.machine;
  j["compiler"] = std::string("g++ ") + __VERSION__;
  j["glibc"] = gnu_get_libc_version();
  j["build_flags"] = ALLOCBENCH_BUILD_FLAGS;
  j["git_commit"] = commit.empty() ? "unknown" : commit;
  j["git_dirty"] = !porcelain.empty();
  j["thp_enabled"] = setting("/sys/kernel/mm/transparent_hugepage/enabled");
  j["thp_defrag"] = setting("/sys/kernel/mm/transparent_hugepage/defrag");
  j["cpu_governor"] = setting("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  j["loadavg_at_start"] = setting("/proc/loadavg");
  j["pinned_cpus"] = ctx.pinned_cpus;
  j["aslr_disabled"] = ctx.aslr_disabled;
  j["notes"] = ctx.notes;
  j["host"] = ctx.host;
  j["shard"] = ctx.shard;
  j["plan_hash"] = ctx.plan_hash;
  j["allocator_versions"] = nlohmann::ordered_json::object();
  for (const auto& kv : ctx.allocator_versions) j["allocator_versions"][kv.first] = kv.second;
  j["lock_mismatches"] = mismatches;
  j["config"] = ctx.config.is_null() ? nlohmann::ordered_json::object() : ctx.config;
  return write_file_atomically(path, json_text(j, 2) + "\n");
}

std::string read_context(const std::string& path, RunContext* ctx) {
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(in, nullptr, false);
  if (!j.is_object()) return path + " is not a JSON object";
  try {
    ctx->run_id = j.value("run_id", "");
    ctx->start_time = j.value("start_time", "");
    ctx->command_line = j.value("command_line", "");
    ctx->pinned_cpus = j.value("pinned_cpus", "");
    ctx->aslr_disabled = j.value("aslr_disabled", false);
    ctx->notes = j.value("notes", "");
    ctx->host = j.value("host", "");
    ctx->shard = j.value("shard", "");
    ctx->plan_hash = j.value("plan_hash", "");
    ctx->git_commit = j.value("git_commit", "");
    ctx->build_flags = j.value("build_flags", "");
    ctx->git_dirty = j.value("git_dirty", false);
    ctx->allocator_versions.clear();
    const nlohmann::ordered_json versions =
        j.value("allocator_versions", nlohmann::ordered_json::object());
    for (const auto& kv : versions.items()) {
      ctx->allocator_versions[kv.key()] = kv.value().get<std::string>();
    }
    ctx->config = j.value("config", nlohmann::ordered_json::object());
  } catch (const nlohmann::ordered_json::exception& e) {
    return path + " is corrupt: " + e.what();
  }
  return "";
}

}  // namespace allocbench
