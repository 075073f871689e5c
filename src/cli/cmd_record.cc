// `testmap record [--enforce] -- pytest ARGS...`: runs pytest under the preload shim and
// merges what each test used into the store (docs/runtime.md).
#include <memory>

#include "cli/commands.h"
#include "cli/record_run.h"

namespace testmap::cli {

void register_record(CLI::App& app, int& exit_code) {
  struct Options {
    bool enforce = false;
    bool deps = false;
    bool fallback = false;
    std::vector<std::string> command;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "record", "Run pytest under the preload shim and record the services each test uses");
  cmd->add_flag("--deps", opts->deps,
                "Record which functions each test runs too, for `testmap affected` "
                "(docs/affected.md)");
  cmd->add_flag("--enforce", opts->enforce,
                "Refuse connections to services outside each test's tier; such tests fail");
  cmd->add_flag("--fallback", opts->fallback,
                "Use the Python-level socket patch instead of the shim (sees no C-library "
                "traffic)");
  cmd->add_option("command", opts->command, "The pytest command line, after --")
      ->required()
      ->expected(-1);
  cmd->footer(
      "Example: testmap record -- python -m pytest -n 4 tests/\n"
      "Results go into .testmap/testmap.db under pytest's rootdir; see docs/runtime.md.");
  cmd->callback([opts, &exit_code] {
    RecordRun run{.enforce = opts->enforce,
                  .deps = opts->deps,
                  .fallback = opts->fallback,
                  .command = opts->command};
    exit_code = record_run("record", run, nullptr);
  });
}

}  // namespace testmap::cli
