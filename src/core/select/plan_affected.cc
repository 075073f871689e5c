// Narrowing a plan's input to the affected tests, project by project.
#include "core/select/plan_affected.h"

#include <unordered_set>

#include <fmt/format.h>

#include "core/select/affected.h"

namespace testmap::select {

bool keep_affected(plan::PlanInput* input, const std::vector<config::ProjectRoot>& projects,
                   const std::string& base, AffectedInput* out, std::string* error) {
  out->before = input->tests.size();
  std::unordered_set<std::string> keep;
  for (const auto& project : projects) {
    std::vector<std::string> ids;
    std::string prefix = project.dir.empty() ? "" : project.dir + "/";
    for (const auto& t : input->tests)
      if (t.project == project.dir) ids.push_back(t.id.substr(prefix.size()));
    Selection sel;
    std::string why;
    if (!select_affected(project.rootdir, ids, base, &sel, &why)) {
      *error = config::project_label(project.dir) + why;
      return false;
    }
    if (!sel.run_all.empty())
      out->run_all.push_back(fmt::format("every test {}is affected: {}",
                                         project.dir.empty() ? "" : "of " + project.dir + " ",
                                         sel.run_all));
    for (const auto& id : ids)
      if (!sel.run_all.empty() || sel.why.count(id)) keep.insert(prefix + id);
  }
  std::erase_if(input->tests, [&](const plan::PlanTest& t) { return !keep.count(t.id); });
  return true;
}

}  // namespace testmap::select
