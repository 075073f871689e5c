// Estimating a module's or class's shared set-up from the order recorded runs ran tests in.
#include "core/schedule/setup_cost.h"

#include <algorithm>

#include "core/plan/estimate.h"
#include "core/plan/planner.h"

namespace testmap::schedule {

namespace {

// A group's run in one process's sequence: tests [begin, end) of one file (or class), and
// what the first and the last paid beyond the tests between them (only known for 3 or
// more tests; `seen` says whether it is).
struct GroupRun {
  std::string key;
  size_t begin = 0, end = 0;
  bool seen = false;
  double first_extra = 0, last_extra = 0;
};

// Calls `fn` for each run of consecutive tests of one group, files and then classes. A test
// outside every class has its file as "class": the file level counts it.
template <typename Fn>
void for_each_group_run(const store::WorkerSequence& seq, Fn fn) {
  for (plan::Unit level : {plan::Unit::kFile, plan::Unit::kClass}) {
    size_t i = 0;
    while (i < seq.size()) {
      GroupRun g{plan::unit_of(seq[i].nodeid, level), i, i + 1};
      while (g.end < seq.size() && plan::unit_of(seq[g.end].nodeid, level) == g.key) ++g.end;
      i = g.end;
      if (level == plan::Unit::kClass && g.key.find("::") == std::string::npos) continue;
      if (g.end - g.begin >= 3) {
        std::vector<double> inner;
        for (size_t k = g.begin + 1; k + 1 < g.end; ++k) inner.push_back(seq[k].seconds);
        double typical = plan::median(inner);
        g.seen = true;
        g.first_extra = std::max(0.0, seq[g.begin].seconds - typical);
        g.last_extra = std::max(0.0, seq[g.end - 1].seconds - typical);
      }
      fn(g);
    }
  }
}

}  // namespace

std::map<std::string, double> shared_setup(const std::vector<store::WorkerSequence>& sequences) {
  std::map<std::string, std::vector<double>> excess;
  for (const auto& seq : sequences)
    for_each_group_run(seq, [&](const GroupRun& g) {
      if (g.seen) excess[g.key].push_back(g.first_extra + g.last_extra);
    });
  std::map<std::string, double> out;
  for (auto& [key, v] : excess)
    if (double cost = plan::median(v); cost > 0) out[key] = cost;
  return out;
}

std::map<std::string, std::vector<double>> own_durations(
    const std::vector<store::WorkerSequence>& sequences,
    const std::map<std::string, double>& cost) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& seq : sequences) {
    std::vector<double> paid(seq.size(), 0);
    for_each_group_run(seq, [&](const GroupRun& g) {
      auto c = cost.find(g.key);
      if (c == cost.end()) return;
      if (g.seen) {
        paid[g.begin] += g.first_extra;
        paid[g.end - 1] += g.last_extra;
      } else {  // too few to see the split: the first paid the cost
        paid[g.begin] += c->second;
      }
    });
    for (size_t k = 0; k < seq.size(); ++k)
      out[seq[k].nodeid].push_back(std::max(0.0, seq[k].seconds - paid[k]));
  }
  return out;
}

}  // namespace testmap::schedule
