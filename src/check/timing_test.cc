#include "check/timing.h"

#include <gtest/gtest.h>

#include <random>

namespace strata::check {
namespace {

TEST(TimingTest, SlowerNeedsRatioAbsoluteDifferenceAndSeparateRanges) {
  const TimingRule rule{1.5, 20};
  EXPECT_TRUE(IsSlower({40, 41, 42, 43, 44}, {100, 101, 102, 103, 104}, rule));
  // 2x slower but only 5 ms more: under the absolute threshold.
  EXPECT_FALSE(IsSlower({5, 5, 5, 5, 5}, {10, 10, 10, 10, 10}, rule));
  // 30 ms more but only 1.1x.
  EXPECT_FALSE(IsSlower({300, 300, 300, 300, 300}, {330, 330, 330, 330, 330}, rule));
  // The medians are far apart but one base run was as slow as the candidate: noise, not a verdict.
  EXPECT_FALSE(IsSlower({40, 41, 42, 43, 200}, {100, 101, 102, 103, 104}, rule));
}

TEST(TimingTest, IdenticalDistributionsNeverFailOnceConfirmed) {
  // The same query's times, drawn from one noisy distribution: over 10,000 trials the rule must
  // not fire once (it needs 1.5x and 20 ms on top of non-overlapping ranges).
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> ms(std::log(50.0), 0.3);
  const TimingRule rule{1.5, 20};
  auto set = [&] {
    std::vector<double> a, b;
    for (int k = 0; k < 5; ++k) {
      a.push_back(ms(rng));
      b.push_back(ms(rng));
    }
    return IsSlower(a, b, rule);
  };
  int one_set = 0, confirmed = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const bool first = set();
    one_set += first;
    confirmed += first && set();
  }
  EXPECT_LE(one_set, 100);  // about 1 in 600 sets alone
  EXPECT_EQ(confirmed, 0);  // the confirmed verdict: about 1 in 400,000
}

TEST(TimingTest, RealRegressionIsConfirmed) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> base(std::log(50.0), 0.1), slow(std::log(150.0), 0.1);
  const TimingRule rule{1.5, 20};
  int confirmed = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<double> a, b, c, d;
    for (int k = 0; k < 5; ++k) {
      a.push_back(base(rng));
      b.push_back(slow(rng));
      c.push_back(base(rng));
      d.push_back(slow(rng));
    }
    confirmed += IsSlower(a, b, rule) && IsSlower(c, d, rule);
  }
  EXPECT_GE(confirmed, 990);
}

TEST(TimingTest, Median) {
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 2, 3}), 2.5);
  EXPECT_EQ(Median({}), 0);
}

}  // namespace
}  // namespace strata::check
