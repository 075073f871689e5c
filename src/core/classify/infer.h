// Services named by the words of a marker, fixture or base class name (`redis_db`,
// `requires_kafka`, `MongoTestCase`): what a repository says with no config at all.
#pragma once

#include <string>

namespace testmap::classify {

// The built-in service a name's words name ("redis_db" -> "redis", "pg_conn" ->
// "postgres", "ClickHouseMixin" -> "clickhouse"), or "" when none does, or when a word
// says it is a stand-in (fake_redis, mock_kafka, in_memory_cache, no_db).
std::string service_in_name(const std::string& name);

}  // namespace testmap::classify
