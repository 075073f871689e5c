// `testmap envs`: tox's environments as testmap reads them, grouped as `testmap ci --envs`
// groups them, each with its Python, the tests it runs and the services they need.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/envs/balance.h"
#include "core/envs/groups.h"

namespace testmap::cli {

void register_envs(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    std::string group_by;
    int max_jobs = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "envs", "List tox's environments in the jobs `testmap ci --envs tox` gives them");
  add_root_args(cmd, &o->root, false);
  cmd->add_option("--group-by", o->group_by,
                  "Group by this factor's values, or python (default: the framework, the first "
                  "factor that is not a Python version)");
  cmd->add_option("--max-jobs", o->max_jobs,
                  "Balance the groups into at most this many jobs by the environments' recorded "
                  "durations (testmap durations import of tox --result-json)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Print the groups as JSON");
  cmd->footer("See docs/envs.md.");
  cmd->callback([o, &exit_code] {
    auto found = resolve_root("envs", o->root);
    if (!found) {
      exit_code = kExitUsage;
      return;
    }
    std::vector<envs::Group> groups;
    std::string error;
    if (!envs::plan_envs(found->rootdir, o->group_by, &groups, &error)) {
      fmt::print(stderr, "testmap envs: {}\n", error);
      exit_code = kExitUsage;
      return;
    }
    envs::Balanced balanced;
    if (o->max_jobs > 0) {
      if (!envs::balance_from_store(found->rootdir, &groups, o->max_jobs, &balanced, &error)) {
        fmt::print(stderr, "testmap envs: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
      groups = envs::as_groups(balanced);
    }
    size_t n = 0;
    for (const auto& g : groups) n += g.envs.size();
    if (o->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& g : groups) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : g.envs)
          list.push_back({{"name", e.env.name},
                          {"python", e.env.python},
                          {"runs_pytest", e.runs_pytest},
                          {"unread_command", e.unread},
                          {"paths", e.paths},
                          {"deps", e.env.deps},
                          {"commands", e.env.commands},
                          {"changedir", e.env.changedir},
                          {"tests", e.tests},
                          {"unknown", e.unknown},
                          {"services", e.services}});
        j.push_back(
            {{"group", g.name}, {"pythons", g.pythons}, {"services", g.services}, {"envs", list}});
      }
      nlohmann::json doc = {{"groups", j}, {"environments", n}};
      if (o->max_jobs > 0)
        doc["balanced"] = {{"wall_seconds", balanced.wall},
                           {"runner_seconds", balanced.runner},
                           {"estimated_environments", balanced.estimated}};
      fmt::print("{}\n", doc.dump(2));
      return;
    }
    fmt::print("{} environments in {} {}\n", n, groups.size(), o->max_jobs ? "jobs" : "groups");
    if (o->max_jobs > 0)
      fmt::print(
          "estimated wall clock {:.0f} s, runner time {:.0f} s{}\n", balanced.wall, balanced.runner,
          balanced.estimated
              ? fmt::format(" ({} environments without a recorded duration)", balanced.estimated)
              : "");
    for (const auto& g : groups) {
      fmt::print(
          "\n{}: {} environment{}; Python {}; services: {}\n", g.name, g.envs.size(),
          g.envs.size() == 1 ? "" : "s",
          g.pythons.empty() ? "(the runner's)" : fmt::format("{}", fmt::join(g.pythons, ", ")),
          g.services.empty() ? "none" : fmt::format("{}", fmt::join(g.services, ", ")));
      for (const auto& e : g.envs) {
        std::string what =
            !e.unread.empty()
                ? fmt::format("cannot tell which tests `{}` runs: every test and service", e.unread)
            : !e.runs_pytest
                ? "runs no pytest"
                : fmt::format(
                      "{} test{}{} under {}", e.tests, e.tests == 1 ? "" : "s",
                      e.unknown ? fmt::format(" ({} unknown: every service)", e.unknown) : "",
                      e.paths.empty() ? "the root" : fmt::format("{}", fmt::join(e.paths, ", ")));
        fmt::print(
            "  {}: {}; {}\n", e.env.name, what,
            e.services.empty() ? "no service" : fmt::format("{}", fmt::join(e.services, ", ")));
      }
    }
  });
}

}  // namespace testmap::cli
