// --dist testmap's scheduling, checked in a simulated pytest-xdist run: workers that run
// what they were sent in order, and pay a file's module fixture again whenever they switch
// to it from another file.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/schedule/dispatcher.h"
#include "core/schedule/setup_cost.h"
#include "core/schedule/units.h"

using namespace testmap;
using namespace testmap::schedule;

namespace {

struct Suite {
  std::vector<std::string> ids;
  std::vector<double> seconds;          // what each test really takes, without set-up
  std::map<std::string, double> setup;  // file -> module fixture
  double setup_of(const std::string& file) const {
    auto it = setup.find(file);
    return it == setup.end() ? 0 : it->second;
  }
  // Every test once and every module fixture once.
  double work() const {
    double w = 0;
    for (double s : seconds) w += s;
    for (const auto& [f, s] : setup) w += s;
    return w;
  }
};

std::string file_of(const std::string& id) {
  return id.substr(0, id.find("::"));
}

// Files of 1 to 40 tests, durations log-normal (most tests fast, a few slow), a third of
// the files with a module fixture of 0.5 to 3 s.
Suite realistic(int files, unsigned seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<double> dur(-3.0, 1.5);
  std::uniform_int_distribution<int> size(1, 40);
  std::uniform_real_distribution<double> fixture(0.5, 3.0);
  Suite s;
  for (int f = 0; f < files; ++f) {
    std::string file = fmt::format("tests/test_{}.py", f);
    if (f % 3 == 0) s.setup[file] = fixture(rng);
    int n = size(rng);
    for (int t = 0; t < n; ++t) {
      s.ids.push_back(fmt::format("{}::test_{}", file, t));
      s.seconds.push_back(std::min(dur(rng), 20.0));
    }
  }
  return s;
}

// What the store gives the scheduler after a recorded run: one process's sequence (the
// first test of each file paying its module fixture), read back as each test's own seconds
// and each file's set-up.
std::pair<std::map<std::string, std::vector<double>>, std::map<std::string, double>> history_of(
    const Suite& s, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(1 - noise, 1 + noise);
  store::WorkerSequence seq;
  std::string last;
  for (size_t i = 0; i < s.ids.size(); ++i) {
    std::string f = file_of(s.ids[i]);
    double d = s.seconds[i] * jitter(rng);
    if (f != last) d += s.setup_of(f);
    last = f;
    seq.push_back({s.ids[i], d});
  }
  auto setup = shared_setup({seq});
  return {own_durations({seq}, setup), setup};
}

// Runs the suite: each worker asks for tests when it has fewer than it may hold and runs
// them in order; the time a worker finishes its last test is the makespan.
double simulate(const Suite& s, Dispatcher& d, int workers) {
  struct W {
    int id;
    double clock = 0;
    std::string file;
    std::vector<size_t> queue;
  };
  std::vector<W> ws;
  for (int w = 0; w < workers; ++w) ws.push_back({d.add_worker()});
  for (auto& w : ws)
    for (size_t t : d.take(w.id)) w.queue.push_back(t);
  double makespan = 0;
  while (true) {
    // The worker that finishes its current test first.
    W* next = nullptr;
    for (auto& w : ws)
      if (!w.queue.empty() && (!next || w.clock < next->clock)) next = &w;
    if (!next) break;
    size_t t = next->queue.front();
    next->queue.erase(next->queue.begin());
    std::string f = file_of(s.ids[t]);
    if (f != next->file) next->clock += s.setup_of(f);
    next->file = f;
    next->clock += s.seconds[t];
    d.done(next->id, t);
    for (size_t more : d.take(next->id)) next->queue.push_back(more);
    makespan = std::max(makespan, next->clock);
  }
  return makespan;
}

// Every test exactly once.
void check_complete(const Suite& s, Dispatcher& d, int workers) {
  std::vector<int> seen(s.ids.size(), 0);
  std::vector<int> ws;
  for (int w = 0; w < workers; ++w) ws.push_back(d.add_worker());
  bool progress = true;
  while (progress) {
    progress = false;
    for (int w : ws)
      for (size_t t : d.take(w)) {
        ++seen[t];
        d.done(w, t);
        progress = true;
      }
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

double lower_bound(const Suite& s, int workers) {
  double longest = 0;
  for (size_t i = 0; i < s.seconds.size(); ++i)
    longest = std::max(longest, s.seconds[i] + s.setup_of(file_of(s.ids[i])));
  return std::max(s.work() / workers, longest);
}

}  // namespace

TEST_CASE("a realistic suite finishes within 5% of the lower bound on 2 to 8 workers") {
  for (unsigned seed : {1u, 2u, 3u}) {
    Suite s = realistic(150, seed);
    for (int workers : {2, 4, 8}) {
      for (double noise : {0.0, 0.3}) {
        auto [history, setup] = history_of(s, noise, seed);
        Schedule plan = make_schedule(s.ids, history, setup, workers);
        Dispatcher d(plan);
        double makespan = simulate(s, d, workers);
        double bound = lower_bound(s, workers);
        INFO(fmt::format("seed {} workers {} noise {}: makespan {:.2f} bound {:.2f}", seed, workers,
                         noise, makespan, bound));
        CHECK(makespan <= 1.05 * bound);
      }
    }
  }
}

TEST_CASE("every test is handed out exactly once, with and without history") {
  Suite s = realistic(40, 7);
  auto [history, setup] = history_of(s, 0, 7);
  Dispatcher with(make_schedule(s.ids, history, setup, 4));
  check_complete(s, with, 4);
  Dispatcher without(make_schedule(s.ids, {}, {}, 4));
  check_complete(s, without, 4);
}

TEST_CASE("the longest test goes out first; without history the collection order holds") {
  std::vector<std::string> ids = {"a.py::t1", "b.py::t1", "c.py::t1"};
  Schedule s = make_schedule(ids, {{"b.py::t1", {9}}, {"a.py::t1", {1}}, {"c.py::t1", {3}}}, {}, 2);
  REQUIRE(s.units.size() == 3);
  CHECK(s.units[0].tests == std::vector<size_t>{1});
  CHECK(s.units[1].tests == std::vector<size_t>{2});
  CHECK(s.estimated == 0);
  Schedule blind = make_schedule(ids, {}, {}, 2);
  CHECK(blind.units[0].tests == std::vector<size_t>{0});
  CHECK(blind.units[2].tests == std::vector<size_t>{2});
  CHECK(blind.estimated == 3);
}

TEST_CASE("a test recorded only without its variants is shared out between them") {
  Schedule s = make_schedule({"a.py::t[1]", "a.py::t[2]", "b.py::u"},
                             {{"a.py::t", {4}}, {"b.py::u", {1}}}, {}, 1);
  CHECK(s.seconds[0] == doctest::Approx(2));
  CHECK(s.seconds[1] == doctest::Approx(2));
  CHECK(s.estimated == 0);
}

TEST_CASE("a file's tests stay together unless the file is larger than half a share") {
  std::vector<std::string> ids;
  std::map<std::string, std::vector<double>> h;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(fmt::format("big.py::TestA::t{}", i));
    ids.push_back(fmt::format("big.py::TestB::t{}", i));
  }
  std::sort(ids.begin(), ids.end());  // TestA's ten, then TestB's ten
  for (int i = 0; i < 40; ++i) ids.push_back(fmt::format("small{}.py::t", i));
  for (const auto& id : ids) h[id] = {1};
  // 60 s on 2 workers: half a share is 15 s, so big.py (20 s) is cut, where TestA ends.
  Schedule s = make_schedule(ids, h, {{"big.py", 2.0}}, 2);
  std::vector<const Unit*> big;
  for (const auto& u : s.units)
    if (ids[u.tests[0]].rfind("big.py", 0) == 0) big.push_back(&u);
  REQUIRE(big.size() == 2);
  for (const Unit* u : big) {
    REQUIRE(u->tests.size() == 10);
    std::string cls = ids[u->tests[0]].substr(0, ids[u->tests[0]].rfind("::"));
    for (size_t t : u->tests) CHECK(ids[t].rfind(cls, 0) == 0);
  }
  // Each chunk pays the module's set-up.
  CHECK(big[0]->seconds + big[1]->seconds == doctest::Approx(24));
  // On 1 worker the file is a third of the share: one unit.
  Schedule one = make_schedule(ids, h, {{"big.py", 2.0}}, 1);
  CHECK(one.units[0].tests.size() == 20);
}

TEST_CASE("an idle worker steals only when paying the set-up again ends the run sooner") {
  // One file, 4 tests of 1 s behind a 10 s module fixture. Once the first worker is past
  // its first test, a second worker would pay 10 s to save 1, so it gets nothing.
  std::vector<std::string> ids = {"m.py::t0", "m.py::t1", "m.py::t2", "m.py::t3"};
  std::map<std::string, std::vector<double>> own = {
      {"m.py::t0", {1}}, {"m.py::t1", {1}}, {"m.py::t2", {1}}, {"m.py::t3", {1}}};
  Dispatcher costly(make_schedule(ids, own, {{"m.py", 10.0}}, 2));
  int a = costly.add_worker(), b = costly.add_worker();
  CHECK(costly.take(a) == std::vector<size_t>{0, 1});
  costly.done(a, 0);
  CHECK(costly.take(a) == std::vector<size_t>{2});
  CHECK(costly.take(b).empty());
  // A file without a shared fixture whose first test takes 11 s is cut in two (that test,
  // the rest), and a worker done with the long test takes the end of the other's queue.
  std::map<std::string, std::vector<double>> h = {
      {"m.py::t0", {11}}, {"m.py::t1", {1}}, {"m.py::t2", {1}}, {"m.py::t3", {1}}};
  Dispatcher cheap(make_schedule(ids, h, {}, 2));
  int c = cheap.add_worker(), e = cheap.add_worker();
  CHECK(cheap.take(c) == std::vector<size_t>{0});
  CHECK(cheap.take(e) == std::vector<size_t>{1, 2});
  cheap.done(c, 0);
  CHECK(cheap.take(c) == std::vector<size_t>{3});
}

TEST_CASE("a worker that crashes gives back what it held; its running test is the crash") {
  Suite s = realistic(5, 3);
  Dispatcher d(make_schedule(s.ids, {}, {}, 2));
  int a = d.add_worker(), b = d.add_worker();
  std::vector<size_t> sent = d.take(a);
  REQUIRE(sent.size() >= 2);
  auto crashed = d.remove_worker(a);
  REQUIRE(crashed);
  CHECK(*crashed == sent[0]);
  // The rest comes back first, to the next worker that asks.
  std::vector<size_t> next = d.take(b);
  REQUIRE(!next.empty());
  CHECK(next[0] == sent[1]);
}

TEST_CASE("shared set-up is measured from the tests around the first and last of a run") {
  // Each process ran a.py's tests in a row: the first paid 2 s of set-up, the last 1 s of
  // teardown. b.py's first test is just slow in one run, not in the other.
  std::vector<store::WorkerSequence> runs = {
      {{"a.py::t0", 2.1},
       {"a.py::t1", 0.1},
       {"a.py::t2", 0.1},
       {"a.py::t3", 1.1},
       {"b.py::t0", 0.5},
       {"b.py::t1", 0.1},
       {"b.py::t2", 0.1}},
      {{"a.py::t0", 2.1},
       {"a.py::t1", 0.1},
       {"a.py::t2", 0.1},
       {"a.py::t3", 1.1},
       {"b.py::t0", 0.1},
       {"b.py::t1", 0.1},
       {"b.py::t2", 0.1}},
      {{"b.py::t0", 0.1}, {"b.py::t1", 0.1}, {"b.py::t2", 0.1}}};
  auto cost = shared_setup(runs);
  CHECK(cost["a.py"] == doctest::Approx(3.0));
  CHECK(cost.count("b.py") == 0);
  // Read back without the set-up: a.py's first and last tests cost what the others do.
  auto own = own_durations(runs, cost);
  REQUIRE(own["a.py::t0"].size() == 2);
  CHECK(own["a.py::t0"][0] == doctest::Approx(0.1));
  CHECK(own["a.py::t3"][1] == doctest::Approx(0.1));
  CHECK(own["b.py::t0"] == std::vector<double>{0.5, 0.1, 0.1});  // no set-up measured
}

TEST_CASE("every worker gets a unit before any worker gets a second") {
  // Three 60 s tests on three workers: one each, at once (not two on the first worker).
  std::vector<std::string> ids = {"a.py::t", "b.py::t", "c.py::t"};
  std::map<std::string, std::vector<double>> h = {
      {"a.py::t", {60}}, {"b.py::t", {60}}, {"c.py::t", {60}}};
  Dispatcher d(make_schedule(ids, h, {}, 3));
  int a = d.add_worker(), b = d.add_worker(), c = d.add_worker();
  CHECK(d.take(a) == std::vector<size_t>{0});
  CHECK(d.take(b) == std::vector<size_t>{1});
  CHECK(d.take(c) == std::vector<size_t>{2});
  CHECK(d.take(a).empty());  // nothing left: the controller stops it, and it runs its test
  CHECK(!d.queued());
}

TEST_CASE("without any recorded duration a worker holds few tests, so the end can be shared") {
  Suite s = realistic(5, 11);
  Dispatcher d(make_schedule(s.ids, {}, {}, 4));
  std::vector<int> ws;
  for (int i = 0; i < 4; ++i) ws.push_back(d.add_worker());
  for (int w : ws) d.take(w);
  for (int w : ws) {
    d.take(w);
    CHECK(d.in_flight(w) >= 1);
    CHECK(d.in_flight(w) <= Dispatcher::kMaxInFlightBlind);
  }
}

TEST_CASE("an idle worker steals from the next queue when the longest one does not pay") {
  // w0 holds costly.py (a 10 s module fixture, 2 s of tests queued), w1 cheap.py (1.6 s
  // queued, no shared set-up): stealing from w0 would not pay, from w1 it does.
  std::vector<std::string> ids;
  std::map<std::string, std::vector<double>> h;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(fmt::format("costly.py::t{}", i));
    h[ids.back()] = {1.0};
  }
  for (int i = 0; i < 6; ++i) {
    ids.push_back(fmt::format("cheap.py::t{}", i));
    h[ids.back()] = {0.4};
  }
  Dispatcher d(make_schedule(ids, h, {{"costly.py", 10.0}}, 3));
  int w0 = d.add_worker(), w1 = d.add_worker(), w2 = d.add_worker();
  CHECK(d.take(w0) == std::vector<size_t>{0, 1});
  CHECK(d.take(w1) == std::vector<size_t>{5, 6});
  d.done(w0, 0);
  CHECK(d.take(w0) == std::vector<size_t>{2});
  // w2: no unit left; costly.py's queue is longer (2 s) but would cost 10 s to start.
  std::vector<size_t> stolen = d.take(w2);
  REQUIRE(!stolen.empty());
  for (size_t t : stolen) CHECK(ids[t].rfind("cheap.py", 0) == 0);
}

TEST_CASE("a file's small rest joins its last chunk instead of paying the set-up alone") {
  // 21 tests of 1 s behind a 2 s fixture, on 2 workers with 19 s elsewhere: half a share
  // is 10.5 s, so chunks close after 9 tests (2 s + 9 s); the last 3 tests alone would pay
  // 2 s of set-up for 3 s of tests, and join the chunk before.
  std::vector<std::string> ids;
  std::map<std::string, std::vector<double>> h;
  for (int i = 0; i < 21; ++i) ids.push_back(fmt::format("big.py::t{:02}", i));
  for (int i = 0; i < 19; ++i) ids.push_back(fmt::format("other{}.py::t", i));
  for (const auto& id : ids) h[id] = {1};
  Schedule s = make_schedule(ids, h, {{"big.py", 2.0}}, 2);
  size_t big_units = 0, big_tests = 0;
  for (const auto& u : s.units)
    if (ids[u.tests[0]].rfind("big.py", 0) == 0) {
      ++big_units;
      big_tests += u.tests.size();
      CHECK(u.tests.size() >= 9);
    }
  CHECK(big_units == 2);
  CHECK(big_tests == 21);
}
