// testmap._core: the C++ core for the pytest plugin. Only forwards into core;
// results cross as JSON text so the Python side stays a few lines.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "core/classify/classifier.h"
#include "core/classify/report.h"
#include "core/scan/outline_json.h"
#include "core/scan/scanner.h"

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
      [](const std::string& root) {
        classify::Classification c;
        {
          nb::gil_scoped_release release;
          c = classify::classify_root(root);
        }
        return classify::to_json_text(c);
      },
      nb::arg("root"), "Static classification of the repository at root, as JSON text");
}
