// Estimating durations from history, with fallbacks for tests that have none.
#include "core/plan/estimate.h"

#include <algorithm>
#include <unordered_map>

namespace testmap::plan {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0)
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<long>(mid))) / 2;
  return m;
}

void estimate_durations(std::vector<PlanTest>& tests,
                        const std::map<std::string, std::vector<double>>& history) {
  std::unordered_map<std::string, std::vector<double>> by_class, by_file;
  std::vector<double> suite;
  for (auto& t : tests) {
    auto it = history.find(t.id);
    if (it == history.end() || it->second.empty()) continue;
    t.seconds = median(it->second);
    t.estimated = false;
    by_class[unit_of(t.id, Unit::kClass)].push_back(t.seconds);
    by_file[unit_of(t.id, Unit::kFile)].push_back(t.seconds);
    suite.push_back(t.seconds);
  }
  std::unordered_map<std::string, double> class_median, file_median;
  for (auto& [k, v] : by_class) class_median[k] = median(v);
  for (auto& [k, v] : by_file) file_median[k] = median(v);
  double suite_median = median(suite);
  for (auto& t : tests) {
    if (history.count(t.id) && !history.at(t.id).empty()) continue;
    t.estimated = true;
    if (auto c = class_median.find(unit_of(t.id, Unit::kClass)); c != class_median.end())
      t.seconds = c->second;
    else if (auto f = file_median.find(unit_of(t.id, Unit::kFile)); f != file_median.end())
      t.seconds = f->second;
    else
      t.seconds = suite_median;
  }
}

}  // namespace testmap::plan
