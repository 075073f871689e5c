// Reading what the scheduler needs from the store.
#include "core/schedule/from_store.h"

#include <fmt/format.h>

#include "core/schedule/setup_cost.h"
#include "core/store/store.h"

namespace testmap::schedule {

namespace {
constexpr int kHistoryRuns = 5;  // a test's estimate: the median of this many runs
constexpr int kOrderRuns = 3;    // shared set-up: measured over this many runs' order
}  // namespace

bool schedule_from_store(const std::string& root, const std::vector<std::string>& nodeids,
                         int workers, Schedule* out, std::string* error) {
  store::Store s(store::default_path(root), store::Access::kRead);
  std::map<std::string, std::vector<double>> history, whole;
  std::vector<store::WorkerSequence> sequences;
  if (!s.missing() &&
      (!s.ok() || !s.recent_variant_durations(kHistoryRuns, &history) ||
       !s.recent_durations(kHistoryRuns, &whole) || !s.worker_sequences(kOrderRuns, &sequences))) {
    *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  // Tests recorded without variants (imported reports) are known by their whole id only.
  for (auto& [id, v] : whole) history.emplace(id, std::move(v));
  // Where the order is known, a test's own seconds, without the set-up it happened to pay.
  std::map<std::string, double> setup = shared_setup(sequences);
  for (auto& [id, v] : own_durations(sequences, setup)) history[id] = std::move(v);
  *out = make_schedule(nodeids, history, std::move(setup), workers);
  return true;
}

}  // namespace testmap::schedule
