// Plan input parsing and output rendering.
#include "core/plan/plan_io.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "core/classify/tiers.h"
#include "core/util/json_text.h"

namespace testmap::plan {

namespace {

int line_at(const simdjson::padded_string& text, const char* at) {
  int line = 1;
  for (const char* p = text.data(); p < at && p < text.data() + text.size(); ++p)
    line += *p == '\n';
  return line;
}

// simdjson's on-demand parser: a million tests (160 MB) in a fraction of a second, where a
// DOM took seconds and a gigabyte.
bool parse_padded(const simdjson::padded_string& text, const std::string& path, PlanInput* input,
                  Diagnostic* error) {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string key = "";
  bool iterated = false;  // a document that failed to start has no location to ask for
  auto fail = [&](const std::string& message) {
    const char* at = nullptr;
    int line = !iterated || doc.current_location().get(at) ? 0 : line_at(text, at);
    *error = {path, line, key, message};
    return false;
  };
  if (parser.iterate(text).get(doc)) return fail("not JSON");
  iterated = true;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return fail("expected an object with a \"tests\" array");
  bool saw_tests = false;
  for (auto field : root) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return fail("not JSON");
    if (name == "tests") {
      saw_tests = true;
      simdjson::ondemand::array tests;
      key = "tests";
      if (field.value().get_array().get(tests)) return fail("expected a list of tests");
      size_t i = 0;
      for (auto element : tests) {
        key = fmt::format("tests[{}]", i++);
        simdjson::ondemand::object t;
        if (element.get_object().get(t)) return fail("a test is an object");
        PlanTest p;
        bool has_id = false, has_tier = false, has_seconds = false;
        for (auto f : t) {
          std::string_view k;
          if (f.unescaped_key().get(k)) return fail("not JSON");
          simdjson::ondemand::value v;
          if (f.value().get(v)) return fail("not JSON");
          if (k == "id") {
            std::string_view id;
            if (v.get_string().get(id)) return fail("a test needs a string \"id\"");
            p.id = id, has_id = true;
          } else if (k == "tier") {
            std::string_view tier;
            if (v.get_string().get(tier)) return fail("\"tier\" is a string");
            p.tier = tier, has_tier = true;
          } else if (k == "project") {
            std::string_view project;
            if (v.get_string().get(project)) return fail("\"project\" is a string");
            p.project = project;
          } else if (k == "services") {
            simdjson::ondemand::array a;
            if (v.get_array().get(a)) {
              key += ".services";
              return fail("expected a list of service names");
            }
            for (auto x : a) {
              std::string_view s;
              if (x.get_string().get(s)) {
                key += ".services";
                return fail("expected a list of service names");
              }
              p.services.emplace_back(s);
            }
          } else if (k == "seconds") {
            bool null = false;
            if (v.is_null().get(null)) return fail("not JSON");
            if (null) continue;
            double seconds;
            if (v.get_double().get(seconds) || seconds < 0) {
              key += ".seconds";
              return fail("expected a number of seconds, 0 or more");
            }
            p.seconds = seconds, has_seconds = true;
          }
        }
        if (!has_id) return fail("a test needs a string \"id\"");
        std::sort(p.services.begin(), p.services.end());
        if (!has_tier) p.tier = classify::tier_name(p.services);
        p.estimated = !has_seconds;
        input->tests.push_back(std::move(p));
      }
    } else if (name == "services") {
      simdjson::ondemand::object services;
      key = "services";
      if (field.value().get_object().get(services)) return fail("expected an object of services");
      for (auto s : services) {
        std::string_view service;
        if (s.unescaped_key().get(service)) return fail("not JSON");
        double startup = 0;
        simdjson::ondemand::object o;
        if (!s.value().get_object().get(o)) {
          for (auto f : o) {
            std::string_view k;
            if (f.unescaped_key().get(k)) return fail("not JSON");
            if (k == "startup-seconds" &&
                (f.value().get_double().get(startup) || !std::isfinite(startup) || startup < 0)) {
              key = fmt::format("services.{}.startup-seconds", service);
              return fail("expected a number of seconds");
            }
          }
        }
        input->startup[std::string(service)] = startup;
      }
    }
  }
  key = "tests";
  if (!saw_tests) return fail("expected an object with a \"tests\" array");
  return true;
}

}  // namespace

bool read_input(const std::string& path, PlanInput* input, Diagnostic* error) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) {
    *error = {path, 0, "", "cannot read the file"};
    return false;
  }
  return parse_padded(text, path, input, error);
}

bool parse_input(const std::string& text, const std::string& where, PlanInput* input,
                 Diagnostic* error) {
  return parse_padded(simdjson::padded_string(text), where, input, error);
}

std::string plan_json_text(const Plan& plan) {
  std::string out;
  JsonWriter j(out);
  j.begin_object()
      .field("version", 1)
      .field("unit", unit_name(plan.unit))
      .field("workers", plan.workers)
      .field("tests", plan.tests)
      .field("estimated_tests", plan.estimated_tests);
  auto number = [&](const char* key, double v) { j.key(key).value(v); };
  number("wall_seconds", plan.wall_seconds);
  number("runner_seconds", plan.runner_seconds);
  number("lower_bound_seconds", plan.lower_bound_seconds);
  number("runner_lower_bound_seconds", plan.runner_lower_bound_seconds);
  j.field("warnings", plan.warnings);
  j.key("machines").begin_array();
  for (const auto& m : plan.machines) {
    j.begin_object().field("id", m.id);
    if (!m.project.empty()) j.field("project", m.project);
    j.field("tier", m.tier).field("tiers", m.tiers).field("services", m.services);
    number("startup_seconds", m.startup_seconds);
    number("seconds", m.seconds);
    j.field("tests", m.tests).field("units", m.units).end_object();
  }
  j.end_array().end_object();
  out += '\n';
  return out;
}

namespace {

// A plan's number at `key` of `o`: absent gives `fallback`; anything but a finite number
// from `low` up is an error naming the key and the value.
bool plan_number(const nlohmann::json& o, const char* name, double fallback, double low,
                 const std::string& where, const std::string& key, double* out, Diagnostic* error) {
  auto it = o.find(name);
  if (it == o.end()) {
    *out = fallback;
    return true;
  }
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < low) {
    *error = {where, 0, key.empty() ? name : key + "." + name,
              fmt::format("expected a number from {} up, not {}", low, it->dump())};
    return false;
  }
  *out = it->get<double>();
  return true;
}

bool plan_string(const nlohmann::json& o, const char* name, const std::string& where,
                 const std::string& key, std::string* out, Diagnostic* error) {
  auto it = o.find(name);
  if (it == o.end()) return true;
  if (!it->is_string()) {
    *error = {where, 0, key + "." + name, fmt::format("expected a string, not {}", it->dump())};
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

}  // namespace

bool parse_plan(const std::string& text, const std::string& where, Plan* plan, Diagnostic* error) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    int line = 1;
    for (size_t i = 0; i < std::min(text.size(), e.byte); ++i) line += text[i] == '\n';
    *error = {where, line, "", fmt::format("not a plan: {}", e.what())};
    return false;
  } catch (const nlohmann::json::exception& e) {  // a number out of range: 1e400
    *error = {where, 0, "", fmt::format("not a plan: {}", e.what())};
    return false;
  }
  if (!j.is_object()) {
    *error = {where, 1, "", "not a plan: not a JSON object (write one with testmap plan --json)"};
    return false;
  }
  if (!j.contains("version") || j["version"] != 1) {
    *error = {where, 0, "version", "not a version 1 plan (write one with testmap plan --json)"};
    return false;
  }
  std::string unit = "file";
  if (!plan_string(j, "unit", where, "", &unit, error)) return false;
  if (!parse_unit(unit, &plan->unit)) {
    *error = {where, 0, "unit", "expected test, class or file"};
    return false;
  }
  double workers = 1;
  if (!plan_number(j, "workers", 1, 1, where, "", &workers, error)) return false;
  if (workers != static_cast<int>(workers) || workers > 1024) {
    *error = {where, 0, "workers",
              fmt::format("expected a whole number of workers, not {}", j["workers"].dump())};
    return false;
  }
  plan->workers = static_cast<int>(workers);
  if (!j.contains("machines") || !j["machines"].is_array()) {
    *error = {where, 0, "machines", "expected a list of machines"};
    return false;
  }
  size_t i = 0;
  for (const auto& m : j["machines"]) {
    std::string key = fmt::format("machines[{}]", i++);
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string() || !m.contains("units") ||
        !m["units"].is_array()) {
      *error = {where, 0, key, "a machine needs an \"id\" and \"units\""};
      return false;
    }
    Machine mm;
    mm.id = m["id"].get<std::string>();
    if (!plan_string(m, "tier", where, key, &mm.tier, error)) return false;
    if (!plan_string(m, "project", where, key, &mm.project, error)) return false;
    for (const char* list : {"tiers", "services"}) {
      auto it = m.find(list);
      if (it != m.end() && !it->is_array()) {
        *error = {where, 0, key + "." + list, "expected a list of names"};
        return false;
      }
    }
    for (const auto& t : m.value("tiers", nlohmann::json::array()))
      if (t.is_string()) mm.tiers.push_back(t.get<std::string>());
    for (const auto& s : m.value("services", nlohmann::json::array()))
      if (s.is_string()) mm.services.push_back(s.get<std::string>());
    std::sort(mm.services.begin(), mm.services.end());
    for (const auto& u : m["units"])
      if (u.is_string()) mm.units.push_back(u.get<std::string>());
    double tests = 0;
    if (!plan_number(m, "seconds", 0, 0, where, key, &mm.seconds, error) ||
        !plan_number(m, "startup_seconds", 0, 0, where, key, &mm.startup_seconds, error) ||
        !plan_number(m, "tests", 0, 0, where, key, &tests, error))
      return false;
    if (tests > 1e12) {
      *error = {where, 0, key + ".tests", fmt::format("not a number of tests: {}", tests)};
      return false;
    }
    mm.tests = static_cast<size_t>(tests);
    plan->machines.push_back(std::move(mm));
  }
  return true;
}

std::string render_plan(const Plan& plan) {
  std::string out;
  size_t w = 7;
  for (const auto& m : plan.machines) w = std::max(w, m.id.size());
  out += fmt::format("{:<{}}  {:<28}  {:>7}  {:>9}  {:>8}\n", "machine", w, "services", "tests",
                     "start-up", "minutes");
  for (const auto& m : plan.machines) {
    std::string services;
    for (const auto& s : m.services) services += (services.empty() ? "" : ", ") + s;
    if (m.tier == "unknown") services = "every service";
    out +=
        fmt::format("{:<{}}  {:<28}  {:>7}  {:>8.0f}s  {:>8.1f}\n", m.id, w,
                    services.empty() ? "-" : services, m.tests, m.startup_seconds, m.seconds / 60);
  }
  out += fmt::format(
      "\n{} machines, {} tests ({} estimated: no recorded duration), unit {}, {} xdist "
      "worker(s) per machine\n",
      plan.machines.size(), plan.tests, plan.estimated_tests, unit_name(plan.unit), plan.workers);
  out += fmt::format("wall clock      {:8.1f} min   (lower bound {:.1f} min)\n",
                     plan.wall_seconds / 60, plan.lower_bound_seconds / 60);
  out += fmt::format("runner-minutes  {:8.1f}       (lower bound {:.1f})\n",
                     plan.runner_seconds / 60, plan.runner_lower_bound_seconds / 60);
  return out;
}

std::vector<std::string> matrix_shards(const Plan& plan) {
  std::vector<std::string> out;
  for (size_t k = 1; k <= plan.machines.size(); ++k)
    out.push_back(fmt::format("{}/{}", k, plan.machines.size()));
  return out;
}

}  // namespace testmap::plan
