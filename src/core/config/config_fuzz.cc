// libFuzzer harness: any bytes as pyproject.toml must neither crash nor trip ASan/UBSan;
// the config is either unusable (one line) or loaded, with finite start-up times. The
// loader reads files, so the input is written into a directory of the harness's own.
// Built with TESTMAP_FUZZ=ON.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "testmap-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    return std::filesystem::path(tmpl);
  }();
  {
    std::ofstream out(dir / "pyproject.toml", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  testmap::config::Config cfg = testmap::config::load_config(dir.string());
  if (!cfg.unusable.empty() && cfg.unusable.find('\n') != std::string::npos) std::abort();
  for (const auto& s : cfg.services)
    if (!std::isfinite(s.startup_seconds)) std::abort();
  (void)cfg.db.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)cfg.ci.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
