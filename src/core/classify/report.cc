// Renderings of a classification for people and machines.
#include "core/classify/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "core/util/json_text.h"

namespace testmap::classify {

namespace {

// The addresses recorded runs saw a test reach that no service declares or names.
std::vector<std::string> external_addresses(const TestResult& t) {
  std::vector<std::string> out;
  for (const auto& r : t.reasons)
    if (r.runtime && r.service == "external") {
      std::string a = r.detail;
      if (a.starts_with("reached ")) a = a.substr(8, a.rfind(" in ") - 8);
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
  return out;
}

}  // namespace

std::string render_table(const Classification& c, double seconds) {
  std::string out;
  size_t n = c.tests.size();
  auto pct = [&](size_t k) {
    return n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0;
  };
  out += fmt::format(
      "{} tests in {} test files ({} Python files, {:.1f} MB scanned in {:.2f} s)\n\n", n,
      c.test_files, c.files_scanned, static_cast<double>(c.bytes_scanned) / 1e6, seconds);
  // Every test in no_services may be right, or may be a config that says nothing: say so.
  if (n > 0 && c.service_tests.empty() && c.unknown_tests == 0)
    out +=
        "no service rule matched any test: if the tests use servers, `testmap init --record -- "
        "python -m pytest` writes a first [tool.testmap] from the repository and a run "
        "(docs/init.md)\n\n";
  size_t w = 4;
  for (const auto& t : c.tiers) w = std::max(w, t.name.size());
  out += fmt::format("{:<{}}  {:>7}  {:>6}  {:>6}  {}\n", "tier", w, "tests", "%", "files",
                     "services");
  for (const auto& t : c.tiers) {
    std::string services;
    for (const auto& s : t.services) services += (services.empty() ? "" : ", ") + s;
    if (t.name == kUnknownTier)
      services = "every service (cannot be classified statically: see --explain)";
    if (services.empty()) services = "-";
    out += fmt::format("{:<{}}  {:>7}  {:>5.1f}%  {:>6}  {}\n", t.name, w, t.tests, pct(t.tests),
                       t.files, services);
  }
  if (!c.projects.empty()) {
    // A monorepo: how the tests spread over its projects.
    std::map<std::string, std::pair<size_t, std::set<std::string>>> per;
    for (const auto& t : c.tests) {
      auto& [tests, files] = per[t.project];
      ++tests;
      files.insert(t.file);
    }
    size_t pw = 7;
    for (const auto& p : c.projects) pw = std::max(pw, p.size());
    out += fmt::format("\n{:<{}}  {:>7}  {:>6}  {:>6}\n", "project", pw, "tests", "%", "files");
    for (const auto& p : c.projects)
      out += fmt::format("{:<{}}  {:>7}  {:>5.1f}%  {:>6}\n", p, pw, per[p].first,
                         pct(per[p].first), per[p].second.size());
  }
  out += fmt::format("\n{:<{}}  {:>7}  {:>6}\n", "service", w, "tests", "%");
  for (const auto& [s, k] : c.service_tests)
    out += fmt::format("{:<{}}  {:>7}  {:>5.1f}%\n", s, w, k, pct(k));
  if (c.unknown_tests)
    out += fmt::format("{:<{}}  {:>7}  {:>5.1f}%  (treated as needing every service)\n", "unknown",
                       w, c.unknown_tests, pct(c.unknown_tests));
  // Servers recorded runs reached that nothing names: never dropped, so a person can
  // name them ([tool.testmap.services.NAME] ports or processes).
  size_t external = 0;
  std::vector<std::string> addresses;
  for (const auto& t : c.tests) {
    auto a = external_addresses(t);
    external += !a.empty();
    for (auto& x : a)
      if (std::find(addresses.begin(), addresses.end(), x) == addresses.end())
        addresses.push_back(std::move(x));
  }
  if (external) {
    std::string list;
    for (size_t i = 0; i < addresses.size() && i < 5; ++i)
      list += (list.empty() ? "" : ", ") + addresses[i];
    if (addresses.size() > 5) list += fmt::format(" and {} more", addresses.size() - 5);
    out += fmt::format("{:<{}}  {:>7}  {:>5.1f}%  (reached servers no service names: {})\n",
                       "external", w, external, pct(external), list);
  }
  return out;
}

std::string to_json_text(const Classification& c) {
  std::string out;
  out.reserve(512 * c.tests.size() + 4096);
  JsonWriter j(out);
  j.begin_object()
      .field("root", c.root)
      .field("files_scanned", c.files_scanned)
      .field("test_files", c.test_files)
      .field("bytes_scanned", c.bytes_scanned);
  if (!c.projects.empty()) j.field("projects", c.projects);
  j.key("tests").begin_array();
  for (const auto& t : c.tests) {
    j.begin_object().field("id", t.id);
    if (!t.project.empty()) j.field("project", t.project);
    j.field("file", t.file)
        .field("line", t.line)
        .field("defined_file", t.defined_file)
        .field("defined_line", t.defined_line)
        .field("tier", t.tier)
        .field("services", t.services)
        .field("unknown", t.unknown);
    j.key("reasons").begin_array();
    for (const auto& r : t.reasons)
      j.begin_object()
          .field("service", r.service)
          .field("rule", r.rule)
          .field("detail", r.detail)
          .field("file", r.file)
          .field("line", r.line)
          .field("source", r.runtime ? "runtime" : "static")
          .end_object();
    j.end_array();
    if (t.recorded)
      j.field("static_services", t.static_services).field("runtime_services", t.runtime_services);
    j.end_object();
  }
  j.end_array();
  j.key("tiers").begin_array();
  for (const auto& t : c.tiers)
    j.begin_object()
        .field("name", t.name)
        .field("services", t.services)
        .field("tests", t.tests)
        .field("files", t.files)
        .end_object();
  j.end_array();
  j.key("services").begin_object();
  for (const auto& [s, n] : c.service_tests) j.field(s, n);
  j.end_object();
  j.field("unknown", c.unknown_tests);
  j.key("diagnostics").begin_array();
  for (const auto& d : c.diagnostics)
    j.begin_object()
        .field("file", d.file)
        .field("line", d.line)
        .field("key", d.key)
        .field("message", d.message)
        .end_object();
  j.end_array().end_object();
  out += '\n';
  return out;
}

namespace {

struct Disagreement {
  const TestResult* test;
  std::vector<std::string> runtime_only;  // used, not declared
  std::vector<std::string> static_only;   // declared, never used
  std::vector<std::string> external;      // servers reached that no service names
};

std::vector<Disagreement> disagreements(const Classification& c) {
  std::vector<Disagreement> out;
  for (const auto& t : c.tests) {
    if (!t.recorded) continue;
    Disagreement d{&t, {}, {}};
    std::set_difference(t.runtime_services.begin(), t.runtime_services.end(),
                        t.static_services.begin(), t.static_services.end(),
                        std::back_inserter(d.runtime_only));
    if (!t.static_unknown)
      std::set_difference(t.static_services.begin(), t.static_services.end(),
                          t.runtime_services.begin(), t.runtime_services.end(),
                          std::back_inserter(d.static_only));
    d.external = external_addresses(t);
    if (t.static_unknown || !d.runtime_only.empty() || !d.static_only.empty() ||
        !d.external.empty())
      out.push_back(std::move(d));
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "-" : s;
}

}  // namespace

std::string render_diff(const Classification& c) {
  size_t recorded = 0;
  for (const auto& t : c.tests) recorded += t.recorded;
  auto ds = disagreements(c);
  size_t mis = 0, over = 0, unknown = 0, unnamed = 0;
  std::string rows;
  for (const auto& d : ds) {
    const TestResult& t = *d.test;
    std::string kind;
    if (t.static_unknown) {
      kind = "unknown to static analysis", ++unknown;
    } else {
      if (!d.runtime_only.empty()) kind = "misclassified", ++mis;
      if (!d.static_only.empty())
        kind += kind.empty() ? "over-classified" : ", over-classified", ++over;
    }
    if (!d.external.empty())
      kind += kind.empty() ? "unnamed server" : ", unnamed server", ++unnamed;
    rows += fmt::format("{}\n  {}: static: {}; runtime: {}", t.id, kind,
                        t.static_unknown ? "unknown" : join(t.static_services),
                        join(t.runtime_services));
    if (!d.runtime_only.empty() && !t.static_unknown)
      rows += fmt::format("; used but not declared: {}", join(d.runtime_only));
    if (!d.static_only.empty())
      rows += fmt::format("; declared but never used: {}", join(d.static_only));
    if (!d.external.empty())
      rows += fmt::format("; reached servers no service names: {}", join(d.external));
    rows += "\n";
  }
  std::string out = fmt::format(
      "{} of {} tests have a recorded run; {} disagree: {} misclassified (used at run time, not "
      "declared), {} over-classified (declared, never used), {} unknown to static analysis, {} "
      "reached servers no service names\n",
      recorded, c.tests.size(), ds.size(), mis, over, unknown, unnamed);
  if (recorded == 0) out += "record a run first: testmap record -- python -m pytest ...\n";
  if (!rows.empty()) out += "\n" + rows;
  return out;
}

std::string diff_json_text(const Classification& c) {
  std::string out;
  JsonWriter j(out);
  size_t recorded = 0;
  for (const auto& t : c.tests) recorded += t.recorded;
  j.begin_object().field("tests", c.tests.size()).field("recorded", recorded);
  j.key("disagreements").begin_array();
  for (const auto& d : disagreements(c)) {
    const TestResult& t = *d.test;
    j.begin_object()
        .field("id", t.id)
        .field("static_unknown", t.static_unknown)
        .field("static", t.static_services)
        .field("runtime", t.runtime_services)
        .field("used_not_declared", d.runtime_only)
        .field("declared_not_used", d.static_only)
        .field("unnamed", d.external)
        .end_object();
  }
  j.end_array().end_object();
  out += '\n';
  return out;
}

std::string explain(const Classification& c, const std::string& id_arg) {
  std::string id = id_arg;
  if (size_t br = id.find('['); br != std::string::npos && id.ends_with("]")) id = id.substr(0, br);
  for (const auto& t : c.tests) {
    if (t.id != id) continue;
    std::string out = fmt::format("{}\n  tier: {}\n", t.id, t.tier);
    if (t.defined_file != t.file || (t.line != 0 && t.defined_line != t.line))
      out += fmt::format("  defined in: {}:{} (inherited)\n", t.defined_file, t.defined_line);
    if (t.unknown)
      out += "  treated as needing every service, because:\n";
    else if (t.static_unknown)
      out += "  static analysis could not classify it (the * reasons); a recorded run did:\n";
    else if (t.services.empty())
      out +=
          "  needs no service: no rule matched (base classes, markers, fixtures, paths, calls)\n";
    for (const auto& r : t.reasons) {
      std::string where = r.runtime    ? "recorded run"
                          : r.line > 0 ? fmt::format("{}:{}", r.file, r.line)
                                       : r.file;
      out += fmt::format("  {:<10} {:<11} {}  ({})\n", r.service == "*" ? "unknown" : r.service,
                         r.rule, r.detail, where);
    }
    return out;
  }
  return "";
}

}  // namespace testmap::classify
