// One classification of a monorepo from its projects' own: ids, files and reasons spelled
// from the repository's root, each test named with its project, the counts summed.
#pragma once

#include <string>

#include "core/classify/result.h"

namespace testmap::classify {

// Adds `part`, the classification of the project in directory `dir` (relative to the
// repository's root), to `all`; `all.root` is the repository's root.
void add_project(const std::string& dir, Classification part, Classification& all);

// A test id of the monorepo, split into its project and the id pytest uses there: the
// longest project directory it starts with. False when it is in no project.
bool split_project_id(const Classification& all, const std::string& id, std::string* project,
                      std::string* local_id);

}  // namespace testmap::classify
