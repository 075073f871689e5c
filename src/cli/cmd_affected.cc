// `testmap affected`: which tests a change to the working tree can break, and why each
// runs (docs/affected.md).
#include <fmt/format.h>

#include <filesystem>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/classify/classifier.h"
#include "core/config/projects.h"
#include "core/select/affected.h"
#include "core/util/json_text.h"

namespace testmap::cli {

void register_affected(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    bool json = false;
    std::string explain;
    std::string base;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "affected", "List the tests a change to the working tree can break (since the recording)");
  add_root_args(cmd, &opts->root, true);
  cmd->add_flag("--json", opts->json, "Print every selected test with its reasons as JSON");
  cmd->add_option("--explain", opts->explain, "Say why one test runs, or why it does not");
  cmd->add_option("--base", opts->base,
                  "Also count every change since this commit (a branch's merge base, say), "
                  "whatever the recording saw");
  cmd->footer(
      "Record first with `pytest --testmap-deps` (or `testmap record --deps -- pytest ...`);\n"
      "then `pytest --testmap-affected` runs what this lists. See docs/affected.md.");
  cmd->callback([opts, &exit_code] {
    std::string repo_root;
    auto projects = resolve_projects("affected", opts->root, &repo_root);
    if (!projects) {
      exit_code = kExitUsage;
      return;
    }
    // Each project selects from its own recording; at a monorepo's root the ids are
    // spelled from the root, and a project that must run everything says why per test.
    std::vector<std::string> ids;
    select::Selection sel;
    for (const auto& project : *projects) {
      classify::Classification c = classify::classify_root(project.rootdir, 0, nullptr);
      if (!c.unusable.empty()) {
        fmt::print(stderr, "testmap affected: {}{}\n", config::project_label(project.dir),
                   c.unusable);
        exit_code = kExitUsage;
        return;
      }
      std::vector<std::string> own;
      for (const auto& t : c.tests)
        if (config::within(project.narrow, t.id)) own.push_back(t.id);
      select::Selection part;
      std::string error;
      if (!select::select_affected(project.rootdir, own, opts->base, &part, &error)) {
        fmt::print(stderr, "testmap affected: {}{}\n", config::project_label(project.dir), error);
        exit_code = kExitUsage;
        return;
      }
      if (project.dir.empty()) {
        ids = std::move(own);
        sel = std::move(part);
        break;
      }
      sel.recorded += part.recorded;
      for (const auto& id : own) {
        std::string full = config::in_project(project.dir, id);
        ids.push_back(full);
        if (!part.run_all.empty())
          sel.why[full] = {fmt::format("every test of {} runs: {}", project.dir, part.run_all)};
        else if (auto it = part.why.find(id); it != part.why.end())
          sel.why[full] = std::move(it->second);
      }
    }
    std::string root = projects->front().dir.empty() ? projects->front().rootdir : repo_root;
    size_t selected = sel.run_all.empty() ? sel.why.size() : ids.size();
    if (!opts->explain.empty()) {
      std::string id = opts->explain.substr(0, opts->explain.find('['));
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
        fmt::print(stderr, "testmap affected: no test '{}' under {}\n", opts->explain, root);
        exit_code = kExitUsage;
        return;
      }
      if (!sel.run_all.empty()) {
        fmt::print("{}: runs: every test runs: {}\n", id, sel.run_all);
      } else if (auto it = sel.why.find(id); it != sel.why.end()) {
        fmt::print("{}: runs:\n", id);
        for (const auto& r : it->second) fmt::print("  {}\n", r);
      } else {
        fmt::print("{}: not affected: nothing it ran when recorded has changed\n", id);
      }
      return;
    }
    if (opts->json) {
      std::string out;
      JsonWriter j(out);
      j.begin_object().field("tests", ids.size()).field("selected", selected);
      j.key("run_all");
      if (sel.run_all.empty())
        j.null();
      else
        j.value(sel.run_all);
      j.key("selection").begin_array();
      for (const auto& id : ids) {
        auto it = sel.why.find(id);
        if (sel.run_all.empty() && it == sel.why.end()) continue;
        j.begin_object().field("id", id).key("reasons");
        j.value(sel.run_all.empty() ? it->second : std::vector<std::string>{sel.run_all});
        j.end_object();
      }
      j.end_array().end_object();
      out += '\n';
      fwrite(out.data(), 1, out.size(), stdout);
      return;
    }
    if (!sel.run_all.empty()) {
      fmt::print("every test runs ({}): {}\n", ids.size(), sel.run_all);
      return;
    }
    for (const auto& id : ids)
      if (auto it = sel.why.find(id); it != sel.why.end())
        fmt::print("{}  {}\n", id, it->second.front());
    fmt::print("{} of {} tests selected ({} recorded, {} not affected)\n", selected, ids.size(),
               sel.recorded, ids.size() - selected);
  });
}

}  // namespace testmap::cli
