// libFuzzer harness: any bytes as a pytest-split .test_durations file or a JUnit XML report
// must neither crash nor trip ASan/UBSan, and every duration let through is a finite number
// of seconds (the first byte picks the format). Built with TESTMAP_FUZZ=ON.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/plan/durations_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<testmap::runtime::TestRecord> records;
  testmap::Diagnostics diags;
  size_t rejected = 0;
  testmap::plan::import_durations_text("fuzz", text, "/nonexistent", &records, &diags, &rejected);
  for (const auto& r : records)
    if (!std::isfinite(r.duration) || r.duration < 0) std::abort();
  return 0;
}
