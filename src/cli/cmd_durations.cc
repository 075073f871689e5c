// `testmap durations import|export`: bring in the durations a team already has
// (pytest-split, JUnit XML), write pytest-split's file from the store (docs/plan.md).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "core/plan/durations_io.h"
#include "core/plan/estimate.h"
#include "core/store/store.h"

namespace testmap::cli {

void register_durations(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("durations", "Import and export test durations");
  cmd->require_subcommand(1);

  struct ImportOptions {
    std::vector<std::string> files;
    std::string root = ".";
  };
  auto in = std::make_shared<ImportOptions>();
  auto* imp = cmd->add_subcommand(
      "import", "Add durations from pytest-split's .test_durations or JUnit XML reports");
  imp->add_option("files", in->files, "Files to import")->required()->check(CLI::ExistingFile);
  imp->add_option("--root", in->root, "Repository root (where the store is)")
      ->capture_default_str();
  imp->callback([in, &exit_code] {
    for (const auto& f : in->files) {
      std::vector<runtime::TestRecord> records;
      Diagnostics diags;
      bool ok = plan::import_durations(f, in->root, &records, &diags);
      for (const auto& d : diags) fmt::print(stderr, "testmap durations: {}\n", d.format());
      if (!ok) {
        exit_code = kExitUsage;
        return;
      }
      store::Store s(store::default_path(in->root));
      if (!s.ok() || !s.merge_runtime(records, "import")) {
        fmt::print(stderr, "testmap durations: cannot write the store {}: {}\n",
                   store::default_path(in->root), s.error());
        exit_code = kExitCheckFailed;
        return;
      }
      fmt::print(stderr, "testmap durations: {}: {} durations imported\n", f, records.size());
    }
  });

  struct ExportOptions {
    std::string root = ".";
    std::string output;
  };
  auto out = std::make_shared<ExportOptions>();
  auto* exp = cmd->add_subcommand(
      "export", "Print each test's duration (median of recent runs) as pytest-split's JSON");
  exp->add_option("--root", out->root, "Repository root (where the store is)")
      ->capture_default_str();
  exp->add_option("-o,--output", out->output, "Write to this file instead of stdout");
  exp->callback([out, &exit_code] {
    std::error_code ec;
    std::map<std::string, double> durations;
    if (std::filesystem::exists(store::default_path(out->root), ec)) {
      store::Store s(store::default_path(out->root));
      if (!s.ok()) {
        fmt::print(stderr, "testmap durations: {}\n", s.error());
        exit_code = kExitCheckFailed;
        return;
      }
      for (const auto& [id, runs] : s.recent_variant_durations(5))
        durations[id] = plan::median(runs);
    }
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
