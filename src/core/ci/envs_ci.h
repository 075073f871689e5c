// Generated CI for a library's tox environments or nox sessions (docs/envs.md): one job per group,
// each with the Pythons its environments need, only the services their tests need, and its
// environments run in parallel on the runner.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/envs/groups.h"

namespace testmap::ci {

// A group's name as a job id: letters, digits, `-` and `_`, not starting with a digit.
std::string job_id(const std::string& group);

// `tool` is "tox" or "nox"; `options` are those to regenerate the file with, after --envs.
// Each job notes its set-up seconds in testmap-job.json beside the result file.
std::string github_envs_workflow(const std::string& tool, const std::vector<envs::Group>& groups,
                                 const config::Config& cfg, const std::string& options);
// --split-files: one GitHub workflow per job, by file name (tox-JOB.yml, nox-JOB.yml).
std::map<std::string, std::string> github_envs_files(const std::string& tool,
                                                     const std::vector<envs::Group>& groups,
                                                     const config::Config& cfg,
                                                     const std::string& options);
std::string gitlab_envs_ci(const std::string& tool, const std::vector<envs::Group>& groups,
                           const config::Config& cfg, const std::string& options);

}  // namespace testmap::ci
