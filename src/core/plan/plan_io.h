// The plan's input file, its JSON and its table (docs/plan.md).
#pragma once

#include <string>

#include "core/plan/planner.h"
#include "core/util/diagnostic.h"

namespace testmap::plan {

// Reads `{"tests": [...], "services": {...}}`; false with a diagnostic naming the file
// (and the test's index or key) when it is malformed.
bool read_input(const std::string& path, PlanInput* input, Diagnostic* error);
// The same from the file's text; `where` names it in errors.
bool parse_input(const std::string& text, const std::string& where, PlanInput* input,
                 Diagnostic* error);

std::string plan_json_text(const Plan& plan);
// Reads a plan written by plan_json_text; `where` names it in errors.
bool parse_plan(const std::string& text, const std::string& where, Plan* plan, Diagnostic* error);
std::string render_plan(const Plan& plan);
// The CI matrix of the machines a plan uses: "1/M" ... "M/M", each what
// `pytest --testmap-tier T --testmap-shard K/M` runs (testmap plan --matrix, the GitLab
// merge-request pipeline).
std::vector<std::string> matrix_shards(const Plan& plan);

}  // namespace testmap::plan
