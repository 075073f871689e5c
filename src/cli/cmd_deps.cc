// `testmap deps export|import`: carry recorded dependencies between CI machines, as
// `durations export|import` carries durations (docs/affected.md, "In CI").
#include <fmt/format.h>

#include <fstream>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/scan/scanner.h"
#include "core/select/deps_io.h"
#include "core/store/store.h"

namespace testmap::cli {

void register_deps(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "deps", "Export and import the recorded dependencies of `pytest --testmap-deps`");
  cmd->require_subcommand(1);

  struct ExportOptions {
    std::string root;  // --root, or found as pytest finds its rootdir
    std::string output;
  };
  auto out = std::make_shared<ExportOptions>();
  auto* exp = cmd->add_subcommand("export", "Write the store's recorded dependencies as JSON");
  exp->add_option(
         "--root", out->root,
         "The project's root, where the store is (default: found as pytest finds its rootdir)")
      ->capture_default_str();
  exp->add_option("-o,--output", out->output, "Write to this file instead of stdout");
  exp->callback([out, &exit_code] {
    if (auto found = resolve_store_root("deps export", RootArgs{{}, out->root}))
      out->root = *found;
    else {
      exit_code = kExitUsage;
      return;
    }
    store::Store s(store::default_path(out->root), store::Access::kRead);
    store::DepsSnapshot snap;
    if (!s.missing() && (!s.ok() || !s.load_deps(&snap))) {
      fmt::print(stderr, "testmap deps: cannot read the store {}: {}\n",
                 store::default_path(out->root), s.error());
      exit_code = kExitUsage;
      return;
    }
    std::string text = select::deps_json_text(snap);
    if (out->output.empty()) {
      fwrite(text.data(), 1, text.size(), stdout);
      return;
    }
    std::ofstream f(out->output, std::ios::binary);
    f << text;
    if (!f.flush()) {
      fmt::print(stderr, "testmap deps: cannot write {}\n", out->output);
      exit_code = kExitUsage;
      return;
    }
    fmt::print(stderr, "testmap deps: {} tests written to {}\n", snap.tests.size(), out->output);
  });

  struct ImportOptions {
    std::vector<std::string> files;
    std::string root;  // --root, or found as pytest finds its rootdir
  };
  auto in = std::make_shared<ImportOptions>();
  auto* imp = cmd->add_subcommand(
      "import", "Add the dependencies of `testmap deps export` files (a later one wins per test)");
  imp->add_option("files", in->files, "Files to import")->required()->check(CLI::ExistingFile);
  imp->add_option(
         "--root", in->root,
         "The project's root, where the store is (default: found as pytest finds its rootdir)")
      ->capture_default_str();
  imp->callback([in, &exit_code] {
    if (auto found = resolve_store_root("deps import", RootArgs{{}, in->root}))
      in->root = *found;
    else {
      exit_code = kExitUsage;
      return;
    }
    for (const auto& f : in->files) {
      std::string text, error;
      std::vector<select::ImportedRun> runs;
      if (!scan::read_file(f, &text)) {
        fmt::print(stderr, "testmap deps: {}: cannot be read\n", f);
        exit_code = kExitUsage;
        continue;
      }
      if (!select::parse_deps_json(text, &runs, &error)) {
        fmt::print(stderr, "testmap deps: {}: {}; nothing of it was imported\n", f, error);
        exit_code = kExitUsage;
        continue;
      }
      store::Store s(store::default_path(in->root));
      size_t tests = 0;
      for (const auto& r : runs) {
        if (!s.ok() || !s.save_deps(r.tests, r.files, "")) {
          fmt::print(stderr, "testmap deps: the store {}: {}; {} was not imported whole\n",
                     store::default_path(in->root), s.error(), f);
          exit_code = kExitUsage;
          return;
        }
        tests += r.tests.size();
      }
      fmt::print(stderr, "testmap deps: {}: {} tests imported\n", f, tests);
    }
  });
}

}  // namespace testmap::cli
