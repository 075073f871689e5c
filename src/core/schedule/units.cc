// Cutting a collection into units and ordering them longest first.
#include "core/schedule/units.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <unordered_map>

#include "core/plan/estimate.h"
#include "core/plan/planner.h"

namespace testmap::schedule {

namespace {

double cost_of(const std::map<std::string, double>& setup, const std::string& key) {
  auto it = setup.find(key);
  return it == setup.end() ? 0 : it->second;
}

// What a process pays to run test t right after test `prev` (or first, when prev is none):
// its own seconds, and the set-up of its file and class when it starts them.
double cost_after(const Schedule& s, const std::vector<std::string>& files,
                  const std::vector<std::string>& classes, size_t t, const size_t* prev) {
  double c = s.seconds[t];
  if (!prev || files[*prev] != files[t]) c += cost_of(s.setup, files[t]);
  if (classes[t] != files[t] && (!prev || classes[*prev] != classes[t]))
    c += cost_of(s.setup, classes[t]);
  return c;
}

// Splits one file's tests (in collection order) into chunks of about `target` seconds,
// cutting where a class ends once a chunk is half full, and anywhere once it is full; each
// chunk pays the file's set-up.
void cut_file(const std::vector<size_t>& tests, double target, const Schedule& s,
              const std::vector<std::string>& files, const std::vector<std::string>& classes,
              std::vector<Unit>* out) {
  size_t begin = out->size();
  Unit chunk;
  for (size_t k = 0; k < tests.size(); ++k) {
    size_t t = tests[k];
    if (!chunk.tests.empty()) {
      bool class_ends = classes[t] != classes[tests[k - 1]];
      if (chunk.seconds >= target || (class_ends && chunk.seconds >= target / 2)) {
        out->push_back(std::move(chunk));
        chunk = Unit();
      }
    }
    const size_t* prev = chunk.tests.empty() ? nullptr : &chunk.tests.back();
    chunk.seconds += cost_after(s, files, classes, t, prev);
    chunk.tests.push_back(t);
  }
  if (chunk.tests.empty()) return;
  // A small rest goes with the chunk before it rather than pay the set-up for itself.
  double own = chunk.seconds - cost_of(s.setup, files[chunk.tests.front()]);
  if (out->size() > begin && own < target / 2) {
    size_t prev = out->back().tests.back(), first = chunk.tests.front();
    out->back().seconds += cost_after(s, files, classes, first, &prev) +
                           (chunk.seconds - cost_after(s, files, classes, first, nullptr));
    out->back().tests.insert(out->back().tests.end(), chunk.tests.begin(), chunk.tests.end());
  } else {
    out->push_back(std::move(chunk));
  }
}

}  // namespace

Schedule make_schedule(const std::vector<std::string>& nodeids,
                       const std::map<std::string, std::vector<double>>& history,
                       std::map<std::string, double> setup, int workers) {
  Schedule s;
  s.workers = std::max(1, workers);
  s.setup = std::move(setup);
  // A test recorded without its variants (an imported report) is shared out between them.
  std::unordered_map<std::string, int> variants;
  for (const auto& id : nodeids) ++variants[plan::unit_of(id, plan::Unit::kTest)];
  std::vector<plan::PlanTest> tests(nodeids.size());
  std::map<std::string, std::vector<double>> known;
  for (size_t i = 0; i < nodeids.size(); ++i) {
    tests[i].id = nodeids[i];
    auto own = history.find(nodeids[i]);
    if (own != history.end() && !own->second.empty()) {
      known[nodeids[i]] = own->second;
      continue;
    }
    std::string base = plan::unit_of(nodeids[i], plan::Unit::kTest);
    auto whole = history.find(base);
    if (base != nodeids[i] && whole != history.end() && !whole->second.empty()) {
      auto& v = known[nodeids[i]];
      for (double d : whole->second) v.push_back(d / variants[base]);
    }
  }
  plan::estimate_durations(tests, known);

  std::vector<std::string> files(nodeids.size()), classes(nodeids.size());
  s.seconds.resize(nodeids.size());
  s.start.resize(nodeids.size());
  for (size_t i = 0; i < nodeids.size(); ++i) {
    s.seconds[i] = tests[i].seconds;
    s.estimated += tests[i].estimated ? 1 : 0;
    files[i] = plan::unit_of(nodeids[i], plan::Unit::kFile);
    classes[i] = plan::unit_of(nodeids[i], plan::Unit::kClass);
    s.start[i] =
        cost_of(s.setup, files[i]) + (classes[i] != files[i] ? cost_of(s.setup, classes[i]) : 0);
    s.lower_bound = std::max(s.lower_bound, tests[i].seconds + s.start[i]);
  }
  // Every test once, and every file's and class's shared set-up once.
  std::set<std::string> groups;
  for (size_t i = 0; i < nodeids.size(); ++i) {
    s.total += s.seconds[i];
    if (groups.insert(files[i]).second) s.total += cost_of(s.setup, files[i]);
    if (classes[i] != files[i] && groups.insert(classes[i]).second)
      s.total += cost_of(s.setup, classes[i]);
  }
  s.lower_bound = std::max(s.lower_bound, s.total / s.workers);

  // Files in the order collected; a file collected in two places stays one unit.
  std::vector<std::vector<size_t>> by_file;
  std::unordered_map<std::string, size_t> file_index;
  for (size_t i = 0; i < nodeids.size(); ++i) {
    auto [it, fresh] = file_index.emplace(files[i], by_file.size());
    if (fresh) by_file.emplace_back();
    by_file[it->second].push_back(i);
  }
  double half_share = s.total / s.workers / 2;
  for (const auto& tests_of_file : by_file) {
    double sum = 0;
    for (size_t k = 0; k < tests_of_file.size(); ++k)
      sum += cost_after(s, files, classes, tests_of_file[k], k ? &tests_of_file[k - 1] : nullptr);
    // A chunk is worth its own set-up only when it is several times larger.
    double target = std::max(half_share, 4 * cost_of(s.setup, files[tests_of_file.front()]));
    if (sum > target && target > 0 && tests_of_file.size() > 1)
      cut_file(tests_of_file, target, s, files, classes, &s.units);
    else
      s.units.push_back({tests_of_file, sum});
  }
  std::stable_sort(s.units.begin(), s.units.end(),
                   [](const Unit& a, const Unit& b) { return a.seconds > b.seconds; });
  return s;
}

}  // namespace testmap::schedule
