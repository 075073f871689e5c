// A recorded unit (file, name, hash) as a hash-map key that views the strings of a
// recording instead of copying them: a suite's recording holds millions of (test, unit)
// links to a few thousand units.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace testmap::store {

struct UnitKey {
  std::string_view file, name;
  uint64_t hash;
  bool operator==(const UnitKey&) const = default;
};

struct UnitKeyHash {
  size_t operator()(const UnitKey& k) const {
    size_t h = std::hash<std::string_view>()(k.file);
    h ^= std::hash<std::string_view>()(k.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h ^ (k.hash + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

}  // namespace testmap::store
