// tox's native TOML format: conditions, references, the host's environment read as unknown,
// and the files testmap refuses, each with where and why.
#include <doctest/doctest.h>

#include "core/envs/tox_toml.h"

namespace {

using V = std::vector<std::string>;

struct Read {
  bool ok = false;
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
};

Read read(const std::string& text) {
  Read r;
  toml::table doc = toml::parse(text);
  r.ok = testmap::envs::read_tox_toml(doc, doc, "tox.toml", &r.cfg, &r.error);
  return r;
}

}  // namespace

TEST_CASE("conditions: factors, not, and, or, parentheses, env_name comparisons") {
  Read r = read(R"T(
env_list = ["py312-django42", "py311-django50", "lint"]
[env_run_base]
deps = [
  { replace = "if", condition = "factor.django42 or (factor.django50 and not factor.py311)", then = ["a"], extend = true },
  { replace = "if", condition = "env_name == 'lint'", then = ["b"], else = ["c"], extend = true },
  { replace = "if", condition = "factor['py311']", then = ["d"], extend = true },
]
)T");
  REQUIRE_MESSAGE(r.ok, r.error.format());
  REQUIRE(r.cfg.envs.size() == 3);
  CHECK(r.cfg.envs[0].deps == V{"a", "c"});
  CHECK(r.cfg.envs[1].deps == V{"c", "d"});
  CHECK(r.cfg.envs[2].deps == V{"b"});
  CHECK(r.cfg.envs[0].python == "3.12");
}

TEST_CASE("a command that hangs on the host's environment is not read as a known one") {
  Read r = read(R"T(
env_list = ["a"]
[env_run_base]
commands = [[{ replace = "if", condition = "env.CI == '1'", then = "pytest", else = "ruff" }, "tests"]]
)T");
  REQUIRE(r.ok);
  REQUIRE(r.cfg.envs[0].commands.size() == 1);
  // Neither pytest nor ruff: `testmap envs` names it and gives it every test and service.
  CHECK(r.cfg.envs[0].commands[0].starts_with("\"<condition env.CI"));
}

TEST_CASE("a reference loop ends, and a missing reference gives nothing") {
  Read r = read(R"T(
env_list = ["a"]
[env_run_base]
deps = [{ replace = "ref", of = ["env_run_base", "deps"], extend = true }, "x",
        { replace = "ref", of = ["nowhere", "deps"], extend = true }]
)T");
  REQUIRE(r.ok);
  CHECK(r.cfg.envs[0].deps.back() == "x");
}

TEST_CASE("what testmap refuses says where and why") {
  Read none = read("[env_run_base]\ndeps = [\"pytest\"]\n");
  CHECK(!none.ok);
  CHECK(none.error.format() ==
        "tox.toml: env_list: no env_list: testmap groups the "
        "environments it lists");
  Read scalar = read("env_list = \"py312\"\n");
  CHECK(!scalar.ok);
  CHECK(scalar.error.format() == "tox.toml:1: env_list: should be a list of environment names");
  Read bad = read("env_list = [{ product = [[1, 2]] }]\n");
  CHECK(!bad.ok);
  CHECK(bad.error.line == 1);
  CHECK(bad.error.message.find("product") != std::string::npos);
  Read huge = read(
      "env_list = [{ product = [{ prefix = \"a\", start = 0, stop = 999 }, { prefix = \"b\", "
      "start = 0, stop = 999 }] }]\n");
  CHECK(!huge.ok);
  Read base = read("env_list = [\"x\"]\n[env_base.int]\ndeps = []\n");
  CHECK(!base.ok);
  CHECK(base.error.key == "env_base.int");
}

TEST_CASE("product: ranges, labels, exclusions, in tox's order") {
  Read r = read(R"T(
env_list = [{ product = [{ prefix = "py3", start = 11, stop = 12 }, { db = ["pg", "my"] }], exclude = ["py311-my"] }]
)T");
  REQUIRE(r.ok);
  std::vector<std::string> names;
  for (const auto& e : r.cfg.envs) names.push_back(e.name);
  CHECK(names == V{"py311-pg", "py312-pg", "py312-my"});
}

TEST_CASE("conditions as Python reads them; the runner's platform is not known here") {
  Read r = read(R"T(
env_list = ["lint", "py312"]
[env_run_base]
commands = [
  { replace = "if", condition = "not env_name == 'lint'", then = [["pytest", "tests"]], extend = true },
  { replace = "if", condition = "factor.py312 == 'py312'", then = [["echo", "never"]], extend = true },
]
deps = [{ replace = "if", condition = "factor.linux", then = ["uvloop"], extend = true }]
)T");
  REQUIRE(r.ok);
  // `not` negates the comparison: lint runs nothing, py312 runs pytest; a bool is never a
  // string; and an `if` without `else` adds no empty command.
  CHECK(r.cfg.envs[0].commands.empty());
  CHECK(r.cfg.envs[1].commands == V{"pytest tests"});
  // factor.linux is the runner's: unknown, said in place of the value.
  REQUIRE(r.cfg.envs[1].deps.size() == 1);
  CHECK(r.cfg.envs[1].deps[0].starts_with("<condition factor.linux"));
}

TEST_CASE("references that fan out stop at a limit instead of running for ever") {
  std::string refs;
  for (int i = 0; i < 8; ++i)
    refs += R"({ replace = "ref", of = ["env_run_base", "deps"], extend = true }, )";
  Read r = read("env_list = [\"a\"]\n[env_run_base]\ndeps = [" + refs + "\"x\"]\n");
  REQUIRE(r.ok);
  CHECK(r.cfg.envs[0].deps.size() < 200'000);
}

TEST_CASE("open ranges take tox's window of minors; huge bounds are refused") {
  Read r = read(
      R"T(env_list = [{ product = [{ prefix = "py3", start = 14 }] }, { product = [{ prefix = "py3", stop = 12 }] }])T");
  REQUIRE(r.ok);
  std::vector<std::string> names;
  for (const auto& e : r.cfg.envs) names.push_back(e.name);
  CHECK(names == V{"py314", "py315", "py311", "py312"});
  Read huge = read(
      "env_list = [{ product = [{ prefix = \"a\", start = -9223372036854775807, stop = "
      "9223372036854775807 }] }]\n");
  CHECK(!huge.ok);
}
