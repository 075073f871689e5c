// Writing the page. Numbers and charts are written here; long lists go to the data element
// as JSON (strings interned, so a file name repeated by every test of it is written once),
// and the page's script renders them.
#include "core/report/page.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/plan/estimate.h"
#include "core/report/assets.h"
#include "core/report/escape.h"
#include "core/report/svg.h"
#include "core/util/json_text.h"

namespace testmap::report {

namespace {

// Colour-blind-safe categorical colours (Okabe-Ito, then Tableau's), unknown in red-grey.
const char* const kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#56B4E9", "#CC79A7", "#D55E00",
                                "#F0E442", "#4E79A7", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948"};

class Strings {
 public:
  int operator()(const std::string& s) {
    if (s.empty()) return -1;
    auto [it, added] = index_.emplace(s, static_cast<int>(list_.size()));
    if (added) list_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> list_;
};

// "1 machine", "2 machines".
std::string count(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

// Getting slower: the newest run over one and a half times the median of the ones before,
// and by more than a tenth of a second (noise on a fast test is no trend).
bool slower(const std::vector<double>& newest_first) {
  if (newest_first.size() < 3) return false;
  double before = plan::median({newest_first.begin() + 1, newest_first.end()});
  return newest_first[0] > 1.5 * before && newest_first[0] - before > 0.1;
}

struct TierInfo {
  std::string name, color;
  std::vector<std::string> services;
  size_t tests = 0, files = 0;
  double seconds = 0;
};

std::vector<TierInfo> tier_infos(const Model& m, std::map<std::string, std::string>* colors) {
  std::map<std::string, double> seconds;
  for (const auto& t : m.plan_input.tests) seconds[t.tier] += t.seconds;
  std::vector<TierInfo> out;
  size_t k = 0;
  for (const auto& t : m.c.tiers) {
    TierInfo i;
    i.name = t.name;
    i.services =
        t.name == classify::kUnknownTier ? std::vector<std::string>{"every service"} : t.services;
    i.tests = t.tests;
    i.files = t.files;
    i.seconds = seconds[t.name];
    i.color = t.name == classify::kUnknownTier
                  ? "#9b4d4d"
                  : kPalette[k++ % (sizeof kPalette / sizeof *kPalette)];
    (*colors)[t.name] = i.color;
    out.push_back(std::move(i));
  }
  return out;
}

std::string when(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M} UTC", tm);
}

}  // namespace

std::string html_page(const Model& m, const std::string& generated) {
  std::map<std::string, std::string> colors;
  std::vector<TierInfo> tiers = tier_infos(m, &colors);
  std::map<std::string, size_t> tier_index;
  for (size_t i = 0; i < tiers.size(); ++i) tier_index[tiers[i].name] = i;
  std::unordered_map<std::string_view, const plan::PlanTest*> planned;
  for (const auto& t : m.plan_input.tests) planned[t.id] = &t;

  // The data the script renders. The tests are most of it: written straight as JSON text,
  // as an nlohmann DOM of 50,000 tests cost more than the rest of the page.
  Strings s;
  std::string tests;
  tests.reserve(m.c.tests.size() * 160);
  JsonWriter w(tests);
  w.begin_array();
  std::vector<double> recorded_seconds;
  std::set<std::string_view> files;
  size_t slower_tests = 0;
  for (const auto& t : m.c.tests) {
    files.insert(t.file);
    const plan::PlanTest* p = nullptr;
    if (auto it = planned.find(t.id); it != planned.end()) p = it->second;
    w.begin_array().value(t.id).value(tier_index[t.tier]).begin_array();
    for (const auto& sv : t.services) w.value(s(sv));
    w.end_array().value(round3(p ? p->seconds : 0)).value(p && p->estimated ? 1 : 0);
    w.value(s(t.file)).value(t.recorded ? 1 : 0).value(t.unknown ? 1 : 0).begin_array();
    for (const auto& r : t.reasons) {
      w.begin_array().value(s(r.service)).value(s(r.rule)).value(s(r.detail)).value(s(r.file));
      w.value(r.line).value(r.runtime ? 1 : 0).end_array();
    }
    w.end_array().begin_array();
    bool is_slower = false;
    if (auto h = m.history.find(t.id); h != m.history.end()) {
      for (auto it = h->second.rbegin(); it != h->second.rend(); ++it) w.value(round3(*it));
      is_slower = slower(h->second);
      if (!h->second.empty()) recorded_seconds.push_back(plan::median(h->second));
    }
    w.end_array().value(is_slower ? 1 : 0).end_array();
    slower_tests += is_slower;
  }
  w.end_array();
  nlohmann::json tier_list = nlohmann::json::array();
  for (const auto& t : tiers)
    tier_list.push_back({{"name", t.name},
                         {"color", t.color},
                         {"services", t.services},
                         {"tests", t.tests},
                         {"files", t.files},
                         {"seconds", round3(t.seconds)}});
  nlohmann::json machines = nlohmann::json::array();
  for (const auto& mc : m.plan.machines)
    machines.push_back({{"id", mc.id},
                        {"tier", mc.tier},
                        {"services", mc.services},
                        {"tests", mc.tests},
                        {"startup", round3(mc.startup_seconds)},
                        {"seconds", round3(mc.seconds)},
                        {"units", mc.units}});
  nlohmann::json diff = nlohmann::json::array();
  nlohmann::json parsed = nlohmann::json::parse(m.diff_json, nullptr, false);
  if (parsed.is_object() && parsed.contains("disagreements"))
    for (const auto& d : parsed["disagreements"]) {
      auto join = [&](const char* k) {
        std::string out;
        for (const auto& v : d.value(k, nlohmann::json::array()))
          out += (out.empty() ? "" : ", ") + v.get<std::string>();
        return out;
      };
      diff.push_back({{"id", d.value("id", "")},
                      {"used", join("used_not_declared")},
                      {"declared", join("declared_not_used")},
                      {"unnamed", join("unnamed")}});
    }
  nlohmann::json flaky = nlohmann::json::array();
  for (const auto& f : m.flaky)
    flaky.push_back({{"test", f.test},
                     {"runs", f.runs},
                     {"failures", f.failures},
                     {"rate", f.runs ? static_cast<double>(f.passes) / f.runs : 0.0}});
  nlohmann::json polluters = nlohmann::json::array();
  for (const auto& p : m.polluters)
    polluters.push_back({{"test", p.test},
                         {"polluters", p.polluters},
                         {"found", when(p.found)},
                         {"at", p.found},
                         {"run", p.run_id},
                         {"commit", p.commit.substr(0, 12)},
                         {"minimal", p.minimal},
                         {"runs", p.pytest_runs},
                         {"reproduce", p.reproduce}});
  nlohmann::json selected = nlohmann::json::array();
  for (const auto& [id, why] : m.selected) selected.push_back({{"id", id}, {"why", why}});
  nlohmann::json rest = {{"strings", s.list()}, {"tiers", tier_list}, {"machines", machines},
                         {"diff", diff},        {"flaky", flaky},     {"polluters", polluters},
                         {"selected", selected}};
  std::string data = rest.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  data.pop_back();  // the closing brace: the tests go in last
  data += ",\"tests\":" + tests + "}";

  // Charts and numbers.
  size_t n = m.c.tests.size();
  std::set<std::string> services;
  for (const auto& [svc, k] : m.c.service_tests) services.insert(svc);
  std::vector<Bar> tier_tests, tier_minutes, service_tests, service_minutes;
  for (const auto& t : tiers) {
    tier_tests.push_back({t.name, static_cast<double>(t.tests), t.color, count(t.tests, "test")});
    tier_minutes.push_back({t.name, t.seconds, t.color, human_seconds(t.seconds)});
  }
  std::map<std::string, double> service_seconds;
  for (const auto& t : m.plan_input.tests)
    for (const auto& sv : t.services) service_seconds[sv] += t.seconds;
  for (const auto& [svc, k] : m.c.service_tests) {
    service_tests.push_back({svc, static_cast<double>(k), "#4E79A7", count(k, "test")});
    service_minutes.push_back(
        {svc, service_seconds[svc], "#4E79A7", human_seconds(service_seconds[svc])});
  }
  std::map<std::string, double> runner_per_tier;
  for (const auto& mc : m.plan.machines) runner_per_tier[mc.tier] += mc.seconds;

  std::string root_name = m.root.substr(m.root.find_last_of('/') + 1);
  std::string out;
  out.reserve(1 << 20);
  out +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += fmt::format("<title>testmap report: {}</title><style>{}</style></head><body>",
                     html(root_name), kStyle);
  out += fmt::format(
      "<header><h1>testmap report</h1><span class=\"where\">{} &middot; {}</span>"
      "<input id=\"search\" type=\"search\" placeholder=\"Search test ids\" "
      "aria-label=\"Search test ids\"></header>",
      html(m.root), html(generated));
  out +=
      "<nav><a href=\"#overview\">Overview</a><a href=\"#tiers\">Tiers</a><a "
      "href=\"#plan\">Plan</a><a href=\"#durations\">Durations</a><a "
      "href=\"#disagreements\">Disagreements</a>";
  if (m.affected) out += "<a href=\"#affected\">Selected</a>";
  if (!m.flaky.empty()) out += "<a href=\"#flaky\">Flaky</a>";
  if (!m.polluters.empty()) out += "<a href=\"#polluters\">Polluters</a>";
  out += "</nav><main>";

  // Overview.
  auto card = [](const std::string& value, const std::string& what, const char* id) {
    return fmt::format("<div class=\"card\" id=\"{}\"><b>{}</b><span>{}</span></div>", id,
                       html(value), html(what));
  };
  double unknown_share = n ? 100.0 * static_cast<double>(m.c.unknown_tests) / n : 0;
  out += "<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">";
  // A number and its noun, in one card: "1 tier", "3 tiers".
  auto counted = [&](size_t k, const char* noun, const char* id) {
    std::string words = count(k, noun);
    return card(words.substr(0, words.find(' ')), words.substr(words.find(' ') + 1), id);
  };
  out += counted(n, "test", "count-tests");
  out += counted(files.size(), "test file", "count-files");
  out += counted(services.size(), "service", "count-services");
  out += counted(tiers.size(), "tier", "count-tiers");
  out += card(fmt::format("{:.1f}%", unknown_share),
              fmt::format("unknown ({})", count(m.c.unknown_tests, "test")), "count-unknown");
  out += counted(m.runs.runs, "recorded run", "count-runs");
  out += "</div><p class=\"note\">";
  if (m.runs.runs)
    out +=
        fmt::format("Durations and services from {}, the newest on {}{}.",
                    count(m.runs.runs, "recorded run"), html(when(m.runs.newest)),
                    m.runs.commit.empty() ? "" : " at commit " + html(m.runs.commit.substr(0, 12)));
  else
    out +=
        "No recorded run yet: services from the source only, durations estimated. "
        "`pytest --testmap-durations` or `testmap record` records one.";
  out += "</p></section>";

  // Tiers.
  out += "<section id=\"tiers\"><h2>Tiers</h2><div class=\"legend\">";
  for (const auto& t : tiers)
    out += fmt::format("<span><i class=\"swatch\" style=\"background:{}\"></i>{}</span>", t.color,
                       html(t.name));
  out += "</div><h3>Tests per tier</h3>" + bar_chart("Tests per tier", tier_tests);
  out += "<h3>Test time per tier</h3>" + bar_chart("Test time per tier", tier_minutes);
  if (!service_tests.empty()) {
    out += "<h3>Tests per service</h3>" + bar_chart("Tests per service", service_tests);
    out += "<h3>Test time per service</h3>" + bar_chart("Test time per service", service_minutes);
  }
  out +=
      "<h3>The tiers <span class=\"count\">click a tier for its files, a file for its tests, "
      "a test for why</span></h3><div id=\"tier-table\"></div></section>";

  // The plan.
  out += "<section id=\"plan\"><h2>The plan</h2>";
  out += fmt::format(
      "<p>{}, {} xdist worker{} each: wall clock <b>{}</b> (lower bound {}), {} "
      "runner time (lower bound {}){}.</p>",
      count(m.plan.machines.size(), "machine"), m.plan.workers, m.plan.workers == 1 ? "" : "s",
      human_seconds(m.plan.wall_seconds), human_seconds(m.plan.lower_bound_seconds),
      human_seconds(m.plan.runner_seconds), human_seconds(m.plan.runner_lower_bound_seconds),
      m.plan.estimated_tests
          ? fmt::format(", {} tests' durations estimated", m.plan.estimated_tests)
          : "");
  out += gantt(m.plan, m.blocks, colors);
  out +=
      "<p class=\"note\">Each row is a machine (a band per worker); shaded: its services "
      "starting; each block a " +
      std::string(plan::unit_name(m.plan.unit)) +
      " in its tier's colour, placed longest first on the least loaded worker as the "
      "planner estimates.</p><h3>Runner time per tier</h3>";
  std::vector<Bar> runner_bars;
  for (const auto& [tier, secs] : runner_per_tier)
    runner_bars.push_back(
        {tier, secs, colors.count(tier) ? colors[tier] : "#999", human_seconds(secs)});
  out += bar_chart("Runner time per tier", runner_bars);
  out += "<h3>Machines</h3><div id=\"machine-table\"></div></section>";

  // Durations.
  out += "<section id=\"durations\"><h2>Durations</h2>";
  out += fmt::format(
      "<h3>Test durations <span class=\"count\">{} tests with recorded "
      "durations, median of their runs</span></h3>",
      recorded_seconds.size());
  out += duration_histogram(recorded_seconds);
  out += "<h3>Slowest tests</h3><div id=\"slow-tests\"></div>";
  out += fmt::format(
      "<h3>Getting slower <span class=\"count\">{} tests: the newest run over 1.5 "
      "times the median of the runs before</span></h3><div id=\"slower-tests\">{}"
      "</div>",
      slower_tests, slower_tests ? "" : "<p class=\"note\">None.</p>");
  out += "<h3>Slowest files</h3><div id=\"slow-files\"></div></section>";

  // Disagreements.
  out += "<section id=\"disagreements\"><h2>Disagreements</h2>";
  out += fmt::format(
      "<h3>Recorded runs and the source <span class=\"count\">{} tests "
      "(classify --diff)</span></h3>",
      diff.size());
  out += diff.empty() ? "<p class=\"note\">None.</p>" : "<div id=\"diff-table\"></div>";
  out += fmt::format(
      "<h3>Unknown tests <span class=\"count\">{} tests: treated as needing every "
      "service</span></h3><div id=\"unknown-table\"></div></section>",
      m.c.unknown_tests);
  if (m.affected) {
    out += "<section id=\"affected\"><h2>Selected by the change</h2>";
    if (!m.run_all.empty())
      out += fmt::format("<p id=\"run-all\">Every test runs: {}.</p>", html(m.run_all));
    else
      out += fmt::format(
          "<p><b id=\"selected-count\">{}</b> of {} tests selected by the working tree's change "
          "(testmap affected); the others cannot be affected by it.</p><div "
          "id=\"selected-table\"></div>",
          m.selected.size(), n);
    out += "</section>";
  }
  if (!m.flaky.empty())
    out += fmt::format(
        "<section id=\"flaky\"><h2>Flaky tests <span class=\"count\">{}</span></h2>"
        "<div id=\"flaky-table\"></div></section>",
        m.flaky.size());
  if (!m.polluters.empty())
    out += fmt::format(
        "<section id=\"polluters\"><h2>Polluters <span class=\"count\">{}: tests that fail "
        "after others and pass alone (testmap bisect)</span></h2>"
        "<div id=\"polluters-table\"></div></section>",
        m.polluters.size());
  out += "</main>";
  out += "<script type=\"application/json\" id=\"testmap-data\">" + script_json_text(data) +
         "</script>";
  out += fmt::format("<script>{}</script></body></html>\n", kScript);
  return out;
}

std::string markdown_summary(const Model& m) {
  std::map<std::string, std::string> colors;
  std::vector<TierInfo> tiers = tier_infos(m, &colors);
  std::string out = "## testmap\n\n";
  size_t n = m.c.tests.size();
  out += fmt::format("{}, {}, {} unknown; {}.\n\n", count(n, "test"), count(tiers.size(), "tier"),
                     m.c.unknown_tests, count(m.runs.runs, "recorded run"));
  out += "| tier | services | tests | test time |\n|---|---|---:|---:|\n";
  for (const auto& t : tiers)
    out += fmt::format(
        "| {} | {} | {} | {} |\n", markdown_cell(t.name),
        markdown_cell(t.services.empty() ? "-" : fmt::format("{}", fmt::join(t.services, ", "))),
        t.tests, human_seconds(t.seconds));
  if (!m.plan.machines.empty()) {
    out += fmt::format("\n### The plan: {}, wall clock {} (lower bound {})\n\n",
                       count(m.plan.machines.size(), "machine"), human_seconds(m.plan.wall_seconds),
                       human_seconds(m.plan.lower_bound_seconds));
    out += "| machine | services | tests | wall clock |\n|---|---|---:|---:|\n";
    for (const auto& mc : m.plan.machines)
      out += fmt::format(
          "| {} | {} | {} | {} |\n", markdown_cell(mc.id),
          markdown_cell(mc.services.empty() ? "-"
                                            : fmt::format("{}", fmt::join(mc.services, ", "))),
          mc.tests, human_seconds(mc.seconds));
  }
  std::vector<const plan::PlanTest*> slow;
  for (const auto& t : m.plan_input.tests)
    if (!t.estimated) slow.push_back(&t);
  std::sort(slow.begin(), slow.end(),
            [](const auto* a, const auto* b) { return a->seconds > b->seconds; });
  if (!slow.empty()) {
    out += "\n### The ten slowest tests\n\n| test | seconds |\n|---|---:|\n";
    for (size_t i = 0; i < std::min<size_t>(10, slow.size()); ++i)
      out += fmt::format("| {} | {:.2f} |\n", markdown_cell(slow[i]->id), slow[i]->seconds);
  }
  if (m.affected) {
    if (!m.run_all.empty())
      out +=
          fmt::format("\n### Selected by the change: every test ({})\n", markdown_cell(m.run_all));
    else
      out += fmt::format("\n### Selected by the change: {} of {} tests\n", m.selected.size(), n);
  }
  if (!m.polluters.empty()) {
    out += fmt::format("\n### Polluters found by `testmap bisect`: {}\n\n", m.polluters.size());
    for (const auto& p : m.polluters)
      out += fmt::format("- {} fails after {}\n", markdown_cell(p.test),
                         markdown_cell(fmt::format("{}", fmt::join(p.polluters, ", "))));
  }
  if (m.c.unknown_tests) {
    out += fmt::format("\n### Unknown tests: {} (run with every service)\n\n", m.c.unknown_tests);
    size_t shown = 0;
    for (const auto& t : m.c.tests) {
      if (!t.unknown) continue;
      if (shown++ == 20) {
        out += fmt::format("- and {} more (`testmap classify --json` lists them)\n",
                           m.c.unknown_tests - 20);
        break;
      }
      std::string why;
      for (const auto& r : t.reasons)
        if (r.service == "*") why = r.detail;
      out += fmt::format("- {}: {}\n", markdown_cell(t.id), markdown_cell(why));
    }
  }
  return out;
}

}  // namespace testmap::report
