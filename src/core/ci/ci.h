// Generated CI (docs/ci.md): one job per group of tiers a plan gives machines to, a matrix
// over its machines, the services the tiers need, and a check that the committed file
// still says what would be generated.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/plan/planner.h"

namespace testmap::ci {

struct Job {
  std::string name;                   // the plan's tier name for the machines
  std::string project;                // a monorepo's project: the job runs in its directory
  std::vector<std::string> tiers;     // the classification's tiers it runs
  std::vector<std::string> services;  // started for every machine of the job
  size_t machines = 0;
};

std::vector<Job> jobs_of(const plan::Plan& plan);

// The configs by project directory: "" is the repository's (the last job's set-up, and a
// single project's everything), a monorepo's projects' own give their jobs' services and
// install commands, run in the project's directory.
using Configs = std::map<std::string, config::Config>;

// With `affected`, pull (merge) requests run only the tests their change can break
// (--testmap-affected), and other pipelines run everything with --testmap-deps, whose
// recording every machine exports for the last job to gather into the cached map.
std::string github_workflow(const std::vector<Job>& jobs, const Configs& cfgs, int workers,
                            bool affected = false);
// GitLab's merge requests cannot size a matrix while the pipeline runs: with `affected`,
// their pipeline runs `testmap ci gitlab --merge-request<plan_args>` and triggers the child
// pipeline it writes; other pipelines run the jobs of this file.
std::string gitlab_ci(const std::vector<Job>& jobs, const Configs& cfgs, int workers,
                      bool affected = false, const std::string& plan_args = "");
// That child pipeline: each job with its machines for this change (`shards`, by job name,
// "K/M" each; a job with none is left out), running --testmap-affected.
std::string gitlab_merge_request(const std::vector<Job>& jobs, const Configs& cfgs, int workers,
                                 const std::map<std::string, std::vector<std::string>>& shards);

// A YAML scalar in double quotes (JSON's escaping is YAML's).
std::string yaml_quote(const std::string& s);
// The `services:` of a GitHub job (4 spaces in) or a GitLab job (2 in), from each named
// service's `ci.github` / `ci.gitlab` table; "" when none has one.
std::string github_services(const config::Config& cfg, const std::vector<std::string>& names);
std::string gitlab_services(const config::Config& cfg, const std::vector<std::string>& names);

// A word for sh, quoted only when it must be (nox's `tests(django='4.2')`).
std::string shell_word(const std::string& w);

// Measuring a job's set-up (docs/ci.md): the GitHub step that notes when the job began, and
// the command that writes how long ago that was into `file` when the tests start, for
// `testmap durations import`. `started` is a shell expression of the job's start in Unix
// seconds; `kind` says whose jobs (tiers, tox, nox).
inline constexpr const char* kGithubJobStarted =
    "      - run: echo \"TESTMAP_JOB_STARTED=$(date +%s)\" >> \"$GITHUB_ENV\"\n";
inline constexpr const char* kGitlabJobStarted = "$(date -d \"$CI_JOB_STARTED_AT\" +%s)";
std::string job_setup_command(const std::string& kind, const std::string& id,
                              const std::string& started, const std::string& file);

// A unified diff of two texts ("" when equal), for --check.
std::string unified_diff(const std::string& a, const std::string& b, const std::string& a_name,
                         const std::string& b_name);

}  // namespace testmap::ci
