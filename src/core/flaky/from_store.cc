// Reading the outcomes of comparable runs from the store and finding the flaky tests.
#include "core/flaky/from_store.h"

#include <fmt/format.h>

#include "core/store/store.h"

namespace testmap::flaky {

bool flaky_in_store(const std::string& root, std::vector<FlakyTest>* out, std::set<long long>* runs,
                    std::string* error) {
  store::Store s(store::default_path(root), store::Access::kRead);
  std::vector<Outcome> outcomes;
  if (!s.missing() && (!s.ok() || !s.comparable_outcomes(&outcomes))) {
    *error = fmt::format("the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  *out = find_flaky(outcomes);
  for (const auto& o : outcomes) runs->insert(o.run_id);
  return true;
}

}  // namespace testmap::flaky
