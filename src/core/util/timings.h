// Wall-clock seconds per phase, so `--timings` can say where a run's time went.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace testmap {

using Timings = std::vector<std::pair<std::string, double>>;

class Stopwatch {
 public:
  // Seconds since construction or the previous lap.
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace testmap
