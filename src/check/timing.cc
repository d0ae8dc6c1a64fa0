#include "check/timing.h"

#include <algorithm>
#include <cmath>

namespace strata::check {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<double> RobustZ(const std::vector<double>& x) {
  const double m = Median(x);
  std::vector<double> dev;
  for (double v : x) dev.push_back(std::fabs(v - m));
  double mad = 1.4826 * Median(dev);
  std::vector<double> z(x.size(), 0);
  if (mad <= 1e-12) {
    double sum = 0;
    for (double d : dev) sum += d;
    mad = 1.2533 * sum / static_cast<double>(std::max<size_t>(dev.size(), 1));
  }
  if (mad <= 1e-12) return z;
  for (size_t k = 0; k < x.size(); ++k) z[k] = (x[k] - m) / mad;
  return z;
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
