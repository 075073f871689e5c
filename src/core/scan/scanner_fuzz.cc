// libFuzzer harness: any bytes through the decoder, lexer and outline parser must
// neither crash, overflow the stack nor trip ASan/UBSan. Built with TESTMAP_FUZZ=ON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/scan/outline_json.h"
#include "core/scan/scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  testmap::scan::Outline o = testmap::scan::scan_source(bytes, "fuzz.py");
  // Rendering reads every field; invalid UTF-8 in names must not throw.
  (void)testmap::scan::outline_to_json(o).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
  // And once more with call sites and without hashes (testmap lint): every `with` a call
  // names must exist.
  testmap::scan::Outline l = testmap::scan::scan_source(bytes, "fuzz.py", {true, false});
  for (const auto& c : l.call_sites)
    for (int w : c.withs)
      if (w < 0 || static_cast<size_t>(w) >= l.withs.size()) __builtin_trap();
  return 0;
}
