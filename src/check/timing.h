// The timing verdict: when is a candidate slower, and not merely noisy?
//
// A set of repetitions says "slower" only when all three hold: the candidate's median is at least
// slower_ratio times the base's, at least min_slower_ms more in absolute time, and every one of its
// repetitions is slower than every one of the base's (the two ranges do not overlap). With 5
// alternated repetitions each, identical SQL has a 1-in-252 chance of the ranges not overlapping,
// and must then also differ by 1.5x and 20 ms: about 1 in 600 sets even with 30% noise. So the
// verdict needs a second, independent set to agree (the runner runs it only when the first says
// slower): about 1 in 400,000, while a real regression is confirmed at once.
#pragma once

#include <vector>

namespace strata::check {

double Median(std::vector<double> values);

// Robust z-scores: (x - median) / (1.4826 * MAD). When more than half the values are equal (MAD 0),
// the mean absolute deviation stands in, so the few that differ still stand out; all 0 when every
// value is the same.
std::vector<double> RobustZ(const std::vector<double>& values);

struct TimingRule {
  double slower_ratio = 1.5;
  double min_slower_ms = 20;
};

bool IsSlower(const std::vector<double>& base_ms, const std::vector<double>& candidate_ms, const TimingRule& rule);

}  // namespace strata::check
