// `testmap ci github|gitlab`: the CI file for a plan of the suite, or, with --check, whether
// the committed one still matches it (docs/ci.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/ci/ci.h"
#include "core/ci/envs_ci.h"
#include "core/config/config.h"
#include "core/envs/balance.h"
#include "core/envs/groups.h"
#include "core/plan/plan_io.h"
#include "core/plan/repository.h"
#include "core/select/plan_affected.h"

namespace testmap::cli {

namespace {

struct Options {
  std::string system;
  RootArgs root;
  std::string path;  // the rootdir, once resolved
  int shards = 0;
  double max_minutes = 0;
  int workers = 1;
  std::string output;
  std::string check;
  bool affected = false;
  bool merge_request = false;
  std::string envs;          // tox: a job per group of its environments
  std::string group_by;      // how they are grouped
  int max_jobs = 0;          // and balanced into at most this many jobs
  std::string drift_hint;    // said when --check finds a drift
  bool split_files = false;  // --envs on GitHub: one workflow file per job, in a directory
};

// What follows `--envs tox` in the command: how the file says to regenerate it.
std::string envs_options(const Options& o) {
  std::string out;
  if (!o.group_by.empty()) out += " --group-by " + o.group_by;
  if (o.max_jobs > 0) out += fmt::format(" --max-jobs {}", o.max_jobs);
  return out;
}

// Writes `text` where the options say, or compares it with the committed file (--check).
int emit(const Options& o, const std::string& text) {
  std::error_code ec;
  if (!o.check.empty()) {
    std::ifstream in(o.check, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "testmap ci: cannot read {}\n", o.check);
      return kExitUsage;
    }
    std::stringstream committed;
    committed << in.rdbuf();
    std::string diff =
        ci::unified_diff(committed.str(), text, o.check, fmt::format("testmap ci {}", o.system));
    if (!diff.empty()) {
      fmt::print("{}", diff);
      fmt::print(stderr,
                 "testmap ci: {} has drifted from the test map; regenerate it with "
                 "`testmap ci {}{} -o {}`\n",
                 o.check, o.system, o.envs.empty() ? "" : " --envs " + o.envs + envs_options(o),
                 o.check);
      if (!o.drift_hint.empty()) fmt::print(stderr, "testmap ci: {}\n", o.drift_hint);
      return kExitCheckFailed;
    }
    return kExitOk;
  }
  if (o.output.empty()) {
    fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  std::filesystem::path out(o.output);
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path(), ec);
  std::ofstream f(out, std::ios::binary);
  f << text;
  if (!f) {
    fmt::print(stderr, "testmap ci: cannot write {}\n", o.output);
    return kExitCheckFailed;
  }
  return kExitOk;
}

// --split-files: writes each file into the directory (-o), removing the files an earlier
// run wrote for jobs that are gone, or compares them (--check DIR) and names the stale ones.
int emit_files(const Options& o, const std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  const std::string& dir = o.check.empty() ? o.output : o.check;
  if (dir.empty()) {
    fmt::print(stderr,
               "testmap ci: --split-files writes a directory: give -o DIR or --check DIR\n");
    return kExitUsage;
  }
  std::error_code ec;
  std::vector<fs::path> stale;
  // Stale: a tox-*.yml (nox-*.yml) whose first line is the header this run writes (the same command
  // and options), for a job that is gone. A file of another run's options is not this run's.
  std::string ours =
      files.empty() ? "" : files.begin()->second.substr(0, files.begin()->second.find('\n'));
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string text;
    if (!ours.empty() && !files.count(name) && name.starts_with(o.envs + "-") &&
        name.ends_with(".yml") && config::read_text(it->path().string(), &text) &&
        text.substr(0, text.find('\n')) == ours)
      stale.push_back(it->path());
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    fmt::print(stderr, "testmap ci: cannot list {}: {}\n", dir, ec.message());
    return kExitUsage;
  }
  std::sort(stale.begin(), stale.end());
  std::string regenerate = fmt::format("testmap ci {} --envs {}{} --split-files -o {}", o.system,
                                       o.envs, envs_options(o), dir);
  if (!o.check.empty()) {
    bool drifted = false;
    for (const auto& [name, text] : files) {
      fs::path path = fs::path(dir) / name;
      std::string committed;
      if (!config::read_text(path.string(), &committed)) {
        fmt::print(stderr, "testmap ci: {} is missing\n", path.string());
        drifted = true;
        continue;
      }
      std::string diff =
          ci::unified_diff(committed, text, path.string(), fmt::format("testmap ci {}", o.system));
      if (!diff.empty()) fmt::print("{}", diff);
      drifted |= !diff.empty();
    }
    for (const auto& p : stale)
      fmt::print(stderr, "testmap ci: {} should no longer exist: its job is gone\n", p.string());
    if (drifted || !stale.empty()) {
      fmt::print(stderr, "testmap ci: {} has drifted from the test map; regenerate it with `{}`\n",
                 dir, regenerate);
      if (!o.drift_hint.empty()) fmt::print(stderr, "testmap ci: {}\n", o.drift_hint);
      return kExitCheckFailed;
    }
    return kExitOk;
  }
  fs::create_directories(dir, ec);
  for (const auto& [name, text] : files) {
    std::ofstream f(fs::path(dir) / name, std::ios::binary);
    f << text;
    if (!f) {
      fmt::print(stderr, "testmap ci: cannot write {}\n", (fs::path(dir) / name).string());
      return kExitCheckFailed;
    }
  }
  for (const auto& p : stale) {
    if (!fs::remove(p, ec) || ec) {
      fmt::print(stderr, "testmap ci: cannot remove {}: {}\n", p.string(), ec.message());
      return kExitCheckFailed;
    }
    fmt::print(stderr, "testmap ci: removed {}: its job is gone\n", p.string());
  }
  return kExitOk;
}

}  // namespace

void register_ci(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "ci", "Write the GitHub Actions or GitLab CI file that runs the plan, or check it");
  cmd->add_option("system", opts->system, "github or gitlab")
      ->required()
      ->check(CLI::IsMember({"github", "gitlab"}));
  add_root_args(cmd, &opts->root, false);
  auto* shards =
      cmd->add_option("--shards", opts->shards, "Machines in all")->check(CLI::PositiveNumber);
  cmd->add_option("--max-minutes", opts->max_minutes, "Wall clock not to pass")
      ->check(minutes_check())
      ->excludes(shards);
  cmd->add_option("--workers", opts->workers, "xdist workers per machine")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "Write the file here instead of to stdout");
  cmd->add_flag("--affected", opts->affected,
                "Pull requests run only the tests their change can break; other pipelines run "
                "everything and record what each test runs for them (docs/affected.md)");
  cmd->add_flag("--merge-request", opts->merge_request,
                "GitLab: the child pipeline of one merge request, each job with the machines "
                "its affected tests need (the --affected file's merge requests run it)");
  cmd->add_option("--check", opts->check,
                  "Compare this committed file with what would be generated; exit 1 with a "
                  "diff when they differ");
  auto* envs = cmd->add_option("--envs", opts->envs,
                               "Jobs for tox's environments or nox's sessions instead of the "
                               "test map's tiers: "
                               "one job per group, with the Pythons and services its "
                               "environments need (docs/envs.md)")
                   ->check(CLI::IsMember({"tox", "nox"}));
  cmd->add_option("--group-by", opts->group_by,
                  "With --envs: group by this factor's values (django: django32, django42...; "
                  "nox: this parameter's), or python; default: a job per framework, the first "
                  "factor that is not a Python version (nox: per session)")
      ->needs(envs);
  cmd->add_flag("--split-files", opts->split_files,
                "With --envs on GitHub: one workflow file per job (tox-JOB.yml) in the directory "
                "-o or --check names; files of jobs that are gone are removed, or named by "
                "--check")
      ->needs(envs);
  cmd->add_option("--max-jobs", opts->max_jobs,
                  "With --envs: balance the groups into at most this many jobs by the "
                  "environments' recorded durations (docs/envs.md)")
      ->check(CLI::PositiveNumber)
      ->needs(envs);
  cmd->callback([opts, &exit_code] {
    std::error_code ec;
    if (auto found = resolve_root("ci", opts->root)) {
      opts->path = found->rootdir;
    } else {
      exit_code = kExitUsage;
      return;
    }
    if (!opts->envs.empty()) {
      if (opts->affected || opts->merge_request || opts->shards || opts->max_minutes > 0) {
        fmt::print(stderr,
                   "testmap ci: --envs groups tox's environments or nox's sessions; --affected, "
                   "--merge-request, "
                   "--shards and --max-minutes plan the test map's tiers\n");
        exit_code = kExitUsage;
        return;
      }
      config::Config cfg = config::load_config(opts->path);
      bool bad = false;
      for (const auto& d : cfg.diagnostics) {
        fmt::print(stderr, "testmap: {}\n", d.format());
        bad |=
            d.key.starts_with("tool.testmap.ci") ||
            (d.key.starts_with("tool.testmap.services.") && d.key.find(".ci") != std::string::npos);
      }
      if (bad) {  // a file written from defaults in place of the user's keys would drift
        fmt::print(stderr, "testmap ci: the CI settings have errors; nothing was written\n");
        exit_code = kExitUsage;
        return;
      }
      std::vector<envs::Group> groups;
      std::string error;
      if (!envs::plan_envs(opts->path, opts->envs, opts->group_by, &groups, &error)) {
        fmt::print(stderr, "testmap ci: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
      if (opts->max_jobs > 0) {
        envs::Balanced balanced;
        if (!envs::balance_from_store(opts->path, opts->envs, &groups, opts->max_jobs, &balanced,
                                      &error)) {
          fmt::print(stderr, "testmap ci: {}\n", error);
          exit_code = kExitUsage;
          return;
        }
        groups = envs::as_groups(balanced);
        if (!envs::link_after(&groups, &error)) {
          fmt::print(stderr, "testmap ci: {}\n", error);
          exit_code = kExitUsage;
          return;
        }
        // The layout follows the durations this store holds: a check elsewhere needs them.
        if (balanced.estimated)
          opts->drift_hint = fmt::format(
              "{} environments have no recorded duration in this store: --max-jobs balances "
              "by the durations it holds, so import the same tox result files (testmap "
              "durations import) where the file is written and where it is checked",
              balanced.estimated);
      }
      for (const auto& note : envs::after_notes(groups))
        fmt::print(stderr, "testmap ci: note: {}\n", note);
      if (opts->split_files) {
        for (const auto& g : groups)
          if (!g.after.empty()) {
            fmt::print(stderr,
                       "testmap ci: job {} must run after {} (tox's depends), which jobs of "
                       "other workflow files cannot wait for: write one file, without "
                       "--split-files\n",
                       g.name, fmt::join(g.after, ", "));
            exit_code = kExitUsage;
            return;
          }
        if (opts->system != "github") {
          fmt::print(stderr,
                     "testmap ci: --split-files is for GitHub, whose workflows are files of "
                     "their own; GitLab runs one .gitlab-ci.yml\n");
          exit_code = kExitUsage;
          return;
        }
        exit_code = emit_files(
            *opts,
            ci::github_envs_files(opts->envs, groups, cfg, envs_options(*opts) + " --split-files"));
        return;
      }
      exit_code =
          emit(*opts, opts->system == "github"
                          ? ci::github_envs_workflow(opts->envs, groups, cfg, envs_options(*opts))
                          : ci::gitlab_envs_ci(opts->envs, groups, cfg, envs_options(*opts)));
      return;
    }
    plan::PlanOptions po;
    po.shards = opts->shards;
    po.max_minutes = opts->max_minutes;
    po.workers = opts->workers;
    plan::PlanInput input;
    std::string error;
    std::vector<config::ProjectRoot> projects;
    if (!plan::repository_input(opts->path, &input, &error, &projects)) {
      fmt::print(stderr, "testmap ci: {}\n", error);
      exit_code = kExitUsage;
      return;
    }
    // The repository's config, and in a monorepo each project's (its jobs' services and
    // install commands).
    ci::Configs cfgs;
    cfgs.emplace("", config::load_config(opts->path));
    for (const auto& project : projects)
      cfgs.emplace(project.dir, config::load_config(project.rootdir));
    bool ci_keys_bad = false;
    for (const auto& [dir, cfg] : cfgs)
      for (auto d : cfg.diagnostics) {
        // A project's config repeats the repository's diagnostics it inherits.
        if (!dir.empty() && !cfg.inherited_from.empty() && d.file == cfg.inherited_from) continue;
        if (!dir.empty() && !d.file.empty() && d.file[0] != '/')
          d.file = config::in_project(dir, d.file);
        fmt::print(stderr, "testmap: {}\n", d.format());
        // [tool.testmap.ci] and each service's ci.github / ci.gitlab
        ci_keys_bad |= d.key.starts_with("tool.testmap.ci") ||
                       (d.key.starts_with("tool.testmap.services.") &&
                        (d.key.find(".ci.") != std::string::npos || d.key.ends_with(".ci")));
      }
    // A CI file written from defaults in place of the user's keys would drift unnoticed.
    if (ci_keys_bad) {
      fmt::print(stderr, "testmap ci: the CI settings have errors; nothing was written\n");
      exit_code = kExitUsage;
      return;
    }
    plan::Plan p = plan::make_plan(input, po);
    if (!p.error.empty()) {
      fmt::print(stderr, "testmap ci: {}\n", p.error);
      exit_code = kExitUsage;
      return;
    }
    // As `testmap plan` says them: machines left unused, projects needing more machines.
    for (const auto& w : p.warnings) fmt::print(stderr, "testmap ci: {}\n", w);
    std::vector<ci::Job> jobs = ci::jobs_of(p);
    std::string text;
    if (opts->merge_request) {
      if (opts->system != "gitlab" || !opts->check.empty()) {
        fmt::print(stderr, "testmap ci: --merge-request is for `testmap ci gitlab` alone\n");
        exit_code = kExitUsage;
        return;
      }
      if (projects.empty()) projects.push_back({"", opts->path, {}});
      select::AffectedInput narrowed;
      if (!select::keep_affected(&input, projects, "", &narrowed, &error)) {
        fmt::print(stderr, "testmap ci: {}\n", error);
        exit_code = kExitUsage;
        return;
      }
      for (const auto& line : narrowed.run_all) fmt::print(stderr, "testmap ci: {}\n", line);
      // Each job's machines as `testmap plan --tier T --shards N --matrix` counts them.
      std::map<std::string, std::vector<std::string>> shards;
      for (const auto& j : jobs) {
        plan::PlanInput mine = input;
        plan::keep_tests(&mine, j.tiers);
        std::erase_if(mine.tests, [&](const plan::PlanTest& t) { return t.project != j.project; });
        plan::PlanOptions jo;
        jo.shards = static_cast<int>(j.machines);
        jo.workers = opts->workers;
        shards[j.name] = plan::matrix_shards(plan::make_plan(mine, jo));
      }
      fmt::print(stderr, "testmap ci: {} of {} tests affected by the change\n", input.tests.size(),
                 narrowed.before);
      text = ci::gitlab_merge_request(jobs, cfgs, opts->workers, shards);
    } else if (opts->system == "github") {
      text = ci::github_workflow(jobs, cfgs, opts->workers, opts->affected);
    } else {
      // The merge requests' plan job makes the same plan as this file's.
      std::string plan_args = opts->shards > 0 ? fmt::format(" --shards {}", opts->shards)
                              : opts->max_minutes > 0
                                  ? fmt::format(" --max-minutes {}", opts->max_minutes)
                                  : "";
      if (opts->workers > 1) plan_args += fmt::format(" --workers {}", opts->workers);
      text = ci::gitlab_ci(jobs, cfgs, opts->workers, opts->affected, plan_args);
    }
    exit_code = emit(*opts, text);
  });
}

}  // namespace testmap::cli
