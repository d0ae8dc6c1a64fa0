// The queue's contract (job_store.h) on a real SQLite file, and on PostgreSQL when STRATA_TEST_PG
// names a throwaway server: the same cases, one implementation of the logic, two databases.
#include "jobs/job_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "jobs/store_db.h"

namespace strata::jobs {
namespace {

class JobStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      const char* url = std::getenv("STRATA_TEST_PG");
      if (url == nullptr || *url == '\0') GTEST_SKIP() << "STRATA_TEST_PG is not set";
      // A schema of its own: ctest may run other cases on the same server at once.
      schema_ = "strata_jobs_test_" + std::to_string(getpid());
      PGconn* c = PQconnectdb(url);
      PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_).c_str()));
      PQfinish(c);
      url_ = std::string(url) + "?options=-csearch_path%3D" + schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("strata-jobs-test-" + std::to_string(getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "jobs.db").string();
    }
    auto store = OpenJobStore(url_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    if (!schema_.empty()) {
      PGconn* c = PQconnectdb(std::getenv("STRATA_TEST_PG"));
      PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").c_str()));
      PQfinish(c);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  JobRequest Request(const std::string& tenant, const std::string& key) {
    JobRequest r;
    r.tenant = tenant;
    r.report = "report";
    r.format = "xlsx";
    r.params = {{"tenant_id", tenant}, {"key", key}};
    r.dedupe_key = tenant + "/" + key;
    return r;
  }
  Job Enqueue(const std::string& tenant, const std::string& key, int64_t now = 1000) {
    auto e = store_->Enqueue(Request(tenant, key), now);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() ? e->job : Job{};
  }
  std::optional<Job> Claim(int64_t now, int tenant_limit = 1, int max_running = 10, const std::string& worker = "w") {
    ClaimOptions o;
    o.worker = worker;
    o.now = now;
    o.lease = std::chrono::milliseconds(1000);
    o.tenant_limit = tenant_limit;
    o.max_running = max_running;
    auto c = store_->Claim(o);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : std::nullopt;
  }
  Outcome Done(const std::string& file) {
    Outcome o;
    o.kind = Outcome::Kind::kDone;
    o.file = file;
    o.rows = 10;
    o.bytes = 100;
    o.expires_at = 100000;
    return o;
  }

  std::string url_;
  std::string schema_;
  std::filesystem::path dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_P(JobStoreTest, EnqueueGetAndDedupe) {
  Job a = Enqueue("1", "x");
  EXPECT_EQ(a.id.size(), 32u);
  EXPECT_EQ(a.state, JobState::kQueued);
  auto again = store_->Enqueue(Request("1", "x"), 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(again->job.id, a.id);
  Job other = Enqueue("2", "x");
  EXPECT_NE(other.id, a.id);
  auto got = store_->Get(a.id);
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->params.size(), 2u);
  EXPECT_EQ((*got)->params[1].second, "x");
  // Once it has finished, the same request is a new job.
  auto c = Claim(3000);
  ASSERT_TRUE(c);
  ASSERT_TRUE(*store_->Finish(c->id, c->attempt, Done(c->id + "-1.xlsx"), 4000));
  Job next = Enqueue(c->tenant, "x", 5000);
  EXPECT_NE(next.id, c->id);
  auto missing = store_->Get("0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
}

TEST_P(JobStoreTest, TenantLimitLetsOtherTenantsIn) {
  // Tenant 1 floods the queue first; tenants 2 and 3 come later with one job each.
  for (int k = 0; k < 5; ++k) Enqueue("1", "big" + std::to_string(k), 1000 + k);
  Enqueue("2", "small", 2000);
  Enqueue("3", "small", 2001);
  auto a = Claim(3000, /*tenant_limit=*/1);
  auto b = Claim(3000, 1);
  auto c = Claim(3000, 1);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->tenant, "1");
  EXPECT_EQ(b->tenant, "2");
  EXPECT_EQ(c->tenant, "3");
  EXPECT_FALSE(Claim(3000, 1)) << "tenant 1 ran two jobs at once";
  ASSERT_TRUE(*store_->Finish(a->id, a->attempt, Done("a"), 3100));
  auto d = Claim(3200, 1);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->tenant, "1");
}

TEST_P(JobStoreTest, RoundRobinAcrossTenants) {
  for (int k = 0; k < 5; ++k) Enqueue("1", "big" + std::to_string(k), 1000 + k);
  Enqueue("2", "x", 2000);
  Enqueue("2", "y", 2001);
  std::string order;
  for (int k = 0; k < 7; ++k) {
    auto c = Claim(3000 + k, /*tenant_limit=*/10);
    ASSERT_TRUE(c);
    order += c->tenant;
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, Done(c->id), 3000 + k));
  }
  EXPECT_EQ(order, "1212111");
  EXPECT_FALSE(Claim(9000));
}

TEST_P(JobStoreTest, TenantsShareTheDatabaseByTimeNotByCountOfJobs) {
  // Tenant 1's exports take 2 s of the database each, tenant 2's 0.1 s: while both have work,
  // tenant 2 runs about twenty exports for each of tenant 1's.
  for (int k = 0; k < 4; ++k) Enqueue("1", "heavy" + std::to_string(k), 1000 + k);
  for (int k = 0; k < 30; ++k) Enqueue("2", "small" + std::to_string(k), 2000 + k);
  std::string order;
  for (int k = 0; k < 34; ++k) {
    auto c = Claim(3000 + k);
    ASSERT_TRUE(c);
    order += c->tenant;
    ASSERT_TRUE(store_->Charge(c->tenant, c->tenant == "1" ? 2000 : 100).ok());
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, Done(c->id), 3000 + k));
  }
  EXPECT_EQ(order, "1" + std::string(20, '2') + "1" + std::string(10, '2') + "11") << order;
}

TEST_P(JobStoreTest, AnIdleTenantDoesNotSaveUpDatabaseTime) {
  // Tenant 1 has used 50 s of the database and still has work; tenant 2 used 900 s.
  Enqueue("1", "a", 1000);
  Enqueue("2", "a", 1001);
  for (int k = 0; k < 2; ++k) {
    auto c = Claim(1100 + k);
    ASSERT_TRUE(c);
    ASSERT_TRUE(store_->Charge(c->tenant, c->tenant == "1" ? 50000 : 900000).ok());
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, Done(c->id), 1200 + k));
  }
  Enqueue("1", "b", 1300);
  // Tenant 3 was idle all along: it starts at the active tenants' least time (tenant 1's 50 s),
  // not at 0, so it cannot run three 10 s exports before tenant 1 gets its turn.
  for (int k = 0; k < 3; ++k) Enqueue("3", "x" + std::to_string(k), 1400 + k);
  std::string order;
  for (int k = 0; k < 3; ++k) {
    auto c = Claim(1500 + k);
    ASSERT_TRUE(c);
    order += c->tenant;
    ASSERT_TRUE(store_->Charge(c->tenant, 10000).ok());
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, Done(c->id), 1600 + k));
  }
  EXPECT_EQ(order, "313");
}

TEST_P(JobStoreTest, AStoreMadeBeforeTheWatchGainsItsColumnsAndKeepsItsJobs) {
  // The tables as the first release made them: no version and fallback, no vtime.
  std::string old_tables = JobTablesSql(GetParam() == "postgres");
  for (const AddedColumn& c : kAddedColumns) {
    const std::string added = std::string(", ") + c.name + " ";
    const size_t at = old_tables.find(added);
    ASSERT_NE(at, std::string::npos) << c.name;
    const size_t end = old_tables.find_first_of(",)", at + added.size());
    old_tables.erase(at, end - at);
  }
  ASSERT_EQ(old_tables.find("vtime"), std::string::npos) << old_tables;
  auto db = OpenStoreDb(url_ + (GetParam() == "postgres" ? "" : ".old"));
  ASSERT_TRUE(db.ok()) << db.status().message();
  if (GetParam() == "postgres") {
    ASSERT_TRUE((*db)->ExecScript("DROP TABLE strata_jobs, strata_job_tenants CASCADE; " + old_tables).ok());
  } else {
    ASSERT_TRUE((*db)->ExecScript(old_tables).ok());
  }
  ASSERT_TRUE(
      (*db)
          ->Exec("INSERT INTO strata_jobs (id, tenant, report, format, params, dedupe_key, state, max_attempts,"
                 " created_at) VALUES ('0123456789abcdef0123456789abcdef', '1', 'r', 'csv', '{}', 'k', 'queued',"
                 " 3, 1000)",
                 {})
          .ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO strata_job_tenants (tenant, first_seen, queued) VALUES ('1', 1, 1)", {}).ok());
  db->reset();
  auto store = OpenJobStore(url_ + (GetParam() == "postgres" ? "" : ".old"));
  ASSERT_TRUE(store.ok()) << store.status().message();
  store_ = std::move(*store);
  auto job = store_->Get("0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(job.ok() && *job) << "the old job is still there";
  EXPECT_EQ((*job)->version, "");
  auto c = Claim(2000);
  ASSERT_TRUE(c);
  EXPECT_TRUE(store_->SetVersion(c->id, c->attempt, "abcdefabcdef", true).ok());
  EXPECT_TRUE(store_->Charge("1", 100).ok());
  auto again = store_->Get(c->id);
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*again)->version, "abcdefabcdef");
  EXPECT_TRUE((*again)->fallback);
}

TEST_P(JobStoreTest, GlobalCapOnRunningJobs) {
  Enqueue("1", "a");
  Enqueue("2", "a");
  Enqueue("3", "a");
  auto a = Claim(2000, 1, /*max_running=*/2);
  auto b = Claim(2000, 1, 2);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(Claim(2000, 1, 2)) << "a third job ran past the cap";
  ASSERT_TRUE(*store_->Finish(a->id, a->attempt, Done("f"), 2100));
  EXPECT_TRUE(Claim(2200, 1, 2));
}

TEST_P(JobStoreTest, ExpiredLeaseIsReclaimedAndTheOldAttemptIsFenced) {
  Job j = Enqueue("1", "a");
  auto first = Claim(2000, 1, 10, "killed");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->attempt, 1);
  // The heartbeat keeps it: nobody else may take it.
  ASSERT_TRUE(store_->Heartbeat(j.id, 1, 5, 50, 3500)->held);
  EXPECT_FALSE(Claim(3000));
  // The worker dies: the lease runs out and the next claim takes the job back.
  auto second = Claim(4000, 1, 10, "survivor");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, j.id);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_EQ(second->lease_owner, "survivor");
  // The first worker wakes up: it can neither renew nor publish.
  auto lease = store_->Heartbeat(j.id, 1, 6, 60, 5000);
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE(lease->held);
  auto stale = store_->Finish(j.id, 1, Done("stale.xlsx"), 4100);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  ASSERT_TRUE(*store_->Finish(j.id, 2, Done("good.xlsx"), 4200));
  auto got = store_->Get(j.id);
  EXPECT_EQ((*got)->state, JobState::kDone);
  EXPECT_EQ((*got)->file, "good.xlsx");
  EXPECT_EQ(*store_->LiveFiles(), std::vector<std::string>{"good.xlsx"});
}

TEST_P(JobStoreTest, LeaseLostOnTheLastAttemptFailsTheJob) {
  JobRequest r = Request("1", "a");
  r.max_attempts = 1;
  Job j = store_->Enqueue(r, 1000)->job;
  ASSERT_TRUE(Claim(2000));
  EXPECT_FALSE(Claim(5000));
  auto got = store_->Get(j.id);
  EXPECT_EQ((*got)->state, JobState::kFailed);
  EXPECT_NE((*got)->error.find("lost its lease"), std::string::npos) << (*got)->error;
}

TEST_P(JobStoreTest, RetryWaitsForItsBackoffAndReleaseDoesNotCountAnAttempt) {
  Job j = Enqueue("1", "a");
  auto c = Claim(2000);
  Outcome retry;
  retry.kind = Outcome::Kind::kRetry;
  retry.run_after = 10000;
  retry.error = "the connection was lost";
  ASSERT_TRUE(*store_->Finish(j.id, c->attempt, retry, 2100));
  EXPECT_FALSE(Claim(9999)) << "claimed before its backoff";
  auto again = Claim(10000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 2);
  EXPECT_EQ(again->error, "the connection was lost");
  Outcome release;
  release.kind = Outcome::Kind::kReleased;
  ASSERT_TRUE(*store_->Finish(j.id, 2, release, 10100));
  auto third = Claim(10200);
  ASSERT_TRUE(third);
  // The attempt number grows (it fences the old holder and names the file); the job got one
  // attempt more instead, so the shutdown cost it none.
  EXPECT_EQ(third->attempt, 3);
  EXPECT_EQ(third->max_attempts, 4);
  EXPECT_FALSE(*store_->Finish(j.id, 2, Done("stale"), 10300)) << "the released attempt still holds the job";
}

TEST_P(JobStoreTest, CancelQueuedAndRunning) {
  Job running = Enqueue("1", "a");
  Job queued = Enqueue("1", "b");
  auto c = Claim(2000);
  ASSERT_EQ(c->id, running.id);
  auto q = store_->Cancel(queued.id, 2100);
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_TRUE(q->job);
  EXPECT_TRUE(q->requested);
  EXPECT_EQ(q->job->state, JobState::kCancelled);
  EXPECT_FALSE(store_->Cancel(queued.id, 2100)->requested) << "a cancelled job was cancelled again";
  auto r = store_->Cancel(running.id, 2100);
  EXPECT_TRUE(r->requested);
  EXPECT_EQ(r->job->state, JobState::kRunning);
  EXPECT_TRUE(r->job->cancel_requested);
  auto twice = store_->Cancel(running.id, 2100);
  EXPECT_FALSE(twice->requested) << "the second cancel of a running job also asked";
  EXPECT_TRUE(twice->job->cancel_requested);
  EXPECT_FALSE(store_->Cancel("00000000000000000000000000000000", 2100)->job);
  auto lease = store_->Heartbeat(running.id, 1, 0, 0, 3000);
  EXPECT_TRUE(lease->held);
  EXPECT_TRUE(lease->cancel_requested);
  Outcome cancelled;
  cancelled.kind = Outcome::Kind::kCancelled;
  ASSERT_TRUE(*store_->Finish(running.id, 1, cancelled, 2200));
  EXPECT_EQ((*store_->Get(running.id))->state, JobState::kCancelled);
  EXPECT_FALSE(Claim(3000)) << "a cancelled job was claimed";
}

TEST_P(JobStoreTest, AJobBeingCancelledIsNeverQueuedAgainNorReused) {
  Job j = Enqueue("1", "a");
  auto c = Claim(2000);
  ASSERT_TRUE(store_->Cancel(j.id, 2100).ok());
  // The same request now is a new job: the old one is on its way out.
  Job fresh = Enqueue("1", "a", 2150);
  EXPECT_NE(fresh.id, j.id);
  // The attempt then fails with a database error: a retry would run a cancelled export again.
  Outcome retry;
  retry.kind = Outcome::Kind::kRetry;
  retry.run_after = 2200;
  ASSERT_TRUE(*store_->Finish(j.id, c->attempt, retry, 2200));
  EXPECT_EQ((*store_->Get(j.id))->state, JobState::kCancelled);
  auto next = Claim(3000);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, fresh.id);
  EXPECT_FALSE(Claim(3000));
}

TEST_P(JobStoreTest, ManyTenantsInBackoffDoNotStarveAReadyOne) {
  // 40 tenants whose only job waits for a retry's backoff, served before tenant "z".
  for (int k = 0; k < 40; ++k) {
    Job j = Enqueue("t" + std::to_string(k), "a", 1000 + k);
    auto c = Claim(2000 + k, 1, 1000);
    ASSERT_TRUE(c);
    Outcome retry;
    retry.kind = Outcome::Kind::kRetry;
    retry.run_after = 1000000;
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, retry, 2000 + k));
  }
  // Tenant "z" was served after all of them, so it comes last in the round robin.
  Enqueue("z", "first", 3000);
  auto served = Claim(3000, 1, 1000);
  ASSERT_TRUE(served);
  ASSERT_EQ(served->tenant, "z");
  ASSERT_TRUE(*store_->Finish(served->id, served->attempt, Done("f"), 3001));
  Job ready = Enqueue("z", "a", 5000);
  auto c = Claim(6000, 1, 1000);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->id, ready.id);
}

TEST_P(JobStoreTest, ExpireHistoryAndCounts) {
  for (int k = 0; k < 3; ++k) {
    Job j = Enqueue("1", "run" + std::to_string(k), 1000 + k);
    auto c = Claim(2000 + k * 1000);
    Outcome o = Done(j.id + ".xlsx");
    o.rows = 100 * (k + 1);
    o.expires_at = 5000 + k;
    ASSERT_TRUE(*store_->Finish(c->id, c->attempt, o, 2500 + k * 1000));
  }
  auto history = store_->History("1", "report");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->runs, 3);
  EXPECT_EQ(history->median_rows, 200);
  EXPECT_DOUBLE_EQ(history->median_seconds, 0.5);
  EXPECT_EQ(store_->History("2", "report")->runs, 0);
  auto expired = store_->Expire(5001);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->size(), 2u);
  EXPECT_EQ(store_->LiveFiles()->size(), 1u);
  EXPECT_TRUE(store_->Expire(5001)->empty()) << "expired twice";
  auto counts = store_->Counts();
  EXPECT_EQ(counts->done, 3);
  EXPECT_EQ(counts->queued, 0);
  auto listed = store_->List("1", 2);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_GT((*listed)[0].seq, (*listed)[1].seq);
  EXPECT_TRUE((*store_->Get((*listed)[1].id))->expired);
}

TEST_P(JobStoreTest, TwoStoresNeverClaimTheSameJob) {
  auto other = OpenJobStore(url_);
  ASSERT_TRUE(other.ok());
  for (int k = 0; k < 40; ++k) Enqueue(std::to_string(k % 8), "j" + std::to_string(k));
  std::set<std::string> seen;
  std::mutex mu;
  auto drain = [&](JobStore* s, const std::string& name) {
    for (;;) {
      ClaimOptions o;
      o.worker = name;
      o.now = 5000;
      o.tenant_limit = 100;
      o.max_running = 1000;
      auto c = s->Claim(o);
      ASSERT_TRUE(c.ok()) << c.status().message();
      if (!*c) return;
      std::lock_guard lock(mu);
      EXPECT_TRUE(seen.insert((*c)->id).second) << "claimed twice: " << (*c)->id;
    }
  };
  std::thread a(drain, store_.get(), "a");
  std::thread b(drain, other->get(), "b");
  a.join();
  b.join();
  EXPECT_EQ(seen.size(), 40u);
}

TEST(JobStoreOpen, BadUrlsAreClearErrors) {
  auto bad = OpenJobStore("mysql://x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kUsage);
  auto missing = OpenJobStore("sqlite:/nonexistent-folder/for/sure/jobs.db");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kDatabase);
  EXPECT_NE(missing.status().message().find("/nonexistent-folder/for/sure/jobs.db"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Databases, JobStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace strata::jobs
