// `testmap plan`: machines per tier and tests per machine (docs/plan.md), from the store
// or from a JSON input file.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/plan/plan_io.h"
#include "core/plan/repository.h"
#include "core/select/plan_affected.h"
#include "core/store/store.h"

namespace testmap::cli {
namespace {

// A --tier no test has is a typo or a stale CI file: an empty answer would run nothing.
// ("unknown" is always a tier, as for pytest --testmap-tier.)
bool known_tiers(const plan::PlanInput& input, const std::vector<std::string>& wanted,
                 std::string* error) {
  std::set<std::string> tiers{"unknown"};
  for (const auto& t : input.tests) tiers.insert(t.tier);
  for (const auto& w : wanted)
    if (!tiers.count(w)) {
      *error = fmt::format("--tier {}: no such tier (tiers: {})", w, fmt::join(tiers, ", "));
      return false;
    }
  return true;
}

// The shards a CI matrix starts, as $GITHUB_OUTPUT reads them: machines the plan leaves
// empty start no runner.
void print_matrix(const std::string& name, const plan::Plan& p) {
  std::vector<std::string> shards;
  for (const auto& k : plan::matrix_shards(p)) shards.push_back(fmt::format("\"{}\"", k));
  fmt::print("{}=[{}]\n", name, fmt::join(shards, ","));
}

}  // namespace

void register_plan(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    std::string path;  // the rootdir, once resolved
    std::string input;
    int shards = 0;
    double max_minutes = 0;
    int workers = 1;
    std::string unit = "file";
    bool json = false;
    std::string explain;
    bool affected = false;
    std::string base;
    std::vector<std::string> tiers;
    std::string matrix;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "plan", "Split the suite over CI machines, one tier per machine, balanced by duration");
  add_root_args(cmd, &opts->root, false);
  cmd->add_option("--input", opts->input, "Plan from this JSON file instead of the store");
  auto* shards = cmd->add_option("--shards", opts->shards, "Machines in all (minimise wall clock)")
                     ->check(CLI::PositiveNumber);
  cmd->add_option("--max-minutes", opts->max_minutes,
                  "Wall clock not to pass (minimise runner-minutes)")
      ->check(minutes_check())
      ->excludes(shards);
  cmd->add_option("--workers", opts->workers, "xdist workers per machine")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--unit", opts->unit, "What moves between machines: test, class or file")
      ->capture_default_str();
  auto* affected = cmd->add_flag("--affected", opts->affected,
                                 "Plan only the tests `testmap affected` selects: a pull request "
                                 "starts fewer machines");
  cmd->add_option("--base", opts->base, "With --affected: count every change since this commit")
      ->needs(affected);
  cmd->add_option("--tier", opts->tiers,
                  "Plan only these tiers' tests, as `pytest --testmap-tier T --testmap-shard K/N` "
                  "does (comma-separated or repeated)")
      ->delimiter(',');
  auto* json = cmd->add_flag("--json", opts->json,
                             "Print the plan as JSON (pytest --testmap-plan reads it)");
  cmd->add_option("--matrix", opts->matrix,
                  "Print NAME=[\"1/M\", ...]: the shards of the M machines the plan uses, for a CI "
                  "matrix running `pytest --testmap-tier T --testmap-shard K/M` (empty list: "
                  "nothing to run); GitHub's $GITHUB_OUTPUT reads it")
      ->needs(shards)
      ->excludes(json);
  cmd->add_option("--explain", opts->explain, "Say which machine a test is on, and why");
  cmd->callback([opts, &exit_code] {
    plan::PlanOptions po;
    po.shards = opts->shards;
    po.max_minutes = opts->max_minutes;
    po.workers = opts->workers;
    if (!plan::parse_unit(opts->unit, &po.unit)) {
      fmt::print(stderr, "testmap plan: --unit {}: expected test, class or file\n", opts->unit);
      exit_code = kExitUsage;
      return;
    }
    plan::PlanInput input;
    auto narrow_tiers = [&] {
      std::string error;
      if (!opts->tiers.empty() && !known_tiers(input, opts->tiers, &error)) {
        fmt::print(stderr, "testmap plan: {}\n", error);
        exit_code = kExitUsage;
        return false;
      }
      if (!opts->tiers.empty()) plan::keep_tests(&input, opts->tiers);
      return true;
    };
    if (!opts->input.empty()) {
      Diagnostic error;
      if (!plan::read_input(opts->input, &input, &error)) {
        fmt::print(stderr, "testmap plan: {}\n", error.format());
        exit_code = kExitUsage;
        return;
      }
      if (!narrow_tiers()) return;
    } else {
      std::error_code ec;
      if (auto found = resolve_root("plan", opts->root)) {
        opts->path = found->rootdir;
      } else {
        exit_code = kExitUsage;
        return;
      }
      std::string error;
      std::vector<config::ProjectRoot> projects;
      if (!plan::repository_input(opts->path, &input, &error, &projects)) {
        fmt::print(stderr, "testmap plan: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
      if (projects.empty()) projects.push_back({"", opts->path, {}});
      if (input.job_overhead_measured > 0)
        fmt::print(stderr,
                   "testmap plan: each machine's set-up {:.0f} s, the median of {} measured "
                   "tier job{} (job-overhead-seconds sets it)\n",
                   input.job_overhead, input.job_overhead_measured,
                   input.job_overhead_measured == 1 ? "" : "s");
      if (!narrow_tiers()) return;
      if (opts->affected) {
        select::AffectedInput narrowed;
        if (!select::keep_affected(&input, projects, opts->base, &narrowed, &error)) {
          fmt::print(stderr, "testmap plan: {}\n", error);
          exit_code = kExitUsage;
          return;
        }
        for (const auto& line : narrowed.run_all) fmt::print(stderr, "testmap plan: {}\n", line);
        fmt::print(stderr, "testmap plan: {} of {} tests affected by the change\n",
                   input.tests.size(), narrowed.before);
      }
    }
    auto start = std::chrono::steady_clock::now();
    plan::Plan p = plan::make_plan(input, po);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!p.error.empty()) {
      fmt::print(stderr, "testmap plan: {}\n", p.error);
      exit_code = kExitUsage;
      return;
    }
    for (const auto& w : p.warnings) fmt::print(stderr, "testmap plan: {}\n", w);
    if (!opts->explain.empty()) {
      std::string text = plan::explain_placement(p, input, opts->explain);
      if (text.empty()) {
        fmt::print(stderr, "testmap plan: no test '{}' in the plan\n", opts->explain);
        exit_code = kExitUsage;
        return;
      }
      fmt::print("{}", text);
      return;
    }
    if (!opts->matrix.empty()) {
      // A shard K/M names a machine of one project's plan, as pytest makes it there.
      if (std::any_of(p.machines.begin(), p.machines.end(),
                      [](const plan::Machine& m) { return !m.project.empty(); })) {
        fmt::print(stderr, "testmap plan: --matrix plans one project: pass --root PROJECT\n");
        exit_code = kExitUsage;
        return;
      }
      print_matrix(opts->matrix, p);
      return;
    }
    std::string text = opts->json ? plan::plan_json_text(p) : plan::render_plan(p);
    fwrite(text.data(), 1, text.size(), stdout);
    if (!opts->json) fmt::print("planned in {:.2f} s\n", seconds);
    fflush(stdout);
  });
}

}  // namespace testmap::cli
