#include "runner/run_files.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "allocators/common/platform.h"
#include "runner/fileio.h"
#include "workloads/rng.h"

namespace allocbench {
namespace {

// Reads a JSON string literal starting at s[pos] == '"'.
bool read_json_string(const std::string& s, size_t* pos, std::string* out) {
  if (*pos >= s.size() || s[*pos] != '"') return false;
  out->clear();
  for (size_t i = *pos + 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char e = s[++i];
      if (e == 'n')
        *out += '\n';
      else if (e == 't')
        *out += '\t';
      else if (e == 'r')
        *out += '\r';
      else if (e == 'u' && i + 4 < s.size()) {
        *out += static_cast<char>(std::strtol(s.substr(i + 1, 4).c_str(), nullptr, 16));
        i += 4;
      } else
        *out += e;
    } else {
      *out += c;
    }
  }
  return false;
}

// The string value of top-level `"key": "..."` in a run.json, or "" if absent.
std::string json_string_field(const std::string& s, const std::string& key) {
  size_t p = s.find("\"" + key + "\":");
  if (p == std::string::npos) return "";
  p = s.find('"', p + key.size() + 3);
  std::string v;
  if (p == std::string::npos || !read_json_string(s, &p, &v)) return "";
  return v;
}

}  // namespace

std::string config_json(const RunConfig& c) {
  std::ostringstream j;
  j << "{\"allocators\": [";
  for (size_t i = 0; i < c.allocators.size(); ++i) {
    j << (i ? ", " : "") << json_quote(c.allocators[i]);
  }
  j << "], \"workloads\": [";
  for (size_t i = 0; i < c.workloads.size(); ++i) {
    j << (i ? ", " : "") << json_quote(c.workloads[i].first + ":" + c.workloads[i].second);
  }
  j << "], \"threads\": [";
  for (size_t i = 0; i < c.threads.size(); ++i) j << (i ? ", " : "") << c.threads[i];
  j << "], \"reps\": " << c.reps << ", \"seed\": " << c.seed << ", \"ops\": " << c.ops
    << ", \"warmup\": " << c.warmup << ", \"lat_sample\": " << c.lat_sample << ", \"order\": \""
    << (c.shuffled ? "shuffled" : "sequential") << "\", \"timeout_s\": " << c.timeout_s
    << ", \"min_time_s\": " << c.min_time_s
    << ", \"calibrate\": " << (c.calibrate ? "true" : "false")
    << ", \"no_aslr\": " << (c.no_aslr ? "true" : "false") << "}";
  return j.str();
}

// run.json: the run id and the exact arguments, so --resume rebuilds the
// same plan in the same order.
std::string write_run_json(const std::string& path, const std::string& run_id,
                           const std::vector<std::string>& args, const RunConfig& c,
                           const BuildIdentity& build) {
  std::ostringstream out;
  out << "{\n  \"run_id\": " << json_quote(run_id) << ",\n";
  out << "  \"git_commit\": " << json_quote(build.git_commit) << ",\n";
  out << "  \"build_flags\": " << json_quote(build.build_flags) << ",\n";
  out << "  \"binaries\": " << json_quote(build.binaries) << ",\n  \"args\": [";
  for (size_t i = 0; i < args.size(); ++i) out << (i ? ", " : "") << json_quote(args[i]);
  out << "],\n  \"config\": " << config_json(c) << "\n}\n";
  return write_file_atomically(path, out.str());
}

std::string read_run_json(const std::string& path, std::string* run_id,
                          std::vector<std::string>* args, BuildIdentity* build) {
  std::ifstream in(path);
  if (!in) return "cannot resume: " + path + " not found (was the run started with --out there?)";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.empty()) {
    return "cannot resume: " + path + " is empty (the run could not write it, e.g. a full disk); " +
           "start over with --force";
  }
  size_t p = s.find("\"run_id\":");
  if (p == std::string::npos) return path + " is corrupt: no run_id";
  p = s.find('"', p + 9);
  if (p == std::string::npos || !read_json_string(s, &p, run_id)) {
    return path + " is corrupt: bad run_id";
  }
  build->git_commit = json_string_field(s, "git_commit");
  build->build_flags = json_string_field(s, "build_flags");
  build->binaries = json_string_field(s, "binaries");
  p = s.find("\"args\":");
  if (p == std::string::npos) return path + " is corrupt: no args";
  p = s.find('[', p);
  if (p == std::string::npos) return path + " is corrupt: bad args";
  ++p;
  for (;;) {
    while (p < s.size() && (s[p] == ' ' || s[p] == '\n' || s[p] == ',')) ++p;
    if (p < s.size() && s[p] == ']') break;
    std::string a;
    if (!read_json_string(s, &p, &a)) return path + " is corrupt: bad args";
    args->push_back(a);
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
