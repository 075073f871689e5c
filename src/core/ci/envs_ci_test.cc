// The environment jobs' files: job ids stay unique when group names differ only in what an
// id cannot hold.
#include <doctest/doctest.h>

#include "core/ci/envs_ci.h"

TEST_CASE("groups whose names make the same job id get ids of their own") {
  std::vector<testmap::envs::Group> groups(2);
  groups[0].name = "a.b";
  groups[1].name = "a_b";
  for (auto& g : groups) {
    testmap::envs::EnvTests e;
    e.env.name = g.name + "-env";
    g.envs.push_back(e);
  }
  testmap::config::Config cfg;
  std::string yml = testmap::ci::github_envs_workflow("tox", groups, cfg, "");
  CHECK(yml.find("\n  a_b:\n") != std::string::npos);
  CHECK(yml.find("\n  a_b-2:\n") != std::string::npos);
  auto files = testmap::ci::github_envs_files("tox", groups, cfg, "");
  CHECK(files.size() == 2);
  CHECK(files.count("tox-a_b.yml"));
  CHECK(files.count("tox-a_b-2.yml"));
  std::string gitlab = testmap::ci::gitlab_envs_ci("tox", groups, cfg, "");
  CHECK(gitlab.find("\na_b-2:\n") != std::string::npos);
}
