// `testmap flaky`: the tests whose outcome differed between recorded runs of the same code
// (docs/flaky.md).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/flaky/from_store.h"

namespace testmap::cli {
namespace {

std::string when(double started) {
  std::time_t t = static_cast<std::time_t>(started);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M}", tm);
}

int flaky_main(const RootArgs& args, bool json) {
  auto root = resolve_store_root("flaky", args);
  if (!root) return kExitUsage;
  std::vector<flaky::FlakyTest> found;
  std::set<long long> runs;
  std::string error;
  if (!flaky::flaky_in_store(*root, &found, &runs, &error)) {
    fmt::print(stderr, "testmap flaky: {}\n", error);
    return kExitUsage;
  }
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : found) {
      nlohmann::json failures = nlohmann::json::array();
      for (const auto& o : f.last_failures)
        failures.push_back({{"run", o.run_id},
                            {"started", o.started},
                            {"worker", o.worker},
                            {"outcome", o.outcome},
                            {"code", o.code}});
      list.push_back({{"test", f.test},
                      {"runs", f.runs},
                      {"passes", f.passes},
                      {"failures", f.failures},
                      {"pass_rate", f.runs ? static_cast<double>(f.passes) / f.runs : 0.0},
                      {"code_versions", f.versions},
                      {"last_failures", failures}});
    }
    nlohmann::json j = {{"runs", runs.size()}, {"flaky", list}};
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  if (runs.empty()) {
    fmt::print(
        "testmap flaky: no recorded run knows the code it tested; record with "
        "`pytest --testmap-durations` (or `testmap record`) in a git checkout\n");
    return kExitOk;
  }
  if (found.empty()) {
    fmt::print("no flaky tests in {} recorded runs: every test had one outcome per code version\n",
               runs.size());
    return kExitOk;
  }
  fmt::print("{} flaky test{} in {} recorded runs (outcomes that differ on the same code):\n",
             found.size(), found.size() == 1 ? "" : "s", runs.size());
  for (const auto& f : found) {
    fmt::print("  {}  passed {} of {} runs ({:.0f}%)\n", f.test, f.passes, f.runs,
               100.0 * f.passes / f.runs);
    for (const auto& o : f.last_failures)
      fmt::print("    {} in run {} ({}{})\n", o.outcome, o.run_id, when(o.started),
                 o.worker.empty() ? "" : ", " + o.worker);
  }
  return kExitOk;
}

}  // namespace

void register_flaky(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "flaky", "List the tests whose outcome differed between recorded runs of the same code");
  cmd->add_option("--root", o->root.rootdir,
                  "The project's root, where the store is (default: found as pytest finds its "
                  "rootdir)");
  cmd->add_flag("--json", o->json, "Print every flaky test with its counts and last failures");
  cmd->footer(
      "Runs are compared by the commit and the tracked changes they tested; record them with\n"
      "`pytest --testmap-durations` (or `testmap record`). See docs/flaky.md.");
  cmd->callback([o, &exit_code] { exit_code = flaky_main(o->root, o->json); });
}

}  // namespace testmap::cli
