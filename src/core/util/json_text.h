// Writing JSON text straight into a string. The classification of a 30,000-test
// monolith is 10+ MB of JSON: building an nlohmann DOM first cost as much as scanning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace testmap {

// `s` as a quoted JSON string; invalid UTF-8 becomes U+FFFD, as nlohmann's
// error_handler_t::replace does, so output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Comma placement for hand-written objects and arrays.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(long long v);
  JsonWriter& value(int v) { return value(static_cast<long long>(v)); }
  JsonWriter& value(size_t v);
  JsonWriter& value(bool v);
  JsonWriter& null();
  // A number with `decimals` digits after the point (NaN and infinities as null).
  JsonWriter& value(double v, int decimals = 3);
  JsonWriter& value(const std::vector<std::string>& list);
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    return key(k).value(v);
  }

 private:
  void separate();
  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace testmap
