// The JSON writer against nlohmann's parser: whatever the bytes, the text parses and
// says the same thing (invalid UTF-8 as U+FFFD).
#include <doctest/doctest.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "core/util/json_text.h"

using testmap::append_json_string;
using testmap::JsonWriter;

namespace {

std::string roundtrip(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return nlohmann::json::parse(out).get<std::string>();
}

}  // namespace

TEST_CASE("strings survive escaping") {
  for (std::string s : {std::string(""), std::string("plain"), std::string("quote \" back \\"),
                        std::string("tab\tnl\ncr\rbell\x07"), std::string("\x00 nul", 5),
                        std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\x8D")})
    CHECK(roundtrip(s) == s);
}

TEST_CASE("invalid UTF-8 becomes U+FFFD, like nlohmann's replace handler") {
  const char* cases[] = {"\xFF",      "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                         "ok\xE2\x82"};
  for (const char* s : cases) {
    std::string mine = roundtrip(s);
    std::string theirs =
        nlohmann::json::parse(nlohmann::json(std::string(s))
                                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            .get<std::string>();
    CHECK(mine == theirs);
  }
}

TEST_CASE("objects and arrays get their commas") {
  std::string out;
  JsonWriter j(out);
  j.begin_object().field("a", 1).field("b", std::vector<std::string>{"x", "y"});
  j.key("c").begin_array();
  j.begin_object().field("d", true).end_object();
  j.begin_object().end_object();
  j.end_array();
  j.key("e").begin_object().end_object();
  j.end_object();
  auto parsed = nlohmann::json::parse(out);
  CHECK(parsed["a"] == 1);
  CHECK(parsed["b"] == nlohmann::json({"x", "y"}));
  CHECK(parsed["c"].size() == 2);
  CHECK(parsed["c"][0]["d"] == true);
  CHECK(parsed["e"].empty());
}

TEST_CASE("numbers keep their commas and non-finite ones become null") {
  std::string out;
  JsonWriter j(out);
  j.begin_object()
      .key("a")
      .value(1.5)
      .key("b")
      .value(2.0 / 3.0, 2)
      .key("c")
      .value(std::numeric_limits<double>::infinity());
  j.end_object();
  auto parsed = nlohmann::json::parse(out);
  CHECK(parsed["a"] == 1.5);
  CHECK(parsed["b"] == 0.67);
  CHECK(parsed["c"].is_null());
}
