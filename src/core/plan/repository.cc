// Building a plan's input from the repository and its store.
#include "core/plan/repository.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/plan/estimate.h"
#include "core/store/store.h"

namespace testmap::plan {

namespace {
constexpr int kHistoryRuns = 5;  // the median of this many recent runs
}

bool repository_input(const std::string& root, PlanInput* input, std::string* error) {
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  store::Store s(store::default_path(root), store::Access::kRead);
  classify::RuntimeUses runtime;
  std::map<std::string, std::vector<double>> history;
  if (!s.missing() &&
      (!s.ok() || !s.runtime_uses(&runtime) || !s.recent_durations(kHistoryRuns, &history))) {
    *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  classify::Classification c = classify::classify_root(root, 0, &runtime);
  std::vector<std::string> every;
  for (const auto& svc : cfg.services) {
    every.push_back(svc.name);
    input->startup[svc.name] = svc.startup_seconds;
  }
  for (const auto& t : c.tests)
    input->tests.push_back({t.id, t.tier, t.unknown ? every : t.services, 0, true});
  estimate_durations(input->tests, history);
  return true;
}

}  // namespace testmap::plan
