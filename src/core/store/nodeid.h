// pytest's node ids as the store keeps them: the test without its parametrize id (test.nodeid)
// and the id apart (duration.variant).
#pragma once

#include <string>
#include <tuple>

namespace testmap::store {

inline std::string strip_params(const std::string& nodeid) {
  size_t br = nodeid.find('[');
  return br == std::string::npos ? nodeid : nodeid.substr(0, br);
}

inline std::string params_of(const std::string& nodeid) {
  size_t br = nodeid.find('[');
  return br == std::string::npos ? std::string() : nodeid.substr(br);
}

// file, class path and function of "tests/a.py::TestX::Inner::test_y".
inline std::tuple<std::string, std::string, std::string> split_nodeid(const std::string& id) {
  size_t first = id.find("::");
  if (first == std::string::npos) return {id, "", ""};
  size_t last = id.rfind("::");
  std::string cls = last > first ? id.substr(first + 2, last - first - 2) : "";
  return {id.substr(0, first), cls, id.substr(last + 2)};
}

}  // namespace testmap::store
