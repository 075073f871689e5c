// What an environment's commands run, read from their text: the paths they give pytest, or
// that they may run any test; and the job an environment goes to by its factors.
#pragma once

#include <string>
#include <vector>

#include "core/envs/tox.h"

namespace testmap::envs {

// The paths a command line gives pytest (`pytest a b`, `python -m pytest`, `coverage run -m
// pytest`, `py.test`), relative to `changedir`; *runs_pytest says whether one runs pytest.
// A command that is neither pytest nor a known tool that runs no tests (ruff, mypy,
// sphinx-build...) may run any test: *unread names it, and the paths are empty (all). A
// path that does not exist under `root` (an option's value, say) means the whole suite.
// `no_tests` adds programs and `-m` modules the project says run no tests
// ([tool.testmap.envs] runs-no-tests).
std::vector<std::string> pytest_paths(const Env& e, const std::string& root, bool* runs_pytest,
                                      std::string* unread,
                                      const std::vector<std::string>& no_tests = {});

// A command line from its words, quoted where a word holds a space or a quote, so that
// pytest_paths splits it back into the same words.
std::string command_line(const std::vector<std::string>& words);

// The job an environment goes to: by default its first factor that is not a Python version,
// without its version ("django42" and "django-v4.2" go to "django"); `by` = "python" groups
// by the Python version; another name groups by that factor's values ("django32",
// "django42"), the environments without it by default. A nox session goes to its session's
// name by default, and `by` names one of its parameters ("django-4.2").
std::string group_key(const Env& e, const std::string& by);

}  // namespace testmap::envs
