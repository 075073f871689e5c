// Estimating a module's or class's shared set-up from the order recorded runs ran tests in.
#include "core/schedule/setup_cost.h"

#include <algorithm>

#include "core/plan/estimate.h"
#include "core/plan/planner.h"

namespace testmap::schedule {

namespace {

void add_runs(const store::WorkerSequence& seq, plan::Unit level,
              std::map<std::string, std::vector<double>>* excess) {
  size_t i = 0;
  while (i < seq.size()) {
    std::string key = plan::unit_of(seq[i].nodeid, level);
    size_t j = i + 1;
    while (j < seq.size() && plan::unit_of(seq[j].nodeid, level) == key) ++j;
    // A test outside every class has its file as "class": the file level counts it.
    bool keyed = level == plan::Unit::kFile || key.find("::") != std::string::npos;
    if (keyed && j - i >= 3) {
      std::vector<double> inner;
      for (size_t k = i + 1; k + 1 < j; ++k) inner.push_back(seq[k].seconds);
      double typical = plan::median(inner);
      (*excess)[key].push_back(std::max(0.0, seq[i].seconds - typical) +
                               std::max(0.0, seq[j - 1].seconds - typical));
    }
    i = j;
  }
}

}  // namespace

std::map<std::string, double> shared_setup(const std::vector<store::WorkerSequence>& sequences) {
  std::map<std::string, std::vector<double>> excess;
  for (const auto& seq : sequences) {
    add_runs(seq, plan::Unit::kFile, &excess);
    add_runs(seq, plan::Unit::kClass, &excess);
  }
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
    for (plan::Unit level : {plan::Unit::kFile, plan::Unit::kClass}) {
      size_t i = 0;
      while (i < seq.size()) {
        std::string key = plan::unit_of(seq[i].nodeid, level);
        size_t j = i + 1;
        while (j < seq.size() && plan::unit_of(seq[j].nodeid, level) == key) ++j;
        auto c = cost.find(key);
        bool keyed = level == plan::Unit::kFile || key.find("::") != std::string::npos;
        if (keyed && c != cost.end()) {
          if (j - i >= 3) {  // what the first and the last paid beyond the tests between
            std::vector<double> inner;
            for (size_t k = i + 1; k + 1 < j; ++k) inner.push_back(seq[k].seconds);
            double typical = plan::median(inner);
            paid[i] += std::max(0.0, seq[i].seconds - typical);
            paid[j - 1] += std::max(0.0, seq[j - 1].seconds - typical);
          } else {  // too few to see the split: the first paid the cost
            paid[i] += c->second;
          }
        }
        i = j;
      }
    }
    for (size_t k = 0; k < seq.size(); ++k)
      out[seq[k].nodeid].push_back(std::max(0.0, seq[k].seconds - paid[k]));
  }
  return out;
}

}  // namespace testmap::schedule
