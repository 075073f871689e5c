// The region as the plugin sees it, with the shim's writes done by hand, and reading the
// JSON lines of a run cut short.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>

#include "core/runtime/region.h"
#include "core/runtime/results.h"

using namespace testmap::runtime;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "testmap-region-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("a phase reports the services marked in its slot, and only its own") {
  fs::path dir = temp_dir();
  Region r((dir / "main.region").string());
  CHECK(r.declare("postgres") == 0);
  CHECK(r.declare("redis") == 1);
  CHECK(r.declare("postgres") == 0);  // declared once
  CHECK(r.add_port("redis", 6379));
  CHECK(r.add_port("redis", 6379));  // no duplicate matcher
  CHECK_FALSE(r.add_port("redis", 70000));
  CHECK(r.services() == std::vector<std::string>{"postgres", "redis"});

  // The file holds a valid header for the shim.
  std::ifstream in(dir / "main.region", std::ios::binary);
  tm_region header{};
  in.read(reinterpret_cast<char*>(&header), sizeof header);
  CHECK(header.magic == TM_REGION_MAGIC);
  CHECK(header.size == sizeof(tm_region));
  CHECK(header.n_matchers == 1);
  CHECK(header.current == 0);

  // Another mapping of the same file stands in for the shim in a child process.
  int fd = ::open((dir / "main.region").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  auto* shim = static_cast<tm_region*>(
      mmap(nullptr, sizeof(tm_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ::close(fd);
  REQUIRE(shim != MAP_FAILED);

  r.begin(5);
  CHECK(shim->current == 5);
  tm_slot& slot = shim->slots[5 % TM_SLOTS];
  CHECK(slot.seq == 5);
  slot.used |= 1ull << 1;  // redis
  slot.used |= 1ull << TM_EXTERNAL_BIT;
  tm_addr& a = slot.external[0];
  a.family = AF_INET;
  a.port = 443;
  const uint8_t ip[4] = {203, 0, 113, 7};
  std::memcpy(a.addr, ip, 4);
  a.service = TM_EXTERNAL_BIT + 1;
  slot.n_external = 1;
  PhaseUse used = r.end(5);
  CHECK(shim->current == 0);  // between phases nothing is attributed
  CHECK(used.services == std::vector<std::string>{"redis"});
  CHECK(used.external == std::vector<std::string>{"203.0.113.7:443"});

  // The ring comes round: the old phase's marks do not leak into the new one.
  r.begin(5 + TM_SLOTS);
  CHECK(r.end(5 + TM_SLOTS).services.empty());
  CHECK(r.end(5).services.empty());  // a phase long gone reads as nothing
  munmap(shim, sizeof(tm_region));
  fs::remove_all(dir);
}

TEST_CASE("lines cut short by a killed run are skipped and reported") {
  fs::path dir = temp_dir();
  {
    std::ofstream out(dir / "gw0.jsonl");
    out << R"({"nodeid": "t.py::test_a[1]", "outcome": "passed", "duration": 0.5,)"
        << R"( "phases": {"call": {"services": ["redis"], "shared": [], "external": ["1.2.3.4:443"]}}})"
        << "\n";
    out << R"({"nodeid": "t.py::test_b", "outco)";  // the process died here
  }
  testmap::Diagnostics diags;
  auto records = read_results(dir.string(), &diags);
  REQUIRE(records.size() == 1);
  CHECK(records[0].nodeid == "t.py::test_a[1]");
  CHECK(records[0].duration == doctest::Approx(0.5));
  CHECK(records[0].phases.at("call").services == std::vector<std::string>{"redis"});
  CHECK(records[0].phases.at("call").external == std::vector<std::string>{"1.2.3.4:443"});
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].line == 2);
  CHECK(diags[0].file.ends_with("gw0.jsonl"));
  fs::remove_all(dir);
}

TEST_CASE("code numbered in a worker's lines is named by that worker's definitions") {
  fs::path dir = temp_dir();
  {
    std::ofstream gw0(dir / "gw0.jsonl");
    gw0 << R"({"nodeid": "t.py::test_a", "outcome": "passed", "deps": [0, 1],)"
        << R"( "defs": [[0, "pkg/a.py", "f"], [1, "pkg/a.py", "C"]]})"
        << "\n";
    // A later line uses 0 again, and a pair a child process ran.
    gw0 << R"({"nodeid": "t.py::test_b", "outcome": "passed", "deps": [0, ["pkg/b.py", "g"]]})"
        << "\n";
    // 7 was defined in a line this file lost: the test's dependencies cannot be known.
    gw0 << R"({"nodeid": "t.py::test_c", "outcome": "passed", "deps": [0, 7]})"
        << "\n";
    // A pytest that a test started appends to the same file, with numbers of its own.
    gw0 << R"({"nodeid": "t.py::test_inner", "outcome": "passed", "w": "b-2", "deps": [0],)"
        << R"( "defs": [[0, "pkg/inner.py", "k"]]})"
        << "\n";
    gw0 << R"({"nodeid": "t.py::test_e", "outcome": "passed", "w": "", "deps": [0]})"
        << "\n";
    // A writer that defined nothing in this file: its numbers name nothing.
    gw0 << R"({"nodeid": "t.py::test_f", "outcome": "passed", "w": "c-3", "deps": [1]})"
        << "\n";
    // Another worker numbers its own code: 0 is not gw0's 0.
    std::ofstream gw1(dir / "gw1.jsonl");
    gw1 << R"({"nodeid": "t.py::test_d", "outcome": "passed", "deps": [0],)"
        << R"( "defs": [[0, "pkg/d.py", "h"]]})"
        << "\n";
  }
  testmap::Diagnostics diags;
  auto records = read_results(dir.string(), &diags);
  REQUIRE(records.size() == 7);
  using Deps = std::vector<std::pair<std::string, std::string>>;
  CHECK(records[0].has_deps);
  CHECK(records[0].deps == Deps{{"pkg/a.py", "f"}, {"pkg/a.py", "C"}});
  CHECK(records[1].deps == Deps{{"pkg/a.py", "f"}, {"pkg/b.py", "g"}});
  CHECK_FALSE(records[2].has_deps);
  CHECK(records[3].deps == Deps{{"pkg/inner.py", "k"}});
  CHECK(records[4].deps == Deps{{"pkg/a.py", "f"}});  // the first writer's 0, still
  CHECK_FALSE(records[5].has_deps);
  CHECK(records[6].deps == Deps{{"pkg/d.py", "h"}});
  fs::remove_all(dir);
}
