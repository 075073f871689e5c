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

}  // namespace testmap::cli
