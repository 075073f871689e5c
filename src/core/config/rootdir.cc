// pytest's rootdir search: the common ancestor of the arguments, then the first directory
// upwards with a pytest configuration file, then setup.py, then the arguments themselves.
#include "core/config/rootdir.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <filesystem>

#include "core/config/config.h"
#include "core/config/ini.h"

namespace testmap::config {
namespace fs = std::filesystem;
namespace {

// Absolute, without "." and "..", and without the trailing '/' that lexically_normal
// keeps ("tests/" and "tests" are one directory).
fs::path normal(const fs::path& p) {
  fs::path n = fs::absolute(p).lexically_normal();
  if (!n.has_filename() && n != n.root_path()) n = n.parent_path();
  return n;
}

bool is_ancestor(const fs::path& dir, const fs::path& p) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

fs::path common_path(const fs::path& a, const fs::path& b) {
  fs::path out;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end() && ib != b.end() && *ia == *ib;
       ++ia, ++ib)
    out /= *ia;
  return out;
}

// pytest's get_common_ancestor: of the paths that exist, else the invocation directory.
fs::path common_ancestor(const fs::path& invocation, const std::vector<fs::path>& paths) {
  std::optional<fs::path> common;
  std::error_code ec;
  for (const auto& p : paths) {
    if (!fs::exists(p, ec)) continue;
    if (!common)
      common = p;
    else if (is_ancestor(*common, p) || p == *common)
      continue;
    else if (is_ancestor(p, *common))
      common = p;
    else
      common = common_path(p, *common);
  }
  if (!common) return invocation;
  if (fs::is_regular_file(*common, ec)) return common->parent_path();
  return *common;
}

struct Found {
  fs::path dir, file;
};

// pytest's locate_config: the first configuration file upwards from each argument; a
// pyproject.toml without pytest's table only when nothing else is found.
std::optional<Found> locate_config(const std::vector<fs::path>& args) {
  std::optional<Found> pyproject;
  std::error_code ec;
  for (const auto& arg : args) {
    for (fs::path base = arg;; base = base.parent_path()) {
      for (const char* name : {"pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini",
                               "pyproject.toml", "tox.ini", "setup.cfg"}) {
        fs::path p = base / name;
        if (!fs::is_regular_file(p, ec)) continue;
        if (!pyproject && std::string_view(name) == "pyproject.toml") pyproject = Found{base, p};
        if (is_pytest_config(p.string())) return Found{base, p};
      }
      if (base == base.root_path() || base.parent_path() == base) break;
    }
  }
  return pyproject;
}

}  // namespace

bool is_pytest_config(const std::string& path_text) {
  fs::path path(path_text);
  std::string name = path.filename().string();
  // pytest 9's pytest.toml and .pytest.toml count like pytest.ini, whatever they hold.
  if (name == "pytest.ini" || name == ".pytest.ini" || name == "pytest.toml" ||
      name == ".pytest.toml")
    return true;
  std::string text;
  if (!read_text(path_text, &text)) return false;
  if (name == "pyproject.toml") {
    try {
      return toml::parse(text, path_text).at_path("tool.pytest").is_table();
    } catch (const toml::parse_error&) {
      return false;  // pytest fails on it; load_config says why
    }
  }
  const char* section = name == "tox.ini" ? "pytest" : name == "setup.cfg" ? "tool:pytest" : "";
  if (!*section) return false;
  return parse_ini(text).count(section) > 0;
}

RootDir find_rootdir(const std::string& invocation_dir, const std::vector<std::string>& args,
                     const std::string& rootdir_option) {
  RootDir out;
  fs::path invocation = normal(invocation_dir);
  std::error_code ec;
  std::vector<fs::path> paths, dirs;
  for (const auto& arg : args) {
    if (arg.empty()) continue;
    std::string file_part = arg.substr(0, arg.find("::"));
    fs::path p = normal(invocation / file_part);
    if (!fs::exists(p, ec)) {
      out.error = fmt::format("{}: no such file or directory", file_part);
      return out;
    }
    paths.push_back(p);
    dirs.push_back(fs::is_directory(p, ec) ? p : p.parent_path());
  }
  fs::path ancestor = common_ancestor(invocation, dirs);
  fs::path rootdir;
  if (auto found = locate_config({ancestor})) {
    rootdir = found->dir;
    out.inifile = found->file.string();
  } else if (rootdir_option.empty()) {
    for (fs::path base = ancestor;; base = base.parent_path()) {
      if (fs::is_regular_file(base / "setup.py", ec)) {
        rootdir = base;
        break;
      }
      if (base.parent_path() == base) break;
    }
    if (rootdir.empty() && !dirs.empty() && dirs != std::vector<fs::path>{ancestor}) {
      if (auto found = locate_config(dirs)) {
        rootdir = found->dir;
        out.inifile = found->file.string();
      }
    }
    // pytest takes the common ancestor of the arguments and the directory it runs in
    // (`cd /tmp/x && pytest /tmp/proj` roots at /tmp); testmap takes the arguments'
    // alone, so that a project without any config gets the same ids and store from
    // everywhere.
    if (rootdir.empty()) rootdir = ancestor;
  }
  if (!rootdir_option.empty()) {
    rootdir = normal(invocation / rootdir_option);
    if (!fs::is_directory(rootdir, ec)) {
      out.error = fmt::format("--rootdir {}: not a directory", rootdir_option);
      return out;
    }
  }
  out.rootdir = rootdir.string();
  // pytest run without arguments below its rootdir collects the current directory.
  if (args.empty() && invocation != rootdir && is_ancestor(rootdir, invocation))
    out.narrow.push_back(invocation.lexically_relative(rootdir).generic_string());
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    size_t colons = arg.find("::");
    fs::path p = normal(invocation / arg.substr(0, colons));
    if (p == rootdir && colons == std::string::npos) continue;
    if (!is_ancestor(rootdir, p)) {
      out.error = fmt::format("{} is outside the rootdir {}", arg, out.rootdir);
      return out;
    }
    std::string rel = p.lexically_relative(rootdir).generic_string();
    if (colons != std::string::npos) {
      // Test ids carry no parametrize ids: `t.py::test_x[1]` narrows to test_x.
      std::string rest = arg.substr(colons);
      if (rest.ends_with("]")) rest = rest.substr(0, rest.find('['));
      rel = (rel == "." ? "" : rel) + rest;
    }
    if (!rel.empty() && rel != ".") out.narrow.push_back(rel);
  }
  return out;
}

bool within(const std::vector<std::string>& narrow, const std::string& id) {
  if (narrow.empty()) return true;
  for (const auto& n : narrow)
    if (id == n || id.starts_with(n + "::") || id.starts_with(n + "/")) return true;
  return false;
}

}  // namespace testmap::config
