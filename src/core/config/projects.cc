// A monorepo's projects: their rootdirs, and a command's paths split between them.
#include "core/config/projects.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/config/rootdir.h"

namespace testmap::config {
namespace fs = std::filesystem;

bool project_roots(const Config& cfg, const std::vector<std::string>& narrow,
                   std::vector<ProjectRoot>* out, std::string* error) {
  std::vector<bool> reached(narrow.size(), false);
  for (const std::string& dir : cfg.projects) {
    ProjectRoot p;
    p.dir = dir;
    bool whole = narrow.empty();
    for (size_t i = 0; i < narrow.size(); ++i) {
      const std::string& n = narrow[i];
      std::string path = n.substr(0, n.find("::"));
      if (path == "." || path.empty() || dir.starts_with(path + "/") ||
          (path == dir && path.size() == n.size())) {
        whole = reached[i] = true;  // the project, or a directory holding it
      } else if (path == dir || path.starts_with(dir + "/")) {
        p.narrow.push_back(n.substr(dir.size() + 1));  // a path inside the project
        reached[i] = true;
      }
    }
    if (whole) p.narrow.clear();
    if (!whole && p.narrow.empty()) continue;
    // pytest run in the project's directory: its rootdir must be that directory, or the
    // project would be collected with another project's settings and ids.
    fs::path abs = fs::path(cfg.root) / dir;
    RootDir r = find_rootdir(abs.string(), {});
    if (!r.error.empty()) {
      *error = fmt::format("project {}: {}", dir, r.error);
      return false;
    }
    if (fs::path(r.rootdir) != abs.lexically_normal()) {
      *error = fmt::format(
          "project {} has no pytest configuration file of its own: pytest run there takes {} as "
          "its rootdir (add a pytest.ini, or [tool.pytest.ini_options] to its pyproject.toml)",
          dir, r.rootdir);
      return false;
    }
    p.rootdir = r.rootdir;
    out->push_back(std::move(p));
  }
  for (size_t i = 0; i < narrow.size(); ++i)
    if (!reached[i]) {
      std::string list;
      for (const auto& d : cfg.projects) list += (list.empty() ? "" : ", ") + d;
      *error =
          fmt::format("{} is in none of the projects [tool.testmap] lists ({})", narrow[i], list);
      return false;
    }
  return true;
}

std::string project_slug(const std::string& dir) {
  std::string s;
  for (char c : dir) s += (c == '/' || c == '.' || c == ' ') ? '-' : c;
  return s;
}

std::string project_label(const std::string& dir) {
  return dir.empty() ? "" : fmt::format("project {}: ", dir);
}

std::string in_project(const std::string& dir, const std::string& id) {
  return dir.empty() ? id : dir + "/" + id;
}

}  // namespace testmap::config
