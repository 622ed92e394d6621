#include "runner/merge_command.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "runner/cli_common.h"
#include "runner/cli_options.h"
#include "runner/cli_util.h"
#include "runner/context.h"
#include "runner/csv.h"
#include "runner/fileio.h"
#include "runner/plan.h"
#include "runner/results.h"
#include "runner/run_dir.h"
#include "runner/run_files.h"
#include "runner/run_options.h"

namespace allocbench {

const char* const kMergeUsage =
    "usage: allocbench merge [--allow-partial] [--force] --out DIR SHARD_DIR...\n";

const char* const kMergeFooter =
    "Every SHARD_DIR is the --out of one `allocbench run --shard I/N` of the same plan.\n"
    "DIR gets results.csv (every shard's rows, each with its host), phases.csv, latency/,\n"
    "merge.json, and each shard's context and run.json under hosts/shard-I-of-N/.\n"
    "\n"
    "Exit status: 0 when merged; 2 when the shards differ in plan hash, git commit or\n"
    "build flags, a shard or a cell comes twice, or cells are missing (listed with their\n"
    "shards) without --allow-partial; 1 on an I/O error.\n";

void add_merge_options(CLI::App* app, MergeArgs* a) {
  add_valued(app, "--out", "DIR", "the merged run directory",
             [a](const std::string& v) { a->out = v; });
  app->add_flag("--allow-partial", a->allow_partial,
                "merge although cells are missing (they are listed, and recorded\n"
                "in merge.json)");
  app->add_flag("--force", a->force, "replace a run in DIR (it is moved to DIR.prev)");
  app->add_option("dirs", a->dirs, "the shard directories")->option_text("SHARD_DIR...");
}

std::string finish_merge_options(const CLI::App& app, const MergeArgs& a) {
  std::string err = extras_problem(app);
  if (!err.empty()) return err;
  if (a.out.empty()) return "merge needs --out DIR";
  if (a.dirs.empty()) return "merge needs at least one SHARD_DIR";
  return "";
}

namespace {

using Row = std::map<std::string, std::string>;

// One shard directory as read: its run.json, its contexts, its rows.
struct Shard {
  std::string dir;
  std::string run_id;
  std::vector<std::string> args;     // run.json's: the run's arguments.
  BuildIdentity build;               // run.json's.
  RunConfig config;                  // Parsed from args (the shard's I/N included).
  std::vector<RunContext> contexts;  // context.json, then each context.resume-N.json.
  std::vector<std::string> context_files;
  CsvContents csv;
};

std::string shard_name(const RunConfig& c) {
  return std::to_string(c.shard_index) + "/" + std::to_string(c.shard_count);
}

// Reads `dir` into *s. Returns "" or why it is not a shard directory.
std::string read_shard(const std::string& dir, Shard* s) {
  s->dir = dir;
  std::string err = read_run_json(dir + "/run.json", &s->run_id, &s->args, &s->build);
  if (err.empty()) err = parse_run_args(s->args, &s->config);
  if (!err.empty()) return dir + ": " + err;
  for (int k = 0;; ++k) {
    const std::string name =
        k == 0 ? "context.json" : "context.resume-" + std::to_string(k) + ".json";
    if (k > 0 && !file_exists(dir + "/" + name)) break;
    RunContext ctx;
    err = read_context(dir + "/" + name, &ctx);
    if (!err.empty()) return err;
    if (ctx.plan_hash.empty()) {
      return dir + "/" + name + " has no plan_hash (written by an allocbench without --shard)";
    }
    s->contexts.push_back(ctx);
    s->context_files.push_back(name);
  }
  err = csv_read(dir + "/results.csv", &s->csv);
  if (err.empty() && s->csv.truncated_tail) {
    err = dir +
          "/results.csv ends in a half-written row; finish the shard with "
          "`allocbench run --resume --out " +
          dir + "` first";
  }
  return err;
}

// What identifies a build, as one context records it.
std::string build_of(const RunContext& c) {
  return "git commit " + c.git_commit + (c.git_dirty ? " (uncommitted changes)" : "") +
         ", build flags '" + c.build_flags + "'";
}

// Every shard (and each of its resumes) must come from one plan and one
// build, and no shard may come twice. Returns the problems, one a line.
std::vector<std::string> agreement_problems(const std::vector<Shard>& shards) {
  std::vector<std::string> out;
  const RunContext& ref = shards[0].contexts[0];
  std::map<uint32_t, std::string> seen;
  for (const Shard& s : shards) {
    for (size_t k = 0; k < s.contexts.size(); ++k) {
      const RunContext& c = s.contexts[k];
      const std::string where = s.dir + "/" + s.context_files[k];
      if (c.plan_hash != ref.plan_hash) {
        out.push_back(where + ": plan hash " + c.plan_hash + ", but " + shards[0].dir + " has " +
                      ref.plan_hash + " (other arguments or another shard count)");
      }
      if (c.git_commit != ref.git_commit || c.git_dirty != ref.git_dirty) {
        out.push_back(where + ": " + build_of(c) + ", but " + shards[0].dir + " has " +
                      build_of(ref) + "; build every node from the same commit");
      } else if (c.build_flags != ref.build_flags) {
        out.push_back(where + ": build flags '" + c.build_flags + "', but " + shards[0].dir +
                      " has '" + ref.build_flags + "'");
      }
    }
    auto it = seen.emplace(s.config.shard_index, s.dir);
    if (!it.second) {
      out.push_back("shard " + shard_name(s.config) + " is given twice: " + it.first->second +
                    " and " + s.dir);
    }
  }
  return out;
}

std::string row_key(const Row& r) {
  uint32_t t = 0, rep = 0;
  parse_u32(r.at("threads"), &t);
  parse_u32(r.at("repetition"), &rep);
  return Cell{r.at("allocator"), r.at("workload"), r.at("profile"), t, rep}.key();
}

// Rows of every shard, each cell once and in the plan; `problems` gets
// duplicates and strangers. `present` gets the keys.
std::string gather_rows(const std::vector<Shard>& shards, const std::set<std::string>& plan,
                        std::vector<std::string>* problems, std::set<std::string>* present) {
  std::map<std::string, std::string> from;  // key -> shard dir
  std::string text = csv_header();
  for (const Shard& s : shards) {
    for (const Row& r : s.csv.rows) {
      const std::string key = row_key(r);
      if (plan.count(key) == 0) {
        problems->push_back(s.dir + ": cell " + key + " is not in the plan");
        continue;
      }
      auto it = from.emplace(key, s.dir);
      if (!it.second) {
        problems->push_back("cell " + key + " is in both " + it.first->second + " and " + s.dir);
        continue;
      }
      present->insert(key);
      text += csv_row(r);
    }
  }
  return text;
}

// The plan's cells that no shard has, one line per shard that misses any.
std::vector<std::string> missing_cells(const std::vector<Shard>& shards,
                                       const std::set<std::string>& present,
                                       nlohmann::ordered_json* record) {
  RunConfig c = shards[0].config;
  std::map<uint32_t, std::string> dir_of;
  for (const Shard& s : shards) dir_of[s.config.shard_index] = s.dir;
  std::vector<std::string> lines;
  *record = nlohmann::ordered_json::array();
  for (uint32_t i = 0; i < c.shard_count; ++i) {
    c.shard_index = i;
    std::vector<std::string> missing;
    const std::vector<Cell> cells = shard_plan(c);
    for (const Cell& cell : cells) {
      if (present.count(cell.key()) == 0) missing.push_back(cell.key());
    }
    if (missing.empty()) continue;
    const auto it = dir_of.find(i);
    std::string line = "shard " + shard_name(c) + " (" +
                       (it == dir_of.end() ? std::string("not given") : it->second) +
                       "): " + std::to_string(missing.size()) + " of " +
                       std::to_string(cells.size()) + " cells missing:";
    for (size_t k = 0; k < missing.size() && k < 8; ++k) line += " " + missing[k];
    if (missing.size() > 8) line += " ...";
    lines.push_back(line);
    record->push_back({{"shard", shard_name(c)}, {"cells", missing}});
  }
  return lines;
}

}  // namespace

namespace {

using Json = nlohmann::ordered_json;

std::string copy_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  return ec ? "cannot copy " + from + " to " + to + ": " + ec.message() : "";
}

std::string make_dir(const std::string& d) {
  std::error_code ec;
  std::filesystem::create_directories(d, ec);
  return ec ? "cannot create " + d + ": " + ec.message() : "";
}

// phases.csv of every shard under one header, and every latency file.
std::string merge_side_files(const std::vector<Shard>& shards, const std::string& out) {
  std::string phases;
  for (const Shard& s : shards) {
    std::ifstream in(s.dir + "/phases.csv");
    std::string line;
    for (bool first = true; std::getline(in, line); first = false) {
      if (!(first && line + "\n" == kPhasesHeader)) phases += line + "\n";
    }
    const std::string lat = s.dir + "/latency";
    if (!is_dir(lat)) continue;
    std::string err = make_dir(out + "/latency");
    for (const auto& e : std::filesystem::directory_iterator(lat)) {
      if (!err.empty()) return err;
      err = copy_file(e.path().string(), out + "/latency/" + e.path().filename().string());
    }
    if (!err.empty()) return err;
  }
  if (phases.empty()) return "";
  return write_file_atomically(out + "/phases.csv", std::string(kPhasesHeader) + phases);
}

// hosts/shard-I-of-N/: each shard's run.json and contexts, as written.
std::string keep_contexts(const std::vector<Shard>& shards, const std::string& out, Json* list) {
  *list = Json::array();
  for (const Shard& s : shards) {
    const std::string sub = "hosts/shard-" + std::to_string(s.config.shard_index) + "-of-" +
                            std::to_string(s.config.shard_count);
    std::string err = make_dir(out + "/" + sub);
    if (err.empty()) err = copy_file(s.dir + "/run.json", out + "/" + sub + "/run.json");
    for (const std::string& f : s.context_files) {
      if (err.empty()) err = copy_file(s.dir + "/" + f, out + "/" + sub + "/" + f);
    }
    if (!err.empty()) return err;
    list->push_back({{"shard", shard_name(s.config)},
                     {"host", s.contexts[0].host},
                     {"run_id", s.run_id},
                     {"dir", s.dir},
                     {"rows", s.csv.rows.size()},
                     {"context", sub + "/context.json"}});
  }
  return "";
}

// The arguments of the whole plan into `dir`: the shard's, less --shard
// and its --out.
std::vector<std::string> unsharded_args(const std::vector<std::string>& args,
                                        const std::string& dir) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--shard" || args[i] == "--out") {
      ++i;
      continue;
    }
    if (args[i].rfind("--shard=", 0) != 0 && args[i].rfind("--out=", 0) != 0) {
      out.push_back(args[i]);
    }
  }
  out.push_back("--out");
  out.push_back(dir);
  return out;
}

// context.json (the first shard's, naming every host), run.json (the whole
// plan's arguments, for the report's "reproduce" line) and merge.json.
std::string write_merge_records(const std::vector<Shard>& shards, const std::string& out,
                                const Json& shard_list, const Json& missing,
                                const std::string& command_line) {
  std::ifstream in(shards[0].dir + "/context.json");
  Json ctx = Json::parse(in, nullptr, false);
  std::set<std::string> hosts;
  for (const Shard& s : shards) hosts.insert(s.contexts[0].host);
  const std::string host_list = join(std::vector<std::string>(hosts.begin(), hosts.end()), ",");
  ctx["host"] = host_list;
  ctx["shard"] = "merged";
  ctx["notes"] = "merged from " + std::to_string(shards.size()) + " shard(s) on host(s) " +
                 host_list + "; the machine fields are " + shards[0].dir +
                 "'s, every host's context is under hosts/";
  ctx["merged_from"] = shard_list;
  std::string err = write_file_atomically(out + "/context.json", json_text(ctx, 2) + "\n");
  RunConfig whole = shards[0].config;
  whole.shard_count = 1;
  whole.shard_index = 0;
  if (err.empty()) {
    err = write_run_json(out + "/run.json", "merged-" + make_run_id(),
                         unsharded_args(shards[0].args, out), whole, shards[0].build);
  }
  Json m;
  m["plan_hash"] = shards[0].contexts[0].plan_hash;
  m["shard_count"] = shards[0].config.shard_count;
  m["git_commit"] = shards[0].contexts[0].git_commit;
  m["git_dirty"] = shards[0].contexts[0].git_dirty;
  m["build_flags"] = shards[0].contexts[0].build_flags;
  m["command_line"] = command_line;
  m["merged_at"] = iso_time_now();
  m["shards"] = shard_list;
  m["missing"] = missing;
  if (err.empty()) err = write_file_atomically(out + "/merge.json", json_text(m, 2) + "\n");
  return err;
}

int refuse(const std::string& what, const std::vector<std::string>& problems) {
  std::fprintf(stderr, "allocbench: merge: %s:\n", what.c_str());
  for (const std::string& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
  return kExitUsage;
}

// Reads and checks the shards; `shards` comes back in shard order.
int read_shards(const MergeArgs& a, std::vector<Shard>* shards) {
  for (const std::string& d : a.dirs) {
    Shard s;
    std::string err = read_shard(d, &s);
    if (!err.empty()) return usage_error("merge: " + err);
    shards->push_back(std::move(s));
  }
  std::stable_sort(shards->begin(), shards->end(), [](const Shard& x, const Shard& y) {
    return x.config.shard_index < y.config.shard_index;
  });
  const std::vector<std::string> problems = agreement_problems(*shards);
  if (!problems.empty()) return refuse("the shards do not belong to one run", problems);
  return kContinue;
}

}  // namespace

int cmd_merge(const MergeArgs& a, const std::string& command_line) {
  std::vector<Shard> shards;
  if (int rc = read_shards(a, &shards); rc != kContinue) return rc;
  RunConfig whole = shards[0].config;
  whole.shard_count = 1;
  std::set<std::string> plan;
  for (const Cell& cell : build_plan(whole)) plan.insert(cell.key());
  std::vector<std::string> problems;
  std::set<std::string> present;
  const std::string rows = gather_rows(shards, plan, &problems, &present);
  if (!problems.empty()) return refuse("cells that cannot be merged", problems);
  Json missing_record;
  const std::vector<std::string> missing = missing_cells(shards, present, &missing_record);
  if (!missing.empty() && !a.allow_partial) {
    problems = missing;
    problems.push_back(
        "finish those shards (allocbench run --resume --out SHARD_DIR, or run the "
        "shard not given), or merge them anyway with --allow-partial");
    return refuse(std::to_string(plan.size() - present.size()) + " of " +
                      std::to_string(plan.size()) + " cells are missing",
                  problems);
  }
  for (const std::string& m : missing) std::fprintf(stderr, "allocbench: merge: %s\n", m.c_str());
  int lock_fd = -1;
  const std::string refusal = a.out + " already holds a run; use --force to replace it";
  if (int rc = prepare_run_dir(a.out, a.force, refusal, &lock_fd); rc != kContinue) return rc;
  Json shard_list;
  std::string err = write_file_atomically(a.out + "/results.csv", rows);
  if (err.empty()) err = merge_side_files(shards, a.out);
  if (err.empty()) err = keep_contexts(shards, a.out, &shard_list);
  if (err.empty())
    err = write_merge_records(shards, a.out, shard_list, missing_record, command_line);
  if (!err.empty()) return io_error("merge: " + err);
  std::fprintf(stderr,
               "allocbench: merged %zu of %zu cells from %zu shard(s) into %s/results.csv\n",
               present.size(), plan.size(), shards.size(), a.out.c_str());
  return 0;
}

}  // namespace allocbench
