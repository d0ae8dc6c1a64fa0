#include "watch/detector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace strata::watch {

namespace {

std::vector<double> Newest(const std::vector<double>& runs, int window) {
  const size_t keep = std::min(runs.size(), static_cast<size_t>(std::max(window, 1)));
  return std::vector<double>(runs.end() - static_cast<std::ptrdiff_t>(keep), runs.end());
}

// counts[u]: how many of the C(m+n, m) orders of m slow and n fast values give U = u (the number of
// (slow, fast) pairs where the slow one is larger). The largest value is either slow (it beats all
// n fast ones) or fast: f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u).
std::vector<double> UCounts(size_t m, size_t n) {
  // row[j] holds f(i, j, .) for the current i.
  std::vector<std::vector<double>> row(n + 1, std::vector<double>(1, 1.0));  // f(0, j, .) = [1]
  for (size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> next(n + 1);
    next[0] = std::vector<double>(1, 1.0);  // f(i, 0, .) = [1]
    for (size_t j = 1; j <= n; ++j) {
      std::vector<double> f(i * j + 1, 0.0);
      for (size_t u = 0; u < row[j].size(); ++u) f[u + j] += row[j][u];        // f(i-1, j, u-j)
      for (size_t u = 0; u < next[j - 1].size(); ++u) f[u] += next[j - 1][u];  // f(i, j-1, u)
      next[j] = std::move(f);
    }
    row = std::move(next);
  }
  return row[n];
}

std::string Ms(double ms) {
  if (ms == kFailed) return "failed";
  char text[32];
  if (ms >= 10000) {
    std::snprintf(text, sizeof text, "%.1f s", ms / 1000);
  } else {
    std::snprintf(text, sizeof text, "%.0f ms", ms);
  }
  return text;
}

std::string Ratio(double r) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fx", r);
  return text;
}

bool AllFinished(const std::vector<double>& runs) {
  return std::none_of(runs.begin(), runs.end(), [](double ms) { return ms == kFailed; });
}

}  // namespace

double RankTestPValue(const std::vector<double>& slow, const std::vector<double>& fast, double scale) {
  if (slow.empty() || fast.empty()) return 1;
  double u = 0;
  for (double s : slow) {
    for (double f : fast) {
      const double scaled = f == kFailed ? kFailed : f * scale;
      if (s > scaled) {
        u += 1;
      } else if (s == scaled) {
        u += 0.5;
      }
    }
  }
  const std::vector<double> counts = UCounts(slow.size(), fast.size());
  double total = 0;
  double tail = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    total += counts[k];
    // A tie makes U a half: counting from the whole number below keeps the test conservative.
    if (static_cast<double>(k) >= std::floor(u)) tail += counts[k];
  }
  return tail / total;
}

double LookAlpha(double alpha, int look) {
  const double k = std::max(look, 1);
  return alpha / (k * (k + 1));
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  if (n % 2 == 1) return values[n / 2];
  const double a = values[n / 2 - 1];
  const double b = values[n / 2];
  return a == kFailed || b == kFailed ? kFailed : (a + b) / 2;
}

Judgement JudgeRegression(const std::vector<double>& baseline_runs, const std::vector<double>& current_runs, int look,
                          const DetectorSettings& settings) {
  const std::vector<double> base = Newest(baseline_runs, settings.window);
  const std::vector<double> cur = Newest(current_runs, settings.window);
  Judgement j;
  j.runs = static_cast<int>(cur.size());
  if (cur.empty() || base.empty()) return j;
  const double base_median = Median(base);
  if (cur.back() == kFailed && AllFinished(base)) {
    j.regressed = true;
    j.ratio = kFailed;
    j.p = 0;
    j.reason = "the current version failed (timed out or was refused) where the good version's " +
               std::to_string(base.size()) + " runs all finished (median " + Ms(base_median) + ")";
    return j;
  }
  if (static_cast<int>(cur.size()) < settings.min_runs || static_cast<int>(base.size()) < settings.min_runs) return j;
  const double cur_median = Median(cur);
  j.ratio = base_median > 0 ? cur_median / base_median : (cur_median > 0 ? kFailed : 1);
  j.p = RankTestPValue(cur, base, settings.min_ratio);
  const double threshold = LookAlpha(settings.alpha, look);
  const bool slower_enough = cur_median == kFailed || cur_median - base_median >= settings.min_slower_ms;
  if (j.ratio >= settings.min_ratio && slower_enough && j.p <= threshold) {
    j.regressed = true;
    char p[32];
    std::snprintf(p, sizeof p, "%.2g", j.p);
    j.reason = "median database time " + Ms(cur_median) + " against " + Ms(base_median) + " (" +
               (j.ratio == kFailed ? std::string("failing") : Ratio(j.ratio)) + ") over " + std::to_string(cur.size()) +
               " runs; rank test p = " + p + " at least " + Ratio(settings.min_ratio) + " slower";
  }
  return j;
}

VerifyResult VerifyFallback(const std::vector<double>& regressed_runs, const std::vector<double>& fallback_runs,
                            const DetectorSettings& settings) {
  const std::vector<double> reg = Newest(regressed_runs, settings.window);
  const std::vector<double> fb = Newest(fallback_runs, settings.window);
  VerifyResult v;
  if (static_cast<int>(fallback_runs.size()) < settings.verify_runs || reg.empty()) return v;
  const double reg_median = Median(reg);
  const double fb_median = Median(fb);
  v.ratio = fb_median > 0 ? reg_median / fb_median : kFailed;
  const std::string runs = std::to_string(fallback_runs.size()) + " fallback runs";
  if (!AllFinished(fb) && fb_median >= reg_median) {
    v.outcome = Verification::kNotFaster;
    v.reason = "the good version failed too (" + runs + ")";
    return v;
  }
  if (reg_median == kFailed) {
    if (AllFinished(fb)) {
      v.outcome = Verification::kVerified;
      v.reason = runs + " all finished (median " + Ms(fb_median) + ") where the current version failed";
    } else {
      v.outcome = Verification::kNotFaster;
      v.reason = "the good version failed too (" + runs + ")";
    }
    return v;
  }
  if (fb_median >= reg_median) {
    v.outcome = Verification::kNotFaster;
    v.reason =
        "the good version is no faster: median " + Ms(fb_median) + " against " + Ms(reg_median) + " over " + runs;
    return v;
  }
  const double p = RankTestPValue(reg, fb, settings.min_ratio);
  if (v.ratio >= settings.min_ratio && p <= settings.alpha) {
    v.outcome = Verification::kVerified;
    v.reason = "the good version is " + Ratio(v.ratio) + " faster: median " + Ms(fb_median) + " against " +
               Ms(reg_median) + " over " + runs;
    return v;
  }
  if (static_cast<int>(fallback_runs.size()) >= settings.verify_max) {
    v.outcome = Verification::kNotFaster;
    v.reason = "not confirmed faster by " + Ratio(settings.min_ratio) + " after " + runs + " (median " + Ms(fb_median) +
               " against " + Ms(reg_median) + ")";
  }
  return v;
}

int Stratum(int64_t rows) {
  if (rows <= 0) return 0;
  return 1 + static_cast<int>(std::floor(2 * std::log10(static_cast<double>(rows))));
}

}  // namespace strata::watch
