// Importing pytest-split and JUnit durations; exporting pytest-split's format.
#include "core/plan/durations_io.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "core/util/json_text.h"

namespace testmap::plan {
namespace fs = std::filesystem;
namespace {

int line_of(const std::string& text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < std::min(offset, text.size()); ++i) line += text[i] == '\n';
  return line;
}

bool import_json(const std::string& path, const std::string& text,
                 std::vector<runtime::TestRecord>* out, Diagnostics* diags) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    diags->push_back({path, line_of(text, e.byte), "", fmt::format("not JSON: {}", e.what())});
    return false;
  }
  if (!j.is_object()) {
    diags->push_back({path, 1, "", "expected pytest-split's {\"node id\": seconds} object"});
    return false;
  }
  for (const auto& [id, v] : j.items()) {
    if (!v.is_number() || v.get<double>() < 0) {
      diags->push_back({path, 0, id, "expected a number of seconds, 0 or more"});
      return false;
    }
    runtime::TestRecord r;
    r.nodeid = id;
    r.outcome = "passed";
    r.duration = v.get<double>();
    r.has_phases = false;
    out->push_back(std::move(r));
  }
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
                  std::vector<runtime::TestRecord>* out, Diagnostics* diags) {
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
    r.duration = tc.attribute("time").as_double(0);
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
                      std::vector<runtime::TestRecord>* records, Diagnostics* diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics->push_back({path, 0, "", "cannot read the file"});
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && text[first] == '<')
    return import_junit(path, text, root, records, diagnostics);
  return import_json(path, text, records, diagnostics);
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
