// Which names name a service by their words, and which only look like they do.
#include <doctest/doctest.h>

#include "core/classify/infer.h"

using testmap::classify::service_in_name;

TEST_CASE("the words of a name name a service") {
  CHECK(service_in_name("redis_db") == "redis");
  CHECK(service_in_name("clickhouse_db") == "clickhouse");
  CHECK(service_in_name("ClickHouseTestCase") == "clickhouse");
  CHECK(service_in_name("requires_kafka") == "kafka");
  CHECK(service_in_name("mongo_client") == "mongodb");
  CHECK(service_in_name("MongoDBMixin") == "mongodb");
  CHECK(service_in_name("pg_conn") == "postgres");
  CHECK(service_in_name("PGConnection") == "postgres");
  CHECK(service_in_name("postgresql") == "postgres");
  CHECK(service_in_name("PostgreSQLFixture") == "postgres");
  CHECK(service_in_name("rabbit_channel") == "rabbitmq");
}

TEST_CASE("parts of words, stand-ins and other words name nothing") {
  CHECK(service_in_name("upgrade_schema") == "");  // "pg" inside a word
  CHECK(service_in_name("fake_redis") == "");
  CHECK(service_in_name("mock_kafka_producer") == "");
  CHECK(service_in_name("in_memory_cache") == "");
  CHECK(service_in_name("FakeRedisTestCase") == "");
  CHECK(service_in_name("sqlite_db") == "");
  CHECK(service_in_name("cache") == "");
  CHECK(service_in_name("db") == "");
  CHECK(service_in_name("settings") == "");
  CHECK(service_in_name("") == "");
}
