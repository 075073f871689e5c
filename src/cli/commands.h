// The subcommands of the `testmap` executable; each file registers one on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace testmap::cli {

// Exit codes shared by every subcommand (DESIGN.md): 0 ok, 1 check failed, 2 usage or input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;

// --max-minutes: CLI::PositiveNumber lets nan and inf through, and a plan made for them
// is no plan.
inline CLI::Validator minutes_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(s, v) || !(v > 0 && v <= 7 * 24 * 60))
          return "expected minutes, more than 0 and at most a week (10080), not " + s;
        return "";
      },
      "MINUTES");
}

void register_scan(CLI::App& app, int& exit_code);
void register_classify(CLI::App& app, int& exit_code);
void register_record(CLI::App& app, int& exit_code);
void register_plan(CLI::App& app, int& exit_code);
void register_durations(CLI::App& app, int& exit_code);
void register_deps(CLI::App& app, int& exit_code);
void register_ci(CLI::App& app, int& exit_code);
void register_affected(CLI::App& app, int& exit_code);
void register_init(CLI::App& app, int& exit_code);
void register_bisect(CLI::App& app, int& exit_code);
void register_flaky(CLI::App& app, int& exit_code);
void register_where(CLI::App& app, int& exit_code);
void register_lint(CLI::App& app, int& exit_code);
void register_report(CLI::App& app, int& exit_code);
void register_envs(CLI::App& app, int& exit_code);
void register_envs_run(CLI::App& envs, int& exit_code);  // `testmap envs run`

}  // namespace testmap::cli
