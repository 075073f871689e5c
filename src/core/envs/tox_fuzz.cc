// libFuzzer harness: any bytes as tox.ini, as tox.toml, as noxfile.py and as nox's listing
// must neither crash, hang nor trip ASan/UBSan. The configuration is refused in one line or read;
// each environment's commands are read for pytest paths and its job. The reader reads files, so the
// input is written into directories of the harness's own. Built with TESTMAP_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/envs/commands.h"
#include "core/envs/nox.h"
#include "core/envs/tox.h"
#include "core/envs/tox_results.h"

namespace {

std::filesystem::path make_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "testmap-fuzz-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) std::abort();
  return std::filesystem::path(tmpl);
}

void read_as(const std::filesystem::path& dir, const char* file, const std::string& text) {
  {
    std::ofstream out(dir / file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
  if (!testmap::envs::read_tox(dir.string(), &cfg, &error)) {
    if (error.format().find('\n') != std::string::npos) std::abort();
    return;
  }
  if (cfg.envs.size() > testmap::envs::kMaxEnvironments) std::abort();
  for (const auto& e : cfg.envs) {
    bool runs = false;
    std::string unread;
    auto paths = testmap::envs::pytest_paths(e, dir.string(), &runs, &unread);
    if (!unread.empty() && !paths.empty()) std::abort();  // unread means every test
    (void)testmap::envs::group_key(e, "");
    (void)testmap::envs::group_key(e, "python");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path ini_dir = make_dir(), toml_dir = make_dir();
  std::string text(reinterpret_cast<const char*>(data), size);
  read_as(ini_dir, "tox.ini", text);
  read_as(toml_dir, "tox.toml", text);
  // As a noxfile whose sessions nox lists, and as nox's listing of a fixed noxfile.
  static const char* kListing =
      R"J([{"session": "a", "name": "a", "python": "3.12"}, {"session": "tests(x='1')",
            "name": "tests", "call_spec": {"x": "1"}}, {"session": "b", "name": "b"}])J";
  static const char* kNoxfile =
      "import nox\n@nox.session\ndef tests(session, x):\n    session.run('pytest', f't/{x}')\n";
  for (const auto& [listing, noxfile] :
       {std::pair<std::string, std::string>{kListing, text}, {text, kNoxfile}}) {
    testmap::envs::ToxConfig cfg;
    testmap::Diagnostic bad;
    if (testmap::envs::read_nox_listing(listing, noxfile, &cfg, &bad))
      for (const auto& e : cfg.envs) {
        bool runs = false;
        std::string unread;
        auto paths = testmap::envs::pytest_paths(e, ini_dir.string(), &runs, &unread);
        if (!unread.empty() && !paths.empty()) std::abort();
        (void)testmap::envs::group_key(e, "x");
      }
    else if (bad.format().find('\n') != std::string::npos)
      std::abort();
  }
  // The same bytes as tox's result JSON, and as a job's set-up file.
  std::vector<testmap::envs::EnvDuration> durations;
  testmap::Diagnostic error;
  if (testmap::envs::is_tox_results(text))
    (void)testmap::envs::read_tox_results(text, "r.json", &durations, &error);
  testmap::envs::JobSetup job;
  if (testmap::envs::is_job_setup(text))
    (void)testmap::envs::read_job_setup(text, "j", &job, &error);
  return 0;
}
