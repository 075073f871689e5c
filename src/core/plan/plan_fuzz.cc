// libFuzzer harness: any bytes as a plan (pytest --testmap-plan) and as the planner's input
// (testmap plan --input) must neither crash nor trip ASan/UBSan, and every number accepted
// is finite. Built with TESTMAP_FUZZ=ON.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/plan/plan_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  testmap::plan::Plan plan;
  testmap::Diagnostic error;
  if (testmap::plan::parse_plan(text, "fuzz", &plan, &error))
    for (const auto& m : plan.machines)
      if (!std::isfinite(m.seconds) || !std::isfinite(m.startup_seconds)) std::abort();
  testmap::plan::PlanInput input;
  if (testmap::plan::parse_input(text, "fuzz", &input, &error)) {
    for (const auto& t : input.tests)
      if (!std::isfinite(t.seconds)) std::abort();
    for (const auto& [name, s] : input.startup)
      if (!std::isfinite(s)) std::abort();
  }
  return 0;
}
