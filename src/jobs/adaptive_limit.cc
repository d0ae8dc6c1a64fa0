#include "jobs/adaptive_limit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace strata::jobs {

namespace {

double LowerQuartile(const std::deque<double>& values) {
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 4];
}

}  // namespace

AdaptiveLimit::AdaptiveLimit(int floor, int ceiling, double backoff_ratio, double recover_ratio)
    : floor_(std::max(floor, 1)),
      ceiling_(std::max(ceiling, std::max(floor, 1))),
      backoff_(backoff_ratio),
      recover_(recover_ratio),
      limit_(ceiling_) {}

int AdaptiveLimit::limit() const {
  std::lock_guard lock(mu_);
  return limit_;
}

double AdaptiveLimit::pressure() const {
  std::lock_guard lock(mu_);
  return average_;
}

std::string AdaptiveLimit::Observe(const std::string& report, const std::string& tenant, double db_seconds) {
  std::lock_guard lock(mu_);
  std::deque<double>& past = history_[report + '\n' + tenant];
  std::string changed;
  // Exports that take under a millisecond say nothing of the database's load.
  if (static_cast<int>(past.size()) >= kMinBaseline && db_seconds > 0.001) {
    const double baseline = std::max(LowerQuartile(past), 0.001);
    changed = Adjust(db_seconds / baseline);
  }
  past.push_back(db_seconds);
  if (static_cast<int>(past.size()) > kBaselineRuns) past.pop_front();
  return changed;
}

std::string AdaptiveLimit::Adjust(double ratio) {
  average_ = seen_ ? 0.9 * average_ + 0.1 * ratio : ratio;
  seen_ = true;
  if (++since_change_ < limit_) return "";
  const int before = limit_;
  if (average_ >= backoff_ && limit_ > floor_) {
    limit_ = std::max(floor_, std::min(limit_ - 1, static_cast<int>(std::floor(limit_ * 0.7))));
  } else if (average_ <= recover_ && limit_ < ceiling_) {
    ++limit_;
  }
  if (limit_ == before) return "";
  since_change_ = 0;
  char line[200];
  std::snprintf(line, sizeof line,
                "exports take %.1fx their usual database time: at most %d at once now (was %d; between %d and %d)",
                average_, limit_, before, floor_, ceiling_);
  return line;
}

}  // namespace strata::jobs
