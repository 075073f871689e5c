// `testmap durations import|export`: bring in the durations a team already has
// (pytest-split, JUnit XML), write pytest-split's file from the store (docs/plan.md).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/config/config.h"
#include "core/envs/tox_results.h"
#include "core/plan/durations_io.h"
#include "core/plan/estimate.h"
#include "core/store/store.h"

namespace testmap::cli {

void register_durations(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("durations", "Import and export test durations");
  cmd->require_subcommand(1);

  struct ImportOptions {
    std::vector<std::string> files;
    std::string root;  // --root, or found as pytest finds its rootdir
  };
  auto in = std::make_shared<ImportOptions>();
  auto* imp = cmd->add_subcommand(
      "import",
      "Add durations from pytest-split's .test_durations, JUnit XML reports, tox's "
      "--result-json or `testmap envs run`'s (each environment's, for `testmap ci --envs`), or "
      "a generated CI job's testmap-job.json (its set-up seconds, the measured "
      "job-overhead-seconds)");
  imp->add_option("files", in->files, "Files to import")->required()->check(CLI::ExistingFile);
  imp->add_option(
         "--root", in->root,
         "The project's root, where the store is (default: found as pytest finds its rootdir)")
      ->capture_default_str();
  imp->callback([in, &exit_code] {
    if (auto found = resolve_store_root("durations import", RootArgs{{}, in->root}))
      in->root = *found;
    else {
      exit_code = kExitUsage;
      return;
    }
    // Writes one file's rows into the store; false (said, exit 2) when the store refuses.
    auto save = [&](const std::function<bool(store::Store&)>& write, const std::string& f) {
      store::Store s(store::default_path(in->root));
      if (s.ok() && write(s)) return true;
      fmt::print(stderr, "testmap durations: the store {}: {}; {} was not imported\n",
                 store::default_path(in->root), s.error(), f);
      exit_code = kExitUsage;
      return false;
    };
    for (const auto& f : in->files) {
      // tox's result JSON: each environment's seconds, for `testmap ci --envs`.
      std::string text;
      if (config::read_text(f, &text) && envs::is_tox_results(text)) {
        std::vector<envs::EnvDuration> env_durations;
        Diagnostic bad;
        if (!envs::read_tox_results(text, f, &env_durations, &bad)) {
          fmt::print(stderr, "testmap durations: {}\n", bad.format());
          exit_code = kExitUsage;
          return;
        }
        if (!save([&](store::Store& s) { return s.save_env_durations(env_durations); }, f)) return;
        fmt::print(stderr, "testmap durations: {}: {} environments' durations imported\n", f,
                   env_durations.size());
        continue;
      }
      // A generated job's set-up seconds: the measured job-overhead-seconds.
      if (envs::is_job_setup(text)) {
        envs::JobSetup job;
        Diagnostic bad;
        if (!envs::read_job_setup(text, f, &job, &bad)) {
          fmt::print(stderr, "testmap durations: {}\n", bad.format());
          exit_code = kExitUsage;
          return;
        }
        if (!save(
                [&](store::Store& s) {
                  return s.save_job_setups({{job.job, job.kind, job.seconds}});
                },
                f))
          return;
        fmt::print(stderr, "testmap durations: {}: job {} set up in {:.0f} s\n", f, job.job,
                   job.seconds);
        continue;
      }
      std::vector<runtime::TestRecord> records;
      Diagnostics diags;
      size_t rejected = 0;
      bool ok = plan::import_durations(f, in->root, &records, &diags, &rejected);
      for (const auto& d : diags) fmt::print(stderr, "testmap durations: {}\n", d.format());
      if (!ok) {
        exit_code = kExitUsage;
        return;
      }
      store::Store s(store::default_path(in->root));
      if (!s.ok() || !s.merge_runtime(records, "import")) {
        fmt::print(stderr, "testmap durations: the store {}: {}; {} was not imported\n",
                   store::default_path(in->root), s.error(), f);
        exit_code = kExitUsage;
        return;
      }
      fmt::print(stderr, "testmap durations: {}: {} durations imported{}\n", f, records.size(),
                 rejected ? fmt::format(", {} values rejected", rejected) : "");
      // The good values are in; the exit code still says the file had bad ones.
      if (rejected) exit_code = kExitUsage;
    }
  });

  struct ExportOptions {
    std::string root;  // --root, or found as pytest finds its rootdir
    std::string output;
  };
  auto out = std::make_shared<ExportOptions>();
  auto* exp = cmd->add_subcommand(
      "export", "Print each test's duration (median of recent runs) as pytest-split's JSON");
  exp->add_option(
         "--root", out->root,
         "The project's root, where the store is (default: found as pytest finds its rootdir)")
      ->capture_default_str();
  exp->add_option("-o,--output", out->output, "Write to this file instead of stdout");
  exp->callback([out, &exit_code] {
    if (auto found = resolve_store_root("durations export", RootArgs{{}, out->root}))
      out->root = *found;
    else {
      exit_code = kExitUsage;
      return;
    }
    std::map<std::string, double> durations;
    store::Store s(store::default_path(out->root), store::Access::kRead);
    std::map<std::string, std::vector<double>> recent;
    if (!s.missing() && (!s.ok() || !s.recent_variant_durations(5, &recent))) {
      fmt::print(stderr, "testmap durations: cannot read the store {}: {}\n",
                 store::default_path(out->root), s.error());
      exit_code = kExitUsage;
      return;
    }
    for (const auto& [id, runs] : recent) durations[id] = plan::median(runs);
    std::string text = plan::durations_json_text(durations);
    if (out->output.empty()) {
      fwrite(text.data(), 1, text.size(), stdout);
    } else {
      std::ofstream f(out->output, std::ios::binary);
      f << text;
      if (!f) {
        fmt::print(stderr, "testmap durations: cannot write {}\n", out->output);
        exit_code = kExitCheckFailed;
      }
    }
  });
}

}  // namespace testmap::cli
