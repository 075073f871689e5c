// Plan input parsing and output rendering.
#include "core/plan/plan_io.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/util/json_text.h"

namespace testmap::plan {

bool read_input(const std::string& path, PlanInput* input, Diagnostic* error) {
  std::ifstream in(path);
  if (!in) {
    *error = {path, 0, "", "cannot read the file"};
    return false;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into a line.
    std::ifstream again(path);
    std::string text((std::istreambuf_iterator<char>(again)), {});
    int line = 1;
    for (size_t i = 0; i < std::min(text.size(), e.byte); ++i) line += text[i] == '\n';
    *error = {path, line, "", fmt::format("not JSON: {}", e.what())};
    return false;
  }
  if (!j.is_object() || !j.contains("tests") || !j["tests"].is_array()) {
    *error = {path, 0, "tests", "expected an object with a \"tests\" array"};
    return false;
  }
  size_t i = 0;
  for (const auto& t : j["tests"]) {
    std::string key = fmt::format("tests[{}]", i++);
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string()) {
      *error = {path, 0, key, "a test needs a string \"id\""};
      return false;
    }
    PlanTest p;
    p.id = t["id"].get<std::string>();
    if (auto s = t.find("services"); s != t.end()) {
      if (!s->is_array()) {
        *error = {path, 0, key + ".services", "expected a list of service names"};
        return false;
      }
      for (const auto& x : *s)
        if (x.is_string()) p.services.push_back(x.get<std::string>());
    }
    std::sort(p.services.begin(), p.services.end());
    if (auto tier = t.find("tier"); tier != t.end() && tier->is_string()) {
      p.tier = tier->get<std::string>();
    } else {
      p.tier = p.services.empty() ? "no_services" : "";
      for (const auto& s : p.services) p.tier += (p.tier.empty() ? "" : "_") + s;
      if (p.services.size() == 1) p.tier += "_only";
    }
    if (auto s = t.find("seconds"); s != t.end() && !s->is_null()) {
      if (!s->is_number() || s->get<double>() < 0) {
        *error = {path, 0, key + ".seconds", "expected a number of seconds, 0 or more"};
        return false;
      }
      p.seconds = s->get<double>();
    } else {
      p.estimated = true;
    }
    input->tests.push_back(std::move(p));
  }
  if (auto s = j.find("services"); s != j.end() && s->is_object())
    for (const auto& [name, v] : s->items()) {
      double startup = 0;
      if (v.is_object() && v.contains("startup-seconds") && v["startup-seconds"].is_number())
        startup = v["startup-seconds"].get<double>();
      input->startup[name] = startup;
    }
  return true;
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
  j.key("machines").begin_array();
  for (const auto& m : plan.machines) {
    j.begin_object().field("id", m.id).field("tier", m.tier).field("services", m.services);
    number("startup_seconds", m.startup_seconds);
    number("seconds", m.seconds);
    j.field("tests", m.tests).field("units", m.units).end_object();
  }
  j.end_array().end_object();
  out += '\n';
  return out;
}

bool parse_plan(const std::string& text, const std::string& where, Plan* plan, Diagnostic* error) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = {where, 0, "", "not a plan: not a JSON object (write one with testmap plan --json)"};
    return false;
  }
  if (j.value("version", 0) != 1) {
    *error = {where, 0, "version", "not a version 1 plan (write one with testmap plan --json)"};
    return false;
  }
  if (!parse_unit(j.value("unit", "file"), &plan->unit)) {
    *error = {where, 0, "unit", "expected test, class or file"};
    return false;
  }
  plan->workers = j.value("workers", 1);
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
    mm.tier = m.value("tier", "");
    for (const auto& s : m.value("services", nlohmann::json::array()))
      if (s.is_string()) mm.services.push_back(s.get<std::string>());
    std::sort(mm.services.begin(), mm.services.end());
    for (const auto& u : m["units"])
      if (u.is_string()) mm.units.push_back(u.get<std::string>());
    mm.seconds = m.value("seconds", 0.0);
    mm.startup_seconds = m.value("startup_seconds", 0.0);
    mm.tests = m.value("tests", size_t{0});
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

}  // namespace testmap::plan
