// What an environment's commands run: the paths they give pytest, or that they may run any
// test; and the job an environment goes to by its factors.
#include <algorithm>
#include <filesystem>
#include <set>

#include "core/envs/commands.h"

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

// {env:NAME:DEFAULT} and {env:NAME} as the environment's setenv gives NAME, else the default
// (what a CI job without that variable runs).
std::string with_env_values(const std::string& line, const Env& e, int depth = 0) {
  std::string out;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t at = line.find("{env:", pos);
    if (at == std::string::npos || depth > 8) break;
    // The matching brace: a default may hold another {env:...}.
    size_t close = at + 1;
    int open = 1;
    for (; close < line.size() && open > 0; ++close)
      open += line[close] == '{' ? 1 : line[close] == '}' ? -1 : 0;
    if (open != 0) break;  // unbalanced: left as it is
    std::string inside = line.substr(at + 5, close - 1 - at - 5);
    size_t colon = inside.find(':');
    std::string name = inside.substr(0, colon);
    std::string value =
        colon == std::string::npos ? "" : with_env_values(inside.substr(colon + 1), e, depth + 1);
    for (const auto& [k, v] : e.setenv)
      if (k == name) value = v;  // as set: not expanded again, so a self-reference ends
    out += line.substr(pos, at - pos) + value;
    pos = close;
  }
  return out + (pos < line.size() ? line.substr(pos) : "");
}

// Programs that run no tests: an environment of only these needs no service.
const std::set<std::string> kNoTests = {"ruff",
                                        "flake8",
                                        "mypy",
                                        "pyright",
                                        "pre-commit",
                                        "sphinx-build",
                                        "black",
                                        "isort",
                                        "pylint",
                                        "twine",
                                        "check-manifest",
                                        "codespell",
                                        "doc8",
                                        "rst-lint",
                                        "echo",
                                        "pip",
                                        "pip-compile",
                                        "towncrier",
                                        "bandit",
                                        "pyupgrade",
                                        "mkdocs",
                                        "sphinx-autobuild",
                                        "check-wheel-contents",
                                        "pyroma",
                                        "interrogate",
                                        "vulture",
                                        "yamllint",
                                        "validate-pyproject",
                                        "rm",
                                        "mkdir",
                                        "cp",
                                        "git",
                                        "pydocstyle",
                                        "pycodestyle",
                                        "autoflake",
                                        "sleep",
                                        "diff-cover",
                                        "diff-quality",
                                        "ty",
                                        "check-sdist",
                                        "pyproject-build",
                                        "sphinx-apidoc",
                                        "mdformat",
                                        "docformatter",
                                        "proselint",
                                        "zizmor",
                                        "actionlint",
                                        "typos",
                                        "deptry",
                                        "pip-audit",
                                        "safety",
                                        "true",
                                        "openssl"};
// uv's subcommands that install, lock or build, and run nothing of the project's.
const std::set<std::string> kUvNoTests = {"pip",  "build",   "lock",   "sync",
                                          "venv", "publish", "export", "add"};
// Their `python -m` module names; coverage's commands that only handle its data.
const std::set<std::string> kNoTestModules = {"mypy",    "ruff",       "flake8", "black",  "isort",
                                              "pip",     "build",      "twine",  "pylint", "sphinx",
                                              "pyright", "pre_commit", "ty"};
const std::set<std::string> kCoverageData = {"erase", "combine", "report", "xml",
                                             "html",  "json",    "lcov",   "debug"};

// Whether every call in a statement is to print, str, repr or a path (`Path(...)`, `/`):
// a printed hint, not code that runs something.
bool only_calls_to_quiet(std::string_view stmt) {
  static const std::set<std::string_view> kQuiet = {"print", "str", "repr", "Path", "format"};
  for (size_t at = stmt.find('('); at != std::string_view::npos; at = stmt.find('(', at + 1)) {
    size_t begin = at;
    while (begin > 0 &&
           (std::isalnum(static_cast<unsigned char>(stmt[begin - 1])) || stmt[begin - 1] == '_'))
      --begin;
    std::string_view name = stmt.substr(begin, at - begin);
    char quote = 0;  // a parenthesis inside quoted text is no call
    for (size_t k = 0; k < begin; ++k)
      if (!quote && (stmt[k] == '"' || stmt[k] == '\''))
        quote = stmt[k];
      else if (quote && stmt[k] == quote)
        quote = 0;
    if (!quote && !kQuiet.count(name)) return false;
  }
  return true;
}

bool runs_no_tests(const std::vector<std::string>& w, const std::vector<std::string>& extra) {
  namespace fs = std::filesystem;
  if (w.empty()) return true;
  size_t first = 0;
  if (w[0] == "-" || w[0] == "!") ++first;  // tox's "- cmd" (failure ignored), "! cmd"
  if (first == w.size()) return true;
  std::string prog = fs::path(w[first]).filename().string();
  if (prog.starts_with("-") || prog.starts_with("!")) prog = prog.substr(1);
  if (prog == "{envpython}" || (w[first].starts_with("{envbindir}") && prog.starts_with("python")))
    prog = "python";
  std::vector<std::string> rest(w.begin() + static_cast<long>(first), w.end());
  const auto& v = rest;
  if (kNoTests.count(prog)) return true;
  auto listed = [&](const std::string& name) {
    return std::find(extra.begin(), extra.end(), name) != extra.end();
  };
  if (listed(prog)) return true;
  // `python -m MOD`, `coverage run [...] -m MOD`: a module the project names.
  if (prog.starts_with("python") || (prog == "coverage" && v.size() > 1 && v[1] == "run"))
    for (size_t i = 1; i + 1 < v.size(); ++i)
      if (v[i] == "-m") {
        if (listed(v[i + 1])) return true;
        break;
      }
  // `uv run PROG ...`, `uv tool run [--from X] PROG ...`, `uvx PROG`: PROG decides.
  if (prog == "uv" || prog == "uvx") {
    size_t i = 1;
    if (prog == "uv") {
      if (v.size() > 1 && kUvNoTests.count(v[1])) return true;
      if (v.size() > 2 && v[1] == "tool" && v[2] == "run")
        i = 3;
      else if (v.size() > 1 && v[1] == "run")
        i = 2;
      else
        return false;
    }
    // Its own options, those with a value skipping it; an option testmap does not know may
    // take a value it would read as the program: then nothing is known.
    static const std::set<std::string> kWithValue = {"--from",
                                                     "--with",
                                                     "--python",
                                                     "-p",
                                                     "--with-requirements",
                                                     "--directory",
                                                     "--extra",
                                                     "--group",
                                                     "--package",
                                                     "--env-file",
                                                     "--index",
                                                     "--only-group",
                                                     "--no-group",
                                                     "--project",
                                                     "--index-url",
                                                     "--extra-index-url",
                                                     "--config-file"};
    static const std::set<std::string> kNoValue = {
        "--isolated",   "--no-project", "--frozen", "--locked", "--no-sync",  "--all-extras",
        "--all-groups", "--no-dev",     "--quiet",  "-q",       "--verbose",  "-v",
        "--offline",    "--no-cache",   "--exact",  "--active", "--no-config"};
    while (i < v.size() && v[i].starts_with("-")) {
      std::string opt = v[i].substr(0, v[i].find('='));
      if (kWithValue.count(opt))
        i += v[i].find('=') == std::string::npos ? 2 : 1;
      else if (kNoValue.count(opt))
        i += 1;
      else
        return false;
    }
    if (i >= v.size()) return false;
    return runs_no_tests(std::vector<std::string>(v.begin() + static_cast<long>(i), v.end()),
                         extra);
  }
  // `python -c CODE` that only imports and prints (a hint where the docs are) runs no
  // tests; any other one-liner may.
  if (prog.starts_with("python") && v.size() > 2 && v[1] == "-c") {
    std::string_view code = v[2];
    for (size_t start = 0; start <= code.size();) {
      size_t end = code.find(';', start);
      std::string_view stmt = code.substr(start, end == std::string_view::npos ? end : end - start);
      while (!stmt.empty() && (stmt.front() == ' ' || stmt.front() == '\n')) stmt.remove_prefix(1);
      bool quiet = stmt.empty() || (stmt.starts_with("print(") && only_calls_to_quiet(stmt)) ||
                   ((stmt.starts_with("import ") || stmt.starts_with("from ")) &&
                    stmt.find_first_of("()") == std::string_view::npos &&
                    stmt.find("test") == std::string_view::npos);
      if (!quiet) return false;
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    return true;
  }
  if (prog == "coverage" && v.size() > 1 && kCoverageData.count(v[1])) return true;
  if (prog.starts_with("python") && v.size() > 2 && v[1] == "-m")
    return kNoTestModules.count(v[2]) ||
           (v[2] == "coverage" && v.size() > 3 && kCoverageData.count(v[3]));
  return false;
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
  // "djmain", "django-latest": a development version is a version too.
  for (std::string_view word : {"main", "master", "latest", "dev", "head", "nightly"})
    if (f.size() > word.size() && f.ends_with(word)) {
      f.remove_suffix(word.size());
      if (f.ends_with("-") || f.ends_with("_")) f.remove_suffix(1);
      return std::string(f);
    }
  while (!f.empty() && (std::isdigit(static_cast<unsigned char>(f.back())) || f.back() == '.'))
    f.remove_suffix(1);
  if (f.ends_with("-v") || f.ends_with("_v")) f.remove_suffix(2);
  if (f == "v") return "";  // "v4.2": a version alone
  return std::string(f);
}

}  // namespace

std::vector<std::string> pytest_paths(const Env& e, const std::string& root, bool* runs_pytest,
                                      std::string* unread,
                                      const std::vector<std::string>& no_tests) {
  namespace fs = std::filesystem;
  *runs_pytest = false;
  unread->clear();
  std::vector<std::string> out;
  bool everything = false;
  for (const std::string& command : e.commands) {
    std::string raw = without_posargs(with_env_values(command, e)), line;
    for (size_t i = 0; i < raw.size(); ++i) {  // tox's {/}, the path separator
      bool sep = raw.compare(i, 3, "{/}") == 0;
      line += sep ? '/' : raw[i];
      if (sep) i += 2;
    }
    std::vector<std::string> w = words(line);
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
    if (!found) {
      if (!runs_no_tests(w, no_tests) && unread->empty()) {
        // It may run tests testmap cannot see: all of them, with every service.
        *unread = command;
        *runs_pytest = true;
        everything = true;
      }
      continue;
    }
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
      bool from_root = false;
      for (std::string_view ref : {"{toxinidir}", "{tox_root}"})
        if (path.starts_with(ref)) {
          path = fs::path(path.substr(ref.size())).relative_path().string();
          from_root = true;
        }
      given = true;
      if (path.find('{') != std::string::npos) {  // a substitution testmap cannot know
        everything = true;
        continue;
      }
      fs::path p = from_root ? fs::path(path) : fs::path(e.changedir) / path;
      std::string norm = p.lexically_normal().generic_string();
      while (norm.ends_with("/")) norm.pop_back();
      // A word that names nothing here is an option's value testmap does not know (`--cov
      // pkg`, `--html out.html`), or a path made later: the whole suite, never fewer.
      std::error_code ec;
      if (norm.empty() || norm == "." || norm.starts_with("..") ||
          !fs::exists(fs::path(root) / norm, ec))
        everything = true;
      else
        out.push_back(norm);
    }
    if (!given) {
      // No path: pytest's testpaths, from the changedir, when that is a directory here.
      std::string dir = fs::path(e.changedir).lexically_normal().generic_string();
      while (dir.ends_with("/")) dir.pop_back();
      std::error_code ec;
      if (dir.empty() || dir == "." || dir.starts_with("..") ||
          dir.find('{') != std::string::npos || !fs::is_directory(fs::path(root) / dir, ec))
        everything = true;
      else
        out.push_back(dir);
    }
  }
  if (everything) out.clear();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) {
    bool quote = w.empty() || w.find_first_of(" \t\"'") != std::string::npos;
    std::string q = w.find('"') != std::string::npos ? "'" : "\"";
    line += (line.empty() ? "" : " ") + (quote ? q + w + q : w);
  }
  return line;
}

std::string group_key(const Env& e, const std::string& by) {
  if (by == "python") return e.python.empty() ? "default-python" : "py" + e.python;
  if (!e.session.empty()) {
    for (const auto& [k, v] : e.params)
      if (k == by) return k + "-" + v;
    return e.session;
  }
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
  // Only Pythons ("3.12", "py311", "3.14t", "pypy3"): the plain test environments, together.
  bool pythons = !e.factors.empty();
  for (const auto& f : e.factors) pythons = pythons && !python_of_factor(f).empty();
  if (pythons) return "py";
  std::string stem = e.factors.empty() ? "" : strip_version(e.factors[0]);
  return stem.empty() ? e.name : stem;
}

}  // namespace testmap::envs
