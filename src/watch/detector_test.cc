// The watch's test (detector.h): exact p-values, the look-by-look alpha, and how it behaves on
// simulated noisy timings: a real regression found within a few runs, a benign version never.
#include "watch/detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace strata::watch {
namespace {

TEST(RankTestTest, ExactPValuesOfSmallSamples) {
  // Every slow run above every fast one: 1 order in C(6, 3) = 20.
  EXPECT_DOUBLE_EQ(RankTestPValue({4, 5, 6}, {1, 2, 3}, 1), 1.0 / 20);
  // Scaled by 1.5 the fast runs are 4.5, 5.25, 5.85: U = 4, and P(U >= 4) = 13/20 for 3 and 3.
  EXPECT_DOUBLE_EQ(RankTestPValue({4, 5, 6}, {3, 3.5, 3.9}, 1.5), 13.0 / 20);
  EXPECT_DOUBLE_EQ(RankTestPValue({1, 2, 3}, {4, 5, 6}, 1), 1.0);
  EXPECT_DOUBLE_EQ(RankTestPValue({}, {1}, 1), 1.0);
  // A failure is above every finished run.
  EXPECT_DOUBLE_EQ(RankTestPValue({kFailed, kFailed}, {1, 2, 3}, 1.5), 1.0 / 10);
}

TEST(RankTestTest, TiesCountAHalfAndErrTowardsALargerP) {
  // All tied: U = 4.5 of 9; the tail is taken from 4: P(U >= 4) = 13/20, not P(U >= 5) = 10/20.
  EXPECT_DOUBLE_EQ(RankTestPValue({2, 2, 2}, {2, 2, 2}, 1), 13.0 / 20);
  // One tie among otherwise separated runs: U = 8.5, P(U >= 8) = 2/20.
  EXPECT_DOUBLE_EQ(RankTestPValue({3, 5, 6}, {1, 2, 3}, 1), 2.0 / 20);
}

TEST(RankTestTest, LooksShareAlphaSoThatAllOfThemStayWithinIt) {
  double sum = 0;
  for (int k = 1; k <= 100000; ++k) sum += LookAlpha(0.05, k);
  EXPECT_LT(sum, 0.05);
  EXPECT_GT(sum, 0.0499);
  EXPECT_DOUBLE_EQ(LookAlpha(0.05, 1), 0.025);
}

TEST(RankTestTest, MedianCountsAFailureAsTheLargest) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 2, 3}), 2.5);
  EXPECT_EQ(Median({1, kFailed, kFailed}), kFailed);
}

// Database times with multiplicative noise: lognormal, sigma 0.3 (a run 30% off is ordinary).
std::vector<double> Noisy(std::mt19937_64& random, double median, int n, double sigma = 0.3) {
  std::lognormal_distribution<double> noise(0, sigma);
  std::vector<double> runs;
  for (int k = 0; k < n; ++k) runs.push_back(median * noise(random));
  return runs;
}

// Runs the detection look by look, as the watch does after every run; returns the look at which
// it fired, 0 when it never did.
int FirstAlarm(const std::vector<double>& baseline, const std::vector<double>& current,
               const DetectorSettings& settings) {
  std::vector<double> seen;
  for (size_t k = 0; k < current.size(); ++k) {
    seen.push_back(current[k]);
    if (JudgeRegression(baseline, seen, static_cast<int>(k + 1), settings).regressed) return static_cast<int>(k + 1);
  }
  return 0;
}

TEST(JudgeRegressionTest, AFiveTimesSlowerVersionIsFoundWithinTenRunsDespiteNoise) {
  std::mt19937_64 random(7);
  DetectorSettings settings;
  std::vector<double> looks;
  for (int trial = 0; trial < 200; ++trial) {
    // Eight runs of the old version, each 30% off and more (lognormal, sigma 0.3).
    const int at = FirstAlarm(Noisy(random, 400, 8), Noisy(random, 2000, 10), settings);
    EXPECT_GE(at, 3) << "trial " << trial;
    EXPECT_LE(at, 10) << "trial " << trial;
    looks.push_back(at);
  }
  EXPECT_LE(Median(looks), 5);
}

TEST(JudgeRegressionTest, ABenignVersionRaisesNoAlarmInThousandsOfNoisyRuns) {
  std::mt19937_64 random(11);
  DetectorSettings settings;
  int alarms = 0;
  for (int trial = 0; trial < 100; ++trial) {
    // 300 runs of a version as fast as the old one, noise 30% and more, and a 1.3x slower one.
    alarms += FirstAlarm(Noisy(random, 400, 20, 0.4), Noisy(random, 400, 300, 0.4), settings) != 0;
    alarms += FirstAlarm(Noisy(random, 400, 20), Noisy(random, 520, 300), settings) != 0;
  }
  EXPECT_EQ(alarms, 0);
}

TEST(JudgeRegressionTest, ASlowdownOfAFewMillisecondsIsNotWorthAFallback) {
  DetectorSettings settings;
  settings.min_slower_ms = 50;
  std::vector<double> base(8, 2.0);
  std::vector<double> cur(10, 20.0);
  EXPECT_FALSE(JudgeRegression(base, cur, 10, settings).regressed);
  settings.min_slower_ms = 10;
  EXPECT_TRUE(JudgeRegression(base, cur, 10, settings).regressed);
}

TEST(JudgeRegressionTest, ATimeoutWhereTheOldVersionAlwaysFinishedIsAHardTrigger) {
  DetectorSettings settings;
  const Judgement j = JudgeRegression({100, 120, 110}, {kFailed}, 1, settings);
  EXPECT_TRUE(j.regressed);
  EXPECT_EQ(j.ratio, kFailed);
  EXPECT_NE(j.reason.find("failed"), std::string::npos) << j.reason;
  // The old version failed too: one failure proves nothing.
  EXPECT_FALSE(JudgeRegression({100, kFailed, 110}, {kFailed}, 1, settings).regressed);
  // A failure that is not the newest run triggered (or not) when it was.
  EXPECT_FALSE(JudgeRegression({100, 120, 110}, {kFailed, 100}, 2, settings).regressed);
}

TEST(JudgeRegressionTest, TooFewRunsOfEitherVersionAreNotJudged) {
  DetectorSettings settings;
  EXPECT_FALSE(JudgeRegression({100, 100}, {1000, 1000, 1000, 1000}, 4, settings).regressed);
  EXPECT_FALSE(JudgeRegression({100, 100, 100, 100}, {1000, 1000}, 2, settings).regressed);
  EXPECT_FALSE(JudgeRegression({}, {kFailed}, 1, settings).regressed);
}

TEST(VerifyFallbackTest, AFallbackThatHelpsIsVerifiedAfterItsFirstRuns) {
  DetectorSettings settings;
  std::mt19937_64 random(3);
  const std::vector<double> regressed = Noisy(random, 2000, 6);
  EXPECT_EQ(VerifyFallback(regressed, Noisy(random, 400, 2), settings).outcome, Verification::kPending);
  const VerifyResult v = VerifyFallback(regressed, Noisy(random, 400, 3), settings);
  EXPECT_EQ(v.outcome, Verification::kVerified) << v.reason;
  EXPECT_GT(v.ratio, 3);
}

TEST(VerifyFallbackTest, AFallbackThatDoesNotHelpIsReverted) {
  DetectorSettings settings;
  std::mt19937_64 random(5);
  const std::vector<double> regressed = Noisy(random, 2000, 6);
  const VerifyResult same = VerifyFallback(regressed, Noisy(random, 2600, 3, 0.05), settings);
  EXPECT_EQ(same.outcome, Verification::kNotFaster) << same.reason;
  // A little faster, never by min_ratio: reverted once verify_max runs did not confirm it.
  std::vector<double> fallback;
  Verification last = Verification::kPending;
  for (int k = 0; k < settings.verify_max && last == Verification::kPending; ++k) {
    fallback.push_back(1800 + 10 * k);
    if (static_cast<int>(fallback.size()) >= settings.verify_runs) {
      last = VerifyFallback(regressed, fallback, settings).outcome;
    }
  }
  EXPECT_EQ(last, Verification::kNotFaster);
  EXPECT_EQ(static_cast<int>(fallback.size()), settings.verify_max);
}

TEST(VerifyFallbackTest, AFailingVersionsFallbackIsVerifiedByRunsThatFinish) {
  DetectorSettings settings;
  EXPECT_EQ(VerifyFallback({kFailed}, {300, 320, 310}, settings).outcome, Verification::kVerified);
  EXPECT_EQ(VerifyFallback({kFailed}, {300, kFailed, kFailed}, settings).outcome, Verification::kNotFaster);
  EXPECT_EQ(VerifyFallback({kFailed, kFailed, 900}, {300, 310, kFailed}, settings).outcome, Verification::kNotFaster)
      << "one failure of the good version is enough to doubt it: never pending for ever";
}

TEST(StratumTest, HalfDecadesOfRows) {
  EXPECT_EQ(Stratum(0), 0);
  EXPECT_EQ(Stratum(1), 1);
  EXPECT_EQ(Stratum(3), 1);
  EXPECT_EQ(Stratum(4), 2);
  EXPECT_EQ(Stratum(10), 3);
  EXPECT_EQ(Stratum(100000), 11);
  EXPECT_EQ(Stratum(150000), 11);
}

}  // namespace
}  // namespace strata::watch
