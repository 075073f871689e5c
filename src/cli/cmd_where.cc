// `testmap where PATH`: the test file of a source file, or (--source) the source files of a
// test file, by the mirror rules of [tool.testmap.where] (docs/where.md).
#include <filesystem>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/config/config.h"
#include "core/where/mirror.h"

namespace testmap::cli {

namespace {

namespace fs = std::filesystem;

int where_main(const RootArgs& root_args, const std::string& path, bool to_source, bool json) {
  auto root = resolve_root("where", root_args);
  if (!root) return kExitUsage;
  config::Config cfg = config::load_config(root->rootdir);
  if (std::string why = config::refusal(cfg, "tool.testmap.where"); !why.empty()) {
    fmt::print(stderr, "testmap where: {}\n", why);
    return kExitUsage;
  }
  std::vector<where::Rule> rules;
  for (const auto& [source, test] : cfg.where_rules) rules.push_back({source, test});
  if (rules.empty()) rules = where::default_rules();

  // The path as the rules spell it: relative to the rootdir, whether or not it exists.
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(fs::absolute(path, ec), ec);
  fs::path rel = abs.lexically_relative(fs::weakly_canonical(root->rootdir, ec));
  std::string key = rel.generic_string();
  if (ec || key.empty() || key == "." || key.starts_with("..")) {
    fmt::print(stderr, "testmap where: {} is not under the rootdir {}\n", path, root->rootdir);
    return kExitUsage;
  }
  std::vector<where::Mirror> found = where::mirrors(rules, key, to_source);
  if (found.empty()) {
    fmt::print(stderr, "testmap where: no rule maps {} to its {} file (rules: {}){}\n", key,
               to_source ? "source" : "test",
               fmt::join(
                   [&] {
                     std::vector<std::string> v;
                     for (const auto& r : rules) v.push_back(r.source + " -> " + r.test);
                     return v;
                   }(),
                   ", "),
               to_source ? "" : "; for a test file's source, pass --source");
    return kExitUsage;
  }
  bool any = false;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : found) {
    bool exists = fs::is_regular_file(fs::path(root->rootdir) / m.path, ec);
    any = any || exists;
    list.push_back({{"path", m.path},
                    {"exists", exists},
                    {"rule", {rules[m.rule].source, rules[m.rule].test}}});
  }
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"path", key}, {"mirrors", list}}.dump(2));
  } else {
    for (const auto& m : list) {
      // The path alone on stdout, for `$EDITOR $(testmap where FILE)`; what is missing on
      // stderr.
      fmt::print("{}\n", m["path"].get<std::string>());
      if (!m["exists"].get<bool>())
        fmt::print(stderr, "testmap where: {} does not exist{}\n", m["path"].get<std::string>(),
                   to_source ? "" : ": a new test file goes there");
    }
  }
  return any ? kExitOk : kExitCheckFailed;
}

}  // namespace

void register_where(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    std::string path;
    bool source = false, json = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "where",
      "Print the test file of a source file (or, with --source, the source of a test "
      "file) by the mirror rules, and whether it exists");
  cmd->add_option("path", o->path, "A source file (a test file with --source)")->required();
  cmd->add_flag("--source", o->source, "Map a test file to its source files instead");
  cmd->add_flag("--json", o->json, "Print the path, each mirror, whether it exists and its rule");
  cmd->add_option("--root,--rootdir", o->root.rootdir,
                  "The project's root (default: found as pytest finds its rootdir)");
  cmd->footer(
      "Exit 0 when the file exists, 1 when it does not, 2 when no rule maps the path.\n"
      "Rules: [tool.testmap.where] rules, default src/{dir}/{name}.py -> "
      "tests/{dir}/test_{name}.py.\nSee docs/where.md.");
  cmd->callback([o, &exit_code] { exit_code = where_main(o->root, o->path, o->source, o->json); });
}

}  // namespace testmap::cli
