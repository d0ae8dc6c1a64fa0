// AdaptiveLimit: how many exports may run at once, lowered when the database slows down and raised
// again when it does not (DESIGN.md, "jobs": the database is protected, not only shared).
//
// The signal is the database's own latency against its baseline: each finished export's database
// time divided by the lower quartile of the same report's last kBaselineRuns exports for the same
// tenant (compared only once there are kMinBaseline of them). The lower quartile moves only when
// most of the recent exports got slower: a slowdown of minutes stays visible, a tenant whose data
// grew for good becomes its new normal after a dozen exports.
// A moving average of those ratios above backoff_ratio (2: exports take twice their usual time)
// multiplies the limit by 0.7 (at least one less, never under `floor`); below recover_ratio (1.5)
// it adds one (never over `ceiling`). The limit changes at most once per `limit` exports, so each
// change is judged on exports that ran under it (additive increase, multiplicative decrease).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace strata::jobs {

class AdaptiveLimit {
 public:
  static constexpr int kBaselineRuns = 20;
  static constexpr int kMinBaseline = 8;

  AdaptiveLimit(int floor, int ceiling, double backoff_ratio = 2.0, double recover_ratio = 1.5);

  int limit() const;
  // A finished export: its report and tenant, and the seconds it spent in the database. Returns a
  // line for the log when the limit changed, else "".
  std::string Observe(const std::string& report, const std::string& tenant, double db_seconds);
  // The moving average of the latency ratios (1 before any).
  double pressure() const;

 private:
  std::string Adjust(double ratio);

  const int floor_;
  const int ceiling_;
  const double backoff_;
  const double recover_;
  mutable std::mutex mu_;
  int limit_;
  double average_ = 1;
  bool seen_ = false;
  int since_change_ = 0;
  std::map<std::string, std::deque<double>> history_;  // report + '\n' + tenant -> newest seconds last
};

}  // namespace strata::jobs
