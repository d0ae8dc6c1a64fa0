// WatchStore: the watch's tables, in the job store's database (SQLite or PostgreSQL, through
// jobs/store_db.h), so that every process sharing the queue shares the watch too.
//
//   strata_report_versions  every version of every report the server has run (version.h)
//   strata_runs             one row per run: version, tenant, outcome, rows, database time; the
//                           newest kRunsKept per (report, tenant, version) are kept (pruned
//                           every kPruneEvery runs)
//   strata_watch            the ledger: one entry per report and tenant the watch has acted on
//
// Not thread-safe: one thread at a time (Watch holds a lock around it).
#pragma once

#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "watch/version.h"

namespace strata::jobs {
class StoreDb;
}

namespace strata::watch {

// Runs kept per report, tenant and version: enough for the detector's window and the fallback's
// verification, and a bound on the table whatever the traffic.
inline constexpr int kRunsKept = 100;
inline constexpr int kPruneEvery = 20;

struct RunRow {
  int64_t seq = 0;  // order of recording
  std::string report;
  std::string version;
  std::string tenant;
  std::string job;
  bool fallback = false;
  std::string outcome;  // "done", "timeout" or "error"
  int64_t rows = 0;
  double db_ms = 0;  // database time
  double wall_ms = 0;
  int stratum = 0;  // detector.h Stratum(rows) of a finished run; 0 otherwise
  int look = 0;     // this run is the look-th of its version (and fallback flag) for the tenant
  int64_t at = 0;   // ms since the epoch
  std::string error;
  std::string plan;  // the plan-shape fingerprint, for the first run of a version in a stratum
};

struct Entry {
  std::string report;
  std::string tenant;
  std::string state;  // "regressed", "fallback", "reverted" or "released"
  std::string current_version;
  std::string good_version;
  double ratio = 0;  // median current / good; kFailed (infinite) when the current failed
  int runs = 0;      // current-version runs judged
  std::string reason;
  int64_t since = 0;           // when it entered this state (ms)
  int64_t from_seq = 0;        // runs after this one count for what comes next (verification, re-detection)
  int verify_looks = 0;        // verifications made so far
  bool verified = false;       // the fallback was confirmed faster
  int64_t cooldown_until = 0;  // a reverted entry is not judged again before this (ms)
  std::string attribution;     // JSON (attribution.h) of why, as far as the database says; may be empty
};

class WatchStore {
 public:
  // Opens the store at the job store's URL; `create` makes the tables when missing (once per process).
  static Result<std::unique_ptr<WatchStore>> Open(const std::string& url, bool create);
  ~WatchStore();

  // Stores the version unless it is there; returns it as stored (with its first_seen).
  Result<StoredVersion> SaveVersion(const StoredVersion& version, int64_t now);
  Result<std::optional<StoredVersion>> Version(const std::string& report, const std::string& id);
  // Oldest first.
  Result<std::vector<StoredVersion>> Versions(const std::string& report);

  // Records a run (its look is computed here) and drops the oldest beyond kRunsKept. Returns it as stored.
  Result<RunRow> AddRun(const RunRow& run);
  // The tenant's newest runs of the report, every version, newest first.
  Result<std::vector<RunRow>> TenantRuns(const std::string& report, const std::string& tenant, int limit);
  // The tenant's newest runs of one version, newest first: only fallback runs (or none of them)
  // when `fallback` says so, only after after_seq and up to up_to_seq.
  struct RunFilter {
    std::string report;
    std::string tenant;
    std::string version;
    std::optional<bool> fallback;
    int64_t after_seq = 0;
    int64_t up_to_seq = INT64_MAX;
    int limit = 20;
  };
  Result<std::vector<RunRow>> Runs(const RunFilter& filter);
  // The version of the tenant's newest finished run of a version first seen before `before` (ms);
  // "" when none.
  Result<std::string> LatestEarlierVersion(const std::string& report, const std::string& tenant, int64_t before);
  // Whether a run of the version in the stratum has its plan's fingerprint.
  Result<bool> HasPlan(const std::string& report, const std::string& version, int stratum);
  // The newest finished runs of a version for tenants of a size stratum, other than `tenant`, newest first.
  Result<std::vector<RunRow>> StratumRuns(const std::string& report, const std::string& version, int stratum,
                                          const std::string& tenant, int limit);

  Result<std::optional<Entry>> GetEntry(const std::string& report, const std::string& tenant);
  Status PutEntry(const Entry& entry);
  // Writes the entry only if the stored one is still in `state` since `since` (nobody released or
  // replaced it meanwhile); false when it was not.
  Result<bool> ReplaceEntry(const Entry& entry, const std::string& state, int64_t since);
  // Every entry, newest change first.
  Result<std::vector<Entry>> Entries();

 private:
  explicit WatchStore(std::unique_ptr<jobs::StoreDb> db);
  std::unique_ptr<jobs::StoreDb> db_;
};

}  // namespace strata::watch
