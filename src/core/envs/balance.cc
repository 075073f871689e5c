// Balancing environment groups into jobs: the smallest job wall clock T for which splitting
// each group as little as T needs, then filling jobs of the same services up to T, stays
// within the cap on jobs and the runner time of one job per group.
#include "core/envs/balance.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>

#include <fmt/format.h>

#include "core/plan/estimate.h"
#include "core/store/store.h"

namespace testmap::envs {
namespace {

// Job set-ups measured: the newest this many, so the estimate follows a changed workflow.
constexpr int kSetupRuns = 20;

struct Part {
  std::vector<const EnvTests*> envs;
  std::vector<std::string> groups;
  std::vector<std::string> services;
  double seconds = 0;
  // How many groups it waits for in a chain (depends): jobs of one level never wait for each
  // other, so parts share jobs only within a level.
  int level = 0;
};

class Costs {
 public:
  Costs(const std::map<std::string, double>& durations, const CostModel& m, double fallback)
      : durations_(durations), m_(m), fallback_(fallback) {}

  double env(const EnvTests* e) const {
    auto it = durations_.find(e->env.name);
    return it != durations_.end() ? it->second : fallback_;
  }
  double startup(const std::vector<std::string>& services) const {
    double s = 0;  // services start side by side
    for (const auto& name : services)
      if (auto it = m_.startup.find(name); it != m_.startup.end()) s = std::max(s, it->second);
    return s;
  }
  double job(const std::vector<const EnvTests*>& envs,
             const std::vector<std::string>& services) const {
    std::vector<double> s;
    for (const auto* e : envs) s.push_back(env(e));
    return m_.job_overhead + startup(services) + makespan(s, m_.cores);
  }

 private:
  const std::map<std::string, double>& durations_;
  const CostModel& m_;
  double fallback_;
};

// `envs` (longest first) over `k` jobs: longest first onto the least loaded core.
std::vector<std::vector<const EnvTests*>> split(const std::vector<const EnvTests*>& envs, size_t k,
                                                int cores, const Costs& c) {
  using Slot = std::pair<double, size_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> free;
  for (size_t i = 0; i < k * static_cast<size_t>(cores); ++i) free.push({0, i});
  std::vector<std::vector<const EnvTests*>> out(k);
  for (const auto* e : envs) {
    auto [at, slot] = free.top();
    free.pop();
    out[slot / static_cast<size_t>(cores)].push_back(e);
    free.push({at + c.env(e), slot});
  }
  std::erase_if(out, [](const auto& p) { return p.empty(); });
  return out;
}

// The jobs for a job wall clock of `target`.
std::vector<Part> jobs_for(double target, const std::vector<Group>& groups,
                           const std::vector<std::vector<const EnvTests*>>& sorted,
                           const std::vector<int>& levels, const CostModel& m, const Costs& c) {
  std::vector<Part> parts;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& envs = sorted[g];
    if (envs.empty()) continue;
    // A group whose environments depend on each other stays whole: tox orders them within
    // one run, and parts of it in two jobs could wait for each other.
    bool ordered = false;
    for (const auto* a : envs)
      for (const auto* b : envs) ordered = ordered || (a != b && depends_on(a->env, b->env.name));
    size_t k = 1;
    std::vector<std::vector<const EnvTests*>> pieces;
    for (; k <= (ordered ? 1 : envs.size()); ++k) {
      pieces = split(envs, k, m.cores, c);
      bool fits = std::all_of(pieces.begin(), pieces.end(), [&](const auto& p) {
        return c.job(p, groups[g].services) <= target;
      });
      if (fits) break;
    }
    for (auto& p : pieces) {
      Part part{std::move(p), {groups[g].name}, groups[g].services, 0, levels[g]};
      part.seconds = c.job(part.envs, part.services);
      parts.push_back(std::move(part));
    }
  }
  // Parts of the same services share a job while it stays within the target: fewer jobs,
  // one set-up less each.
  std::sort(parts.begin(), parts.end(),
            [](const Part& a, const Part& b) { return a.seconds > b.seconds; });
  std::vector<Part> jobs;
  for (auto& p : parts) {
    bool placed = false;
    for (auto& j : jobs) {
      if (j.services != p.services || j.level != p.level) continue;
      std::vector<const EnvTests*> both = j.envs;
      both.insert(both.end(), p.envs.begin(), p.envs.end());
      double s = c.job(both, j.services);
      if (s > target) continue;
      j.envs = std::move(both);
      for (const auto& g : p.groups)
        if (std::find(j.groups.begin(), j.groups.end(), g) == j.groups.end()) j.groups.push_back(g);
      j.seconds = s;
      placed = true;
      break;
    }
    if (!placed) jobs.push_back(std::move(p));
  }
  // Still over the cap: the two shortest jobs of a level share one, their services together;
  // when every level has one job, the two deepest levels' jobs do (tox orders them within).
  while (jobs.size() > static_cast<size_t>(std::max(1, m.max_jobs))) {
    std::stable_sort(jobs.begin(), jobs.end(),
                     [](const Part& a, const Part& b) { return a.seconds > b.seconds; });
    size_t ia = jobs.size(), ib = jobs.size();  // the two to merge, ib the shorter
    for (size_t i = jobs.size(); i-- > 0 && ia == jobs.size();)
      for (size_t k = i; k-- > 0;)
        if (jobs[k].level == jobs[i].level) {
          ia = k;
          ib = i;
          break;
        }
    if (ia == jobs.size()) {
      std::stable_sort(jobs.begin(), jobs.end(),
                       [](const Part& a, const Part& b) { return a.level > b.level; });
      ia = 1;
      ib = 0;
      jobs[1].level = std::min(jobs[0].level, jobs[1].level);
    }
    Part b = std::move(jobs[ib]);
    jobs.erase(jobs.begin() + static_cast<long>(ib));
    Part& a = jobs[ia > ib ? ia - 1 : ia];
    a.envs.insert(a.envs.end(), b.envs.begin(), b.envs.end());
    for (const auto& g : b.groups)
      if (std::find(a.groups.begin(), a.groups.end(), g) == a.groups.end()) a.groups.push_back(g);
    std::set<std::string> s(a.services.begin(), a.services.end());
    s.insert(b.services.begin(), b.services.end());
    a.services.assign(s.begin(), s.end());
    a.seconds = c.job(a.envs, a.services);
  }
  return jobs;
}

double runner_of(const std::vector<Part>& jobs) {
  double s = 0;
  for (const auto& j : jobs) s += j.seconds;
  return s;
}

double wall_of(const std::vector<Part>& jobs) {
  double s = 0;
  for (const auto& j : jobs) s = std::max(s, j.seconds);
  return s;
}

}  // namespace

double makespan(std::vector<double> seconds, int cores) {
  std::sort(seconds.rbegin(), seconds.rend());
  std::priority_queue<double, std::vector<double>, std::greater<>> free;
  for (int i = 0; i < std::max(1, cores); ++i) free.push(0);
  double end = 0;
  for (double s : seconds) {
    double at = free.top();
    free.pop();
    free.push(at + s);
    end = std::max(end, at + s);
  }
  return end;
}

Balanced balance(const std::vector<Group>& groups, const std::map<std::string, double>& durations,
                 const CostModel& model) {
  Balanced out;
  std::vector<double> known;
  size_t n = 0;
  for (const auto& g : groups)
    for (const auto& e : g.envs) {
      ++n;
      if (auto it = durations.find(e.env.name); it != durations.end()) known.push_back(it->second);
    }
  out.estimated = n - known.size();
  double fallback = model.unknown_env_seconds > 0 ? model.unknown_env_seconds
                    : known.empty()               ? 60.0
                                                  : plan::median(known);
  Costs c(durations, model, fallback);
  std::vector<std::vector<const EnvTests*>> sorted;
  double lo = 0, hi = 0, baseline_runner = 0;
  for (const auto& g : groups) {
    std::vector<const EnvTests*> envs;
    for (const auto& e : g.envs) envs.push_back(&e);
    std::stable_sort(envs.begin(), envs.end(),
                     [&](const auto* a, const auto* b) { return c.env(a) > c.env(b); });
    for (const auto* e : envs) lo = std::max(lo, c.job({e}, g.services));
    double whole = c.job(envs, g.services);
    hi = std::max(hi, whole);
    baseline_runner += whole;
    sorted.push_back(std::move(envs));
  }
  // Job wall clocks from one job per group's down to the longest single environment's, in
  // small steps: the shortest within the cap that needs no more runner time than one job per
  // group (merging jobs of the same services saves runner time that splits may spend). When
  // none is shorter than one job per group (one big group), a split is made when the wall
  // clock it saves is at least the runner time it adds: a job's set-up and services, again.
  double baseline_wall = hi;
  size_t cap = static_cast<size_t>(std::max(1, model.max_jobs));
  auto better = [&](const std::vector<Part>& a, const std::vector<Part>& b) {
    return wall_of(a) < wall_of(b) - 1e-9 ||
           (wall_of(a) <= wall_of(b) + 1e-9 && runner_of(a) < runner_of(b));
  };
  // Each group's level: 1 + the deepest level of the groups it runs after.
  std::vector<int> levels(groups.size(), -1);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < groups.size(); ++i) index[groups[i].name] = i;
  std::function<int(size_t, int)> level = [&](size_t i, int depth) -> int {
    if (levels[i] >= 0 || depth > static_cast<int>(groups.size())) return std::max(levels[i], 0);
    int l = 0;
    for (const auto& a : groups[i].after)
      if (auto it = index.find(a); it != index.end())
        l = std::max(l, 1 + level(it->second, depth + 1));
    return levels[i] = l;
  };
  for (size_t i = 0; i < groups.size(); ++i) level(i, 0);
  std::vector<Part> strict = jobs_for(hi, groups, sorted, levels, model, c);
  std::vector<Part> paying = strict;
  constexpr int kSteps = 200;
  for (int i = 1; i <= kSteps && hi > lo; ++i) {
    double target = hi - (hi - lo) * i / kSteps;
    std::vector<Part> jobs = jobs_for(target, groups, sorted, levels, model, c);
    if (jobs.size() > cap) continue;
    double extra = runner_of(jobs) - baseline_runner;
    if (extra <= 1e-9 && better(jobs, strict)) strict = jobs;
    if (extra <= baseline_wall - wall_of(jobs) + 1e-9 && better(jobs, paying)) paying = jobs;
  }
  std::vector<Part> best = wall_of(strict) < baseline_wall - 1e-9 ? strict : paying;
  // Names: the group's, numbered when it has several jobs; joined when a job holds several.
  std::map<std::string, int> parts_of;
  for (const auto& p : best)
    if (p.groups.size() == 1) ++parts_of[p.groups[0]];
  std::map<std::string, int> numbered;
  for (auto& p : best) {
    Job j;
    for (const auto& g : p.groups) j.name += (j.name.empty() ? "" : "+") + g;
    if (p.groups.size() == 1 && parts_of[p.groups[0]] > 1)
      j.name += "-" + std::to_string(++numbered[p.groups[0]]);
    j.groups = p.groups;
    j.envs = p.envs;
    std::stable_sort(j.envs.begin(), j.envs.end(),
                     [&](const auto* a, const auto* b) { return c.env(a) > c.env(b); });
    j.services = p.services;
    j.seconds = p.seconds;
    for (const auto* e : j.envs)
      for (const std::string& p : {e->env.python, e->env.package_python})  // its package's too
        if (!p.empty() && std::find(j.pythons.begin(), j.pythons.end(), p) == j.pythons.end())
          j.pythons.push_back(p);
    // "3.9" before "3.10": versions as numbers, anything else after them.
    std::sort(j.pythons.begin(), j.pythons.end(), [](const std::string& a, const std::string& b) {
      auto key = [](const std::string& v) {
        std::vector<int> parts;
        size_t at = 0;
        while (at < v.size() && std::isdigit(static_cast<unsigned char>(v[at]))) {
          size_t end = at;
          while (end < v.size() && std::isdigit(static_cast<unsigned char>(v[end]))) ++end;
          parts.push_back(std::stoi(v.substr(at, end - at)));
          at = end + (end < v.size() && v[end] == '.' ? 1 : 0);
        }
        return std::make_pair(parts.empty() ? 1 : 0, std::make_pair(parts, v));
      };
      return key(a) < key(b);
    });
    out.wall = std::max(out.wall, j.seconds);
    out.runner += j.seconds;
    out.jobs.push_back(std::move(j));
  }
  // A job that waits for others (depends) ends after theirs: the wall clock is the longest
  // chain; jobs that wait for each other are a cycle, which the caller must not write.
  bool any_depends = false;
  for (const auto& g : groups)
    for (const auto& e : g.envs) any_depends = any_depends || !e.env.depends.empty();
  if (any_depends) {
    std::map<const EnvTests*, size_t> job_of;
    for (size_t j = 0; j < out.jobs.size(); ++j)
      for (const auto* e : out.jobs[j].envs) job_of[e] = j;
    std::vector<std::set<size_t>> waits(out.jobs.size());
    for (const auto& [e, j] : job_of)
      for (const auto& [o, k] : job_of)
        if (k != j && depends_on(e->env, o->env.name)) waits[j].insert(k);
    std::vector<double> end(out.jobs.size(), -1);
    std::vector<bool> open(out.jobs.size(), false);
    std::function<double(size_t)> finish = [&](size_t j) -> double {
      if (end[j] >= 0) return end[j];
      if (open[j]) {
        out.cycle = true;
        return 0;
      }
      open[j] = true;
      double start = 0;
      for (size_t k : waits[j]) start = std::max(start, finish(k));
      open[j] = false;
      return end[j] = start + out.jobs[j].seconds;
    };
    for (size_t j = 0; j < out.jobs.size(); ++j) out.wall = std::max(out.wall, finish(j));
  }
  // Job ids must differ: two jobs holding parts of the same groups are numbered.
  std::map<std::string, int> uses;
  for (const auto& j : out.jobs) ++uses[j.name];
  std::map<std::string, int> next;
  for (auto& j : out.jobs)
    if (uses[j.name] > 1) j.name += "-" + std::to_string(++next[j.name]);
  // In the groups' order, as the file is read.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < groups.size(); ++i) order.emplace(groups[i].name, i);
  std::stable_sort(out.jobs.begin(), out.jobs.end(), [&](const Job& a, const Job& b) {
    return std::make_pair(order[a.groups[0]], a.name) < std::make_pair(order[b.groups[0]], b.name);
  });
  return out;
}

CostModel cost_model(const config::Config& cfg, int max_jobs) {
  CostModel m;
  m.max_jobs = max_jobs;
  if (auto it = cfg.ci.find("job-overhead-seconds"); it != cfg.ci.end() && it->is_number())
    m.job_overhead = it->get<double>();
  for (const auto& svc : cfg.services) m.startup[svc.name] = svc.startup_seconds;
  return m;
}

std::vector<Group> as_groups(const Balanced& b) {
  std::vector<Group> out;
  for (const auto& j : b.jobs) {
    Group g{j.name, {}, j.pythons, j.services, j.seconds};
    for (const auto* e : j.envs) g.envs.push_back(*e);
    out.push_back(std::move(g));
  }
  return out;
}

bool balance_from_store(const std::string& root, const std::string& tool,
                        std::vector<Group>* groups, int max_jobs, Balanced* out,
                        std::string* error) {
  std::map<std::string, double> durations;
  store::Store s(store::default_path(root), store::Access::kRead);
  if (!s.missing() && (!s.ok() || !s.env_durations(5, &durations))) {
    *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  config::Config cfg = config::load_config(root);
  CostModel m = cost_model(cfg, max_jobs);
  std::string source = "job-overhead-seconds";
  if (auto it = cfg.ci.find("job-overhead-seconds"); it == cfg.ci.end() || !it->is_number()) {
    int count = 0;
    if (!s.missing() && !s.job_setup(tool, kSetupRuns, &m.job_overhead, &count)) {
      *error = fmt::format("cannot read the store {}: {}", store::default_path(root), s.error());
      return false;
    }
    source = count ? fmt::format("the median of {} measured {} job{}", count, tool,
                                 count == 1 ? "" : "s")
                   : "the default; no job set-up measured";
  }
  *out = balance(*groups, durations, m);
  if (out->cycle) {  // parts of one group that depend on each other, split apart
    *error =
        "tox's depends make the balanced jobs wait for each other; without --max-jobs, "
        "each group is a job";
    return false;
  }
  out->job_overhead = m.job_overhead;
  out->overhead_source = source;
  return true;
}

}  // namespace testmap::envs
