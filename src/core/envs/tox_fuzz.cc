// libFuzzer harness: any bytes as tox.ini must neither crash, hang nor trip ASan/UBSan. The
// configuration is refused in one line or read; each environment's commands are read for
// pytest paths and its job. The reader reads files, so the input is written into a
// directory of the harness's own. Built with TESTMAP_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/envs/commands.h"
#include "core/envs/tox.h"
#include "core/envs/tox_results.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "testmap-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    return std::filesystem::path(tmpl);
  }();
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(dir / "tox.ini", std::ios::binary | std::ios::trunc);
    out << text;
  }
  testmap::envs::ToxConfig cfg;
  testmap::Diagnostic error;
  if (!testmap::envs::read_tox(dir.string(), &cfg, &error)) {
    if (error.format().find('\n') != std::string::npos) std::abort();
  } else {
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
  // The same bytes as tox's result JSON.
  std::vector<testmap::envs::EnvDuration> durations;
  if (testmap::envs::is_tox_results(text))
    (void)testmap::envs::read_tox_results(text, "r.json", &durations, &error);
  return 0;
}
