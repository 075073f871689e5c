// tox's result JSON (`tox --result-json FILE`, and `testmap envs run`'s for nox): how long
// each environment took, set-up and commands together; and a generated CI job's set-up.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::envs {

using EnvDuration = std::tuple<std::string, double, bool>;  // name, seconds, success

// Whether `text` is such a file (a JSON object with `testenvs`).
bool is_tox_results(const std::string& text);
// Each environment that ran (skipped ones are left out). False with *error when the file
// is not one.
bool read_tox_results(const std::string& text, const std::string& file,
                      std::vector<EnvDuration>* out, Diagnostic* error);

// A generated job's testmap-job.json: its id, which file's jobs (tox, nox, tiers), and the
// seconds from its start to its tests' start.
struct JobSetup {
  std::string job, kind;
  double seconds = 0;
};
// Whether `text` is such a file (a JSON object with `testmap_job`).
bool is_job_setup(const std::string& text);
// False with *error when a value is missing, of another type, negative or over a day.
bool read_job_setup(const std::string& text, const std::string& file, JobSetup* out,
                    Diagnostic* error);

}  // namespace testmap::envs
