// Importing pytest-split and JUnit durations; exporting pytest-split's format.
#include "core/plan/durations_io.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <simdjson.h>
#include <pugixml.hpp>

#include "core/util/json_text.h"

namespace testmap::plan {
namespace fs = std::filesystem;
namespace {

// Longer than any test runs; keeps sums of many durations finite.
constexpr double kMaxSeconds = 7 * 86400;

int line_of(const std::string& text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < std::min(offset, text.size()); ++i) line += text[i] == '\n';
  return line;
}

// A duration as written in a file: a finite number of seconds in range, or why not. The
// whole text must be the number ("12abc" is not 12).
bool parse_seconds(std::string_view raw, double* out) {
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.front())))
    raw.remove_prefix(1);
  if (raw.empty()) return false;
  std::string s(raw);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v) || v < 0 ||
      v > kMaxSeconds)
    return false;
  *out = v;
  return true;
}

std::string bad_seconds(std::string_view raw) {
  return fmt::format("'{}' is not a number of seconds (0 to {:.0f}): not imported",
                     raw.substr(0, 40), kMaxSeconds);
}

// simdjson's on-demand parser hands over each value's raw text, so one bad number (1e400
// overflows a double) costs its own entry, not the file.
bool import_json(const std::string& path, const std::string& text,
                 std::vector<runtime::TestRecord>* out, Diagnostics* diags, size_t* rejected) {
  simdjson::padded_string padded(text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  auto line = [&](const char* at) {
    return at ? line_of(text, static_cast<size_t>(at - padded.data())) : 0;
  };
  bool iterated = false;  // a document that failed to start has no location to ask for
  auto not_json = [&](simdjson::error_code e) {
    const char* at = nullptr;
    diags->push_back({path, !iterated || doc.current_location().get(at) ? 0 : line(at), "",
                      fmt::format("not JSON: {}", simdjson::error_message(e))});
    return false;
  };
  if (auto e = parser.iterate(padded).get(doc)) return not_json(e);
  iterated = true;
  if (doc.get_object().get(obj)) {
    diags->push_back({path, 1, "", "expected pytest-split's {\"node id\": seconds} object"});
    return false;
  }
  std::vector<runtime::TestRecord> records;
  for (auto field : obj) {
    std::string_view id;
    simdjson::ondemand::value v;
    simdjson::ondemand::json_type type;
    if (auto e = field.unescaped_key().get(id)) return not_json(e);
    if (auto e = field.value().get(v)) return not_json(e);
    if (auto e = v.type().get(type)) return not_json(e);
    std::string_view raw =
        type == simdjson::ondemand::json_type::number
            ? v.raw_json_token()
            : std::string_view(type == simdjson::ondemand::json_type::string ? "a string"
                               : type == simdjson::ondemand::json_type::null ? "null"
                                                                             : "not a number");
    runtime::TestRecord r;
    if (type != simdjson::ondemand::json_type::number || !parse_seconds(raw, &r.duration)) {
      const char* at = nullptr;
      diags->push_back(
          {path, doc.current_location().get(at) ? 0 : line(at), std::string(id), bad_seconds(raw)});
      ++*rejected;
      continue;
    }
    r.nodeid = id;
    r.outcome = "passed";
    r.has_phases = false;
    records.push_back(std::move(r));
  }
  for (auto& r : records) out->push_back(std::move(r));
  return true;
}

// "tests.orders.test_repo.TestRepo" -> "tests/orders/test_repo.py::TestRepo", through the
// longest dotted prefix that is a file under `root`.
std::string nodeid_of(const std::string& root, const std::string& classname,
                      const std::string& file, const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream ss(classname);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  std::error_code ec;
  for (size_t k = parts.size(); k > 0; --k) {
    std::string rel;
    for (size_t i = 0; i < k; ++i) rel += (i ? "/" : "") + parts[i];
    rel += ".py";
    if (!fs::is_regular_file(fs::path(root) / rel, ec)) continue;
    std::string id = rel;
    for (size_t i = k; i < parts.size(); ++i) id += "::" + parts[i];
    return id + "::" + name;
  }
  if (!file.empty()) return file + "::" + name;
  return "";
}

bool import_junit(const std::string& path, const std::string& text, const std::string& root,
                  std::vector<runtime::TestRecord>* out, Diagnostics* diags, size_t* rejected) {
  pugi::xml_document doc;
  pugi::xml_parse_result ok = doc.load_buffer(text.data(), text.size());
  if (!ok) {
    diags->push_back({path, line_of(text, static_cast<size_t>(ok.offset)), "",
                      fmt::format("not XML: {}", ok.description())});
    return false;
  }
  size_t unmapped = 0;
  for (pugi::xpath_node x : doc.select_nodes("//testcase")) {
    pugi::xml_node tc = x.node();
    std::string id = nodeid_of(root, tc.attribute("classname").value(),
                               tc.attribute("file").value(), tc.attribute("name").value());
    if (id.empty()) {
      ++unmapped;
      continue;
    }
    runtime::TestRecord r;
    r.nodeid = id;
    const char* time = tc.attribute("time").value();
    if (!parse_seconds(time, &r.duration)) {
      diags->push_back(
          {path, tc.offset_debug() < 0 ? 0 : line_of(text, static_cast<size_t>(tc.offset_debug())),
           id, *time ? bad_seconds(time) : "no time attribute: not imported"});
      ++*rejected;
      continue;
    }
    r.outcome = tc.child("failure")   ? "failed"
                : tc.child("error")   ? "error"
                : tc.child("skipped") ? "skipped"
                                      : "passed";
    r.has_phases = false;
    out->push_back(std::move(r));
  }
  if (unmapped)
    diags->push_back(
        {path, 0, "", fmt::format("{} test cases name no file under {}: skipped", unmapped, root)});
  return true;
}

}  // namespace

bool import_durations(const std::string& path, const std::string& root,
                      std::vector<runtime::TestRecord>* records, Diagnostics* diagnostics,
                      size_t* rejected) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics->push_back({path, 0, "", "cannot read the file"});
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return import_durations_text(path, text, root, records, diagnostics, rejected);
}

bool import_durations_text(const std::string& path, const std::string& text,
                           const std::string& root, std::vector<runtime::TestRecord>* records,
                           Diagnostics* diagnostics, size_t* rejected) {
  size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && text[first] == '<')
    return import_junit(path, text, root, records, diagnostics, rejected);
  return import_json(path, text, records, diagnostics, rejected);
}

std::string durations_json_text(const std::map<std::string, double>& durations) {
  std::string out;
  JsonWriter j(out);
  j.begin_object();
  for (const auto& [id, s] : durations) j.key(id).value(s, 4);
  j.end_object();
  out += '\n';
  return out;
}

}  // namespace testmap::plan
