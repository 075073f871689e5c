// nox's sessions: what testmap reads from a session's function, and what it refuses to guess
// (a session passed to a helper, a program it cannot evaluate), which runs every test.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>

#include "core/envs/commands.h"
#include "core/envs/nox.h"

namespace fs = std::filesystem;

namespace {

using V = std::vector<std::string>;

testmap::envs::ToxConfig read(const std::string& listing, const std::string& noxfile) {
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
  REQUIRE_MESSAGE(testmap::envs::read_nox_listing(listing, noxfile, &cfg, &error), error.format());
  return cfg;
}

const char* kNoxfile = R"PY(import nox

@nox.session(python=["3.11", "3.12"])
@nox.parametrize("db", ["pg", "redis"])
def tests(session, db):
    session.install("pytest", f"driver-{db}")
    session.chdir("tests")
    session.run("pytest", f"integration/{db}", "-k", "not slow", *session.posargs)

@nox.session(name="docs-build")
def docs(s):
    s.run("sphinx-build", "docs", "out")

def helper(session):
    session.run("pytest")

@nox.session
def wrapped(session):
    helper(session)

@nox.session
def computed(session):
    args = ["pytest", "tests/unit"]
    session.run(*args)

@nox.session
def oneline(session): session.run("pytest", f"tests/{session.python}/{other}")
)PY";

}  // namespace

TEST_CASE("a session's commands, deps and directory, its parameters filled in") {
  auto cfg = read(R"J([
    {"session": "tests-3.11(db='pg')", "name": "tests", "python": "3.11", "call_spec": {"db": "pg"}},
    {"session": "docs-build", "name": "docs-build", "python": null, "call_spec": {}}])J",
                  kNoxfile);
  REQUIRE(cfg.envs.size() == 2);
  const auto& t = cfg.envs[0];
  CHECK(cfg.tool == "nox");
  CHECK(t.session == "tests");
  CHECK(t.python == "3.11");
  CHECK(t.params == std::vector<std::pair<std::string, std::string>>{{"db", "pg"}});
  CHECK(t.deps == V{"pytest", "driver-pg"});
  CHECK(t.changedir == "tests");
  CHECK(t.commands == V{"pytest integration/pg -k \"not slow\""});
  CHECK(testmap::envs::group_key(t, "") == "tests");
  CHECK(testmap::envs::group_key(t, "db") == "db-pg");
  CHECK(testmap::envs::group_key(t, "python") == "py3.11");
  // name= in the decorator, and a parameter called something else than `session`.
  CHECK(cfg.envs[1].commands == V{"sphinx-build docs out"});
  CHECK(cfg.envs[1].python == "");
}

TEST_CASE("what testmap cannot read of a session runs every test and service") {
  auto cfg = read(R"J([
    {"session": "wrapped", "name": "wrapped", "python": null},
    {"session": "computed", "name": "computed", "python": null},
    {"session": "oneline", "name": "oneline", "python": "3.12"},
    {"session": "ghost", "name": "ghost", "python": null}])J",
                  kNoxfile);
  REQUIRE(cfg.envs.size() == 4);
  // A root where `tests/3.12` is, so that a guessed path would be read as that directory.
  std::string tmpl = (fs::temp_directory_path() / "testmap-nox-test-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()));
  fs::create_directories(fs::path(tmpl) / "tests" / "3.12");
  for (const auto& e : cfg.envs) {
    bool runs = false;
    std::string unread;
    auto paths = testmap::envs::pytest_paths(e, tmpl, &runs, &unread);
    CHECK_MESSAGE(paths.empty(), e.name);  // every test
    CHECK_MESSAGE(runs, e.name);
    // Unread (every service), or pytest over a path that is not there (the whole suite).
    CHECK_MESSAGE((!unread.empty() || e.name == "oneline"), e.name);
  }
  fs::remove_all(tmpl);
  CHECK(cfg.envs[0].commands[0].find("passed on at line 19") != std::string::npos);
  CHECK(cfg.envs[3].commands[0].find("not found in noxfile.py") != std::string::npos);
  // A field that is not a parameter: the argument is unknown, the whole suite.
  CHECK(cfg.envs[2].commands == V{"pytest \"<expression at line 27>\""});
}

TEST_CASE("a directory changed between commands, sessions run with this one, odd bytes") {
  auto cfg = read(R"J([
    {"session": "between", "name": "between"}, {"session": "block", "name": "block"},
    {"session": "first", "name": "first"}, {"session": "queues", "name": "queues"},
    {"session": "needs", "name": "needs"}, {"session": "templated", "name": "templated"},
    {"session": "byte", "name": "byte"}])J",
                  "import nox\n"
                  "@nox.session\ndef between(session):\n    session.run('pytest')\n"
                  "    session.chdir('docs')\n    session.run('pytest')\n"
                  "@nox.session\ndef block(session):\n    with session.chdir('docs'):\n"
                  "        session.run('sphinx-build', '.', 'out')\n    session.run('pytest')\n"
                  "@nox.session\ndef first(session):\n    session.chdir('tests')\n"
                  "    session.run('pytest', 'unit')\n"
                  "@nox.session\ndef queues(session):\n    session.run('ruff', 'check')\n"
                  "    session.notify('first')\n"
                  "@nox.session(requires=['queues'])\ndef needs(session):\n"
                  "    session.run('mypy', '.')\n"
                  "@nox.session(requires=['tests-{python}'])\ndef templated(session):\n"
                  "    session.run('mypy', '.')\n"
                  "@nox.session\ndef byte(session):\n    session.run('pytest', f'\x01{x}')\n");
  REQUIRE(cfg.envs.size() == 7);
  CHECK(cfg.envs[0].commands[0].find("session.chdir between its commands") != std::string::npos);
  CHECK(cfg.envs[1].commands[0].find("`with session.chdir`") != std::string::npos);
  CHECK(cfg.envs[2].changedir == "tests");
  CHECK(cfg.envs[2].commands == V{"pytest unit"});
  // A notified session in another directory is not guessed at.
  CHECK(cfg.envs[3].commands[0].find("works in another directory") != std::string::npos);
  CHECK(cfg.envs[4].commands[0].find("works in another directory") != std::string::npos);
  CHECK(cfg.envs[5].commands[0].find("requires= at line") != std::string::npos);
  CHECK(cfg.envs[6].commands.size() == 1);  // read, without a crash
}

TEST_CASE("a session a session queues runs in its job: its commands count") {
  auto cfg = read(R"J([{"session": "lint", "name": "lint"}])J",
                  "import nox\n@nox.session\ndef lint(session):\n    session.run('ruff', 'check')\n"
                  "    session.notify('integration')\n"
                  "@nox.session\ndef integration(session):\n    session.run('pytest', 'it')\n");
  CHECK(cfg.envs[0].commands == V{"ruff check", "pytest it"});
}

TEST_CASE("a listing that is not nox's, or a noxfile the lexer refuses") {
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
  CHECK(!testmap::envs::read_nox_listing("nox > Running session", "", &cfg, &error));
  CHECK(error.message.find("nox --list --json") != std::string::npos);
  CHECK(!testmap::envs::read_nox_listing("[]", "", &cfg, &error));
  CHECK(error.message == "nox lists no session that runs by default");
  auto bad = read(R"J([{"session": "a", "name": "a"}])J", "def a(session):\n    x = '''\n");
  REQUIRE(bad.envs.size() == 1);
  CHECK(bad.envs[0].commands[0].starts_with("\"<noxfile.py:"));
}

TEST_CASE("stacked session decorators: each name runs the one function") {
  auto cfg = read(R"J([{"session": "tests", "name": "tests"},
    {"session": "tests-wheel", "name": "tests-wheel"},
    {"session": "computed", "name": "computed"}])J",
                  "import nox\n"
                  "@nox.session\n@nox.session(name='tests-wheel')\n"
                  "def tests(session):\n    session.run('openssl', 'version', external=True)\n"
                  "    session.run('pytest', 'tests')\n"
                  "@nox.session(name=NAME)\ndef computed(session):\n    session.run('pytest')\n");
  REQUIRE(cfg.envs.size() == 3);
  CHECK(cfg.envs[0].commands == V{"openssl version", "pytest tests"});
  CHECK(cfg.envs[1].commands == cfg.envs[0].commands);
  // Listed by nox under a name the file computes: not found, so unread.
  CHECK(cfg.envs[2].commands[0].find("not found") != std::string::npos);
}
