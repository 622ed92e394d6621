#include "runner/progress.h"

#include <unistd.h>

#include <cstdio>

#include "allocators/common/platform.h"

namespace allocbench {

std::string hms(double s) {
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

Progress::Progress(size_t todo)
    : todo_(todo), start_ns_(platform::now_ns()), tty_(isatty(2) != 0) {}

void Progress::cell_done(const Cell& cell, const std::map<std::string, std::string>& row) {
  auto at = [&](const char* k) {
    auto it = row.find(k);
    return it == row.end() ? std::string() : it->second;
  };
  const std::string status = at("status");
  ++ran_;
  ++counts_[status];
  double elapsed = static_cast<double>(platform::now_ns() - start_ns_) / 1e9;
  double eta = elapsed / static_cast<double>(ran_) * static_cast<double>(todo_ - ran_);
  std::string detail;
  if (status == "ok") {
    // Rows of `allocbench exec` have no operations, only times.
    detail = at("mops").empty() ? " " + at("wall_s") + " s" : " " + at("mops") + " Mops/s";
  } else if (!at("error").empty() && !tty_) {
    detail = " (" + at("error") + ")";
  }
  std::fprintf(stderr, "%s[cell %zu/%zu] %s %s/%s t=%u rep=%u: %s%s | elapsed %s ETA %s%s",
               tty_ ? "\r\033[K" : "", ran_, todo_, cell.allocator.c_str(), cell.workload.c_str(),
               cell.profile.c_str(), cell.threads, cell.rep, status.c_str(), detail.c_str(),
               hms(elapsed).c_str(), hms(eta).c_str(), tty_ ? "" : "\n");
}

void Progress::finish() const {
  if (tty_) std::fprintf(stderr, "\n");
}

std::string Progress::summary() const {
  std::string s;
  for (const auto& kv : counts_) s += " " + kv.first + "=" + std::to_string(kv.second);
  return s;
}

}  // namespace allocbench
