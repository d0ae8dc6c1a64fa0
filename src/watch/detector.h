// The watch's test (docs/watch.md): is a report's current version slower for a tenant than the
// version before it, and did falling back to that version help?
//
// Each judgement compares two sets of runs by their database time: the current version's and the
// baseline's (the previous version's runs for the same tenant, or for tenants of the same size
// when the tenant has too few). Three things must hold before a version is called regressed:
//   - a one-sided rank test (Mann-Whitney U, exact) says the current runs are slower than the
//     baseline's times min_ratio: rank-based, so one outlier (a cold cache, a vacuum) moves it
//     little, and scaled by min_ratio, so an ordinary 30% jitter is inside its null hypothesis;
//   - its p-value is below the look's share of alpha: the test runs again after every run, and
//     look k may spend alpha / (k (k + 1)), so all the looks together keep the false-alarm bound
//     alpha (a union bound; it stays valid however long the version runs);
//   - the medians differ by at least min_ratio and by min_slower_ms.
// Hard triggers need no test: a run that timed out or that the database refused, where the
// baseline's runs all succeeded.
//
// A failed run (timeout, error) counts as slower than any run that finished.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace strata::watch {

inline constexpr double kFailed = std::numeric_limits<double>::infinity();

struct DetectorSettings {
  double min_ratio = 1.5;     // the current version must be at least this much slower
  double min_slower_ms = 50;  // and slower by at least this much (median database time)
  double alpha = 0.05;        // the bound on false alarms per tenant and version, over every look
  int min_runs = 3;           // runs of each version before the rank test may judge
  int tenant_baseline = 5;    // fewer baseline runs for the tenant: use its size stratum's
  int window = 20;            // the newest runs of each version that are compared
  int verify_runs = 3;        // fallback runs before the first verification
  int verify_max = 10;        // fallback runs after which an unconfirmed fallback is reverted
};

// The one-sided p-value of the Mann-Whitney U test that `slow` is stochastically larger than
// `fast` scaled by `scale`: the chance, were both from one distribution, of a U at least as large
// as observed (exact; a tie counts a half in U, and the tail is taken from the whole number below
// it, which errs towards a larger p). 1 when either is empty.
double RankTestPValue(const std::vector<double>& slow, const std::vector<double>& fast, double scale);

// Look k's (1-based) share of alpha: alpha / (k (k + 1)); the shares of every k sum to alpha.
double LookAlpha(double alpha, int look);

// The median (the mean of the middle two for an even count); kFailed counts as the largest.
double Median(std::vector<double> values);

struct Judgement {
  bool regressed = false;
  double ratio = 0;    // median current / median baseline; kFailed when the current median failed
  double p = 1;        // the rank test's p-value (0 for a hard trigger)
  int runs = 0;        // current runs judged
  std::string reason;  // one sentence, for people
};

// Judges the current version's runs against the baseline's, at look number `look` (the count of
// the current version's runs so far for this tenant). Both lists oldest first; only the newest
// settings.window of each are used.
Judgement JudgeRegression(const std::vector<double>& baseline, const std::vector<double>& current, int look,
                          const DetectorSettings& settings);

enum class Verification { kPending, kVerified, kNotFaster };

struct VerifyResult {
  Verification outcome = Verification::kPending;
  double ratio = 0;  // median regressed / median fallback
  std::string reason;
};

// Did the fallback help? `regressed`: the current version's runs that were judged; `fallback`: the
// good version's runs since the fallback began. Verified by the same rank test as the detection
// (the regressed runs slower than the fallback's by min_ratio), at alpha without spending it over
// looks: the detection already stands on its own bound, and at most verify_max looks are made;
// a wrong "verified" keeps the version that was good before, which returns the same rows. Not
// faster when the fallback's median is no better, or when verify_max runs did not confirm it. When
// most regressed runs failed (timeouts), verify_runs fallback runs that all finished verify it, and
// one that failed does not.
VerifyResult VerifyFallback(const std::vector<double>& regressed, const std::vector<double>& fallback,
                            const DetectorSettings& settings);

// The size stratum of a tenant whose report returned `rows` rows: half-decades (1-3, 4-9, 10-31,
// ...); 0 for none.
int Stratum(int64_t rows);

}  // namespace strata::watch
