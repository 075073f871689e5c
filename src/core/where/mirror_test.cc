// testmap where's mirror rules: the default, directories of any depth (or none), several
// sources sharing one test file, and bad patterns.
#include "core/where/mirror.h"

#include <doctest/doctest.h>

using namespace testmap::where;

namespace {

std::vector<std::string> paths(const std::vector<Mirror>& m) {
  std::vector<std::string> out;
  for (const auto& x : m) out.push_back(x.path);
  return out;
}

}  // namespace

TEST_CASE("the default rule mirrors src/ into tests/ at any depth, and back") {
  auto rules = default_rules();
  CHECK(paths(mirrors(rules, "src/pkg/foo/bar.py", false)) ==
        std::vector<std::string>{"tests/pkg/foo/test_bar.py"});
  CHECK(paths(mirrors(rules, "src/app.py", false)) ==
        std::vector<std::string>{"tests/test_app.py"});
  CHECK(paths(mirrors(rules, "tests/pkg/test_bar.py", true)) ==
        std::vector<std::string>{"src/pkg/bar.py"});
  CHECK(mirrors(rules, "lib/pkg/bar.py", false).empty());
  CHECK(mirrors(rules, "src/pkg/bar.txt", false).empty());
}

TEST_CASE("ordered rules: a service's impl.py and service.py share one test file") {
  std::vector<Rule> rules = {
      {"src/{dir}/services/{name}/impl.py", "tests/{dir}/services/test_{name}.py"},
      {"src/{dir}/services/{name}/service.py", "tests/{dir}/services/test_{name}.py"},
      {"src/{dir}/{name}.py", "tests/{dir}/test_{name}.py"},
  };
  auto impl = mirrors(rules, "src/pkg/foo/services/bar/impl.py", false);
  REQUIRE(impl.size() == 1);
  CHECK(impl[0].path == "tests/pkg/foo/services/test_bar.py");
  CHECK(impl[0].rule == 0);
  CHECK(paths(mirrors(rules, "src/pkg/foo/services/bar/service.py", false)) ==
        std::vector<std::string>{"tests/pkg/foo/services/test_bar.py"});
  // Other files of a service fall to the general rule.
  CHECK(paths(mirrors(rules, "src/pkg/foo/services/bar/models.py", false)) ==
        std::vector<std::string>{"tests/pkg/foo/services/bar/test_models.py"});
  // Back from the shared test file: both sources, then what the general rule gives.
  CHECK(paths(mirrors(rules, "tests/pkg/foo/services/test_bar.py", true)) ==
        std::vector<std::string>{"src/pkg/foo/services/bar/impl.py",
                                 "src/pkg/foo/services/bar/service.py",
                                 "src/pkg/foo/services/bar.py"});
}

TEST_CASE("a pattern with an unknown or repeated placeholder is refused") {
  CHECK(check_pattern("src/{dir}/{name}.py").empty());
  CHECK(check_pattern("src/{module}.py").find("unknown placeholder at '{module}'") == 0);
  CHECK(check_pattern("src/{name}/{name}.py") == "{name} appears twice");
  CHECK(check_pattern("/abs/{name}.py") == "expected a path relative to the root");
  CHECK(check_pair("src/{dir}/{name}.py", "tests/{dir}/test_{name}.py").empty());
  CHECK(check_pair("src/{name}.py", "tests/{dir}/test_{name}.py") ==
        "{dir} is in the test pattern only: both sides need the same placeholders");
}
