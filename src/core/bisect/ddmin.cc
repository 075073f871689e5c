// Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing Input", 2002),
// over lists of test ids.
#include "core/bisect/ddmin.h"

#include <algorithm>
#include <map>

namespace testmap::bisect {
namespace {

// `items` cut into `n` runs of nearly equal length, in order.
std::vector<std::vector<std::string>> split(const std::vector<std::string>& items, size_t n) {
  std::vector<std::vector<std::string>> parts;
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t end = start + (items.size() - start) / (n - i);
    parts.emplace_back(items.begin() + static_cast<long>(start),
                       items.begin() + static_cast<long>(end));
    start = end;
  }
  return parts;
}

std::vector<std::string> without(const std::vector<std::vector<std::string>>& parts, size_t skip) {
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i)
    if (i != skip) out.insert(out.end(), parts[i].begin(), parts[i].end());
  return out;
}

}  // namespace

Minimized ddmin(const std::vector<std::string>& before, const Trial& trial, int max_trials) {
  Minimized m;
  m.polluters = before;
  std::vector<std::string> smallest = before;      // the smallest set seen failing
  std::map<std::vector<std::string>, bool> tried;  // set -> failed
  auto fails = [&](const std::vector<std::string>& set) {
    if (auto it = tried.find(set); it != tried.end()) return it->second;
    ++m.trials;
    bool failed = trial(set) == Verdict::kFails;
    tried.emplace(set, failed);
    if (failed && set.size() < smallest.size()) smallest = set;
    return failed;
  };
  // Most often one test is to blame: halve, trying only the first half and taking the
  // second untried when the first passes, then try the one test left. That is log2 N + 1
  // trials where ddmin spends up to 2 log2 N; when the test left does not fail on its own
  // (two tests needed together), ddmin below starts again from the whole list.
  std::vector<std::string> guess = before;
  while (guess.size() >= 2 && m.trials < max_trials) {
    auto halves = split(guess, 2);
    guess = fails(halves[0]) ? halves[0] : halves[1];
  }
  if (guess.size() == 1 && m.trials < max_trials && fails(guess)) {
    m.polluters = guess;
    return m;
  }
  size_t n = 2;
  while (m.polluters.size() >= 2) {
    if (m.trials >= max_trials) {
      m.exhausted = true;
      m.polluters = smallest;
      break;
    }
    auto parts = split(m.polluters, std::min(n, m.polluters.size()));
    bool reduced = false;
    for (const auto& part : parts)
      if (fails(part)) {  // the failure is in this part alone
        m.polluters = part;
        n = 2;
        reduced = true;
        break;
      }
    // With two parts, each one's complement is the other part, tried just above.
    for (size_t i = 0; !reduced && parts.size() > 2 && i < parts.size(); ++i)
      if (auto rest = without(parts, i); fails(rest)) {
        m.polluters = rest;
        n = std::max<size_t>(n - 1, 2);
        reduced = true;
      }
    if (reduced) continue;
    if (parts.size() >= m.polluters.size()) break;  // every single test was tried
    n = std::min(m.polluters.size(), n * 2);
  }
  // One test left: the empty set is the test alone, which the caller saw passing.
  return m;
}

}  // namespace testmap::bisect
