// The project arguments of the commands that work on a repository: path arguments and
// --rootdir, resolved to pytest's rootdir (core/config/rootdir.h) from any directory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config/projects.h"
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

// The projects `args` reach: the rootdir alone (dir "", its narrowing paths), or, at the
// root of a monorepo (`[tool.testmap] projects`), each listed project the paths reach,
// with its own rootdir. nullopt after printing why on stderr.
std::optional<std::vector<config::ProjectRoot>> resolve_projects(const char* command,
                                                                 const RootArgs& args,
                                                                 std::string* repo_root = nullptr);

// The store's project for commands that read or write one store (durations, deps): the
// rootdir `args` find, refused (nullopt, after saying which --root to pass) when it is a
// monorepo's root, which has no store of its own.
std::optional<std::string> resolve_store_root(const char* command, const RootArgs& args);

}  // namespace testmap::cli
