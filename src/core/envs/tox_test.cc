// tox's configuration as tox 4 reads it: expansion, factor conditions, the Python of a
// factor, and a whole tox.ini.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/envs/commands.h"
#include "core/envs/tox.h"
#include "core/envs/tox_results.h"

namespace fs = std::filesystem;
using testmap::envs::conditional_lines;
using testmap::envs::expand;
using testmap::envs::expand_envlist;
using testmap::envs::python_of_factor;
using V = std::vector<std::string>;

TEST_CASE("generative names expand as tox's product, the first group slowest") {
  CHECK(expand("py{38,39}-django{32,42}") ==
        V{"py38-django32", "py38-django42", "py39-django32", "py39-django42"});
  CHECK(expand("py3{8-11}") == V{"py38", "py39", "py310", "py311"});
  CHECK(expand("lint") == V{"lint"});
  CHECK(expand("py{3.8, 3.9}-flask") == V{"py3.8-flask", "py3.9-flask"});
}

TEST_CASE("an envlist splits on commas and lines, not inside braces") {
  CHECK(expand_envlist("py{38,39}-a,\n  lint\n  docs, py311-b") ==
        V{"py38-a", "py39-a", "lint", "docs", "py311-b"});
}

TEST_CASE("factor conditions: any of the comma's, all of the dash's, ! negates") {
  std::string deps =
      "pytest\n"
      "django32: Django>=3.2,<3.3\n"
      "django{42,50}: psycopg\n"
      "py38,py39: backports.zoneinfo\n"
      "py311-django50: tomli  # a comment\n"
      "!lint: coverage\n"
      "pytest-django: x\n";  // tox reads this as a condition too: pytest and django
  CHECK(conditional_lines(deps, {"py38", "django32"}) ==
        V{"pytest", "Django>=3.2,<3.3", "backports.zoneinfo", "coverage"});
  CHECK(conditional_lines(deps, {"py311", "django50"}) ==
        V{"pytest", "psycopg", "tomli", "coverage"});
  CHECK(conditional_lines(deps, {"lint"}) == V{"pytest"});
  // Colons inside values are not conditions.
  CHECK(conditional_lines("pytest {posargs:tests}\ngit+https://x/y", {}) ==
        V{"pytest {posargs:tests}", "git+https://x/y"});
}

TEST_CASE("the Python a factor names") {
  CHECK(python_of_factor("py311") == "3.11");
  CHECK(python_of_factor("py38") == "3.8");
  CHECK(python_of_factor("py3.12") == "3.12");
  CHECK(python_of_factor("py3") == "3");
  CHECK(python_of_factor("pypy310") == "pypy3.10");
  CHECK(python_of_factor("django42") == "");
  CHECK(python_of_factor("pyramid") == "");
  CHECK(python_of_factor("py") == "");
  // tox 4's bare versions and the free-threaded builds, as setup-python names them.
  CHECK(python_of_factor("3.12") == "3.12");
  CHECK(python_of_factor("3.14t") == "3.14t");
  CHECK(python_of_factor("py314t") == "3.14t");
  CHECK(python_of_factor("graalpy") == "graalpy");
  CHECK(python_of_factor("v3.2") == "");
  CHECK(python_of_factor("3.x") == "");
}

TEST_CASE("commands that run no tests, and those that may run any") {
  auto reads = [](const std::string& command) {
    testmap::envs::Env e;
    e.name = "x";
    e.commands = {command};
    bool runs = false;
    std::string unread;
    (void)testmap::envs::pytest_paths(e, "/nonexistent", &runs, &unread);
    return runs ? (unread.empty() ? "pytest" : "any") : "none";
  };
  CHECK(std::string(reads("uv run ruff check .")) == "none");
  CHECK(std::string(reads("uv tool run --from 'proselint>=0.16' proselint check docs")) == "none");
  CHECK(std::string(reads("uvx ty check src")) == "none");
  CHECK(std::string(reads("uv pip install --target x filelock==3.20")) == "none");
  CHECK(std::string(reads("uv run pytest tests")) == "pytest");
  CHECK(std::string(reads("uv run python runtests.py")) == "any");
  CHECK(std::string(reads("python -m ty check src")) == "none");
  CHECK(std::string(reads("diff-cover --compare-branch origin/main cov.xml")) == "none");
  CHECK(std::string(reads("python -c 'print(\"docs under file://x\")'")) == "none");
  CHECK(std::string(reads("python -c 'import pytest; pytest.main()'")) == "any");
  CHECK(std::string(reads("python -c 'import subprocess; subprocess.run([\"make\"])'")) == "any");
  CHECK(std::string(reads("python tasks/run.py")) == "any");
}

TEST_CASE("the job of environments that name only a Python") {
  for (const char* name : {"3.12", "py311", "3.14t", "pypy3"}) {
    testmap::envs::Env e;
    e.name = name;
    e.factors = testmap::envs::factors_of(name);
    CHECK_MESSAGE(testmap::envs::group_key(e, "") == "py", name);
  }
}

TEST_CASE("a tox.ini's environments with their settings") {
  std::string tmpl = (fs::temp_directory_path() / "testmap-tox-test-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()));
  fs::path dir = tmpl;
  std::ofstream(dir / "tox.ini") << R"([tox]
envlist =
    py{38,311}-django{32,42}
    lint
skip_missing_interpreters = true

[base]
deps = pytest

[testenv]
deps =
    {[base]deps}
    django32: Django>=3.2,<3.3
    django42: Django>=4.2,<4.3
changedir = {toxinidir}/tests
commands = python -m pytest \
    integrations/django {posargs}

[testenv:py38-django42]
base_python = py312

[testenv:lint]
base_python = python3.12
commands_pre = ruff --version
deps = ruff
commands = ruff check .
)";
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
  REQUIRE_MESSAGE(testmap::envs::read_tox(dir.string(), &cfg, &error), error.format());
  fs::remove_all(dir);
  CHECK(cfg.file == "tox.ini");
  CHECK(cfg.skip_missing);
  REQUIRE(cfg.envs.size() == 5);
  const auto& e = cfg.envs[1];
  CHECK(e.name == "py38-django42");
  CHECK(e.factors == V{"py38", "django42"});
  CHECK(e.python == "3.12");  // its own section's base_python, a factor's name
  CHECK(e.deps == V{"pytest", "Django>=4.2,<4.3"});
  CHECK(e.commands == V{"python -m pytest integrations/django {posargs}"});
  CHECK(e.changedir == "tests");
  const auto& lint = cfg.envs[4];
  CHECK(lint.name == "lint");
  CHECK(lint.python == "3.12");
  CHECK(lint.deps == V{"ruff"});
  CHECK(lint.commands == V{"ruff --version", "ruff check ."});
}

TEST_CASE("tox's result JSON: odd values are skipped or false, never thrown on") {
  std::vector<testmap::envs::EnvDuration> out;
  testmap::Diagnostic error;
  std::string text = R"({"testenvs": {
    "a": {"result": {"duration": 2.5, "success": true}},
    "b": {"result": {"duration": 1.0, "success": "yes", "skipped": "no"}},
    "c": {"result": {"duration": "slow"}},
    "d": {"result": {"duration": 3.0, "skipped": true}},
    "e": "not an object"}})";
  REQUIRE(testmap::envs::is_tox_results(text));
  REQUIRE(testmap::envs::read_tox_results(text, "r.json", &out, &error));
  REQUIRE(out.size() == 2);
  CHECK(out[0] == testmap::envs::EnvDuration{"a", 2.5, true});
  CHECK(out[1] == testmap::envs::EnvDuration{"b", 1.0, false});
  CHECK(!testmap::envs::is_tox_results("[1, 2]"));
  CHECK(!testmap::envs::read_tox_results("{}", "r.json", &out, &error));
  CHECK(error.format().find("tox --result-json") != std::string::npos);
}

TEST_CASE("an envlist past the limit is refused, however its braces are spelled") {
  bool too_many = false;
  CHECK(expand("py{0-999999,0-999999}", &too_many).empty());
  CHECK(too_many);
  too_many = false;
  CHECK(expand_envlist("x{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}"
                       "{a,b}{a,b}{a,b}",
                       &too_many)
            .empty());
  CHECK(too_many);
  too_many = false;
  CHECK(expand("py3{8-12}", &too_many).size() == 5);
  CHECK(!too_many);
}
