// `testmap init [--record -- pytest ARGS]`: writes a first, commented [tool.testmap] into
// pyproject.toml from what the repository says and, with --record, what a run of the
// given tests used (docs/init.md).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/record_run.h"
#include "cli/root_args.h"
#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/init/draft.h"
#include "core/init/write.h"
#include "core/store/store.h"

namespace testmap::cli {
namespace fs = std::filesystem;

void register_init(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    bool dry_run = false;
    bool json = false;
    bool record = false;
    bool fallback = false;
    std::vector<std::string> command;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "init",
      "Write a first [tool.testmap] into pyproject.toml: the services the repository's names, "
      "compose and CI files and Django settings show, and (--record) what a run used");
  cmd->add_option("--rootdir,--root", opts->root.rootdir,
                  "The project's root, as pytest's --rootdir (default: found as pytest finds "
                  "it from the current directory)");
  cmd->add_flag("--dry-run", opts->dry_run, "Print the section instead of adding it");
  cmd->add_flag("--json", opts->json,
                "Print what it found as JSON (services, rules and why, questions); writes nothing");
  cmd->add_flag("--record", opts->record,
                "First run the pytest command after -- under the shim, as `testmap record` "
                "does, and add what its tests used");
  cmd->add_flag("--fallback", opts->fallback,
                "With --record: the Python-level socket patch instead of the shim");
  cmd->add_option("command", opts->command, "With --record: the pytest command line, after --")
      ->expected(-1);
  cmd->footer(
      "Example: testmap init --record -- python -m pytest tests/unit -x\n"
      "Nothing in pyproject.toml is changed: the section is added after it. See docs/init.md.");
  cmd->callback([opts, &exit_code] {
    if (!opts->command.empty() && !opts->record) {
      fmt::print(stderr, "testmap init: a command after -- is for --record: add --record\n");
      exit_code = kExitUsage;
      return;
    }
    if (opts->record && opts->command.empty()) {
      fmt::print(stderr,
                 "testmap init: --record needs the pytest command after --, for example "
                 "`testmap init --record -- python -m pytest tests`\n");
      exit_code = kExitUsage;
      return;
    }
    auto r = resolve_root("init", opts->root);
    if (!r) {
      exit_code = kExitUsage;
      return;
    }
    std::string root = r->rootdir;
    config::Config cfg = config::load_config(root);
    if (!cfg.unusable.empty()) {
      fmt::print(stderr, "testmap init: {}\n", cfg.unusable);
      exit_code = kExitUsage;
      return;
    }
    if (!cfg.projects.empty()) {
      fmt::print(stderr,
                 "testmap init: {} is the root of several pytest projects: run it in each "
                 "project's directory (or pass --root PROJECT)\n",
                 root);
      exit_code = kExitUsage;
      return;
    }
    if (opts->record) {
      // --deps too: the helpers the tests ran become calls rules (docs/init.md).
      RecordRun run{.deps = true, .fallback = opts->fallback, .command = opts->command};
      std::string recorded_root;
      int rc = record_run("init", run, &recorded_root);
      if (recorded_root.empty()) {
        exit_code = rc == 0 ? kExitCheckFailed : rc;
        return;
      }
      if (recorded_root != root)
        fmt::print(stderr,
                   "testmap init: pytest ran in {}, not {}: its run is in that project's store\n",
                   recorded_root, root);
      // Failing tests still used what they used; only a run that recorded nothing stops here.
      if (rc != 0 && rc != 1)
        fmt::print(stderr, "testmap init: pytest exited {}; going on with what it recorded\n", rc);
    }
    classify::RuntimeUses runtime;
    std::string error;
    if (!store::load_runtime_uses(root, &runtime, &error))
      fmt::print(stderr, "testmap init: {}; going on from the source alone\n", error);
    store::DepsSnapshot deps;
    if (opts->record) {
      store::Store st(store::default_path(root), store::Access::kRead);
      if (!st.ok() || !st.load_deps(&deps))
        fmt::print(stderr, "testmap init: cannot read what the run ran ({}); no calls rules\n",
                   st.error());
    }
    classify::Classification c = classify::classify_root(root, 0, &runtime);
    init::Draft draft = init::make_draft(cfg, c, &runtime, &deps);
    std::string section = init::render(draft);
    if (opts->json) {
      fmt::print("{}\n", init::to_json(draft).dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace));
      return;
    }
    if (opts->dry_run) {
      fmt::print("{}", section.substr(1));
      return;
    }
    size_t adds = 0;
    for (const auto& s : draft.services) adds += !s.configured;
    if (!draft.has_testmap_table) adds += !draft.presets.empty();
    fs::path file = fs::path(root) / "pyproject.toml";
    if (adds == 0) {
      fmt::print(stderr,
                 "testmap init: nothing to add: every service it found is configured in {} "
                 "(`testmap init --dry-run` shows what it would suggest)\n",
                 file.string());
      return;
    }
    std::string existing, text;
    std::error_code ec;
    bool exists = fs::exists(file, ec);
    if (exists && !config::read_text(file, &existing)) {
      fmt::print(stderr, "testmap init: cannot read {}: {}\n", file.string(), strerror(errno));
      exit_code = kExitUsage;
      return;
    }
    if (!init::append_section(existing, section, &text, &error)) {
      fmt::print(stderr,
                 "testmap init: the section would not be valid TOML after {} ({}): nothing "
                 "written; `testmap init --dry-run` prints it\n",
                 file.string(), error);
      exit_code = kExitUsage;
      return;
    }
    // Written beside, then renamed over: a full disk leaves the old file whole.
    fs::path tmp = file;
    tmp += fmt::format(".testmap-init-{}", getpid());
    {
      std::ofstream out(tmp, std::ios::binary);
      out << text;
      if (!out.flush()) {
        fmt::print(stderr, "testmap init: cannot write {}: {}\n", tmp.string(), strerror(errno));
        fs::remove(tmp, ec);
        exit_code = kExitUsage;
        return;
      }
    }
    if (exists) fs::permissions(tmp, fs::status(file, ec).permissions(), ec);
    fs::rename(tmp, file, ec);
    if (ec) {
      fmt::print(stderr, "testmap init: cannot replace {}: {}\n", file.string(), ec.message());
      fs::remove(tmp, ec);
      exit_code = kExitUsage;
      return;
    }
    // What the source alone now says, with the new section: the numbers a user checks.
    classify::Classification after = classify::classify_root(root, 0, nullptr);
    std::string services;
    for (const auto& s : draft.services) {
      if (s.configured) continue;
      auto it = after.service_tests.find(s.name);
      size_t n = it == after.service_tests.end() ? 0 : it->second;
      services += fmt::format("{}{} ({} test{})", services.empty() ? "" : ", ", s.name, n,
                              n == 1 ? "" : "s");
    }
    fmt::print(stderr, "testmap init: {} {}: {}{}\n", exists ? "added to" : "created",
               file.string(), services.empty() ? "presets" : services,
               draft.questions.empty()
                   ? ""
                   : fmt::format("; {} question{} at its end", draft.questions.size(),
                                 draft.questions.size() == 1 ? "" : "s"));
    fmt::print(stderr, "testmap init: next, `testmap classify` shows the tiers it gives\n");
  });
}

}  // namespace testmap::cli
