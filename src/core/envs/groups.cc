// Each tox environment's tests and services from the test map, and its job.
#include "core/envs/groups.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/store/store.h"

namespace testmap::envs {
namespace {

// Shell-like words: spaces split, quotes group, as tox splits a command.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  bool any = false;
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      any = true;
    } else if (c == ' ' || c == '\t') {
      if (any || !cur.empty()) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
    }
  }
  if (any || !cur.empty()) out.push_back(cur);
  return out;
}

// {posargs:DEFAULT} as its default (what CI runs: no posargs), {posargs} as nothing.
std::string without_posargs(std::string line) {
  for (size_t at; (at = line.find("{posargs")) != std::string::npos;) {
    size_t close = line.find('}', at);
    if (close == std::string::npos) break;
    size_t colon = line.find(':', at);
    std::string fallback = colon != std::string::npos && colon < close
                               ? line.substr(colon + 1, close - colon - 1)
                               : "";
    line.replace(at, close - at + 1, fallback);
  }
  return line;
}

// pytest options whose value is the next word: it is no path.
const std::set<std::string> kValueOptions = {"-k",
                                             "-m",
                                             "-p",
                                             "-c",
                                             "-n",
                                             "-o",
                                             "-W",
                                             "-r",
                                             "--junitxml",
                                             "--junit-xml",
                                             "--rootdir",
                                             "--durations",
                                             "--maxfail",
                                             "--basetemp",
                                             "--deselect",
                                             "--ignore",
                                             "--ignore-glob",
                                             "--dist",
                                             "--tx",
                                             "--reruns",
                                             "--timeout",
                                             "--cov-report",
                                             "--cov-config",
                                             "--tb",
                                             "--confcutdir",
                                             "--log-level",
                                             "--import-mode",
                                             "--capture",
                                             "--override-ini",
                                             "--maxprocesses",
                                             "--numprocesses",
                                             "--cov-fail-under",
                                             "--randomly-seed"};

std::string strip_version(std::string_view f) {
  while (!f.empty() && (std::isdigit(static_cast<unsigned char>(f.back())) || f.back() == '.'))
    f.remove_suffix(1);
  if (f.ends_with("-v") || f.ends_with("_v")) f.remove_suffix(2);
  if (f == "v") return "";  // "v4.2": a version alone
  return std::string(f);
}

}  // namespace

std::vector<std::string> pytest_paths(const Env& e, bool* runs_pytest) {
  namespace fs = std::filesystem;
  *runs_pytest = false;
  std::vector<std::string> out;
  bool everything = false;
  for (const std::string& command : e.commands) {
    std::vector<std::string> w = words(without_posargs(command));
    size_t start = 0;
    bool found = false;
    for (size_t i = 0; i < w.size() && !found; ++i) {
      std::string base = fs::path(w[i]).filename().string();
      if (base == "pytest" || base == "py.test") {
        start = i + 1;
        found = true;
      } else if (w[i] == "-m" && i + 1 < w.size() && w[i + 1] == "pytest") {
        start = i + 2;
        found = true;
      }
    }
    if (!found) continue;
    *runs_pytest = true;
    bool given = false;
    for (size_t i = start; i < w.size(); ++i) {
      const std::string& a = w[i];
      if (a == "--pyargs") everything = true;  // module names, not paths
      if (a.starts_with("-")) {
        if (kValueOptions.count(a)) ++i;
        continue;
      }
      std::string path = a.substr(0, a.find("::"));
      if (path.find('{') != std::string::npos) {  // a substitution testmap cannot know
        everything = true;
        continue;
      }
      bool from_root = path.starts_with("{toxinidir}");
      fs::path p =
          from_root ? fs::path(path.substr(11)).relative_path() : fs::path(e.changedir) / path;
      std::string norm = p.lexically_normal().generic_string();
      while (norm.ends_with("/")) norm.pop_back();
      if (norm.empty() || norm == "." || norm.starts_with(".."))
        everything = true;
      else
        out.push_back(norm);
      given = true;
    }
    if (!given) {
      // No path: pytest's testpaths, from the changedir.
      if (e.changedir.empty())
        everything = true;
      else
        out.push_back(fs::path(e.changedir).lexically_normal().generic_string());
    }
  }
  if (everything) out.clear();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string group_key(const Env& e, const std::string& by) {
  if (by == "python") return e.python.empty() ? "default-python" : "py" + e.python;
  std::string fallback;
  for (size_t i = 0; i < e.factors.size(); ++i) {
    const std::string& f = e.factors[i];
    if (!python_of_factor(f).empty()) continue;
    std::string stem = strip_version(f);
    if (!by.empty() && stem == by) {
      // "django-v4.2": the version is the next factor.
      if (f == stem && i + 1 < e.factors.size() && strip_version(e.factors[i + 1]).empty())
        return f + "-" + e.factors[i + 1];
      return f;
    }
    if (fallback.empty() && !stem.empty()) fallback = stem;
  }
  if (!fallback.empty()) return fallback;
  return e.factors.empty() ? e.name : strip_version(e.factors[0]);
}

bool plan_envs(const std::string& root, const std::string& by, std::vector<Group>* out,
               std::string* error) {
  ToxConfig tox;
  Diagnostic bad;
  if (!read_tox(root, &tox, &bad)) {
    *error = bad.format();
    return false;
  }
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  classify::RuntimeUses runtime;
  if (!store::load_runtime_uses(root, &runtime, error)) return false;
  std::vector<std::string> every;
  for (const auto& svc : cfg.services) every.push_back(svc.name);
  // Environments mostly share their paths: each set is classified once.
  std::map<std::vector<std::string>, EnvTests> by_paths;
  std::map<std::string, size_t> index;
  for (const Env& e : tox.envs) {
    EnvTests t;
    t.env = e;
    t.paths = pytest_paths(e, &t.runs_pytest);
    if (t.runs_pytest) {
      auto known = by_paths.find(t.paths);
      if (known == by_paths.end()) {
        classify::Classification c = classify::classify_paths(root, t.paths, 0, &runtime);
        if (!c.unusable.empty()) {
          *error = c.unusable;
          return false;
        }
        EnvTests found;
        std::set<std::string> services;
        for (const auto& test : c.tests) {
          ++found.tests;
          if (test.unknown) ++found.unknown;
          for (const auto& s : test.unknown ? every : test.services) services.insert(s);
        }
        found.services.assign(services.begin(), services.end());
        known = by_paths.emplace(t.paths, std::move(found)).first;
      }
      t.tests = known->second.tests;
      t.unknown = known->second.unknown;
      t.services = known->second.services;
    }
    std::string key = group_key(e, by);
    auto [it, added] = index.emplace(key, out->size());
    if (added) out->push_back({key, {}, {}, {}, 0});
    Group& g = (*out)[it->second];
    if (!e.python.empty() &&
        std::find(g.pythons.begin(), g.pythons.end(), e.python) == g.pythons.end())
      g.pythons.push_back(e.python);
    for (const auto& s : t.services)
      if (std::find(g.services.begin(), g.services.end(), s) == g.services.end())
        g.services.push_back(s);
    g.envs.push_back(std::move(t));
  }
  for (auto& g : *out) std::sort(g.services.begin(), g.services.end());
  return true;
}

}  // namespace testmap::envs
