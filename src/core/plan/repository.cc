// Building a plan's input from the repository and its store.
#include "core/plan/repository.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/config/projects.h"
#include "core/plan/estimate.h"
#include "core/store/store.h"

namespace testmap::plan {

namespace {

// One pytest project's tests, ids as pytest spells them there.
bool project_input(const std::string& root, const config::Config& cfg, PlanInput* input,
                   std::string* error) {
  store::Store s(store::default_path(root), store::Access::kRead);
  classify::RuntimeUses runtime;
  std::map<std::string, std::vector<double>> history;
  if (!s.missing() &&
      (!s.ok() || !s.runtime_uses(&runtime) || !s.recent_durations(kHistoryRuns, &history))) {
    *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  classification_input(cfg, classify::classify_root(root, 0, &runtime), history, input);
  // Not set: what the generated jobs measured (testmap-job.json), the newest 20.
  if (auto it = cfg.ci.find("job-overhead-seconds"); it == cfg.ci.end() || !it->is_number()) {
    if (!s.missing() &&
        !s.job_setup("tiers", 20, &input->job_overhead, &input->job_overhead_measured)) {
      *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
      return false;
    }
  }
  return true;
}

}  // namespace

void classification_input(const config::Config& cfg, const classify::Classification& c,
                          const std::map<std::string, std::vector<double>>& history,
                          PlanInput* input) {
  std::vector<std::string> every;
  for (const auto& svc : cfg.services) {
    every.push_back(svc.name);
    input->startup[svc.name] = svc.startup_seconds;
  }
  if (auto it = cfg.ci.find("job-overhead-seconds"); it != cfg.ci.end() && it->is_number())
    input->job_overhead = it->get<double>();
  for (const auto& t : c.tests)
    input->tests.push_back({t.id, t.tier, t.unknown ? every : t.services, 0, true, t.project});
  bool longer = false;
  for (const auto& [id, runs] : history) longer = longer || runs.size() > kHistoryRuns;
  if (!longer) return estimate_durations(input->tests, history);
  // A longer history (the report's trends) estimates as `testmap plan` does: newest runs only.
  std::map<std::string, std::vector<double>> recent;
  for (const auto& [id, runs] : history)
    recent[id].assign(runs.begin(), runs.begin() + std::min<size_t>(runs.size(), kHistoryRuns));
  estimate_durations(input->tests, recent);
}

bool repository_input(const std::string& root, PlanInput* input, std::string* error,
                      std::vector<config::ProjectRoot>* projects_out) {
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  if (cfg.projects.empty()) return project_input(root, cfg, input, error);
  // A monorepo: each project's tests from its own rootdir, config and store.
  std::vector<config::ProjectRoot> projects;
  if (!config::project_roots(cfg, {}, &projects, error)) return false;
  for (const auto& p : projects) {
    config::Config own = config::load_config(p.rootdir);
    PlanInput part;
    if (!own.unusable.empty() || !project_input(p.rootdir, own, &part, error)) {
      *error = config::project_label(p.dir) + (own.unusable.empty() ? *error : own.unusable);
      return false;
    }
    for (auto& t : part.tests) {
      t.id = config::in_project(p.dir, t.id);
      t.project = p.dir;
      input->tests.push_back(std::move(t));
    }
    for (const auto& [service, seconds] : part.startup)
      input->startup[service] = std::max(input->startup[service], seconds);
    input->job_overhead = std::max(input->job_overhead, part.job_overhead);
    input->job_overhead_measured += part.job_overhead_measured;
  }
  if (projects_out) *projects_out = std::move(projects);
  return true;
}

void keep_tests(PlanInput* input, const std::vector<std::string>& tiers,
                const std::unordered_set<std::string>* ids) {
  std::erase_if(input->tests, [&](const PlanTest& t) {
    return (!tiers.empty() && std::find(tiers.begin(), tiers.end(), t.tier) == tiers.end()) ||
           (ids && !ids->count(t.id));
  });
}

}  // namespace testmap::plan
