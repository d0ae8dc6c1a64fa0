// RunMetrics: what this process's workers did, per report, for /metrics. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace strata::jobs {

class RunMetrics {
 public:
  // Upper bounds of the duration histogram's buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 10> kBuckets = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  struct PerReport {
    std::array<uint64_t, kBuckets.size()> buckets{};  // cumulative, as Prometheus wants
    uint64_t runs = 0;                                // finished exports (the histogram's count)
    double seconds = 0;                               // their total duration
    uint64_t rows = 0;
    uint64_t bytes = 0;
    uint64_t failures = 0;
    uint64_t retries = 0;
    uint64_t cancelled = 0;
    double last_rows_per_second = 0;
  };

  void Finished(const std::string& report, double seconds, uint64_t rows, uint64_t bytes) {
    std::lock_guard lock(mu_);
    PerReport& r = reports_[report];
    for (size_t k = 0; k < kBuckets.size(); ++k) {
      if (seconds <= kBuckets[k]) ++r.buckets[k];
    }
    ++r.runs;
    r.seconds += seconds;
    r.rows += rows;
    r.bytes += bytes;
    if (seconds > 0) r.last_rows_per_second = static_cast<double>(rows) / seconds;
  }
  void Failed(const std::string& report) {
    std::lock_guard lock(mu_);
    ++reports_[report].failures;
  }
  void Retried(const std::string& report) {
    std::lock_guard lock(mu_);
    ++reports_[report].retries;
  }
  void Cancelled(const std::string& report) {
    std::lock_guard lock(mu_);
    ++reports_[report].cancelled;
  }
  std::map<std::string, PerReport> Snapshot() const {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, PerReport> reports_;
};

}  // namespace strata::jobs
