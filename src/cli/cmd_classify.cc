// `testmap classify [PATH...]`: the services every test needs, from the source and the
// recorded runs, as a tier table, JSON, or the reasons behind one test; the whole
// project's classification goes into the store, the paths narrow what is printed.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/classify/classifier.h"
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
    std::optional<config::RootDir> found = resolve_root("classify", opts->root);
    if (!found) {
      exit_code = kExitUsage;
      return;
    }
    const std::string& root = found->rootdir;
    auto start = std::chrono::steady_clock::now();
    config::Config cfg = config::load_config(root);
    // A config that cannot be read would classify on defaults and overwrite the store.
    if (std::string bad = cfg.unusable; !bad.empty()) {
      fmt::print(stderr, "testmap classify: {}\n", bad);
      exit_code = kExitUsage;
      return;
    }
    // Opened before classifying: a store that is refused stops the command before any
    // work, and classify (which rewrites everything) moves a corrupt one aside.
    std::optional<store::Store> stored;
    classify::RuntimeUses runtime;
    std::string store_path = store::default_path(root);
    if (!opts->no_store) {
      stored.emplace(store_path, store::Access::kRebuild);
      if (!stored->notice().empty()) fmt::print(stderr, "testmap: {}\n", stored->notice());
      if (!stored->ok() || !stored->runtime_uses(&runtime)) {
        fmt::print(stderr, "testmap classify: the store {}: {}\n", store_path, stored->error());
        exit_code = kExitUsage;
        return;
      }
    }
    classify::Classification c = classify::classify_root(root, opts->threads, &runtime);
    // What is printed: the tests under the paths, as pytest would collect them there;
    // the store gets the whole project.
    classify::Classification shown =
        found->narrow.empty()
            ? c
            : classify::classify_paths(root, found->narrow, opts->threads, &runtime);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& d : c.diagnostics) fmt::print(stderr, "testmap: {}\n", d.format());
    Stopwatch clock;
    // The store is written while the output is printed: both only read `c`.
    bool saved = true;
    double store_seconds = 0;
    std::thread writer;
    if (stored)
      writer = std::thread([&] {
        Stopwatch store_clock;
        saved = stored->replace_static(c);
        store_seconds = store_clock.lap();
      });
    bool explained = true;
    if (!opts->explain.empty()) {
      std::string text = classify::explain(c, opts->explain);
      if (text.empty()) {
        fmt::print(stderr, "testmap classify: no test '{}' under {}\n", opts->explain, c.root);
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
    Timings timings = c.timings;
    timings.emplace_back("output", clock.lap());
    if (writer.joinable()) {
      writer.join();
      timings.emplace_back("store", store_seconds);
      timings.emplace_back("wait", clock.lap());
      if (!saved)
        fmt::print(stderr, "testmap classify: cannot write the store {}: {}; nothing was saved\n",
                   store_path, stored->error());
    }
    if (opts->timings)
      for (const auto& [phase, s] : timings)
        fmt::print(stderr, "timing: {:<9} {:7.3f} s\n", phase, s);
    if (!explained || !saved)
      exit_code = kExitUsage;
    else if (opts->strict && !c.diagnostics.empty())
      exit_code = kExitCheckFailed;
  });
}

}  // namespace testmap::cli
