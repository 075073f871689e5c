// Words of identifiers matched against the built-in services' names and nicknames.
#include "core/classify/infer.h"

#include <cctype>
#include <string_view>
#include <vector>

namespace testmap::classify {
namespace {

struct Alias {
  std::string_view word;
  std::string_view service;
};

// Whole words only: "pg" in "pg_conn", never in "upgrade". Joined spellings
// ("clickhouse", "postgresql") are one word.
constexpr Alias kAliases[] = {
    {"postgres", "postgres"},
    {"postgresql", "postgres"},
    {"pg", "postgres"},
    {"psql", "postgres"},
    {"pgsql", "postgres"},
    {"timescale", "postgres"},
    {"mysql", "mysql"},
    {"mariadb", "mysql"},
    {"redis", "redis"},
    {"valkey", "redis"},
    {"memcached", "memcached"},
    {"memcache", "memcached"},
    {"kafka", "kafka"},
    {"redpanda", "kafka"},
    {"rabbitmq", "rabbitmq"},
    {"rabbit", "rabbitmq"},
    {"amqp", "rabbitmq"},
    {"clickhouse", "clickhouse"},
    {"elasticsearch", "elasticsearch"},
    {"elastic", "elasticsearch"},
    {"opensearch", "elasticsearch"},
    {"mongo", "mongodb"},
    {"mongodb", "mongodb"},
    {"nats", "nats"},
    {"minio", "minio"},
};

// Words that make the name a stand-in for the service, not the service.
constexpr std::string_view kStandIns[] = {
    "fake", "mock",    "mocked",  "stub",     "dummy", "memory", "inmemory", "noop",     "null",
    "no",   "without", "disable", "disabled", "skip",  "lite",   "sqlite",   "fakeredis"};

// "requires_kafka" -> requires, kafka; "ClickHouseMixin" -> click, house, mixin, and the
// joined "clickhouse" is tried too; "PGConnection" -> pg, connection.
std::vector<std::string> words_of(const std::string& name) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(cur);
    cur.clear();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (!std::isalnum(c)) {
      flush();
      continue;
    }
    bool upper = std::isupper(c);
    bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(name[i - 1]));
    bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
    bool prev_upper = i > 0 && std::isupper(static_cast<unsigned char>(name[i - 1]));
    if (upper && (prev_lower || (prev_upper && next_lower))) flush();
    cur += static_cast<char>(std::tolower(c));
  }
  flush();
  return words;
}

}  // namespace

std::string service_in_name(const std::string& name) {
  std::vector<std::string> words = words_of(name);
  for (const auto& w : words)
    for (auto s : kStandIns)
      if (w == s) return "";
  // Single words, then two joined ("Click"+"House", "Mongo"+"DB", "Postgre"+"SQL").
  for (size_t i = 0; i < words.size(); ++i) {
    for (size_t n = 1; n <= 2 && i + n <= words.size(); ++n) {
      std::string w = words[i];
      if (n == 2) w += words[i + 1];
      for (const auto& a : kAliases)
        if (w == a.word) return std::string(a.service);
    }
  }
  return "";
}

}  // namespace testmap::classify
