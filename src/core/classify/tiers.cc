// Tier naming and merging, and the counts the tier table shows.
#include "core/classify/tiers.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace testmap::classify {

std::string tier_name(const std::vector<std::string>& services) {
  if (services.empty()) return kNoServicesTier;
  if (services.size() == 1) return services[0] + "_only";
  std::string name;
  for (const auto& s : services) name += (name.empty() ? "" : "_") + s;
  return name;
}

namespace {

// A service's `requires`, followed transitively: a test that needs snuba needs what snuba
// needs, so its tier, the CI job that runs it and enforcement all include those too.
void add_required(const config::Config& cfg, TestResult& t) {
  if (t.unknown) return;
  std::set<std::string> have(t.services.begin(), t.services.end());
  std::vector<std::string> queue = t.services;
  bool added = false;
  while (!queue.empty()) {
    std::string s = queue.back();
    queue.pop_back();
    const config::Service* svc = cfg.service(s);
    if (!svc) continue;
    for (const auto& r : svc->requires_) {
      if (!cfg.service(r) || !have.insert(r).second) continue;
      queue.push_back(r);
      t.reasons.push_back(
          {r, "requires", fmt::format("{} requires {}", s, r), "pyproject.toml", 0, false});
      added = true;
    }
  }
  if (added) t.services.assign(have.begin(), have.end());
}

}  // namespace

void assign_tiers(const config::Config& cfg, Classification& c) {
  // Declared tiers, smallest first: a test goes to the smallest that covers it.
  auto declared = cfg.tiers;
  std::stable_sort(declared.begin(), declared.end(),
                   [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  std::map<std::string, TierSummary> tiers;
  std::map<std::string, std::set<std::string>> tier_files;
  c.service_tests.clear();
  c.unknown_tests = 0;
  for (auto& t : c.tests) {
    add_required(cfg, t);
    std::vector<std::string> services = t.services;
    if (t.unknown) {
      t.tier = kUnknownTier;
      ++c.unknown_tests;
    } else {
      t.tier = tier_name(services);
      if (!services.empty()) {
        for (const auto& tier : declared) {
          const auto& tier_services = tier.second;
          bool covers = std::all_of(services.begin(), services.end(), [&](const std::string& s) {
            return std::find(tier_services.begin(), tier_services.end(), s) != tier_services.end();
          });
          if (covers) {
            t.tier = tier.first;
            services = tier_services;
            std::sort(services.begin(), services.end());
            break;
          }
        }
      }
      for (const auto& s : t.services) ++c.service_tests[s];
    }
    TierSummary& sum = tiers[t.tier];
    sum.name = t.tier;
    if (!t.unknown) sum.services = services;
    ++sum.tests;
    tier_files[t.tier].insert(t.file);
  }
  c.tiers.clear();
  for (auto& [name, sum] : tiers) {
    sum.files = tier_files[name].size();
    c.tiers.push_back(sum);
  }
  std::sort(c.tiers.begin(), c.tiers.end(), [](const TierSummary& a, const TierSummary& b) {
    bool au = a.name == kUnknownTier, bu = b.name == kUnknownTier;
    if (au != bu) return bu;
    if (a.tests != b.tests) return a.tests > b.tests;
    return a.name < b.name;
  });
}

}  // namespace testmap::classify
