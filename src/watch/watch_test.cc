// The watch (watch.h) over a real store, SQLite and (with STRATA_TEST_PG) PostgreSQL: versions,
// run records, detection, fallback, verification, revert, release, restarts and deploys. Runs are
// fed as the worker pool feeds them (Choose, then Ran), with the times a test decides.
#include "watch/watch.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "report/sql_params.h"

namespace strata::watch {
namespace {

ReportSpec Report(const std::string& sql) {
  ReportSpec r;
  r.name = "activity";
  r.title = "Activity";
  r.sql = *ParseSql(sql, "test");
  r.params = {ParamSpec{"tenant_id", ParamType::kBigint, std::nullopt}};
  return r;
}

const char* kOldSql = "SELECT * FROM events WHERE tenant_id = :tenant_id";
const char* kNewSql = "SELECT * FROM events WHERE tenant_id = :tenant_id ORDER BY 1";

class WatchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      const char* url = std::getenv("STRATA_TEST_PG");
      if (url == nullptr || *url == '\0') GTEST_SKIP() << "STRATA_TEST_PG is not set";
      schema_ = "strata_watch_test_" + std::to_string(getpid());
      PGconn* c = PQconnectdb(url);
      PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_).c_str()));
      PQfinish(c);
      url_ = std::string(url) + "?options=-csearch_path%3D" + schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("strata-watch-test-" + std::to_string(getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "jobs.db").string();
    }
    Deploy(kOldSql);
  }
  void TearDown() override {
    watch_.reset();
    if (!schema_.empty()) {
      PGconn* c = PQconnectdb(std::getenv("STRATA_TEST_PG"));
      PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str()));
      PQfinish(c);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A (re)start of the server with this SQL for the report (and an extra parameter, if given).
  void Deploy(const std::string& sql, WatchSettings::Mode mode = WatchSettings::Mode::kFallback,
              std::optional<ParamSpec> extra = std::nullopt) {
    watch_.reset();
    now_ += 1;  // a later deploy is a later first_seen
    project_ = std::make_unique<Project>();
    project_->tenant_param = "tenant_id";
    project_->reports.push_back(Report(sql));
    if (extra) project_->reports[0].params.push_back(*extra);
    project_->serve.watch.mode = mode;
    project_->serve.watch.webhook = "http://127.0.0.1:9/hook";
    WatchOptions options;
    options.jobs_url = url_;
    options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    options.now_ms = [this] { return now_; };
    options.post = [this](const std::string& url, const std::string& json) {
      std::lock_guard lock(posted_mu_);
      EXPECT_EQ(url, "http://127.0.0.1:9/hook");
      posted_.push_back(nlohmann::json::parse(json));
    };
    auto watch = Watch::Open(*project_, options);
    ASSERT_TRUE(watch.ok()) << watch.status().message();
    watch_ = std::move(*watch);
  }

  // One export of the tenant that spent `ms` in the database (kFailed: it timed out); returns the
  // choice the watch made for it.
  jobs::RunChoice Run(const std::string& tenant, double ms, int64_t rows, int64_t advance_ms = 1000,
                      std::vector<std::pair<std::string, std::string>> params = {}) {
    now_ += advance_ms;
    jobs::Job job;
    job.id = "job" + std::to_string(++jobs_);
    job.report = "activity";
    job.tenant = tenant;
    job.params = params.empty() ? std::vector<std::pair<std::string, std::string>>{{"tenant_id", tenant}} : params;
    std::shared_ptr<const ReportSpec> current(&project_->reports[0], [](const ReportSpec*) {});
    jobs::RunChoice choice = watch_->Choose(job, current);
    jobs::RunRecord record;
    record.kind = ms == kFailed ? jobs::RunRecord::Kind::kTimeout : jobs::RunRecord::Kind::kDone;
    record.rows = ms == kFailed ? 0 : rows;
    record.db_seconds = ms == kFailed ? 30 : ms / 1000;
    record.wall_seconds = record.db_seconds;
    watch_->Ran(job, choice, record, jobs::RunContext{});
    return choice;
  }

  std::optional<Entry> EntryOf(const std::string& tenant) {
    auto entries = watch_->Entries();
    EXPECT_TRUE(entries.ok());
    for (const Entry& e : *entries) {
      if (e.tenant == tenant) return e;
    }
    return std::nullopt;
  }

  // Eight exports of each tenant on the old version, then a deploy of the new one.
  void HistoryThenDeploy(WatchSettings::Mode mode = WatchSettings::Mode::kFallback) {
    for (int k = 0; k < 8; ++k) {
      Run("1", 400 + 10 * (k % 3), 150000);
      Run("2", 20 + (k % 3), 900);
    }
    Deploy(kNewSql, mode);
  }

  // Heavy-tenant exports on the new version, 10x slower, until the watch falls back; returns how
  // many it took (0: it never did within 10).
  int ExportsUntilFallback() {
    for (int k = 1; k <= 10; ++k) {
      Run("1", 4000 + 50 * (k % 4), 150000);
      Run("2", 21, 900);
      auto e = EntryOf("1");
      if (e && e->state == "fallback") return k;
    }
    return 0;
  }

  size_t Posted() {
    std::lock_guard lock(posted_mu_);
    return posted_.size();
  }

  std::string url_, schema_;
  std::filesystem::path dir_;
  std::unique_ptr<Project> project_;
  std::unique_ptr<Watch> watch_;
  int64_t now_ = 1'700'000'000'000;
  int jobs_ = 0;
  std::mutex posted_mu_;
  std::vector<nlohmann::json> posted_;
};

TEST_P(WatchTest, AVersionIsItsSqlParametersAndExecution) {
  const StoredVersion a = VersionOf(Report(kOldSql));
  EXPECT_EQ(a.id.size(), 12u);
  EXPECT_EQ(a.id, VersionOf(Report(kOldSql)).id) << "the same files give the same id";
  EXPECT_NE(a.id, VersionOf(Report(kNewSql)).id);
  ReportSpec prepared = Report(kOldSql);
  prepared.execution = Execution::kPrepared;
  EXPECT_NE(a.id, VersionOf(prepared).id);
  ReportSpec defaulted = Report(kOldSql);
  defaulted.params[0].default_value = "7";
  EXPECT_NE(a.id, VersionOf(defaulted).id);
  auto back = SpecOf(VersionOf(defaulted), Report(kNewSql));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->sql.text, kOldSql);
  EXPECT_EQ(back->params[0].default_value, std::optional<std::string>("7"));
}

TEST_P(WatchTest, AHeavyTenantsRegressionFallsBackAndTheTypicalTenantKeepsTheNewVersion) {
  const std::string old_version = watch_->current().at("activity").id;
  HistoryThenDeploy();
  const std::string new_version = watch_->current().at("activity").id;
  ASSERT_NE(old_version, new_version);
  const int took = ExportsUntilFallback();
  EXPECT_GE(took, 3);
  EXPECT_LE(took, 10);
  const auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->current_version, new_version);
  EXPECT_EQ(e->good_version, old_version);
  EXPECT_GT(e->ratio, 5);
  EXPECT_EQ(e->runs, took);
  EXPECT_FALSE(EntryOf("2")) << "the typical tenant is not affected";

  const jobs::RunChoice heavy = Run("1", 410, 150000);
  EXPECT_TRUE(heavy.fallback);
  EXPECT_EQ(heavy.version, old_version);
  EXPECT_EQ(heavy.report->sql.text, kOldSql) << "the fallback runs the old SQL";
  const jobs::RunChoice typical = Run("2", 21, 900);
  EXPECT_FALSE(typical.fallback);
  EXPECT_EQ(typical.version, new_version);
  EXPECT_EQ(typical.report->sql.text, kNewSql);

  Run("1", 400, 150000);
  Run("1", 420, 150000);
  const auto verified = EntryOf("1");
  ASSERT_TRUE(verified);
  EXPECT_EQ(verified->state, "fallback");
  EXPECT_TRUE(verified->verified) << verified->reason;

  // The webhook is posted from the watch's own thread: wait for it.
  for (int k = 0; k < 500 && Posted() < 2; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard lock(posted_mu_);
  ASSERT_EQ(posted_.size(), 2u) << "the fallback and its verification reach the webhook";
  EXPECT_EQ(posted_[0]["state"], "fallback");
  EXPECT_EQ(posted_[0]["tenant"], 1) << "the tenant typed as declared (bigint)";
  EXPECT_EQ(posted_[1]["verified"], true);
}

TEST_P(WatchTest, AFallbackSurvivesARestartInTheMiddleOfItsVerification) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  EXPECT_TRUE(Run("1", 400, 150000).fallback);
  Deploy(kNewSql);  // the same version, restarted
  EXPECT_TRUE(Run("1", 410, 150000).fallback) << "still falling back after the restart";
  EXPECT_TRUE(Run("1", 405, 150000).fallback);
  const auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->verified) << e->reason;
}

TEST_P(WatchTest, AFallbackThatDoesNotHelpIsRevertedAndNotTriedAgainDuringTheCooldown) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  // The database itself got slow: the old version is as slow now.
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(Run("1", 4200, 150000).fallback);
  auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, "reverted") << e->reason;
  for (int k = 0; k < 12; ++k) EXPECT_FALSE(Run("1", 4100, 150000).fallback) << "no flapping";
  EXPECT_EQ(EntryOf("1")->state, "reverted");
}

TEST_P(WatchTest, AnOperatorReleasesAFallback) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  auto released = watch_->Release("activity", "1");
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  EXPECT_EQ(EntryOf("1")->state, "released");
  for (int k = 0; k < 10; ++k) EXPECT_FALSE(Run("1", 4000, 150000).fallback);
  EXPECT_EQ(EntryOf("1")->state, "released") << "a released version is not judged again";
  auto again = watch_->Release("activity", "1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "nothing left to release";
}

TEST_P(WatchTest, ANewDeployReleasesTheFallbacksOfTheVersionItReplaces) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  Deploy("SELECT * FROM events WHERE tenant_id = :tenant_id ORDER BY 2");
  const auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, "released");
  EXPECT_NE(e->reason.find("afresh"), std::string::npos) << e->reason;
  EXPECT_FALSE(Run("1", 400, 150000).fallback);
}

TEST_P(WatchTest, AlertModeRecordsTheRegressionButKeepsTheNewVersion) {
  HistoryThenDeploy(WatchSettings::Mode::kAlert);
  for (int k = 0; k < 10; ++k) EXPECT_FALSE(Run("1", 4000, 150000).fallback);
  const auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, "regressed");
}

TEST_P(WatchTest, ATimeoutIsAHardTrigger) {
  HistoryThenDeploy();
  EXPECT_FALSE(Run("1", kFailed, 0).fallback);
  const auto e = EntryOf("1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, "fallback");
  EXPECT_EQ(e->runs, 1);
  EXPECT_TRUE(Run("1", 400, 150000).fallback);
}

TEST_P(WatchTest, ATenantWithoutHistoryIsJudgedAgainstTenantsOfItsSize) {
  for (int k = 0; k < 8; ++k) Run("1", 400 + 10 * (k % 3), 150000);
  Deploy(kNewSql);
  // Tenant 3 never exported before the deploy; tenant 1 has the same number of rows.
  int took = 0;
  for (int k = 1; k <= 10 && took == 0; ++k) {
    Run("3", 4000, 160000);
    auto e = EntryOf("3");
    if (e && e->state == "fallback") took = k;
  }
  EXPECT_GT(took, 0);
  EXPECT_LE(took, 10);
}

TEST_P(WatchTest, BenignNoiseAcrossThreeHundredExportsRaisesNothing) {
  std::mt19937_64 random(17);
  std::lognormal_distribution<double> noise(0, 0.35);
  for (int k = 0; k < 10; ++k) {
    Run("1", 400 * noise(random), 150000);
    Run("2", 60 * noise(random), 900);
  }
  Deploy(kNewSql);
  for (int k = 0; k < 150; ++k) {
    EXPECT_FALSE(Run("1", 400 * noise(random), 150000).fallback);
    EXPECT_FALSE(Run("2", 60 * noise(random), 900).fallback);
  }
  auto entries = watch_->Entries();
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
  EXPECT_EQ(watch_->counts().runs, 300u);
}

TEST_P(WatchTest, RunsAreKeptWithinTheirBound) {
  for (int k = 0; k < kRunsKept + 3 * kPruneEvery; ++k) Run("2", 20, 900);
  auto store = WatchStore::Open(url_, false);
  ASSERT_TRUE(store.ok());
  auto runs = (*store)->TenantRuns("activity", "2", 1000);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), static_cast<size_t>(kRunsKept)) << "pruned at the last multiple of kPruneEvery";
  EXPECT_EQ(runs->front().look, kRunsKept + 3 * kPruneEvery) << "looks keep counting past the pruning";
  Run("2", 20, 900);
  runs = (*store)->TenantRuns("activity", "2", 1000);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), static_cast<size_t>(kRunsKept + 1)) << "and not at every run";
}

TEST_P(WatchTest, AReleaseByAnotherProcessIsNotUndoneByTheVerification) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  // `strata watch release` (another process) while this one's copy of the ledger is still fresh.
  auto other = WatchStore::Open(url_, false);
  ASSERT_TRUE(other.ok());
  auto released = ReleaseEntry(**other, "activity", "1", now_);
  ASSERT_TRUE(released.ok() && *released);
  for (int k = 0; k < 3; ++k) Run("1", 400, 150000, /*advance_ms=*/1);  // within the second
  EXPECT_EQ(EntryOf("1")->state, "released") << "the verification must not write over a release";
  now_ += 2000;
  EXPECT_FALSE(Run("1", 4000, 150000).fallback) << "seen once the ledger is read again";
}

TEST_P(WatchTest, AGoodVersionThatFailsIsRevertedEvenOnceVerified) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  for (int k = 0; k < 3; ++k) Run("1", 400, 150000);
  ASSERT_TRUE(EntryOf("1")->verified);
  // A migration since has broken the old SQL: its run times out.
  EXPECT_TRUE(Run("1", kFailed, 0).fallback);
  const auto e = EntryOf("1");
  EXPECT_EQ(e->state, "reverted") << e->reason;
  EXPECT_NE(e->reason.find("good version timed out"), std::string::npos) << e->reason;
  EXPECT_FALSE(Run("1", 4000, 150000).fallback);
}

TEST_P(WatchTest, ARevertedVersionIsJudgedAgainAfterTheCooldownWithItsLooksCountedAfresh) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  for (int k = 0; k < 3; ++k) Run("1", 4200, 150000);  // the fallback did not help
  ASSERT_EQ(EntryOf("1")->state, "reverted");
  EXPECT_FALSE(Run("1", 40000, 150000).fallback) << "not judged during the cooldown";
  EXPECT_EQ(EntryOf("1")->state, "reverted");
  now_ += project_->serve.watch.cooldown.count();
  // Ten times slower than even the slow fallback runs: against the good version's 11 runs, 3 runs
  // all above them give p = 1/364, under the third look's share (0.05/12) but not under the share
  // of the eighth look, which counting the runs before the revert would have made it.
  int took = 0;
  for (int k = 1; k <= 10 && took == 0; ++k) {
    Run("1", 40000, 150000);
    if (EntryOf("1")->state == "fallback") took = k;
  }
  EXPECT_EQ(took, 2) << EntryOf("1")->reason;
}

TEST_P(WatchTest, AFallbackLeavesOutAParameterOnlyTheNewVersionHas) {
  HistoryThenDeploy();
  Deploy(kNewSql, WatchSettings::Mode::kFallback,
         ParamSpec{"max_rows", strata::ParamType::kBigint, std::string("100")});
  const std::vector<std::pair<std::string, std::string>> params = {{"tenant_id", "1"}, {"max_rows", "100"}};
  jobs::RunChoice choice;
  for (int k = 0; k < 10 && !choice.fallback; ++k) choice = Run("1", 4000, 150000, 1000, params);
  for (int k = 0; k < 10 && !choice.fallback; ++k) choice = Run("1", 400, 150000, 1000, params);
  ASSERT_TRUE(choice.fallback) << "the regression was caught and the old version runs";
  EXPECT_EQ(choice.report->params.size(), 1u) << "the old version's parameters";
  EXPECT_EQ(choice.report->sql.text, kOldSql);
}

TEST_P(WatchTest, AnOlderProcessStartingDuringARollingDeployLeavesTheNewVersionsEntriesAlone) {
  HistoryThenDeploy();
  ASSERT_GT(ExportsUntilFallback(), 0);
  Deploy(kOldSql);  // a process still on the old version starts
  EXPECT_EQ(EntryOf("1")->state, "fallback");
}

TEST_P(WatchTest, SqlThatIsNotUtf8StillHasAVersion) {
  ReportSpec r = Report(kOldSql);
  r.sql.text += " -- caf\xe9";
  const StoredVersion v = VersionOf(r);
  EXPECT_EQ(v.id.size(), 12u);
  EXPECT_NE(v.id, VersionOf(Report(kOldSql)).id);
}

INSTANTIATE_TEST_SUITE_P(Databases, WatchTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace strata::watch
