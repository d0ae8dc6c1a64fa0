// Watch: the watch of `strata serve` (docs/watch.md). Every run the workers make is recorded per
// report version and tenant; after each, the watch judges the tenant's current-version runs against
// the previous version's (detector.h). A confirmed regression enters the ledger (watch_store.h):
//
//   (no entry) ──regressed, mode alert──► regressed
//        │
//        └──regressed, mode fallback──► fallback ──verified──► fallback (verified)
//                                          │
//                                          ├──not faster──► reverted (the current version again;
//                                          │                 not judged again until the cooldown ends)
//                                          └──operator release, or a new version deployed──► released
//
// In fallback, the tenant's exports run the good version (the worker pool asks Choose()); every
// other tenant keeps the current version. The ledger lives in the job store's database, so it
// survives restarts and is shared by every process serving the same queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "jobs/worker_pool.h"
#include "report/project.h"
#include "watch/detector.h"
#include "watch/version.h"
#include "watch/watch_store.h"

namespace strata::watch {

// What the watch did since the process started, for /metrics.
struct WatchCounts {
  uint64_t runs = 0;           // runs recorded
  uint64_t regressions = 0;    // confirmed regressions (alerted or fallen back)
  uint64_t fallbacks = 0;      // fallbacks begun
  uint64_t verified = 0;       // fallbacks confirmed faster
  uint64_t reverted = 0;       // fallbacks undone because they did not help
  uint64_t released = 0;       // fallbacks undone by an operator or a new version
  uint64_t record_errors = 0;  // runs the store could not take
  double seconds = 0;          // spent choosing versions and recording and judging runs: the watch's cost
};

struct WatchOptions {
  std::string jobs_url;  // the job store; the watch's tables live beside the queue's
  std::function<int64_t()> now_ms;
  std::function<void(const std::string&)> log;
  // Sends a changed entry to [serve.watch] webhook; tests replace it. Empty: HTTP POST.
  std::function<void(const std::string& url, const std::string& json)> post;
};

class Watch : public jobs::RunObserver {
 public:
  // How often the ledger, and the versions of each report, are read again from the store (another
  // process's decisions, a release by `strata watch release`, another version deployed).
  static constexpr std::chrono::milliseconds kLedgerRefresh{1000};
  static constexpr std::chrono::milliseconds kVersionsRefresh{60000};

  // Opens the watch's tables, stores the project's current version of every report, and releases
  // the entries of versions that were replaced (a deploy). REQUIRES: project outlives the watch.
  static Result<std::unique_ptr<Watch>> Open(const Project& project, WatchOptions options);
  ~Watch() override;

  jobs::RunChoice Choose(const jobs::Job& job, const std::shared_ptr<const ReportSpec>& current) override;
  void Ran(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record,
           const jobs::RunContext& context) override;

  // The ledger, newest change first.
  Result<std::vector<Entry>> Entries();
  // An operator undoes a fallback (or an alert): the tenant runs the current version, and this
  // version is not judged again for it. False when there is nothing to release.
  Result<bool> Release(const std::string& report, const std::string& tenant);
  WatchCounts counts() const;
  // The version of each report this process serves, by report name.
  const std::map<std::string, StoredVersion>& current() const { return current_; }

 private:
  // A regression just found, to explain (outside the lock: EXPLAINs and catalog queries on the
  // run's connection) and then to announce.
  struct Found {
    Entry entry;
    std::optional<Query> good_query;  // the good version bound to the job's parameters
    int64_t rows = -1;                // what the tenant's runs return
  };

  Watch(const Project& project, WatchOptions options, std::unique_ptr<WatchStore> store);
  Status RegisterVersions();
  Status ReleaseReplaced();
  DetectorSettings Detector() const;
  Result<std::optional<StoredVersion>> CachedVersion(const std::string& report, const std::string& id);
  Result<ReportSpec> FallbackSpec(const jobs::Job& job, const ReportSpec& current, const std::string& good);
  static RunRow RowOf(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record, int64_t now);
  std::string PlanOfNewStratum(const RunRow& row, const jobs::RunChoice& choice, const jobs::RunContext& context);
  void Explain(const jobs::Job& job, Found found, const jobs::RunContext& context);

  // watch_judge.cc: the decisions.
  Result<std::optional<Found>> Judge(const jobs::Job& job, const jobs::RunChoice& choice,
                                     const jobs::RunRecord& record);
  Result<std::optional<Found>> Detect(const jobs::Job& job, const std::string& version);
  Result<Found> Regressed(const jobs::Job& job, const std::string& version, const std::string& good, const Judgement& j,
                          int64_t newest_seq);
  Status JudgeFallback(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record);
  Status Verify(const jobs::Job& job, Entry entry);
  Status Revert(Entry entry, const std::string& why, int64_t from_seq);
  Result<int> LookOf(const jobs::Job& job, const std::string& version, const RunRow& newest, int64_t from_seq);
  Result<std::vector<double>> Baseline(const jobs::Job& job, const std::vector<RunRow>& good_runs,
                                       const std::string& good, int64_t rows);
  Result<std::string> GoodVersion(const std::string& report, const std::string& current, const std::string& tenant);

  // The ledger as this process sees it.
  static std::string LedgerKey(const std::string& report, const std::string& tenant);
  Result<std::optional<Entry>> LedgerEntry(const std::string& report, const std::string& tenant);
  Status ReadLedger();
  Status SaveEntry(const Entry& entry);
  Result<bool> ReplaceEntry(const Entry& entry, const Entry& was);
  void Publish(const Entry& entry, const std::string& what);
  void PostLoop();
  int64_t Now() const { return options_.now_ms(); }
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  const Project& project_;
  WatchOptions options_;
  std::map<std::string, StoredVersion> current_;
  mutable std::mutex mu_;  // guards store_, the caches below and counts_
  std::unique_ptr<WatchStore> store_;
  std::map<std::string, StoredVersion> versions_;  // by report + "/" + id
  std::set<std::string> planned_;                  // report/version/stratum whose plan fingerprint is recorded
  // The ledger as last read (LedgerEntry), by LedgerKey; this process's own changes go in at once.
  std::map<std::string, Entry> ledger_;
  int64_t ledger_read_at_ = 0;
  std::map<std::string, bool> has_other_version_;  // by report: is there a version to compare with?
  int64_t versions_read_at_ = 0;
  std::map<std::string, std::string> good_of_;  // report, tenant and current version -> its good version
  WatchCounts counts_;
  mutable std::mutex cost_mu_;  // guards cost_seconds_ (taken alone, or after mu_)
  double cost_seconds_ = 0;
  // The webhook's sender: entries are posted in order, off the workers' threads.
  std::mutex post_mu_;
  std::condition_variable post_cv_;
  std::deque<std::string> posts_;  // guarded by post_mu_
  bool closing_ = false;           // guarded by post_mu_
  std::thread poster_;
};

// Undoes a fallback (or an alert) for an operator: the entry becomes "released", so the tenant runs
// the current version and this version is not judged again for it. Returns the released entry;
// nullopt when there was nothing to release.
Result<std::optional<Entry>> ReleaseEntry(WatchStore& store, const std::string& report, const std::string& tenant,
                                          int64_t now);

// An entry as GET /api/v1/watch and the webhook show it; the tenant typed as the project declares it.
nlohmann::ordered_json EntryJson(const Entry& entry, const Project& project);

}  // namespace strata::watch
