// pytest's rootdir and inifile, found the way pytest finds them (`determine_setup` in
// _pytest/config/findpaths.py), so that every command run from a subdirectory or given a
// path answers for the same project, store and test ids as pytest would.
#pragma once

#include <string>
#include <vector>

namespace testmap::config {

struct RootDir {
  std::string rootdir;  // absolute
  std::string inifile;  // absolute; empty when no configuration file was found
  // The path arguments (node ids cut at "::"), relative to rootdir, '/' separated; an
  // argument naming the rootdir itself is left out, as it narrows nothing. With no
  // arguments below the rootdir, the invocation directory, as pytest collects it.
  std::vector<std::string> narrow;
  std::string error;  // one line: an argument that does not exist or lies outside rootdir
};

// `args` are the command's path arguments (files, directories, node ids), relative to
// `invocation_dir` or absolute; `rootdir_option` is --rootdir (empty: not given).
RootDir find_rootdir(const std::string& invocation_dir, const std::vector<std::string>& args,
                     const std::string& rootdir_option = "");

// Whether a file makes its directory pytest's rootdir (pytest.ini always; pyproject.toml
// with [tool.pytest.ini_options] or [tool.pytest]; tox.ini with [pytest]; setup.cfg with
// [tool:pytest]).
bool is_pytest_config(const std::string& path);

// Whether the test `id` (a node id relative to rootdir) is under one of `narrow`'s paths
// or node id prefixes; true when `narrow` is empty.
bool within(const std::vector<std::string>& narrow, const std::string& id);

}  // namespace testmap::config
