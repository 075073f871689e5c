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

PlanInput repository_input(const std::string& root) {
  PlanInput input;
  std::string error;
  classify::RuntimeUses runtime = store::load_runtime_uses(root, &error);
  if (!error.empty()) fmt::print(stderr, "testmap: {}\n", error);
  classify::Classification c = classify::classify_root(root, 0, &runtime);
  config::Config cfg = config::load_config(root);
  std::vector<std::string> every;
  for (const auto& s : cfg.services) {
    every.push_back(s.name);
    input.startup[s.name] = s.startup_seconds;
  }
  for (const auto& t : c.tests)
    input.tests.push_back({t.id, t.tier, t.unknown ? every : t.services, 0, true});
  std::map<std::string, std::vector<double>> history;
  std::error_code ec;
  if (std::filesystem::exists(store::default_path(root), ec)) {
    store::Store s(store::default_path(root));
    if (s.ok()) history = s.recent_durations(kHistoryRuns);
  }
  estimate_durations(input.tests, history);
  return input;
}

}  // namespace testmap::plan
