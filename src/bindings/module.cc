// testmap._core: the C++ core for the pytest plugin. Only forwards into core;
// results cross as JSON text so the Python side stays a few lines.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bindings/tracer.h"
#include "core/classify/classifier.h"
#include "core/classify/report.h"
#include "core/config/config.h"
#include "core/db/schema_hash.h"
#include "core/flaky/from_store.h"
#include "core/plan/estimate.h"
#include "core/plan/plan_io.h"
#include "core/plan/planner.h"
#include "core/plan/repository.h"
#include "core/runtime/code_version.h"
#include "core/runtime/merge_run.h"
#include "core/runtime/region.h"
#include "core/scan/outline_json.h"
#include "core/scan/scanner.h"
#include "core/schedule/dispatcher.h"
#include "core/schedule/from_store.h"
#include "core/select/affected.h"
#include "core/store/store.h"

namespace nb = nanobind;
using namespace testmap;

NB_MODULE(_core, m) {
  m.doc() = "testmap's C++ core: scanner and static classification";
  m.def(
      "version", [] { return std::string(TESTMAP_VERSION); }, "The testmap version");
  m.def(
      "scan",
      [](nb::bytes source, const std::string& path) {
        std::string_view bytes(source.c_str(), source.size());
        scan::Outline o;
        {
          nb::gil_scoped_release release;
          o = scan::scan_source(bytes, path);
        }
        return scan::outline_to_json(o).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
      },
      nb::arg("source"), nb::arg("path") = "<string>",
      "Outline of Python source, as JSON text (docs/outline.md)");
  m.def(
      "classify",
      [](const std::string& root, bool recorded) {
        classify::Classification c;
        std::string error;
        {
          nb::gil_scoped_release release;
          classify::RuntimeUses runtime;
          if (!recorded || store::load_runtime_uses(root, &runtime, &error))
            c = classify::classify_root(root, 0, &runtime);
        }
        // A store or config that cannot be read: no answer rather than a wrong one.
        if (error.empty()) error = c.unusable;
        if (!error.empty()) throw std::invalid_argument(error);
        return classify::to_json_text(c);
      },
      nb::arg("root"), nb::arg("recorded") = true,
      "Classification of the repository at root (with its recorded runs unless recorded=False), "
      "as JSON text");

  m.def(
      "config_durations",
      [](const std::string& root) { return config::load_config(root).durations; }, nb::arg("root"),
      "[tool.testmap] durations: whether every pytest run stores durations");
  m.def(
      "quarantine",
      [](const std::string& root, bool with_flaky) {
        config::Config cfg;
        std::vector<flaky::FlakyTest> found;
        std::set<long long> runs;
        std::string error;
        {
          nb::gil_scoped_release release;
          cfg = config::load_config(root);
          // A wrong quarantine setting would hide failures or fail the wrong way: refuse.
          error = config::refusal(cfg, "tool.testmap.quarantine");
          if (error.empty() && with_flaky) flaky::flaky_in_store(root, &found, &runs, &error);
        }
        if (!error.empty()) throw std::invalid_argument(error);
        nlohmann::json known = nlohmann::json::object();
        for (const auto& f : found) known[f.test] = {{"passes", f.passes}, {"runs", f.runs}};
        return nlohmann::json{{"mode", cfg.quarantine},
                              {"named", cfg.quarantined},
                              {"flaky", known},
                              {"runs", runs.size()}}
            .dump();
      },
      nb::arg("root"), nb::arg("flaky"),
      "[tool.testmap] quarantine and quarantined, and (with flaky) the flaky tests of the "
      "store with their passes and runs, as JSON text (docs/flaky.md)");
  m.def(
      "config_services",
      [](const std::string& root) {
        config::Config cfg = config::load_config(root);
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : cfg.services)
          out.push_back({{"name", s.name},
                         {"ports", s.ports},
                         {"unix_sockets", s.unix_sockets},
                         {"processes", s.processes},
                         {"hosts", s.hosts}});
        return out.dump();
      },
      nb::arg("root"), "The services of the root's config with ports and Unix sockets, as JSON");

  // Sharding (docs/plan.md). The classification is the merged one, as `testmap plan` uses.
  m.def(
      "shard_plan",
      [](const std::string& root, const std::vector<std::string>& tiers, int shards, int workers,
         const std::string& unit, std::optional<std::vector<std::string>> only) {
        plan::PlanOptions po;
        po.shards = shards;
        po.workers = workers;
        po.every_shard = true;
        if (!plan::parse_unit(unit, &po.unit)) throw std::invalid_argument("unit: " + unit);
        plan::PlanInput input;
        std::string error;
        bool read;
        {
          nb::gil_scoped_release release;
          read = plan::repository_input(root, &input, &error);
        }
        if (!read) throw std::invalid_argument(error);
        std::unordered_set<std::string> ids;
        if (only) ids.insert(only->begin(), only->end());
        plan::keep_tests(&input, tiers, only ? &ids : nullptr);
        plan::Plan p = plan::make_plan(input, po);
        if (!p.error.empty()) throw std::invalid_argument(p.error);
        return plan::plan_json_text(p);
      },
      nb::arg("root"), nb::arg("tiers"), nb::arg("shards"), nb::arg("workers") = 1,
      nb::arg("unit") = "file", nb::arg("only") = nb::none(),
      "A plan of these tiers' tests (with `only`, of those test ids alone: the affected ones) "
      "on all `shards` machines (as units allow), as JSON text");
  m.def(
      "select_shard",
      [](const std::string& root, const std::string& plan_text, const std::string& where,
         const std::string& shard, const std::vector<std::string>& nodeids) {
        plan::Plan p;
        Diagnostic error;
        if (!plan::parse_plan(plan_text, where, &p, &error))
          throw std::invalid_argument(error.format());
        size_t machine = p.machines.size();
        std::string ids;
        for (size_t i = 0; i < p.machines.size(); ++i) {
          if (p.machines[i].id == shard) machine = i;
          ids += (ids.empty() ? "" : ", ") + p.machines[i].id;
        }
        if (machine == p.machines.size())
          throw std::invalid_argument(
              fmt::format("{}: no machine '{}' (machines: {})", where, shard, ids));
        if (std::string project = p.machines[machine].project; !project.empty()) {
          // A monorepo's plan: this project's machines, their units as pytest names them
          // in the project's directory.
          if (!(root + "/").ends_with("/" + project + "/"))
            throw std::invalid_argument(fmt::format(
                "{}: machine '{}' runs the tests of project {}: run pytest in its directory", where,
                shard, project));
          std::string id = p.machines[machine].id;
          std::erase_if(p.machines, [&](const plan::Machine& m) { return m.project != project; });
          for (auto& m : p.machines) {
            for (auto& u : m.units)
              if (u.starts_with(project + "/")) u = u.substr(project.size() + 1);
            m.project.clear();
          }
          for (size_t i = 0; i < p.machines.size(); ++i)
            if (p.machines[i].id == id) machine = i;
        }
        std::vector<plan::PlanTest> tests;
        std::string store_error;
        {
          nb::gil_scoped_release release;
          classify::RuntimeUses runtime;
          classify::Classification c;
          if (store::load_runtime_uses(root, &runtime, &store_error))
            c = classify::classify_root(root, 0, &runtime);
          if (store_error.empty()) store_error = c.unusable;
          std::unordered_map<std::string, const classify::TestResult*> by_id;
          for (const auto& t : c.tests) by_id[t.id] = &t;
          for (const auto& n : nodeids) {
            std::string id = n.substr(0, n.find('['));
            auto it = by_id.find(id);
            plan::PlanTest t{id, "unknown", {}, 0, false};
            if (it != by_id.end() && !it->second->unknown)
              t.tier = it->second->tier, t.services = it->second->services;
            tests.push_back(std::move(t));
          }
        }
        if (!store_error.empty()) throw std::invalid_argument(store_error);
        std::vector<size_t> where_to = plan::assign(p, tests);
        std::vector<size_t> selected;
        for (size_t i = 0; i < where_to.size(); ++i)
          if (where_to[i] == machine) selected.push_back(i);
        // Units of this machine that no collected test belongs to: removed since the plan.
        std::unordered_set<std::string> present;
        for (const auto& t : tests) present.insert(plan::unit_of(t.id, p.unit));
        size_t gone = 0;
        for (const auto& u : p.machines[machine].units) gone += !present.count(u);
        return nb::make_tuple(selected, gone);
      },
      nb::arg("root"), nb::arg("plan_text"), nb::arg("where"), nb::arg("shard"), nb::arg("nodeids"),
      "(indices of the node ids that run on machine `shard`, units of it no test has now)");

  // pytest --testmap-deps (docs/affected.md).
  m.def("deps_start", &bindings::tracer_start, nb::arg("root") = "",
        "Record the Python functions every thread calls (with the root deps_take will be "
        "given, code outside it may be left alone for good)");
  m.def("deps_stop", &bindings::tracer_stop, "Stop recording");
  m.def("deps_pause", &bindings::tracer_pause,
        "Stop the 3.11 frame hook while only code outside the root runs");
  m.def("deps_resume", &bindings::tracer_resume, "Undo deps_pause");
  m.def("deps_take", &bindings::tracer_take, nb::arg("root"),
        "The (file relative to root, co_qualname) pairs run since the last take");
  m.def(
      "deps_take_json",
      [](const std::string& root, const std::string& sink) {
        auto t = bindings::tracer_take_json(root, sink);
        return nb::make_tuple(t.deps, t.defs);
      },
      nb::arg("root"), nb::arg("sink"),
      "(deps, defs) of a test's line: code by number, defined in `defs` once per sink");
  m.def(
      "affected",
      [](const std::string& root, const std::vector<std::string>& nodeids,
         const std::string& base) {
        select::Selection sel;
        std::string error;
        std::vector<std::string> ids;
        for (const auto& n : nodeids) ids.push_back(n.substr(0, n.find('[')));
        bool ok;
        {
          nb::gil_scoped_release release;
          ok = select::select_affected(root, ids, base, &sel, &error);
        }
        if (!ok) throw std::invalid_argument(error);
        nb::list picked;  // (index, first reason) of each node id that runs
        for (size_t i = 0; i < ids.size(); ++i) {
          if (!sel.run_all.empty())
            picked.append(nb::make_tuple(i, sel.run_all));
          else if (auto it = sel.why.find(ids[i]); it != sel.why.end())
            picked.append(nb::make_tuple(i, it->second.front()));
        }
        return nb::make_tuple(sel.run_all, picked);
      },
      nb::arg("root"), nb::arg("nodeids"), nb::arg("base") = "",
      "(run_all reason or '', [(index, reason)]) for the collected node ids: which run; with "
      "base (a commit), the changes since it count too");

  m.def(
      "code_version",
      [](const std::string& root) {
        nb::gil_scoped_release release;
        return runtime::code_version(root);
      },
      nb::arg("root"), "The commit and tracked changes a run tests (docs/flaky.md), or ''");

  m.def(
      "merge_runs",
      [](const std::string& root, const std::string& dir, const std::string& kind) {
        runtime::MergeSummary s;
        {
          nb::gil_scoped_release release;
          s = runtime::merge_runs(root, dir, kind);
        }
        return nb::make_tuple(s.ok, s.tests, s.messages);
      },
      nb::arg("root"), nb::arg("dir"), nb::arg("kind"),
      "Merge a run directory into the root's store: (ok, tests, messages)");

  // Per-worker databases (docs/db.md).
  m.def(
      "db_config",
      [](const std::string& root) {
        config::Config cfg = config::load_config(root);
        nlohmann::json out = {{"db", cfg.db}, {"diagnostics", nlohmann::json::array()}};
        for (const auto& d : cfg.diagnostics) out["diagnostics"].push_back(d.format());
        return out.dump();
      },
      nb::arg("root"), "[tool.testmap.db] and the config's diagnostics, as JSON");
  m.def(
      "schema_hash",
      [](const std::string& root, const std::vector<std::string>& globs,
         const std::vector<std::string>& extra) {
        db::SchemaHash h;
        {
          nb::gil_scoped_release release;
          h = db::schema_hash(root, globs, extra);
        }
        return nb::make_tuple(h.hex, h.files);
      },
      nb::arg("root"), nb::arg("globs"), nb::arg("extra"),
      "(hash, files hashed) of the files under root matching globs, and extra strings");
  m.def(
      "file_digests",
      [](const std::vector<std::string>& paths) {
        std::vector<std::string> out;
        {
          nb::gil_scoped_release release;
          out.reserve(paths.size());
          for (const auto& p : paths) out.push_back(db::file_digest(p));
        }
        return out;
      },
      nb::arg("paths"),
      "Each file's content hash (16 hex digits), or \"\" for one that cannot be read");

  using runtime::Region;
  nb::class_<Region>(m, "Region", "The shared-memory region the preload shim writes into")
      .def(nb::init<const std::string&>(), nb::arg("path"))
      .def_prop_ro("path", &Region::path)
      .def("declare", &Region::declare, nb::arg("service"))
      .def("add_port", &Region::add_port, nb::arg("service"), nb::arg("port"))
      .def("add_unix_socket", &Region::add_unix_socket, nb::arg("service"), nb::arg("suffix"))
      .def("add_process", &Region::add_process, nb::arg("service"), nb::arg("program"))
      .def("add_host", &Region::add_host, nb::arg("service"), nb::arg("host"), nb::arg("port"))
      .def("services", &Region::services)
      .def(
          "declare_from_config",
          [](Region& r, const std::string& root) {
            config::Config cfg = config::load_config(root);
            // Hosts first: a service known by its host wins over one known by the port.
            for (const auto& s : cfg.services)
              for (const auto& h : s.hosts) {
                if (s.ports.empty()) r.add_host(s.name, h, 0);
                for (int port : s.ports) r.add_host(s.name, h, port);
              }
            for (const auto& s : cfg.services) {
              r.declare(s.name);
              if (s.hosts.empty())  // with hosts, its ports are for those hosts alone
                for (int port : s.ports) r.add_port(s.name, port);
              for (const auto& u : s.unix_sockets) r.add_unix_socket(s.name, u);
            }
            // After every port and socket: a declared one wins over a program's name.
            for (const auto& s : cfg.services)
              for (const auto& p : s.processes) r.add_process(s.name, p);
          },
          nb::arg("root"), "Declares every service of the root's config with its ports and sockets")
      .def("begin", &Region::begin, nb::arg("seq"))
      .def(
          "end",
          [](Region& r, uint64_t seq) {
            runtime::PhaseUse u = r.end(seq);
            nb::list refused;
            for (const auto& x : u.refused) refused.append(nb::make_tuple(x.service, x.address));
            return nb::make_tuple(u.services, u.external, refused);
          },
          nb::arg("seq"), "Ends phase seq: (services, external addresses, [(service, address)])")
      .def("set_enforce", &Region::set_enforce, nb::arg("on"))
      .def("set_allowed", &Region::set_allowed, nb::arg("services"))
      .def("allow_all", &Region::allow_all);

  // --dist testmap (docs/schedule.md): the xdist scheduler in src/testmap/schedule.py asks
  // this which tests each worker gets.
  using schedule::Dispatcher;
  nb::class_<Dispatcher>(m, "Dispatcher", "Hands the collection's tests to xdist workers")
      .def(
          "__init__",
          [](Dispatcher* d, const std::string& root, const std::vector<std::string>& nodeids,
             int workers) {
            schedule::Schedule s;
            std::string error;
            bool read;
            {
              nb::gil_scoped_release release;
              read = schedule::schedule_from_store(root, nodeids, workers, &s, &error);
            }
            if (!read) throw std::invalid_argument(error);
            new (d) Dispatcher(std::move(s));
          },
          nb::arg("root"), nb::arg("nodeids"), nb::arg("workers"))
      .def("add_worker", &Dispatcher::add_worker)
      .def("take", &Dispatcher::take, nb::arg("worker"),
           "Indexes of the tests to send to this worker now")
      .def("done", &Dispatcher::done, nb::arg("worker"), nb::arg("test"))
      .def("remove_worker", &Dispatcher::remove_worker, nb::arg("worker"),
           "The test it was running, if any; the rest it held is queued again")
      .def("requeue", &Dispatcher::requeue, nb::arg("test"))
      .def("stop", &Dispatcher::stop, nb::arg("worker"))
      .def("in_flight", &Dispatcher::in_flight, nb::arg("worker"))
      .def("queued", &Dispatcher::queued)
      .def_prop_ro("estimated", [](const Dispatcher& d) { return d.schedule().estimated; })
      .def_prop_ro("total", [](const Dispatcher& d) { return d.schedule().total; })
      .def_prop_ro("lower_bound", [](const Dispatcher& d) { return d.schedule().lower_bound; })
      .def_prop_ro("units", [](const Dispatcher& d) { return d.schedule().units.size(); })
      .def_prop_ro("grouped", [](const Dispatcher& d) { return d.schedule().setup.size(); });
}
