// The planner: units per tier, machines per tier, contiguous cuts of a hash order.
#include "core/plan/planner.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/classify/tiers.h"
#include "core/config/projects.h"

namespace testmap::plan {
namespace {

struct UnitLoad {
  std::string id;
  uint64_t hash = 0;
  double seconds = 0;
  size_t tests = 0;
};

struct Tier {
  std::string project;  // tiers of two projects are never merged
  std::string name;
  std::vector<std::string> members;  // the input's tiers folded into this one
  std::vector<std::string> services;
  double startup = 0;
  std::vector<UnitLoad> units;  // in hash order
  double total = 0;
  double longest = 0;
  size_t tests = 0;
};

// Longest worker after placing `seconds` largest first on the least loaded of `workers`.
double makespan(std::vector<double> seconds, int workers) {
  if (seconds.empty()) return 0;
  if (workers <= 1) return std::accumulate(seconds.begin(), seconds.end(), 0.0);
  std::sort(seconds.begin(), seconds.end(), std::greater<>());
  std::priority_queue<double, std::vector<double>, std::greater<>> loads;
  for (int i = 0; i < workers; ++i) loads.push(0);
  for (double s : seconds) {
    double least = loads.top();
    loads.pop();
    loads.push(least + s);
  }
  double longest = 0;
  while (!loads.empty()) longest = loads.top(), loads.pop();
  return longest;
}

// Cuts `units` (in hash order) into `k` contiguous runs of about equal time: cut j goes
// where the running total is nearest j/k of the whole.
std::vector<std::pair<size_t, size_t>> cut(const Tier& t, size_t k) {
  std::vector<std::pair<size_t, size_t>> runs;
  size_t n = t.units.size();
  k = std::min(k, n);
  size_t start = 0;
  double before = 0;  // total of units[0, i)
  size_t i = 0;
  for (size_t j = 1; j < k; ++j) {
    double target = t.total * static_cast<double>(j) / static_cast<double>(k);
    // Leave at least one unit for each run still to come.
    size_t last_end = n - (k - j);
    while (i < last_end && before + t.units[i].seconds <= target) before += t.units[i++].seconds;
    // Take unit i too when that lands nearer the target.
    if (i < last_end && target - before > before + t.units[i].seconds - target)
      before += t.units[i++].seconds;
    if (i <= start) before += t.units[i++].seconds;  // never an empty run
    runs.emplace_back(start, i);
    start = i;
  }
  runs.emplace_back(start, n);
  return runs;
}

double run_seconds(const Tier& t, std::pair<size_t, size_t> run, int workers) {
  std::vector<double> s;
  s.reserve(run.second - run.first);
  for (size_t u = run.first; u < run.second; ++u) s.push_back(t.units[u].seconds);
  return t.startup + makespan(std::move(s), workers);
}

// The slowest machine of tier `t` on `k` machines.
double tier_seconds(const Tier& t, size_t k, int workers) {
  double worst = 0;
  for (auto run : cut(t, k)) worst = std::max(worst, run_seconds(t, run, workers));
  return worst;
}

// No schedule of tier `t` on `k` machines can beat this.
double tier_bound(const Tier& t, size_t k, int workers) {
  return t.startup +
         std::max(t.total / static_cast<double>(k * static_cast<size_t>(workers)), t.longest);
}

// Machines per tier minimising the largest f(tier, k), given `total` machines: give each
// next machine to the tier that is slowest now. Optimal for f non-increasing in k.
std::vector<size_t> allocate(const std::vector<Tier>& tiers, size_t total,
                             const std::function<double(const Tier&, size_t)>& f,
                             bool every = false) {
  std::vector<size_t> k(tiers.size(), 1);
  using Entry = std::pair<double, size_t>;
  std::priority_queue<Entry> slowest;
  for (size_t i = 0; i < tiers.size(); ++i) slowest.push({f(tiers[i], 1), i});
  // Once the slowest tier cannot get faster (one unit per machine, or its longest unit
  // sets its time), more machines would only add start-ups: leave them unused.
  for (size_t used = tiers.size(); used < total && !slowest.empty(); ++used) {
    auto [seconds, i] = slowest.top();
    if (k[i] >= tiers[i].units.size()) {
      if (!every) break;
      slowest.pop();  // this tier is full: the next slowest takes the machine
      --used;
      continue;
    }
    double next = f(tiers[i], k[i] + 1);
    if (next >= seconds && !every) break;
    slowest.pop();
    ++k[i];
    slowest.push({next, i});
  }
  return k;
}

double startup_of(const std::vector<std::string>& services,
                  const std::map<std::string, double>& startup) {
  double s = 0;
  for (const auto& name : services)
    if (auto it = startup.find(name); it != startup.end()) s = std::max(s, it->second);
  return s;
}

bool covers(const Tier& big, const Tier& small) {
  if (big.name == "unknown") return true;
  if (small.name == "unknown") return false;
  return std::includes(big.services.begin(), big.services.end(), small.services.begin(),
                       small.services.end());
}

// Fewer machines than tiers: fold the lightest tier into the tier that can run it most
// cheaply (one whose services include its own, else the union of both), until they fit.
// Tiers of different projects are not merged: false when no pair is left to merge.
bool merge_tiers(std::vector<Tier>& tiers, size_t machines,
                 const std::map<std::string, double>& startup, double slowest_startup,
                 double overhead) {
  while (tiers.size() > std::max<size_t>(machines, 1)) {
    // The pair whose merged machine is quickest: start-up of the union plus both tiers' work.
    size_t light = 0, into = 1;
    double best = std::numeric_limits<double>::infinity();
    std::vector<std::string> best_services;
    for (size_t a = 0; a < tiers.size(); ++a)
      for (size_t b = 0; b < tiers.size(); ++b) {
        if (a == b || tiers[a].total > tiers[b].total) continue;  // fold a into b
        if (tiers[a].project != tiers[b].project) continue;
        std::vector<std::string> u;
        std::set_union(tiers[a].services.begin(), tiers[a].services.end(),
                       tiers[b].services.begin(), tiers[b].services.end(), std::back_inserter(u));
        bool unknown = tiers[a].name == "unknown" || tiers[b].name == "unknown";
        double s = unknown ? slowest_startup : overhead + startup_of(u, startup);
        double cost = s + tiers[a].total + tiers[b].total;
        if (cost < best) best = cost, light = a, into = b, best_services = u;
      }
    if (best == std::numeric_limits<double>::infinity()) return false;
    Tier& t = tiers[into];
    Tier& l = tiers[light];
    if (!covers(t, l)) {
      bool unknown = t.name == "unknown" || l.name == "unknown";
      t.services = best_services;
      t.name = unknown ? "unknown" : classify::tier_name(best_services);
      t.startup = unknown ? slowest_startup : overhead + startup_of(best_services, startup);
    }
    t.members.insert(t.members.end(), l.members.begin(), l.members.end());
    t.units.insert(t.units.end(), l.units.begin(), l.units.end());
    std::sort(t.units.begin(), t.units.end(), [](const UnitLoad& a, const UnitLoad& b) {
      return a.hash != b.hash ? a.hash < b.hash : a.id < b.id;
    });
    t.total += l.total;
    t.longest = std::max(t.longest, l.longest);
    t.tests += l.tests;
    tiers.erase(tiers.begin() + static_cast<long>(light));
    // The union may be a tier that exists already: one tier, not two of the same name.
    for (size_t i = 0; i < tiers.size(); ++i)
      for (size_t j = i + 1; j < tiers.size(); ++j)
        if (tiers[i].name == tiers[j].name && tiers[i].project == tiers[j].project) {
          Tier& a = tiers[i];
          a.members.insert(a.members.end(), tiers[j].members.begin(), tiers[j].members.end());
          a.units.insert(a.units.end(), tiers[j].units.begin(), tiers[j].units.end());
          std::sort(a.units.begin(), a.units.end(), [](const UnitLoad& x, const UnitLoad& y) {
            return x.hash != y.hash ? x.hash < y.hash : x.id < y.id;
          });
          a.total += tiers[j].total;
          a.longest = std::max(a.longest, tiers[j].longest);
          a.tests += tiers[j].tests;
          tiers.erase(tiers.begin() + static_cast<long>(j--));
        }
  }
  return true;
}

}  // namespace

const char* unit_name(Unit unit) {
  switch (unit) {
    case Unit::kTest:
      return "test";
    case Unit::kClass:
      return "class";
    case Unit::kFile:
      return "file";
  }
  return "file";
}

bool parse_unit(const std::string& s, Unit* unit) {
  if (s == "test" || s == "load")
    *unit = Unit::kTest;
  else if (s == "class" || s == "loadscope")
    *unit = Unit::kClass;
  else if (s == "file" || s == "loadfile")
    *unit = Unit::kFile;
  else
    return false;
  return true;
}

std::string_view unit_view(std::string_view id, Unit unit) {
  id = id.substr(0, id.find('['));
  if (unit == Unit::kTest) return id;
  size_t first = id.find("::");
  if (first == std::string_view::npos) return id;
  if (unit == Unit::kFile) return id.substr(0, first);
  size_t second = id.find("::", first + 2);
  return second == std::string_view::npos ? id.substr(0, first) : id.substr(0, second);
}

std::string unit_of(const std::string& test_id, Unit unit) {
  return std::string(unit_view(test_id, unit));
}

Plan make_plan(const PlanInput& input, const PlanOptions& options) {
  Plan plan;
  plan.unit = options.unit;
  plan.workers = std::max(1, options.workers);
  const int w = plan.workers;

  // Units per tier: a file whose tests are in two tiers is two units.
  std::vector<Tier> tiers;
  std::unordered_map<std::string, size_t> tier_index;
  // Keyed by views into the input's ids: a million tests, no copies.
  std::vector<std::unordered_map<std::string_view, size_t>> unit_index;
  // A machine's start: its job's set-up, then its services side by side.
  const double overhead = input.job_overhead;
  double slowest_startup = 0;
  for (const auto& [service, s] : input.startup) slowest_startup = std::max(slowest_startup, s);
  slowest_startup += overhead;
  for (const auto& t : input.tests) {
    auto [it, fresh] =
        tier_index.emplace(t.project.empty() ? t.tier : t.project + '\0' + t.tier, tiers.size());
    if (fresh) {
      Tier tier;
      tier.project = t.project;
      tier.name = t.tier;
      tier.members = {t.tier};
      tier.services = t.services;
      tier.startup = overhead;
      for (const auto& s : t.services) {
        auto st = input.startup.find(s);
        tier.startup =
            std::max(tier.startup, overhead + (st == input.startup.end() ? 0.0 : st->second));
      }
      if (t.tier == "unknown") tier.startup = slowest_startup;  // it starts everything
      tiers.push_back(std::move(tier));
      unit_index.emplace_back();
    }
    Tier& tier = tiers[it->second];
    std::string_view uid = unit_view(t.id, options.unit);
    size_t index = tier.units.size();
    if (options.unit != Unit::kTest) {  // a test is its own unit: no lookup
      auto [u, new_unit] = unit_index[it->second].emplace(uid, index);
      index = u->second;
      if (new_unit)
        tier.units.push_back({std::string(uid), XXH3_64bits(uid.data(), uid.size()), 0, 0});
    } else {
      tier.units.push_back({std::string(uid), XXH3_64bits(uid.data(), uid.size()), 0, 0});
    }
    UnitLoad& load = tier.units[index];
    load.seconds += t.seconds;
    ++load.tests;
    tier.total += t.seconds;
    ++tier.tests;
    ++plan.tests;
    plan.estimated_tests += t.estimated;
  }
  for (auto& t : tiers) {
    std::sort(t.units.begin(), t.units.end(), [](const UnitLoad& a, const UnitLoad& b) {
      return a.hash != b.hash ? a.hash < b.hash : a.id < b.id;
    });
    for (const auto& u : t.units) t.longest = std::max(t.longest, u.seconds);
  }
  std::sort(tiers.begin(), tiers.end(), [](const Tier& a, const Tier& b) {
    return a.project != b.project ? a.project < b.project : a.name < b.name;
  });
  if (tiers.empty()) return plan;
  for (auto& t : tiers) std::sort(t.services.begin(), t.services.end());

  std::vector<size_t> k;
  if (options.max_minutes > 0) {
    // Fewest machines per tier that keep each under the limit.
    double limit = options.max_minutes * 60;
    for (const auto& t : tiers) {
      size_t n = t.units.size();
      double room = limit - t.startup;
      size_t guess = room > 0 ? static_cast<size_t>(std::ceil(t.total / (room * w))) : n;
      size_t lo = std::clamp<size_t>(guess, 1, n);
      // No number of machines gets a tier below its start-up plus its longest unit: stop
      // where more machines stop helping.
      if (t.startup + t.longest > limit) {
        plan.warnings.push_back(fmt::format(
            "tier {} cannot finish within {:.1f} min: its start-up plus its longest {} take "
            "{:.1f} min",
            t.name, options.max_minutes, unit_name(options.unit), (t.startup + t.longest) / 60));
        // Units of no time (none recorded, none estimated): one machine does as well.
        size_t saturated =
            t.longest > 0 ? static_cast<size_t>(std::ceil(t.total / (t.longest * w))) : 1;
        k.push_back(std::clamp<size_t>(saturated, 1, n));
        continue;
      }
      while (lo < n && tier_seconds(t, lo, w) > limit) {
        // Grow by a tenth at a time, then step back to the fewest that fit.
        size_t hi = std::min(n, lo + std::max<size_t>(1, lo / 10));
        if (tier_seconds(t, hi, w) > limit) {
          lo = hi;
          continue;
        }
        while (lo + 1 < hi) {
          size_t mid = (lo + hi) / 2;
          (tier_seconds(t, mid, w) > limit ? lo : hi) = mid;
        }
        lo = hi;
        break;
      }
      k.push_back(lo);
    }
  } else {
    size_t shards = options.shards > 0 ? static_cast<size_t>(options.shards) : tiers.size();
    if (shards < tiers.size() &&
        !merge_tiers(tiers, shards, input.startup, slowest_startup, overhead)) {
      // Each project needs a machine of its own at least.
      plan.warnings.push_back(fmt::format(
          "{} machines are too few: the projects' tests need {} (a machine runs one project's "
          "tests)",
          shards, tiers.size()));
      shards = tiers.size();
    }
    // Allocate with the bound (cheap, and exact in the limit of small units), then
    // hand out machines left over by one-unit caps.
    k = allocate(
        tiers, shards, [w](const Tier& t, size_t n) { return tier_bound(t, n, w); },
        options.every_shard);
  }

  // Lower bounds: the wall clock for this many machines, and the runner time of these tiers.
  size_t machines = std::accumulate(k.begin(), k.end(), size_t{0});
  if (options.shards > 0 && machines < static_cast<size_t>(options.shards))
    plan.warnings.push_back(fmt::format(
        "{} of the {} machines are used: more would not shorten the wall clock, only add "
        "start-ups",
        machines, options.shards));
  std::vector<size_t> kb =
      allocate(tiers, machines, [w](const Tier& t, size_t n) { return tier_bound(t, n, w); });
  for (size_t i = 0; i < tiers.size(); ++i) {
    plan.lower_bound_seconds = std::max(plan.lower_bound_seconds, tier_bound(tiers[i], kb[i], w));
    plan.runner_lower_bound_seconds +=
        static_cast<double>(k[i]) * tiers[i].startup + tiers[i].total / w;
  }

  for (size_t i = 0; i < tiers.size(); ++i) {
    const Tier& t = tiers[i];
    size_t n = 1;
    for (auto run : cut(t, k[i])) {
      Machine m;
      m.id = t.project.empty()
                 ? fmt::format("{}-{}", t.name, n++)
                 : fmt::format("{}-{}-{}", config::project_slug(t.project), t.name, n++);
      m.project = t.project;
      m.tier = t.name;
      m.tiers = t.members;
      std::sort(m.tiers.begin(), m.tiers.end());
      m.services = t.services;
      m.startup_seconds = t.startup;
      m.seconds = run_seconds(t, run, w);
      for (size_t u = run.first; u < run.second; ++u) {
        m.units.push_back(t.units[u].id);
        m.tests += t.units[u].tests;
      }
      plan.wall_seconds = std::max(plan.wall_seconds, m.seconds);
      plan.runner_seconds += m.seconds;
      plan.machines.push_back(std::move(m));
    }
  }
  return plan;
}

std::string explain_placement(const Plan& plan, const PlanInput& input,
                              const std::string& test_id) {
  std::string id = test_id.substr(0, test_id.find('['));
  const PlanTest* test = nullptr;
  for (const auto& t : input.tests)
    if (t.id == id) test = &t;
  std::string uid = unit_of(id, plan.unit);
  // The machine holding the test's unit; a file split over tiers is on several, and the
  // one of the test's own tier (or, after tiers were merged, one covering it) is its.
  const Machine* found = nullptr;
  for (const auto& m : plan.machines) {
    if (!test || std::find(m.units.begin(), m.units.end(), uid) == m.units.end()) continue;
    bool own = m.tier == test->tier;
    bool covering =
        m.tier == "unknown" || std::includes(m.services.begin(), m.services.end(),
                                             test->services.begin(), test->services.end());
    if (own || (covering && !found)) found = &m;
    if (own) break;
  }
  for (const Machine* mp = found; mp != nullptr; mp = nullptr) {
    const Machine& m = *mp;
    size_t tier_machines = 0;
    for (const auto& o : plan.machines) tier_machines += o.tier == m.tier;
    std::string services;
    for (const auto& s : m.services) services += (services.empty() ? "" : ", ") + s;
    return fmt::format(
        "{}\n  machine: {}\n  tier: {} (services: {}), which has {} machine(s): every machine runs "
        "one tier, so it starts only that tier's services\n  unit: {} ({}), {:.2f} s{}\n  the "
        "tier's units are ordered by a hash of their id and cut where the predicted time is "
        "even; this unit falls on {}, predicted {:.1f} s ({:.1f} s start-up + {:.1f} s on {} "
        "worker(s))\n",
        id, m.id, m.tier, services.empty() ? "none" : services, tier_machines, uid,
        unit_name(plan.unit), test->seconds,
        test->estimated ? " (estimated: no recorded duration)" : "", m.id, m.seconds,
        m.startup_seconds, m.seconds - m.startup_seconds, plan.workers);
  }
  return "";
}

}  // namespace testmap::plan

namespace testmap::plan {

std::vector<size_t> assign(const Plan& plan, const std::vector<PlanTest>& tests) {
  std::vector<size_t> out(tests.size(), 0);
  if (plan.machines.empty()) return out;
  std::unordered_map<std::string, std::vector<size_t>> by_unit;
  for (size_t m = 0; m < plan.machines.size(); ++m)
    for (const auto& u : plan.machines[m].units) by_unit[u].push_back(m);
  auto covers = [&](size_t m, const PlanTest& t) {
    const Machine& mm = plan.machines[m];
    if (mm.tier == "unknown") return true;
    if (t.tier == "unknown") return false;
    return std::includes(mm.services.begin(), mm.services.end(), t.services.begin(),
                         t.services.end());
  };
  size_t richest = 0;
  for (size_t m = 1; m < plan.machines.size(); ++m) {
    const Machine& a = plan.machines[m];
    const Machine& b = plan.machines[richest];
    if ((a.tier == "unknown") != (b.tier == "unknown") ? a.tier == "unknown"
                                                       : a.services.size() > b.services.size())
      richest = m;
  }
  for (size_t i = 0; i < tests.size(); ++i) {
    const PlanTest& t = tests[i];
    std::string id = t.id.substr(0, t.id.find('['));
    uint64_t h = XXH3_64bits(id.data(), id.size());
    auto pick = [&](const std::vector<size_t>& c) { return c[h % c.size()]; };
    std::vector<size_t> own, covering;
    if (auto it = by_unit.find(unit_of(id, plan.unit)); it != by_unit.end())
      for (size_t m : it->second)
        if (covers(m, t)) {
          (plan.machines[m].tier == t.tier ? own : covering).push_back(m);
        }
    if (own.empty() && covering.empty()) {
      for (size_t m = 0; m < plan.machines.size(); ++m)
        if (plan.machines[m].tier == t.tier)
          own.push_back(m);
        else if (covers(m, t))
          covering.push_back(m);
      if (own.empty() && !covering.empty()) {
        // The covering machines that start the fewest services.
        size_t fewest = SIZE_MAX;
        for (size_t m : covering) fewest = std::min(fewest, plan.machines[m].services.size());
        std::erase_if(covering,
                      [&](size_t m) { return plan.machines[m].services.size() != fewest; });
      }
    }
    out[i] = !own.empty() ? pick(own) : !covering.empty() ? pick(covering) : richest;
  }
  return out;
}

}  // namespace testmap::plan
