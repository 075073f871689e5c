// Path arguments and --rootdir, shared by classify, affected, plan, ci, deps, durations.
#include "cli/root_args.h"

#include <fmt/format.h>

#include <filesystem>

namespace testmap::cli {

void add_root_args(CLI::App* cmd, RootArgs* args, bool narrows) {
  if (narrows)
    cmd->add_option("paths", args->paths,
                    "Files, directories or node ids: only the tests under them, as for pytest "
                    "(default: the whole project)");
  else
    cmd->add_option("path", args->paths,
                    "A directory of the project (default: the current directory)")
        ->expected(0, 1);
  cmd->add_option("--rootdir,--root", args->rootdir,
                  "The project's root, as pytest's --rootdir (default: found as pytest finds "
                  "it, from the paths or the current directory)");
}

std::optional<config::RootDir> resolve_root(const char* command, const RootArgs& args) {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  config::RootDir r = config::find_rootdir(cwd, args.paths, args.rootdir);
  if (!r.error.empty()) {
    fmt::print(stderr, "testmap {}: {}\n", command, r.error);
    return std::nullopt;
  }
  return r;
}

std::optional<std::vector<config::ProjectRoot>> resolve_projects(const char* command,
                                                                 const RootArgs& args,
                                                                 std::string* repo_root) {
  std::optional<config::RootDir> r = resolve_root(command, args);
  if (!r) return std::nullopt;
  if (repo_root) *repo_root = r->rootdir;
  config::Config cfg = config::load_config(r->rootdir);
  std::vector<config::ProjectRoot> out;
  if (cfg.projects.empty() || !cfg.unusable.empty()) {
    out.push_back({"", r->rootdir, r->narrow});
    return out;
  }
  std::string error;
  if (!config::project_roots(cfg, r->narrow, &out, &error)) {
    fmt::print(stderr, "testmap {}: {}\n", command, error);
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> resolve_store_root(const char* command, const RootArgs& args) {
  std::optional<config::RootDir> r = resolve_root(command, args);
  if (!r) return std::nullopt;
  config::Config cfg = config::load_config(r->rootdir);
  if (cfg.projects.empty()) return r->rootdir;
  std::string list;
  for (const auto& p : cfg.projects) list += (list.empty() ? "" : ", ") + p;
  fmt::print(stderr,
             "testmap {}: {} is the root of several pytest projects, each with its own store: "
             "pass --root PROJECT or run it in a project's directory ({})\n",
             command, r->rootdir, list);
  return std::nullopt;
}

}  // namespace testmap::cli
