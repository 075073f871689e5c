// Services read from compose and CI files written as projects write them: anchors and
// `x-` extensions, long and short port forms, variables, broken files.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/config/config.h"
#include "core/config/service_files.h"
#include "core/util/yaml_tree.h"

namespace fs = std::filesystem;
using testmap::config::FileService;
using testmap::config::read_service_files;
using testmap::config::service_of_image;

namespace {

struct Tree {
  fs::path root;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "testmap-svcfiles-XXXXXX").string();
    root = fs::canonical(::mkdtemp(tmpl.data()));
  }
  ~Tree() { fs::remove_all(root); }
  void put(const std::string& rel, const std::string& text) {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

const FileService* find(const std::vector<FileService>& all, const std::string& key) {
  for (const auto& s : all)
    if (s.key == key) return &s;
  return nullptr;
}

}  // namespace

TEST_CASE("images name the service they run, whatever registry and tag") {
  CHECK(service_of_image("postgres:16-alpine") == "postgres");
  CHECK(service_of_image("docker.io/library/redis:7") == "redis");
  CHECK(service_of_image("bitnami/kafka:3.6") == "kafka");
  CHECK(service_of_image("confluentinc/cp-kafka") == "kafka");
  CHECK(service_of_image("clickhouse/clickhouse-server:23.8") == "clickhouse");
  CHECK(service_of_image("docker.elastic.co/elasticsearch/elasticsearch:8.11.0") ==
        "elasticsearch");
  CHECK(service_of_image("localhost:5000/mongo@sha256:abc") == "mongodb");
  CHECK(service_of_image("mcr.microsoft.com/mssql/server:2022") == "");
  CHECK(service_of_image("") == "");
}

TEST_CASE("compose: anchors, merge keys and x- extensions are read like any mapping") {
  Tree t;
  t.put("docker-compose.yml", R"(
x-pg: &pg
  image: postgres:15
  ports: ["127.0.0.1:5433:5432"]
services:
  db:
    <<: *pg
  timescale:
    <<: *pg
    image: timescale/timescaledb:latest-pg15
    ports:
      - target: 5432
        published: "5434"
  cache:
    image: "${CACHE_IMAGE:-redis:7}"
    ports: ["${REDIS_PORT:-6380}:6379", "6381"]
  web:
    build: .
    ports: ["8000:8000"]
  search:
    image: ghcr.io/acme/search:1
    ports: ["9300-9301:9300-9301", "5353:53/udp"]
)");
  auto found = read_service_files(t.root.string());
  CHECK(found.notes.empty());
  const FileService* db = find(found.services, "db");
  REQUIRE(db);
  CHECK(db->name == "postgres");
  CHECK(db->ports == std::vector<int>{5433});
  CHECK(db->file == "docker-compose.yml");
  CHECK(db->line == 6);
  const FileService* ts = find(found.services, "timescale");
  REQUIRE(ts);
  CHECK(ts->image == "timescale/timescaledb:latest-pg15");
  CHECK(ts->ports == std::vector<int>{5434});
  const FileService* cache = find(found.services, "cache");
  REQUIRE(cache);
  CHECK(cache->name == "redis");
  CHECK(cache->image == "redis:7");
  CHECK(cache->ports == std::vector<int>{6380});  // "6381" alone publishes a random port
  CHECK(find(found.services, "web") == nullptr);  // the project's own code
  const FileService* search = find(found.services, "search");
  REQUIRE(search);
  CHECK(search->name == "search");
  CHECK(search->ports == std::vector<int>{9300, 9301});
}

TEST_CASE("the published ports become the services' ports, unless the config gives them") {
  Tree t;
  t.put("compose.yaml",
        "services:\n  pg:\n    image: postgres\n    ports: ['5439:5432']\n"
        "  queue:\n    image: rabbitmq:3-management\n    ports: ['5673:5672']\n"
        "  other:\n    image: acme/thing\n    ports: ['5439:80']\n");
  t.put("pyproject.toml", "[tool.testmap.services.rabbitmq]\nports = [5672]\n");
  auto cfg = testmap::config::load_config(t.root.string());
  const auto* pg = cfg.service("postgres");
  REQUIRE(pg);
  CHECK(std::find(pg->ports.begin(), pg->ports.end(), 5432) != pg->ports.end());
  CHECK(std::find(pg->ports.begin(), pg->ports.end(), 5439) != pg->ports.end());
  CHECK(cfg.service("rabbitmq")->ports == std::vector<int>{5672});
  // A port two services publish stays the first one's, and the second is said.
  CHECK(cfg.service("other") == nullptr);
  REQUIRE(cfg.diagnostics.size() == 1);
  INFO(cfg.diagnostics[0].format());
  CHECK(cfg.diagnostics[0].format().find("compose.yaml:8: other: publishes port 5439") == 0);

  t.put("pyproject.toml", "[tool.testmap]\nservice-files = false\n");
  cfg = testmap::config::load_config(t.root.string());
  CHECK(cfg.service("postgres")->ports == std::vector<int>{5432});
  CHECK(cfg.file_services.size() == 3);  // still read, for `testmap init`
}

TEST_CASE("GitHub Actions and GitLab CI services") {
  Tree t;
  t.put(".github/workflows/test.yml", R"(
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
        ports: ["5432:5432"]
      redis:
        image: ${{ matrix.redis }}
        ports: [6379]
)");
  t.put(".gitlab-ci.yml", R"(
services:
  - postgres:15
test:
  services:
    - name: bitnami/memcached:1.6
      alias: cache
    - $CUSTOM_IMAGE
)");
  auto found = read_service_files(t.root.string());
  CHECK(found.notes.empty());
  REQUIRE(found.services.size() == 4);
  CHECK(found.services[0].source == "github");
  CHECK(found.services[0].name == "postgres");
  CHECK(found.services[0].ports == std::vector<int>{5432});
  CHECK(found.services[1].name == "redis");  // named by its key: the image is an expression
  CHECK(found.services[1].ports.empty());
  CHECK(found.services[2].source == "gitlab");
  CHECK(found.services[2].key == "postgres");
  CHECK(found.services[3].name == "memcached");
  CHECK(found.services[3].key == "cache");
}

TEST_CASE("a broken file is a one-line note with its line; the other files still count") {
  Tree t;
  t.put("docker-compose.yml", "services:\n  db:\n    image: postgres\n   ports: [1\n");
  t.put("docker/compose.yaml", "services:\n  r:\n    image: redis\n    ports: ['6390:6379']\n");
  t.put(".github/workflows/a.yml", "jobs: [unclosed\n");
  auto found = read_service_files(t.root.string());
  REQUIRE(found.notes.size() == 2);
  CHECK(found.notes[0].file == "docker-compose.yml");
  CHECK(found.notes[0].line == 4);
  CHECK(found.notes[1].file == ".github/workflows/a.yml");
  REQUIRE(found.services.size() == 1);
  CHECK(found.services[0].file == "docker/compose.yaml");
}

TEST_CASE("an alias inside itself or a billion laughs is refused, not expanded") {
  testmap::yaml::Node root;
  std::string error;
  CHECK_FALSE(testmap::yaml::parse("a: &a [*a]\n", &root, &error));
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    laughs += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" +
              char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) +
              ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" +
              char(c - 1) + "]\n";
  CHECK_FALSE(testmap::yaml::parse(laughs, &root, &error));
  CHECK(error.find("too large") != std::string::npos);
}
