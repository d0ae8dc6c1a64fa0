// Small helpers of the watch's decisions (watch.cc, watch_judge.cc). Internal to watch/.
#pragma once

#include <cstdint>
#include <vector>

#include "jobs/job_store.h"
#include "report/binding.h"
#include "report/project.h"
#include "watch/detector.h"
#include "watch/watch_store.h"

namespace strata::watch {

// A run's database time, or kFailed.
inline double Sample(const RunRow& run) {
  return run.outcome == "done" ? run.db_ms : kFailed;
}

// The samples of runs that come newest first, oldest first.
inline std::vector<double> Samples(const std::vector<RunRow>& runs) {
  std::vector<double> samples;
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) samples.push_back(Sample(*run));
  return samples;
}

// The rows the tenant's newest finished run returned (of `first`, else of `then`); -1 when none finished.
inline int64_t RowsReturned(const std::vector<RunRow>& first, const std::vector<RunRow>& then) {
  for (const auto* runs : {&first, &then}) {
    for (const RunRow& run : *runs) {
      if (run.outcome == "done") return run.rows;
    }
  }
  return -1;
}

// The job's parameter values that the report declares (a version may declare fewer than the
// request, made for another version, carries).
inline std::vector<ParamArg> DeclaredParams(const jobs::Job& job, const ReportSpec& report) {
  std::vector<ParamArg> given;
  for (const auto& [name, value] : job.params) {
    if (report.FindParam(name) != nullptr) given.push_back(ParamArg{name, std::nullopt, value});
  }
  return given;
}

}  // namespace strata::watch
