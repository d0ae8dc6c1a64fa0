// The export's JSON: progress, the ETA from earlier runs, the download link and safe file names.
#include "server/job_json.h"

#include <gtest/gtest.h>

namespace strata::server {
namespace {

jobs::Job Running() {
  jobs::Job job;
  job.id = "0123456789abcdef0123456789abcdef";
  job.report = "orders";
  job.tenant = "42";
  job.format = "xlsx";
  job.state = jobs::JobState::kRunning;
  job.started_at = 1'000'000;
  job.rows = 1000;
  return job;
}

TEST(JobJson, EtaFromTheTenantsEarlierRuns) {
  jobs::RunHistory history{3, 5000, 20.0};
  auto j = JobJson(Running(), history, 1'002'000);  // 2 s in, 1,000 rows: 500 rows/s
  EXPECT_DOUBLE_EQ(j["elapsed_seconds"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["rows_per_second"].get<double>(), 500.0);
  EXPECT_EQ(j["expected_rows"].get<int64_t>(), 5000);
  EXPECT_DOUBLE_EQ(j["eta_seconds"].get<double>(), 8.0);  // 4,000 rows left at 500 rows/s
  EXPECT_TRUE(j["download"].is_null());
  // Before the first row: the median duration, less the time already spent.
  jobs::Job starting = Running();
  starting.rows = 0;
  EXPECT_DOUBLE_EQ(JobJson(starting, history, 1'005'000)["eta_seconds"].get<double>(), 15.0);
  // Past the expected rows: no time left, never a negative one.
  jobs::Job big = Running();
  big.rows = 9000;
  EXPECT_DOUBLE_EQ(JobJson(big, history, 1'002'000)["eta_seconds"].get<double>(), 0.0);
  // No earlier runs: nothing to go by.
  auto none = JobJson(Running(), jobs::RunHistory{}, 1'002'000);
  EXPECT_TRUE(none["eta_seconds"].is_null());
  EXPECT_TRUE(none["expected_rows"].is_null());
}

TEST(JobJson, DoneExpiredAndFileNames) {
  jobs::Job job = Running();
  job.state = jobs::JobState::kDone;
  job.finished_at = 1'004'000;
  job.file = job.id + "-1.xlsx";
  job.error = "an earlier attempt's error";
  auto j = JobJson(job, jobs::RunHistory{3, 5000, 20.0}, 9'000'000);
  EXPECT_EQ(j["download"], "/api/v1/exports/" + job.id + "/file");
  EXPECT_DOUBLE_EQ(j["elapsed_seconds"].get<double>(), 4.0);  // to the end, not to now
  EXPECT_TRUE(j["eta_seconds"].is_null());
  EXPECT_TRUE(j["error"].is_null()) << "a done export shows no error";
  EXPECT_EQ(j["created_at"], nullptr);
  EXPECT_EQ(j["started_at"], "1970-01-01T00:16:40.000Z");
  job.expired = true;
  EXPECT_TRUE(JobJson(job, {}, 0)["download"].is_null());
  job.tenant = "a/b \"c\"\n";
  EXPECT_EQ(DownloadName(job), "orders_a_b__c__.xlsx");
}

}  // namespace
}  // namespace strata::server
