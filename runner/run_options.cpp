#include "runner/run_options.h"

#include <cstdlib>

#include "runner/cli_util.h"

namespace allocbench {

// BENCH_TIMEOUT, or 1200 s. Sets *err when the variable is set but invalid.
double default_timeout(std::string* err) {
  const char* v = std::getenv("BENCH_TIMEOUT");
  if (v == nullptr || *v == '\0') return 1200;
  uint64_t t;
  if (!parse_u64(v, &t) || t == 0 || t > kMaxTimeout) {
    *err = "BENCH_TIMEOUT must be a whole number of seconds in 1.." + std::to_string(kMaxTimeout) +
           ", not '" + v + "'";
    return 1200;
  }
  return static_cast<double>(t);
}

// Parses `run` options into `c`. Returns "" or the usage error.
std::string parse_run_args(const std::vector<std::string>& args, RunConfig* c) {
  std::string env_err;
  c->timeout_s = default_timeout(&env_err);
  if (!env_err.empty()) return env_err;
  std::string allocs = "all", works = "all";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--force") {
      c->force = true;
      continue;
    }
    if (a == "--resume") {
      c->resume = true;
      continue;
    }
    if (a == "--strict") {
      c->strict = true;
      continue;
    }
    if (a == "--no-calibrate") {
      c->calibrate = false;
      continue;
    }
    if (a == "--no-aslr") {
      c->no_aslr = true;
      continue;
    }
    if (a == "--allow-rebuild") {
      c->allow_rebuild = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return "unexpected argument '" + a + "'";
    if (i + 1 >= args.size()) return a + " needs a value";
    const std::string& v = args[++i];
    bool ok = true;
    if (a == "--allocators")
      allocs = v;
    else if (a == "--workloads")
      works = v;
    else if (a == "--out")
      c->out = v;
    else if (a == "--reps") {
      ok = parse_u32(v, &c->reps);
      if (ok && (c->reps == 0 || c->reps > kMaxReps)) {
        return "--reps must be in 1.." + std::to_string(kMaxReps) + ", not " + v;
      }
    } else if (a == "--seed")
      ok = parse_u64(v, &c->seed);
    else if (a == "--ops") {
      ok = parse_u64(v, &c->ops);
      if (ok && (c->ops == 0 || c->ops > kMaxOps)) {
        return "--ops must be in 1.." + std::to_string(kMaxOps) + ", not " + v;
      }
    } else if (a == "--warmup") {
      ok = parse_u32(v, &c->warmup);
      if (ok && c->warmup > kMaxWarmup)
        return "--warmup must be in 0.." + std::to_string(kMaxWarmup);
    } else if (a == "--lat-sample") {
      ok = parse_u32(v, &c->lat_sample);
      if (ok && c->lat_sample > kMaxLatSample) {
        return "--lat-sample must be in 0.." + std::to_string(kMaxLatSample);
      }
    } else if (a == "--min-time")
      ok = parse_seconds(v, &c->min_time_s);
    else if (a == "--pin") {
      c->pin.clear();
      for (const std::string& t : split(v, ',')) {
        uint32_t cpu;
        if (!parse_u32(t, &cpu) || cpu >= 4096) return "malformed CPU number '" + t + "' in --pin";
        push_unique(&c->pin, static_cast<int>(cpu));
      }
      if (c->pin.empty()) return "--pin needs at least one CPU";
    } else if (a == "--timeout") {
      uint64_t t;
      ok = parse_u64(v, &t);
      if (ok && (t == 0 || t > kMaxTimeout)) {
        return "--timeout must be in 1.." + std::to_string(kMaxTimeout) + " seconds, not " + v;
      }
      c->timeout_s = static_cast<double>(t);
    } else if (a == "--order") {
      if (v != "sequential" && v != "shuffled") {
        return "invalid --order '" + v + "'; choose from {sequential,shuffled}";
      }
      c->shuffled = v == "shuffled";
    } else if (a == "--threads") {
      c->threads.clear();
      for (const std::string& t : split(v, ',')) {
        uint32_t n;
        if (!parse_u32(t, &n) || n == 0 || n > 1024) {
          return "malformed thread count '" + t + "' (each must be in 1..1024)";
        }
        push_unique(&c->threads, n);
      }
      if (c->threads.empty()) return "--threads needs at least one count";
    } else {
      return "unknown option '" + a + "'";
    }
    if (!ok) return "malformed number for " + a + ": '" + v + "'";
  }
  if (c->out.empty()) return "run needs --out DIR";
  if (c->resume) return "";  // The matrix comes from DIR/run.json.

  return resolve_matrix(allocs, works, c);
}

}  // namespace allocbench
