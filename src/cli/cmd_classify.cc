// `testmap classify [PATH...]`: the services every test needs, from the source and the
// recorded runs, as a tier table, JSON, or the reasons behind one test; the whole
// project's classification goes into the store, the paths narrow what is printed.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/classify/classifier.h"
#include "core/classify/monorepo.h"
#include "core/classify/report.h"
#include "core/config/config.h"
#include "core/store/store.h"

namespace testmap::cli {

void register_classify(CLI::App& app, int& exit_code) {
  struct Options {
    RootArgs root;
    bool json = false;
    std::string explain;
    bool strict = false;
    bool no_store = false;
    unsigned threads = 0;
    bool timings = false;
    bool diff = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "classify",
      "Say which services every test needs: from the source, and from the runs `testmap record` "
      "stored (--no-store: the source alone)");
  add_root_args(cmd, &opts->root, true);
  cmd->add_flag("--json", opts->json,
                "Print every test with its tier, services and reasons as JSON");
  cmd->add_option("--explain", opts->explain, "Print each reason behind one test's classification");
  cmd->add_flag("--strict", opts->strict,
                "Exit 1 when a file does not parse, a base class cannot be followed or the config "
                "has errors");
  cmd->add_flag("--no-store", opts->no_store,
                "Neither read nor write .testmap/testmap.db: the source alone, no recorded runs");
  cmd->add_flag("--diff", opts->diff,
                "List where recorded runs and the source disagree (with --json: as JSON)");
  cmd->add_option("-j,--jobs", opts->threads, "Threads for scanning (default: one per core)");
  cmd->add_flag("--timings", opts->timings, "Print the seconds each phase took on stderr");
  cmd->callback([opts, &exit_code] {
    std::string repo_root;
    auto projects = resolve_projects("classify", opts->root, &repo_root);
    if (!projects) {
      exit_code = kExitUsage;
      return;
    }
    // One project: its classification as it is. A monorepo's root: every project's own,
    // each classified in its rootdir with its store, then spelled from the repository.
    bool monorepo = projects->size() != 1 || !projects->front().dir.empty();
    auto start = std::chrono::steady_clock::now();
    struct Part {
      config::ProjectRoot project;
      std::optional<store::Store> stored;
      std::string store_path;
      classify::Classification whole;
      std::optional<classify::Classification> narrowed;
      bool saved = true;
      double store_seconds = 0;
      std::thread writer;
      ~Part() {
        if (writer.joinable()) writer.join();  // a later project's error returns early
      }
    };
    std::vector<std::unique_ptr<Part>> parts;
    for (const auto& project : *projects) {
      auto part = std::make_unique<Part>();
      part->project = project;
      const std::string& root = project.rootdir;
      std::string where = config::project_label(project.dir);
      config::Config cfg = config::load_config(root);
      // A config that cannot be read would classify on defaults and overwrite the store.
      if (std::string bad = cfg.unusable; !bad.empty()) {
        fmt::print(stderr, "testmap classify: {}{}\n", where, bad);
        exit_code = kExitUsage;
        return;
      }
      // Opened before classifying: a store that is refused stops the command before any
      // work, and classify (which rewrites everything) moves a corrupt one aside.
      classify::RuntimeUses runtime;
      part->store_path = store::default_path(root);
      if (!opts->no_store) {
        part->stored.emplace(part->store_path, store::Access::kRebuild);
        store::Store& st = *part->stored;
        if (!st.notice().empty()) fmt::print(stderr, "testmap: {}\n", st.notice());
        if (!st.ok() || !st.runtime_uses(&runtime)) {
          fmt::print(stderr, "testmap classify: the store {}: {}\n", part->store_path, st.error());
          exit_code = kExitUsage;
          return;
        }
      }
      part->whole = classify::classify_root(root, opts->threads, &runtime);
      // What is printed: the tests under the paths, as pytest would collect them there;
      // the store gets the whole project.
      if (!project.narrow.empty())
        part->narrowed = classify::classify_paths(root, project.narrow, opts->threads, &runtime);
      for (auto d : part->whole.diagnostics) {
        if (monorepo && !d.file.empty() && d.file[0] != '/')
          d.file = config::in_project(project.dir, d.file);
        fmt::print(stderr, "testmap: {}\n", d.format());
      }
      // The store is written while the output is printed: both only read the classification.
      if (part->stored) {
        Part* p = part.get();
        p->writer = std::thread([p] {
          Stopwatch store_clock;
          p->saved = p->stored->replace_static(p->whole);
          p->store_seconds = store_clock.lap();
        });
      }
      parts.push_back(std::move(part));
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Stopwatch clock;
    classify::Classification combined;
    if (monorepo) {
      combined.root = repo_root;
      for (const auto& p : parts)
        classify::add_project(p->project.dir, p->narrowed ? *p->narrowed : p->whole, combined);
    }
    const classify::Classification& shown =
        monorepo ? combined : (parts[0]->narrowed ? *parts[0]->narrowed : parts[0]->whole);
    bool explained = true;
    if (!opts->explain.empty()) {
      std::string text = classify::explain(shown, opts->explain);
      if (text.empty()) {
        fmt::print(stderr, "testmap classify: no test '{}' under {}\n", opts->explain, shown.root);
        explained = false;
      }
      fmt::print("{}", text);
    } else if (opts->diff) {
      std::string text =
          opts->json ? classify::diff_json_text(shown) : classify::render_diff(shown);
      fwrite(text.data(), 1, text.size(), stdout);
    } else if (opts->json) {
      std::string text = classify::to_json_text(shown);
      fwrite(text.data(), 1, text.size(), stdout);
    } else {
      fmt::print("{}", classify::render_table(shown, seconds));
    }
    fflush(stdout);
    Timings timings = monorepo ? combined.timings : parts[0]->whole.timings;
    timings.emplace_back("output", clock.lap());
    bool saved = true;
    double store_seconds = 0;
    for (auto& p : parts) {
      if (!p->writer.joinable()) continue;
      p->writer.join();
      store_seconds += p->store_seconds;
      if (!p->saved) {
        fmt::print(stderr, "testmap classify: cannot write the store {}: {}; nothing was saved\n",
                   p->store_path, p->stored->error());
        saved = false;
      }
    }
    if (!opts->no_store) {
      timings.emplace_back("store", store_seconds);
      timings.emplace_back("wait", clock.lap());
    }
    if (opts->timings)
      for (const auto& [phase, s] : timings)
        fmt::print(stderr, "timing: {:<9} {:7.3f} s\n", phase, s);
    bool diagnosed = false;
    for (const auto& p : parts) diagnosed |= !p->whole.diagnostics.empty();
    if (!explained || !saved)
      exit_code = kExitUsage;
    else if (opts->strict && diagnosed)
      exit_code = kExitCheckFailed;
  });
}

}  // namespace testmap::cli
