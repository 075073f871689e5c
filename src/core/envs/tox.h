// A library's tox environments as tox 4 reads them (docs/envs.md): from tox.ini,
// `[tool.tox] legacy_tox_ini` in pyproject.toml or `[tox:tox]` in setup.cfg; generative
// envlists (`py{38,39}-django{32,42}`, ranges `py3{8-12}`), factors, and factor-conditional
// settings (`django42: Django>=4.2,<4.3`, `py38,py39: ...`, `!py38: ...`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::envs {

struct Env {
  std::string name;                  // py311-django42
  std::vector<std::string> factors;  // py311, django42
  std::string python;                // "3.11", "pypy3.10", or "" for the runner's own
  std::vector<std::string> deps;     // as the environment sees them, conditions applied
  std::vector<std::string> commands;
  std::string changedir;             // relative to the root; "" for the root itself
  std::vector<std::string> depends;  // environments (or patterns) that must run first
  std::vector<std::pair<std::string, std::string>> setenv;  // its setenv, conditions applied
  int line = 0;                                             // of its name in the envlist
  // nox: the session's name (`nox -s tests` runs all of its parametrizations) and its
  // parameters (`@nox.parametrize`), as nox prints them; empty for tox.
  std::string session;
  std::vector<std::pair<std::string, std::string>> params;
  bool skip_install = false;  // tox: skip_install = true, or package = "skip": no package built
  // The Python tox builds its package with, when the configuration names one
  // ([testenv:.pkg], [env_pkg_base]) and it installs the package: its job needs it too.
  std::string package_python;
};

struct ToxConfig {
  std::string tool = "tox";   // or "nox"
  std::string file;           // where it was read, relative to the root
  std::vector<Env> envs;      // the envlist's, in its order, each once
  bool skip_missing = false;  // skip_missing_interpreters
};

// A base_python value as setup-python names it: python3.12 and py312 are 3.12.
std::string python_of_basepython(std::string_view v);

// More than this many environments is a mistake in the file, not a matrix.
inline constexpr size_t kMaxEnvironments = 100'000;

// One generative name: "py{38,39}-django{32,42}" gives four, in tox's order. Past
// kMaxEnvironments names: none, and *too_many set.
std::vector<std::string> expand(std::string_view pattern, bool* too_many = nullptr);
// An envlist's text (names split by commas or lines, each expanded).
std::vector<std::string> expand_envlist(std::string_view text, bool* too_many = nullptr);
// The lines of a setting that apply to an environment with `factors`.
std::vector<std::string> conditional_lines(std::string_view value,
                                           const std::vector<std::string>& factors);
// The Python a factor asks for: py311 and py3.11 give "3.11", py3 "3", pypy310
// "pypy3.10"; "" when it names none.
std::string python_of_factor(std::string_view factor);

// An environment's factors: its name split on dashes outside braces.
std::vector<std::string> factors_of(std::string_view name);
// `{env_name}` and `{envname}` in a setting replaced by the environment's name, as tox does.
std::string with_env_name(std::string text, const std::string& name);
// Sets an environment's Python (its base_python, else the first factor naming one, else its
// default_base_python) and its change_dir, relative to the root ({tox_root}/ and
// {toxinidir}/ dropped).
void finish_env(Env* e, std::string_view basepython, std::string changedir,
                std::string_view default_python = {});

// Reads the tox configuration at `root`. False with *error when there is none or it cannot
// be used (no envlist).
bool read_tox(const std::string& root, ToxConfig* out, Diagnostic* error);

}  // namespace testmap::envs
