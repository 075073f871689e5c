// Gathering the report's model: one classification, one read of the store (beside the
// scan), one plan.
#include "core/report/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <numeric>
#include <queue>
#include <set>

#include "core/classify/classifier.h"
#include "core/classify/report.h"
#include "core/config/config.h"
#include "core/flaky/from_store.h"
#include "core/plan/plan_io.h"
#include "core/plan/repository.h"
#include "core/select/affected.h"
#include "core/store/store.h"

namespace testmap::report {

namespace {

constexpr int kTrendRuns = 10;  // a trend needs more runs than a median does

}  // namespace

std::vector<std::vector<Block>> schedule_blocks(const plan::Plan& plan,
                                                const plan::PlanInput& input) {
  // Each unit's seconds, tests and tier (of its first test), as the plan groups them.
  struct Unit {
    double seconds = 0;
    size_t tests = 0;
    std::string tier;
  };
  std::map<std::string, Unit, std::less<>> units;
  for (const auto& t : input.tests) {
    Unit& u = units[std::string(plan::unit_view(t.id, plan.unit))];
    if (u.tests++ == 0) u.tier = t.tier;
    u.seconds += t.seconds;
  }
  std::vector<std::vector<Block>> out;
  int workers = std::max(1, plan.workers);
  for (const auto& m : plan.machines) {
    std::vector<Block> blocks;
    for (const auto& name : m.units) {
      auto it = units.find(name);
      Block b;
      b.unit = name;
      b.tier = it != units.end() ? it->second.tier : m.tier;
      b.seconds = it != units.end() ? it->second.seconds : 0;
      b.tests = it != units.end() ? it->second.tests : 0;
      blocks.push_back(std::move(b));
    }
    std::stable_sort(blocks.begin(), blocks.end(),
                     [](const Block& a, const Block& b) { return a.seconds > b.seconds; });
    using Load = std::pair<double, size_t>;  // (busy until, worker)
    std::priority_queue<Load, std::vector<Load>, std::greater<>> free;
    for (int w = 0; w < workers; ++w) free.push({0.0, static_cast<size_t>(w)});
    for (auto& b : blocks) {
      auto [at, w] = free.top();
      free.pop();
      b.worker = w;
      b.start = at;
      free.push({at + b.seconds, w});
    }
    out.push_back(std::move(blocks));
  }
  return out;
}

bool gather(const std::string& root, const Options& options, Model* out, std::string* error) {
  Stopwatch clock;
  out->root = root;
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  classify::RuntimeUses runtime;
  if (!store::load_runtime_uses(root, &runtime, error)) return false;
  out->timings.emplace_back("store", clock.lap());
  // The history, the runs, the polluters and the flaky tests do not depend on the
  // classification: read them while the tree is scanned.
  auto history = std::async(std::launch::async, [&]() -> std::string {
    Stopwatch own;
    store::Store s(store::default_path(root), store::Access::kRead);
    if (!s.missing() && (!s.ok() || !s.recent_durations(kTrendRuns, &out->history) ||
                         !s.runs_seen(&out->runs.runs, &out->runs.newest, &out->runs.commit) ||
                         !s.polluters(&out->polluters)))
      return fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
    std::string why;
    std::set<long long> flaky_runs;
    if (!flaky::flaky_in_store(root, &out->flaky, &flaky_runs, &why)) return why;
    out->timings.emplace_back("history", own.lap());
    return "";
  });
  out->c = classify::classify_root(root, 0, &runtime);
  std::string history_error = history.get();
  if (!history_error.empty()) {
    *error = history_error;
    return false;
  }
  if (!out->c.unusable.empty()) {
    *error = out->c.unusable;
    return false;
  }
  out->timings.insert(out->timings.end(), out->c.timings.begin(), out->c.timings.end());
  clock.lap();
  out->diff_json = classify::diff_json_text(out->c);

  // The plan's input from this classification, as `testmap plan` makes it.
  plan::classification_input(cfg, out->c, out->history, &out->plan_input);
  if (!options.plan_file.empty()) {
    std::string text;
    if (!config::read_text(options.plan_file, &text)) {
      *error = fmt::format("--plan {}: cannot read the file", options.plan_file);
      return false;
    }
    Diagnostic bad;
    if (!plan::parse_plan(text, options.plan_file, &out->plan, &bad)) {
      *error = bad.format();
      return false;
    }
  } else if (!out->plan_input.tests.empty()) {
    plan::PlanOptions po;
    po.shards = options.shards;
    po.max_minutes = options.max_minutes;
    po.workers = options.workers;
    if (!po.shards && po.max_minutes <= 0) {
      // One machine per tier: what the tiers alone give, before any splitting.
      std::set<std::string> tiers;
      for (const auto& t : out->plan_input.tests) tiers.insert(t.tier);
      po.shards = static_cast<int>(tiers.size());
    }
    out->plan = plan::make_plan(out->plan_input, po);
    if (!out->plan.error.empty()) {
      *error = "the plan: " + out->plan.error;
      return false;
    }
  }
  out->blocks = schedule_blocks(out->plan, out->plan_input);
  out->timings.emplace_back("plan", clock.lap());
  if (options.affected) {
    std::vector<std::string> ids;
    for (const auto& t : out->c.tests) ids.push_back(t.id);
    select::Selection sel;
    if (!select::select_affected(root, ids, options.base, &sel, error)) return false;
    out->affected = true;
    out->run_all = sel.run_all;
    out->selected = std::move(sel.why);
    out->timings.emplace_back("affected", clock.lap());
  }
  return true;
}

}  // namespace testmap::report
