// `testmap report`: the test map as one self-contained HTML file with charts, or its summary
// in Markdown (docs/report.md).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/report/model.h"
#include "core/report/page.h"
#include "core/util/timings.h"

namespace testmap::cli {

namespace {

struct Options {
  RootArgs root;
  std::string output = "testmap-report.html";
  bool markdown = false;
  bool timings = false;
  report::Options report;
};

int report_main(const Options& o) {
  auto root = resolve_root("report", o.root);
  if (!root) return kExitUsage;
  auto start = std::chrono::steady_clock::now();
  report::Model model;
  std::string error;
  if (!report::gather(root->rootdir, o.report, &model, &error)) {
    fmt::print(stderr, "testmap report: {}\n", error);
    return kExitUsage;
  }
  Stopwatch clock;
  std::string text;
  if (o.markdown) {
    text = report::markdown_summary(model);
  } else {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    text = report::html_page(model, fmt::format("{:%Y-%m-%d %H:%M} UTC", tm));
  }
  model.timings.emplace_back("page", clock.lap());
  auto print_timings = [&] {
    model.timings.emplace_back("write", clock.lap());
    if (o.timings)
      for (const auto& [phase, s] : model.timings)
        fmt::print(stderr, "timing: {:<9} {:7.3f} s\n", phase, s);
  };
  std::string output = o.markdown && o.output == "testmap-report.html" ? "-" : o.output;
  if (output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    print_timings();
    return kExitOk;
  }
  // Written whole beside the target, then renamed: a reader never sees half a report.
  std::string part = output + ".part";
  {
    std::ofstream f(part, std::ios::binary);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!f.good()) {
      std::remove(part.c_str());
      fmt::print(stderr, "testmap report: cannot write {}\n", output);
      return kExitUsage;
    }
  }
  if (std::rename(part.c_str(), output.c_str()) != 0) {
    std::remove(part.c_str());
    fmt::print(stderr, "testmap report: cannot write {}\n", output);
    return kExitUsage;
  }
  print_timings();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "testmap report: wrote {} ({} tests, {:.1f} MB) in {:.2f} s\n", output,
             model.c.tests.size(), static_cast<double>(text.size()) / 1e6, seconds);
  return kExitOk;
}

}  // namespace

void register_report(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write the test map as one HTML file with charts (tiers, the plan's machines over "
      "time, durations, disagreements), or its Markdown summary");
  add_root_args(cmd, &o->root, false);
  cmd->add_option("-o,--output", o->output,
                  "The file to write (- for stdout; default testmap-report.html, stdout with "
                  "--markdown)");
  cmd->add_flag("--markdown", o->markdown,
                "Print the summary in Markdown instead (tiers, machines, the ten slowest tests, "
                "unknown tests): what CI shows as a job summary");
  auto* plan = cmd->add_option("--plan", o->report.plan_file,
                               "Draw this plan (`testmap plan --json`) instead of planning one");
  auto* shards = cmd->add_option("--shards", o->report.shards,
                                 "Plan this many machines (default: one per tier)")
                     ->check(CLI::PositiveNumber)
                     ->excludes(plan);
  cmd->add_option("--max-minutes", o->report.max_minutes, "Plan for this wall clock instead")
      ->check(minutes_check())
      ->excludes(shards)
      ->excludes(plan);
  cmd->add_option("--workers", o->report.workers, "xdist workers per machine")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->excludes(plan);
  auto* affected = cmd->add_flag(
      "--affected", o->report.affected,
      "Also show which tests the working tree's change selects, and why (testmap affected)");
  cmd->add_option("--base", o->report.base, "With --affected: count every change since this commit")
      ->needs(affected);
  cmd->add_flag("--timings", o->timings, "Print the seconds each phase took on stderr");
  cmd->footer("See docs/report.md.");
  cmd->callback([o, &exit_code] { exit_code = report_main(*o); });
}

}  // namespace testmap::cli
