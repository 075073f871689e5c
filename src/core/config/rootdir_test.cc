// The rootdir as pytest finds it, on small trees made in a temporary directory.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/config/projects.h"
#include "core/config/rootdir.h"

namespace fs = std::filesystem;
using testmap::config::find_rootdir;
using testmap::config::within;

namespace {

struct Tree {
  fs::path root;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "testmap-rootdir-XXXXXX").string();
    root = fs::canonical(::mkdtemp(tmpl.data()));
  }
  ~Tree() { fs::remove_all(root); }
  std::string put(const std::string& rel, const std::string& text = "") {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string dir(const std::string& rel) {
    fs::create_directories(root / rel);
    return (root / rel).string();
  }
};

}  // namespace

TEST_CASE("run from a subdirectory, the rootdir is the directory of the pytest config above") {
  Tree t;
  t.put("pyproject.toml", "[tool.pytest.ini_options]\ntestpaths = ['tests']\n");
  t.put("tests/unit/test_a.py");
  auto r = find_rootdir(t.dir("tests/unit"), {});
  CHECK(r.error.empty());
  CHECK(r.rootdir == t.root.string());
  CHECK(r.inifile == (t.root / "pyproject.toml").string());
  // pytest without arguments collects the directory it runs in.
  CHECK(r.narrow == std::vector<std::string>{"tests/unit"});
}

TEST_CASE("a pyproject.toml without pytest's table counts only when nothing else is found") {
  Tree t;
  t.put("tox.ini", "[pytest]\n");
  t.put("app/pyproject.toml", "[tool.testmap]\n");
  t.put("app/tests/test_a.py");
  auto r = find_rootdir(t.root.string(), {"app/tests"});
  CHECK(r.rootdir == t.root.string());
  CHECK(r.inifile == (t.root / "tox.ini").string());
  CHECK(r.narrow == std::vector<std::string>{"app/tests"});

  Tree u;
  u.put("app/pyproject.toml", "[tool.testmap]\n");
  u.put("app/tests/test_a.py");
  auto s = find_rootdir(u.root.string(), {"app/tests"});
  CHECK(s.rootdir == (u.root / "app").string());
}

TEST_CASE("sections decide: tox.ini needs [pytest], setup.cfg [tool:pytest]") {
  Tree t;
  t.put("setup.cfg", "[tool:pytest]\n");
  t.put("pkg/tox.ini", "[tox]\nenvlist = py311\n");
  t.put("pkg/test_a.py");
  auto r = find_rootdir(t.dir("pkg"), {});
  CHECK(r.rootdir == t.root.string());
  CHECK(r.inifile == (t.root / "setup.cfg").string());
}

TEST_CASE("no config: setup.py upwards, else the common ancestor") {
  Tree t;
  t.put("setup.py");
  t.put("src/pkg/tests/test_a.py");
  CHECK(find_rootdir(t.dir("src/pkg"), {"tests"}).rootdir == t.root.string());

  Tree u;
  u.put("a/test_a.py");
  u.put("b/test_b.py");
  auto r = find_rootdir(u.root.string(), {"a", "b/test_b.py::test_b"});
  CHECK(r.rootdir == u.root.string());
  CHECK(r.inifile.empty());
  CHECK(r.narrow == std::vector<std::string>{"a", "b/test_b.py::test_b"});
}

TEST_CASE("--rootdir wins; arguments that do not exist or lie outside are one-line errors") {
  Tree t;
  t.put("pytest.ini");
  t.put("sub/test_a.py");
  CHECK(find_rootdir(t.root.string(), {}, "sub").rootdir == (t.root / "sub").string());
  CHECK(find_rootdir(t.root.string(), {"nope"}).error == "nope: no such file or directory");
  CHECK(find_rootdir(t.root.string(), {}, "nope").error == "--rootdir nope: not a directory");
  auto r = find_rootdir(t.root.string(), {"."}, "sub");
  CHECK(r.error == ". is outside the rootdir " + (t.root / "sub").string());
}

TEST_CASE("narrowing by paths and node ids") {
  std::vector<std::string> n{"tests/unit", "tests/test_x.py::TestA"};
  CHECK(within(n, "tests/unit/test_a.py::test_1"));
  CHECK(within(n, "tests/test_x.py::TestA::test_1"));
  CHECK_FALSE(within(n, "tests/test_x.py::TestAB::test_1"));
  CHECK_FALSE(within(n, "tests/unitary/test_a.py::test_1"));
  CHECK(within({}, "anything.py::test"));
}

TEST_CASE("a trailing slash, '.' and '..' name the same directories") {
  Tree t;
  t.put("pytest.ini");
  t.put("tests/unit/test_a.py");
  CHECK(find_rootdir(t.root.string(), {"tests/"}).narrow == std::vector<std::string>{"tests"});
  CHECK(find_rootdir(t.root.string(), {"./tests/unit/../"}).narrow ==
        std::vector<std::string>{"tests"});
  auto dot = find_rootdir(t.dir("tests"), {"."});
  CHECK(dot.rootdir == t.root.string());
  CHECK(dot.narrow == std::vector<std::string>{"tests"});
  // The rootdir itself, however spelled, narrows nothing.
  CHECK(find_rootdir(t.root.string(), {"."}).narrow.empty());
  CHECK(find_rootdir(t.dir("tests"), {".."}).narrow.empty());
  CHECK(find_rootdir(t.root.string(), {}, ".").narrow.empty());
  CHECK(find_rootdir(t.root.string(), {}, "./").rootdir == t.root.string());
}

TEST_CASE("a node id with parametrize ids narrows to the test") {
  Tree t;
  t.put("pytest.ini");
  t.put("t.py");
  CHECK(find_rootdir(t.root.string(), {"t.py::test_x[1-a]"}).narrow ==
        std::vector<std::string>{"t.py::test_x"});
}

TEST_CASE("pytest 9's pytest.toml makes the rootdir before pytest.ini") {
  Tree t;
  t.put("pytest.ini");
  t.put("app/pytest.toml", "[pytest]\n");
  t.put("app/test_a.py");
  CHECK(find_rootdir(t.dir("app"), {}).rootdir == (t.root / "app").string());
}

TEST_CASE("a monorepo's paths reach the projects they name, inside or above them") {
  Tree t;
  t.put("pyproject.toml", "[tool.testmap]\nprojects = ['svc/a', 'svc/ab', 'lib']\n");
  t.put("svc/a/pytest.ini", "[pytest]\n");
  t.put("svc/ab/pytest.ini", "[pytest]\n");
  t.put("lib/pytest.ini", "[pytest]\n");
  t.dir("tools");
  testmap::config::Config cfg = testmap::config::load_config(t.root.string());
  REQUIRE(cfg.projects.size() == 3);
  auto reach = [&](std::vector<std::string> narrow) {
    std::vector<testmap::config::ProjectRoot> out;
    std::string error;
    bool ok = testmap::config::project_roots(cfg, narrow, &out, &error);
    std::vector<std::string> seen;
    for (const auto& p : out) {
      std::string n;
      for (const auto& x : p.narrow) n += " " + x;
      seen.push_back(p.dir + n);
    }
    return ok ? seen : std::vector<std::string>{"error: " + error};
  };
  CHECK(reach({}) == std::vector<std::string>{"svc/a", "svc/ab", "lib"});
  // "svc/a" is not a prefix of "svc/ab": whole directory names only.
  CHECK(reach({"svc/a"}) == std::vector<std::string>{"svc/a"});
  CHECK(reach({"svc"}) == std::vector<std::string>{"svc/a", "svc/ab"});
  CHECK(reach({"svc/ab/tests/t.py::test_x", "lib"}) ==
        std::vector<std::string>{"svc/ab tests/t.py::test_x", "lib"});
  CHECK(reach({"tools"}).front().starts_with("error: tools is in none of the projects"));
  // A project pytest would root elsewhere is refused, not classified with other settings.
  fs::remove(t.root / "lib/pytest.ini");
  t.put("pyproject.toml",
        "[tool.testmap]\nprojects = ['svc/a', 'lib']\n[tool.pytest.ini_options]\n");
  cfg = testmap::config::load_config(t.root.string());
  CHECK(reach({}).front().starts_with(
      "error: project lib has no pytest configuration file of its own"));
}
