// run.json: the run id, the build that started the run and its exact
// arguments, so --resume rebuilds the same plan in the same order.
#ifndef ALLOCBENCH_RUNNER_RUN_FILES_H_
#define ALLOCBENCH_RUNNER_RUN_FILES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner/context.h"
#include "runner/plan.h"

namespace allocbench {

// A new run id: the UTC start time and 16 random bits ("20240101T120000Z-1a2b").
std::string make_run_id();

// The run's matrix as a JSON object (context.json's and run.json's "config").
nlohmann::ordered_json config_json(const RunConfig& c);

// Writes run.json atomically. Returns "" or the error with the errno.
std::string write_run_json(const std::string& path, const std::string& run_id,
                           const std::vector<std::string>& args, const RunConfig& c,
                           const BuildIdentity& build);

// Reads run.json (as written by any version: only run_id and args are
// required; a missing build field reads as ""). Returns "" or why it cannot
// be resumed (missing, empty, corrupt).
std::string read_run_json(const std::string& path, std::string* run_id,
                          std::vector<std::string>* args, BuildIdentity* build);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_RUN_FILES_H_
