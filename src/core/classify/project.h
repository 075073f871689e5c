// The scanned repository: every Python file under the root with its outline and
// the module names it can be imported as. Files are scanned on all cores.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config/config.h"
#include "core/scan/outline.h"
#include "core/util/timings.h"

namespace testmap::classify {

struct SourceFile {
  std::string rel;  // path relative to the root, '/' separated
  std::string abs;
  std::string module;  // primary module name (package walk), may be empty
  bool is_conftest = false;
  bool is_init = false;
  size_t bytes = 0;
  scan::Outline outline;
};

struct Project {
  std::string root;
  std::vector<SourceFile> files;
  std::unordered_map<std::string, int> modules;  // module name -> file
  std::unordered_set<std::string> packages;      // every dotted prefix of a module name
  std::unordered_map<std::string, int> by_rel;   // relative path -> file
  size_t total_bytes = 0;
  Diagnostics diagnostics;
  Timings timings;

  int module_file(const std::string& name) const {
    auto it = modules.find(name);
    return it == modules.end() ? -1 : it->second;
  }
};

// Finds every .py file under cfg.root (following symlinked directories once), scans
// them with `threads` workers (0: one per core) and indexes module names. The files for
// which `call_sites` says yes (by root-relative path) keep their call sites; without
// `hashes`, no code unit is hashed (testmap lint).
Project load_project(const config::Config& cfg, unsigned threads = 0,
                     const std::function<bool(const std::string&)>& call_sites = {},
                     bool hashes = true);

// The absolute module name of `import module` with `level` leading dots, written in `f`.
std::string absolute_module(const SourceFile& f, const std::string& module, int level);

// Fills the module index of files already scanned (unit tests build projects in memory).
void index_modules(Project& p, const config::Config& cfg);

}  // namespace testmap::classify
