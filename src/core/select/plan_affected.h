// A plan's input narrowed to the tests a change can break: `testmap plan --affected` and
// the merge-request pipeline of `testmap ci gitlab --affected` plan only those.
#pragma once

#include <string>
#include <vector>

#include "core/config/projects.h"
#include "core/plan/planner.h"

namespace testmap::select {

struct AffectedInput {
  size_t before = 0;                 // tests before narrowing
  std::vector<std::string> run_all;  // "every test [of P] is affected: why", per project
};

// Keeps the tests `select_affected` selects, each project from its own recording (a
// project whose change runs everything keeps all its tests). False with *error (with the
// project's label) when a project's config cannot be read.
bool keep_affected(plan::PlanInput* input, const std::vector<config::ProjectRoot>& projects,
                   const std::string& base, AffectedInput* out, std::string* error);

}  // namespace testmap::select
