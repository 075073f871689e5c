// libFuzzer harness: any bytes as a compose file and as a GitHub and GitLab CI file must
// neither crash nor trip ASan/UBSan; each file either gives services or one note of one
// line. Built with TESTMAP_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/config/service_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    std::string tmpl = (fs::temp_directory_path() / "testmap-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    fs::create_directories(fs::path(tmpl) / ".github" / "workflows");
    return fs::path(tmpl);
  }();
  for (const char* name : {"docker-compose.yml", ".github/workflows/ci.yml", ".gitlab-ci.yml"}) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  testmap::config::FileServices found = testmap::config::read_service_files(dir.string());
  if (found.notes.size() > 3) std::abort();
  for (const auto& n : found.notes)
    if (n.format().find('\n') != std::string::npos) std::abort();
  for (const auto& s : found.services)
    for (int p : s.ports)
      if (p < 1 || p > 65535) std::abort();
  return 0;
}
