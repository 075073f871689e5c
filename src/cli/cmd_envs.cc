// `testmap envs`: tox's environments as testmap reads them, grouped as `testmap ci --envs`
// groups them, each with its Python, the tests it runs and the services they need.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/config/config.h"
#include "core/envs/balance.h"
#include "core/envs/groups.h"

namespace testmap::cli {
namespace {

nlohmann::json params_object(const std::vector<std::pair<std::string, std::string>>& params) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : params) out[k] = v;
  return out;
}

}  // namespace

void register_envs(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    std::string tool;
    std::string group_by;
    int max_jobs = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "envs",
      "List tox's environments or nox's sessions in the jobs `testmap ci --envs` gives them");
  add_root_args(cmd, &o->root, false);
  cmd->add_option("--tool", o->tool,
                  "Read tox's environments or nox's sessions (default: tox's when there is a "
                  "tox configuration, else nox's)")
      ->check(CLI::IsMember({"tox", "nox"}));
  cmd->add_option("--group-by", o->group_by,
                  "Group by this factor's values (nox: this parameter's), or python (default: "
                  "tox: the framework, the first factor that is not a Python version; nox: the "
                  "session)");
  cmd->add_option("--max-jobs", o->max_jobs,
                  "Balance the groups into at most this many jobs by the environments' recorded "
                  "durations (testmap durations import of tox --result-json)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Print the groups as JSON");
  cmd->footer("See docs/envs.md.");
  register_envs_run(*cmd, exit_code);
  cmd->callback([o, cmd, &exit_code] {
    if (cmd->got_subcommand("run")) return;
    auto found = resolve_root("envs", o->root);
    if (!found) {
      exit_code = kExitUsage;
      return;
    }
    // The config's problems, said before the environments read with it.
    for (const auto& d : config::load_config(found->rootdir).diagnostics)
      fmt::print(stderr, "testmap: {}\n", d.format());
    std::vector<envs::Group> groups;
    std::string error;
    std::string tool;
    if (!envs::plan_envs(found->rootdir, o->tool, o->group_by, &groups, &error, &tool)) {
      fmt::print(stderr, "testmap envs: {}\n", error);
      exit_code = kExitUsage;
      return;
    }
    envs::Balanced balanced;
    if (o->max_jobs > 0) {
      if (!envs::balance_from_store(found->rootdir, tool, &groups, o->max_jobs, &balanced,
                                    &error)) {
        fmt::print(stderr, "testmap envs: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
      groups = envs::as_groups(balanced);
      if (!envs::link_after(&groups, &error)) {
        fmt::print(stderr, "testmap envs: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
    }
    size_t n = 0;
    for (const auto& g : groups) n += g.envs.size();
    if (o->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& g : groups) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : g.envs)
          list.push_back({{"name", e.env.name},
                          {"session", e.env.session},
                          {"params", params_object(e.env.params)},
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
        j.push_back({{"group", g.name},
                     {"pythons", g.pythons},
                     {"services", g.services},
                     {"after", g.after},
                     {"seconds", g.seconds},
                     {"envs", list}});
      }
      nlohmann::json doc = {{"tool", tool}, {"groups", j}, {"environments", n}};
      if (o->max_jobs > 0)
        doc["balanced"] = {{"wall_seconds", balanced.wall},
                           {"runner_seconds", balanced.runner},
                           {"estimated_environments", balanced.estimated},
                           {"job_overhead_seconds", balanced.job_overhead},
                           {"job_overhead_from", balanced.overhead_source}};
      fmt::print("{}\n", doc.dump(2));
      return;
    }
    fmt::print("{} {} {}{} in {} {}{}\n", n, tool, tool == "nox" ? "session" : "environment",
               n == 1 ? "" : "s", groups.size(), o->max_jobs ? "job" : "group",
               groups.size() == 1 ? "" : "s");
    if (o->max_jobs > 0)
      fmt::print(
          "estimated wall clock {:.0f} s, runner time {:.0f} s{}; each job's set-up {:.0f} s "
          "({})\n",
          balanced.wall, balanced.runner,
          balanced.estimated
              ? fmt::format(" ({} environments without a recorded duration)", balanced.estimated)
              : "",
          balanced.job_overhead, balanced.overhead_source);
    for (const auto& g : groups) {
      fmt::print(
          "\n{}: {} {}{}; Python {}; services: {}\n", g.name, g.envs.size(),
          tool == "nox" ? "session" : "environment", g.envs.size() == 1 ? "" : "s",
          g.pythons.empty() ? "(the runner's)" : fmt::format("{}", fmt::join(g.pythons, ", ")),
          g.services.empty() ? "none" : fmt::format("{}", fmt::join(g.services, ", ")));
      if (!g.after.empty()) fmt::print("  runs after {} (depends)\n", fmt::join(g.after, ", "));
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
