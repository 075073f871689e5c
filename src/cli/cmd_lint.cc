// `testmap lint [PATH...]`: the project's test conventions of [tool.testmap.lint], checked
// over the scanned code (docs/lint.md).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/classify/collect.h"
#include "core/classify/project.h"
#include "core/classify/resolver.h"
#include "core/config/config.h"
#include "core/lint/changes.h"
#include "core/lint/checks.h"
#include "core/lint/new_test_file.h"
#include "core/lint/noqa.h"
#include "core/lint/report.h"
#include "core/store/store.h"
#include "core/util/glob.h"

namespace testmap::cli {

namespace {

struct Options {
  RootArgs root;
  std::string format = "text";
  bool json = false;
  bool diff = false;
  std::string base;
  bool no_durations = false;
};

int lint_main(const Options& o) {
  auto root = resolve_root("lint", o.root);
  if (!root) return kExitUsage;
  config::Config cfg = config::load_config(root->rootdir);
  if (std::string why = config::refusal(cfg, "tool.testmap.lint"); !why.empty()) {
    fmt::print(stderr, "testmap lint: {}\n", why);
    return kExitUsage;
  }
  const auto& rules = cfg.lint;
  if (!rules.any()) {
    fmt::print(stderr,
               "testmap lint: no rules in [tool.testmap.lint] of {}; docs/lint.md shows how to "
               "write them\n",
               root->inifile.empty() ? root->rootdir + "/pyproject.toml" : root->inifile);
    return kExitUsage;
  }
  std::string format = o.json ? "json" : o.format;

  // Only the files some rule can read keep their call sites: the test code and what the
  // rules' paths name.
  std::vector<std::string> globs = lint::rule_globs(rules, true);
  auto wants_sites = [&](const std::string& rel) {
    if (rules.banned_calls.empty() && rules.forbid_inside.empty()) return false;
    if (rel.ends_with("conftest.py") || classify::is_test_file(cfg.pytest, rel)) return true;
    for (const auto& g : globs)
      if (glob_match(g, rel)) return true;
    return false;
  };
  classify::Project project = classify::load_project(cfg, 0, wants_sites, false);
  classify::Resolver resolver(project);
  std::vector<classify::TestItem> tests;
  if (!rules.base_classes.empty() || !rules.costly_bases.empty())
    tests = classify::collect_tests(cfg, project, resolver);
  lint::Scope scope = lint::scope_of(cfg, project, root->narrow);

  // The last recorded seconds of each test, for what a costly base costs.
  std::map<std::string, double> seconds;
  bool have_seconds = false;
  if (!rules.costly_bases.empty() && !o.no_durations) {
    store::Store s(store::default_path(root->rootdir), store::Access::kRead);
    std::map<std::string, std::vector<double>> history;
    if (!s.missing() && s.ok() && s.recent_durations(1, &history)) {
      for (const auto& [id, runs] : history)
        if (!runs.empty()) seconds[id] = runs.front();
      have_seconds = !seconds.empty();
    }
  }

  std::vector<lint::Finding> found =
      lint::check_code(cfg, project, resolver, tests, scope, have_seconds ? &seconds : nullptr);
  lint::Changes changes;
  bool need_git = o.diff || rules.new_test_file;
  if (need_git) {
    std::string error;
    std::string base = o.base.empty() ? "HEAD" : o.base;
    if (!lint::changes_since(root->rootdir, base, &changes, &error)) {
      fmt::print(stderr, "testmap lint: {}{}\n", error,
                 o.diff ? "" : " (new-test-file compares the working tree with --base)");
      return kExitUsage;
    }
    if (rules.new_test_file) {
      auto more = lint::check_new_test_files(cfg, project, scope, changes.added);
      found.insert(found.end(), more.begin(), more.end());
    }
    if (o.diff)
      std::erase_if(found,
                    [&](const lint::Finding& f) { return !changes.changed(f.path, f.line); });
  }
  lint::drop_silenced(found, root->rootdir);
  lint::sort_findings(found);

  size_t checked = 0;
  for (char c : scope.lint) checked += c != 0;
  if (format == "json") {
    fmt::print("{}\n", lint::to_json(found, checked).dump(2));
  } else if (format == "sarif") {
    fmt::print("{}\n", lint::to_sarif(found, TESTMAP_VERSION).dump(2));
  } else {
    fmt::print("{}", lint::to_text(found));
    std::set<std::string> files;
    for (const auto& f : found) files.insert(f.path);
    auto of = [](size_t n, std::string_view what) {
      return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
    };
    if (found.empty())
      fmt::print(stderr, "testmap lint: no problems in {}\n", of(checked, "file"));
    else
      fmt::print(stderr, "testmap lint: {} in {} of {}\n", of(found.size(), "problem"),
                 files.size(), of(checked, "file"));
  }
  return found.empty() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void register_lint(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "lint",
      "Check the test conventions of [tool.testmap.lint]: banned calls, calls inside a "
      "`with`, imports, test base classes, costly bases, new test files");
  add_root_args(cmd, &o->root, true);
  cmd->add_option("--format", o->format, "text (path:line:col: CODE message), json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  cmd->add_flag("--json", o->json, "The same as --format json");
  cmd->add_flag("--diff", o->diff,
                "Report only what is on lines changed against --base (and in new files)");
  cmd->add_option("--base", o->base,
                  "The commit --diff and new-test-file compare the working tree with "
                  "(default: HEAD)");
  cmd->add_flag("--no-durations", o->no_durations,
                "Do not read recorded durations for what a costly base costs");
  cmd->footer(
      "Exit 0 when nothing is found, 1 when something is, 2 on a config or usage error.\n"
      "`# noqa` or `# noqa: TM101` on a line silences it. See docs/lint.md.");
  cmd->callback([o, &exit_code] { exit_code = lint_main(*o); });
}

}  // namespace testmap::cli
