// The pytest projects of a monorepo (`[tool.testmap] projects`): where each one's rootdir
// is, and which of its tests a command's paths reach, so that a command run at the
// repository's root answers for every project as pytest would in each project's directory.
#pragma once

#include <string>
#include <vector>

#include "core/config/config.h"

namespace testmap::config {

struct ProjectRoot {
  std::string dir;      // relative to the repository's root, '/' separated ("libs/common")
  std::string rootdir;  // absolute: pytest's rootdir when run in `dir`
  // The command's paths within the project, relative to its rootdir; empty: all of it.
  std::vector<std::string> narrow;
};

// The projects of `cfg` (the repository's config, at cfg.root) that `narrow` reaches
// (paths or node ids relative to the repository's root; empty: every project). False
// with a one-line *error when a project has no pytest configuration of its own (pytest
// run there would find another rootdir) or a path is in none of the projects.
bool project_roots(const Config& cfg, const std::vector<std::string>& narrow,
                   std::vector<ProjectRoot>* out, std::string* error);

// `dir` as a name for CI jobs and machines: "services/billing" -> "services-billing".
std::string project_slug(const std::string& dir);

// "project services/billing: " before a message about that project; "" for a single one.
std::string project_label(const std::string& dir);

// "services/billing" + "tests/t.py::x" -> "services/billing/tests/t.py::x"; unchanged
// when `dir` is empty (a single project).
std::string in_project(const std::string& dir, const std::string& id);

}  // namespace testmap::config
