// Adding a project's classification to a monorepo's.
#include "core/classify/monorepo.h"

#include <algorithm>

#include "core/config/projects.h"

namespace testmap::classify {
namespace {

// Files named relative to the project's root become relative to the repository's.
void prefix_file(const std::string& dir, std::string& file) {
  if (!file.empty() && file[0] != '/') file = config::in_project(dir, file);
}

}  // namespace

void add_project(const std::string& dir, Classification part, Classification& all) {
  all.projects.push_back(dir);
  for (auto& t : part.tests) {
    t.project = dir;
    t.id = config::in_project(dir, t.id);
    prefix_file(dir, t.file);
    prefix_file(dir, t.defined_file);
    for (auto& r : t.reasons) prefix_file(dir, r.file);
    all.tests.push_back(std::move(t));
  }
  for (auto& d : part.diagnostics) {
    prefix_file(dir, d.file);
    all.diagnostics.push_back(std::move(d));
  }
  // Tier names are the same words in every project: one row per name, summed.
  for (const auto& tier : part.tiers) {
    auto it = std::find_if(all.tiers.begin(), all.tiers.end(),
                           [&](const TierSummary& s) { return s.name == tier.name; });
    if (it == all.tiers.end()) {
      all.tiers.push_back(tier);
    } else {
      it->tests += tier.tests;
      it->files += tier.files;
    }
  }
  std::sort(all.tiers.begin(), all.tiers.end(), [](const TierSummary& a, const TierSummary& b) {
    bool au = a.name == kUnknownTier, bu = b.name == kUnknownTier;
    if (au != bu) return bu;
    if (a.tests != b.tests) return a.tests > b.tests;
    return a.name < b.name;
  });
  for (const auto& [s, n] : part.service_tests) all.service_tests[s] += n;
  all.unknown_tests += part.unknown_tests;
  all.files_scanned += part.files_scanned;
  all.test_files += part.test_files;
  all.bytes_scanned += part.bytes_scanned;
  if (all.unusable.empty() && !part.unusable.empty())
    all.unusable = config::in_project(dir, part.unusable);
  for (const auto& timing : part.timings) {
    auto it = std::find_if(all.timings.begin(), all.timings.end(),
                           [&](const auto& p) { return p.first == timing.first; });
    if (it == all.timings.end())
      all.timings.push_back(timing);
    else
      it->second += timing.second;
  }
}

bool split_project_id(const Classification& all, const std::string& id, std::string* project,
                      std::string* local_id) {
  size_t best = 0;
  bool found = false;
  for (const auto& dir : all.projects)
    if (id.starts_with(dir + "/") && dir.size() >= best) {
      best = dir.size();
      *project = dir;
      found = true;
    }
  if (found) *local_id = id.substr(best + 1);
  return found;
}

}  // namespace testmap::classify
