// The adaptive limit (adaptive_limit.h): down when the database's exports take longer than their
// own baseline, back up when they do not, and steady under ordinary noise.
#include "jobs/adaptive_limit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace strata::jobs {
namespace {

// n exports of each of three tenants, each `factor` times its usual time, with 30% noise.
void Feed(AdaptiveLimit& limit, std::mt19937_64& random, int n, double factor, std::vector<int>* seen = nullptr) {
  std::lognormal_distribution<double> noise(0, 0.3);
  const double usual[] = {0.2, 1.5, 0.05};
  for (int k = 0; k < n; ++k) {
    for (int t = 0; t < 3; ++t) {
      limit.Observe("report", "tenant" + std::to_string(t), usual[t] * factor * noise(random));
      if (seen != nullptr) seen->push_back(limit.limit());
    }
  }
}

TEST(AdaptiveLimitTest, StartsAtTheCeilingAndStaysThereUnderOrdinaryNoise) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    AdaptiveLimit limit(1, 8);
    std::mt19937_64 random(seed);
    std::vector<int> seen;
    Feed(limit, random, 200, 1.0, &seen);
    EXPECT_EQ(*std::min_element(seen.begin(), seen.end()), 8) << "30% noise is not a slowdown (seed " << seed << ")";
  }
}

TEST(AdaptiveLimitTest, BacksOffWhenTheDatabaseSlowsDownAndRecoversAfter) {
  AdaptiveLimit limit(1, 8);
  std::mt19937_64 random(2);
  Feed(limit, random, 10, 1.0);
  ASSERT_EQ(limit.limit(), 8);
  std::vector<int> slow;
  Feed(limit, random, 6, 4.0, &slow);  // everything takes four times as long
  EXPECT_LE(limit.limit(), 2) << "backed off";
  EXPECT_GE(limit.limit(), 1) << "never under the floor";
  EXPECT_GT(limit.pressure(), 2.0);
  std::vector<int> after;
  Feed(limit, random, 30, 1.0, &after);
  EXPECT_EQ(limit.limit(), 8) << "recovered once the database was quick again";
  // Recovery is additive: one step at a time.
  for (size_t k = 1; k < after.size(); ++k) EXPECT_LE(after[k] - after[k - 1], 1);
}

TEST(AdaptiveLimitTest, ATenantWhoseDataGrewForGoodBecomesTheNewNormal) {
  AdaptiveLimit limit(1, 4);
  for (int k = 0; k < 20; ++k) limit.Observe("report", "t", 0.1);
  for (int k = 0; k < 40; ++k) limit.Observe("report", "t", 0.5);
  EXPECT_EQ(limit.limit(), 4) << "five times the rows, for good: after a while the baseline follows";
}

TEST(AdaptiveLimitTest, TinyExportsSayNothing) {
  AdaptiveLimit limit(1, 4);
  for (int k = 0; k < 10; ++k) limit.Observe("report", "t", 0.0001);
  for (int k = 0; k < 10; ++k) limit.Observe("report", "t", 0.0009);
  EXPECT_EQ(limit.limit(), 4);
}

}  // namespace
}  // namespace strata::jobs
