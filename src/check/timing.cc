#include "check/timing.h"

#include <algorithm>

namespace strata::check {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool IsSlower(const std::vector<double>& base, const std::vector<double>& candidate, const TimingRule& rule) {
  if (base.empty() || candidate.empty()) return false;
  const double b = Median(base), c = Median(candidate);
  const bool ratio = c >= rule.slower_ratio * std::max(b, 1e-6);
  const bool absolute = c - b >= rule.min_slower_ms;
  const bool apart =
      *std::min_element(candidate.begin(), candidate.end()) > *std::max_element(base.begin(), base.end());
  return ratio && absolute && apart;
}

}  // namespace strata::check
