// Merging recorded runs into a static classification.
#include "core/classify/merge.h"

#include <set>

#include <fmt/format.h>

#include "core/classify/tiers.h"

namespace testmap::classify {

void merge_runtime(const config::Config& cfg, const RuntimeUses& runtime, Classification& c) {
  for (auto& t : c.tests) {
    t.static_services = t.services;
    t.static_unknown = t.unknown;
    auto it = runtime.uses.find(t.id);
    bool passed = runtime.passed.count(t.id) > 0;
    if (it == runtime.uses.end() && !passed) continue;
    t.recorded = true;
    static const std::vector<RuntimeUse> kNone;
    std::set<std::string> seen;
    for (const auto& u : it == runtime.uses.end() ? kNone : it->second) {
      std::string detail =
          u.service == "external" ? fmt::format("reached {} in {}", u.detail, u.phase) : u.detail;
      t.reasons.push_back(
          {u.service, u.shared ? "runtime-shared" : "runtime", detail, "", 0, true});
      if (u.service != "external") seen.insert(u.service);
    }
    t.runtime_services.assign(seen.begin(), seen.end());
    std::set<std::string> all(seen);
    if (t.unknown && passed) {
      // Static analysis gave up; a passing run saw what the test does. Keep what the
      // source did say (a marker, a fixture) on top.
      t.unknown = false;
      for (const auto& r : t.reasons)
        if (!r.runtime && r.service != "*") all.insert(r.service);
    } else if (!t.unknown) {
      all.insert(t.services.begin(), t.services.end());
    }
    t.services.assign(all.begin(), all.end());
  }
  assign_tiers(cfg, c);
}

}  // namespace testmap::classify
