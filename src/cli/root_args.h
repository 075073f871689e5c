// The project arguments of the commands that work on a repository: path arguments and
// --rootdir, resolved to pytest's rootdir (core/config/rootdir.h) from any directory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config/rootdir.h"

namespace testmap::cli {

struct RootArgs {
  std::vector<std::string> paths;
  std::string rootdir;
};

// `PATH...` narrows the tests when `narrows` (classify, affected); otherwise one PATH
// only names the project. --rootdir (also --root) sets the rootdir as pytest's does.
void add_root_args(CLI::App* cmd, RootArgs* args, bool narrows);

// The rootdir for `args` run from the current directory, or nullopt after printing
// "testmap COMMAND: why" on stderr.
std::optional<config::RootDir> resolve_root(const char* command, const RootArgs& args);

}  // namespace testmap::cli
