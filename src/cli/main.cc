// `testmap`: parses the command line and hands over to one subcommand.
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "testmap: classify, shard and select a large pytest suite by the services each test needs"};
  app.name("testmap");
  app.set_version_flag("--version", std::string("testmap ") + TESTMAP_VERSION);
  app.require_subcommand(1);
  int exit_code = testmap::cli::kExitOk;
  testmap::cli::register_init(app, exit_code);
  testmap::cli::register_classify(app, exit_code);
  testmap::cli::register_record(app, exit_code);
  testmap::cli::register_plan(app, exit_code);
  testmap::cli::register_durations(app, exit_code);
  testmap::cli::register_deps(app, exit_code);
  testmap::cli::register_ci(app, exit_code);
  testmap::cli::register_affected(app, exit_code);
  testmap::cli::register_bisect(app, exit_code);
  testmap::cli::register_flaky(app, exit_code);
  testmap::cli::register_where(app, exit_code);
  testmap::cli::register_lint(app, exit_code);
  testmap::cli::register_report(app, exit_code);
  testmap::cli::register_envs(app, exit_code);
  testmap::cli::register_scan(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : testmap::cli::kExitUsage;
  }
  return exit_code;
}
