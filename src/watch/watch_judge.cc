// The watch's decisions (watch.h): after each run, is the current version regressed for the
// tenant; after each fallback run, did the fallback help. Called with the watch's lock held.
#include <algorithm>
#include <climits>

#include "watch/judge_util.h"
#include "watch/watch.h"

namespace strata::watch {

Result<std::optional<Watch::Found>> Watch::Judge(const jobs::Job& job, const jobs::RunChoice& choice,
                                                 const jobs::RunRecord& record) {
  if (!choice.fallback) return Detect(job, choice.version);
  STRATA_RETURN_IF_ERROR(JudgeFallback(job, choice, record));
  return std::optional<Found>();
}

// A run of the current version: a regression found returns its new entry, already saved (the
// tenant's next export falls back at once), to be explained and announced.
Result<std::optional<Watch::Found>> Watch::Detect(const jobs::Job& job, const std::string& version) {
  if (!has_other_version_[job.report]) return std::optional<Found>();  // nothing to compare with
  auto entry = LedgerEntry(job.report, job.tenant);
  if (!entry.ok()) return entry.status();
  int64_t from_seq = 0;
  if (*entry && (*entry)->current_version == version) {
    // Alerted, falling back, or released: decided. Reverted: judged again after the cooldown, on
    // the runs since.
    if ((*entry)->state != "reverted" || Now() < (*entry)->cooldown_until) return std::optional<Found>();
    from_seq = (*entry)->from_seq;
  }
  const DetectorSettings settings = Detector();
  auto current = store_->Runs({job.report, job.tenant, version, false, from_seq, INT64_MAX, settings.window});
  if (!current.ok()) return current.status();
  if (current->empty()) return std::optional<Found>();
  auto good = GoodVersion(job.report, version, job.tenant);
  if (!good.ok()) return good.status();
  if (good->empty()) return std::optional<Found>();
  auto good_runs = store_->Runs({job.report, job.tenant, *good, std::nullopt, 0, INT64_MAX, settings.window});
  if (!good_runs.ok()) return good_runs.status();
  const int64_t rows = RowsReturned(*current, *good_runs);
  auto baseline = Baseline(job, *good_runs, *good, rows);
  if (!baseline.ok()) return baseline.status();
  auto look = LookOf(job, version, current->front(), from_seq);
  if (!look.ok()) return look.status();
  const Judgement j = JudgeRegression(*baseline, Samples(*current), *look, settings);
  if (!j.regressed) return std::optional<Found>();
  auto found = Regressed(job, version, *good, j, current->front().seq);
  if (!found.ok()) return found.status();
  found->rows = rows;
  return std::optional<Found>(std::move(*found));
}

// Saves the entry of a regression just found (the tenant's next export falls back at once) and
// binds the good version to the job, for the explanation.
Result<Watch::Found> Watch::Regressed(const jobs::Job& job, const std::string& version, const std::string& good,
                                      const Judgement& j, int64_t newest_seq) {
  Found found;
  Entry& e = found.entry;
  e.report = job.report;
  e.tenant = job.tenant;
  e.state = project_.serve.watch.mode == WatchSettings::Mode::kFallback ? "fallback" : "regressed";
  e.current_version = version;
  e.good_version = good;
  e.ratio = j.ratio;
  e.runs = j.runs;
  e.reason = j.reason;
  e.since = Now();
  e.from_seq = newest_seq;
  STRATA_RETURN_IF_ERROR(SaveEntry(e));
  ++counts_.regressions;
  if (e.state == "fallback") ++counts_.fallbacks;
  const ReportSpec* report = project_.FindReport(job.report);
  if (report == nullptr) return found;
  auto spec = FallbackSpec(job, *report, good);
  if (!spec.ok()) return found;
  auto values = BindReportParams(*spec, DeclaredParams(job, *spec));
  if (values.ok()) found.good_query = ReportQuery(project_, *spec, std::move(*values));
  return found;
}

// The look number of the newest current run: its runs since from_seq (after a revert, the count
// starts again, so the error budget of each look is not spent by the runs before it).
Result<int> Watch::LookOf(const jobs::Job& job, const std::string& version, const RunRow& newest, int64_t from_seq) {
  if (from_seq == 0) return newest.look;
  auto before = store_->Runs({job.report, job.tenant, version, false, 0, from_seq, 1});
  if (!before.ok()) return before.status();
  return newest.look - (before->empty() ? 0 : before->front().look);
}

// A fallback run: a failure of the good version reverts the fallback at once (verified or not: a
// schema change may have broken the old SQL since); a finished run counts for the verification.
Status Watch::JudgeFallback(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record) {
  auto entry = LedgerEntry(job.report, job.tenant);
  if (!entry.ok()) return entry.status();
  if (!*entry || (*entry)->state != "fallback" || (*entry)->good_version != choice.version) return Status::Ok();
  if (record.kind != jobs::RunRecord::Kind::kDone) {
    auto newest = store_->Runs({job.report, job.tenant, choice.version, true, 0, INT64_MAX, 1});
    if (!newest.ok()) return newest.status();
    const char* what = record.kind == jobs::RunRecord::Kind::kTimeout ? "timed out" : "failed";
    return Revert(**entry, std::string("the good version ") + what + ": " + record.error,
                  newest->empty() ? (*entry)->from_seq : newest->front().seq);
  }
  if ((*entry)->verified) return Status::Ok();
  return Verify(job, **entry);
}

Status Watch::Verify(const jobs::Job& job, Entry entry) {
  const DetectorSettings settings = Detector();
  const int limit = std::max(settings.window, settings.verify_max);
  auto regressed =
      store_->Runs({job.report, job.tenant, entry.current_version, false, 0, entry.from_seq, settings.window});
  if (!regressed.ok()) return regressed.status();
  auto fallback = store_->Runs({job.report, job.tenant, entry.good_version, true, entry.from_seq, INT64_MAX, limit});
  if (!fallback.ok()) return fallback.status();
  if (static_cast<int>(fallback->size()) < settings.verify_runs) return Status::Ok();
  const Entry was = entry;
  ++entry.verify_looks;
  const VerifyResult v = VerifyFallback(Samples(*regressed), Samples(*fallback), settings);
  if (v.outcome == Verification::kNotFaster) {
    return Revert(was, "the fallback did not help: " + v.reason, fallback->front().seq);
  }
  if (v.outcome == Verification::kVerified) {
    entry.verified = true;
    entry.reason += "; verified: " + v.reason;
  }
  auto replaced = ReplaceEntry(entry, was);
  if (!replaced.ok()) return replaced.status();
  if (*replaced && entry.verified) {
    ++counts_.verified;
    Publish(entry, "fallback verified");
  }
  return Status::Ok();
}

// The tenant runs the current version again, and it is not judged for the tenant before the
// cooldown ends, then only on the runs after from_seq.
Status Watch::Revert(Entry entry, const std::string& why, int64_t from_seq) {
  const Entry was = entry;
  entry.state = "reverted";
  entry.reason = why;
  entry.since = Now();
  entry.cooldown_until = Now() + project_.serve.watch.cooldown.count();
  entry.from_seq = from_seq;
  auto replaced = ReplaceEntry(entry, was);
  if (!replaced.ok()) return replaced.status();
  if (*replaced) {
    ++counts_.reverted;
    Publish(entry, "reverted to the current version");
  }
  return Status::Ok();
}

// The version to compare with: the tenant's most recent finished run of a version older than the
// current one, else the newest older version of the report. (A version newer than the current one
// is another process's, during a rolling deploy: never this one's baseline.)
Result<std::string> Watch::GoodVersion(const std::string& report, const std::string& current,
                                       const std::string& tenant) {
  // Once known it stays: after a deploy, the tenant's runs of other versions are fallback runs of it.
  const std::string key = LedgerKey(report, tenant) + "\n" + current;
  auto known = good_of_.find(key);
  if (known != good_of_.end()) return known->second;
  auto mine = current_.find(report);
  if (mine == current_.end()) return std::string();
  const int64_t first_seen = mine->second.first_seen;
  auto latest = store_->LatestEarlierVersion(report, tenant, first_seen);
  if (!latest.ok()) return latest;
  if (!latest->empty()) return good_of_[key] = *latest;
  auto versions = store_->Versions(report);
  if (!versions.ok()) return versions.status();
  for (auto v = versions->rbegin(); v != versions->rend(); ++v) {
    if (v->id != current && v->first_seen < first_seen) return v->id;
  }
  return std::string();
}

// The good version's runs for the tenant, topped up with its size stratum's when it has too few.
Result<std::vector<double>> Watch::Baseline(const jobs::Job& job, const std::vector<RunRow>& good_runs,
                                            const std::string& good, int64_t rows) {
  const DetectorSettings settings = Detector();
  std::vector<double> own = Samples(good_runs);
  const int stratum = Stratum(rows);
  if (static_cast<int>(own.size()) >= settings.tenant_baseline || stratum == 0) return own;
  auto others = store_->StratumRuns(job.report, good, stratum, job.tenant, settings.window);
  if (!others.ok()) return others.status();
  std::vector<double> pooled = Samples(*others);
  pooled.insert(pooled.end(), own.begin(), own.end());  // the tenant's own last: the window keeps them
  return pooled;
}

}  // namespace strata::watch
