// Standard ports for common services, and the Django preset.
#include "core/config/presets.h"

namespace testmap::config {

void add_builtin_services(Config& cfg) {
  auto add = [&](const char* name, std::vector<int> ports, double startup) {
    Service s;
    s.name = name;
    s.ports = std::move(ports);
    s.startup_seconds = startup;
    cfg.services.push_back(std::move(s));
  };
  add("postgres", {5432}, 5);
  cfg.services.back().unix_sockets = {".s.PGSQL.5432"};
  cfg.services.back().processes = {"postgres", "postmaster"};
  add("mysql", {3306}, 10);
  cfg.services.back().processes = {"mysqld", "mariadbd"};
  add("redis", {6379}, 1);
  cfg.services.back().processes = {"redis-server", "valkey-server", "keydb-server"};
  add("memcached", {11211}, 1);
  cfg.services.back().processes = {"memcached"};
  add("kafka", {9092}, 30);
  cfg.services.back().processes = {"java:kafka.Kafka", "redpanda"};
  add("rabbitmq", {5672}, 15);
  cfg.services.back().processes = {"beam.smp:rabbit"};
  add("clickhouse", {8123, 9000}, 20);
  cfg.services.back().processes = {"clickhouse-server", "clickhouse:server"};
  add("elasticsearch", {9200}, 30);
  cfg.services.back().processes = {"java:org.elasticsearch.bootstrap.Elasticsearch",
                                   "java:org.opensearch.bootstrap.OpenSearch"};
  // Known by their programs only: no port is theirs alone to claim by default.
  add("mongodb", {27017}, 5);
  cfg.services.back().processes = {"mongod", "mongos"};
  add("nats", {4222}, 1);
  cfg.services.back().processes = {"nats-server"};
  add("minio", {}, 2);
  cfg.services.back().processes = {"minio"};
}

bool is_known_preset(const std::string& name) {
  return name == "django";
}

void apply_preset(const std::string& name, Config& cfg) {
  if (name != "django") return;
  for (auto& s : cfg.services) {
    if (s.name != "postgres") continue;
    s.markers.push_back("django_db");
    for (const char* f :
         {"db", "transactional_db", "django_db_setup", "django_db_blocker", "live_server",
          "django_db_reset_sequences", "django_db_serialized_rollback"})
      s.fixtures.push_back(f);
    for (const char* b :
         {"django.test.TestCase", "django.test.TransactionTestCase",
          "django.test.LiveServerTestCase", "django.test.testcases.TestCase",
          "django.test.testcases.TransactionTestCase", "django.test.testcases.LiveServerTestCase"})
      s.base_classes.push_back(b);
  }
}

}  // namespace testmap::config
