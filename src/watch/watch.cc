#include "watch/watch.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "common/text.h"
#include "report/binding.h"
#include "watch/attribution.h"

namespace strata::watch {

using Json = nlohmann::ordered_json;

namespace {

double Sample(const RunRow& run) {
  return run.outcome == "done" ? run.db_ms : kFailed;
}

const char* OutcomeName(jobs::RunRecord::Kind kind) {
  switch (kind) {
    case jobs::RunRecord::Kind::kDone: return "done";
    case jobs::RunRecord::Kind::kTimeout: return "timeout";
    case jobs::RunRecord::Kind::kError: return "error";
  }
  return "error";
}

// The samples of the runs that pass `keep`, oldest first (runs come newest first).
template <typename Keep>
std::vector<double> Samples(const std::vector<RunRow>& runs, Keep keep) {
  std::vector<double> samples;
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    if (keep(*run)) samples.push_back(Sample(*run));
  }
  return samples;
}

// The rows the tenant's newest finished run returned (current version first); -1 when none finished.
int64_t RowsReturned(const std::vector<RunRow>& current, const std::vector<RunRow>& good) {
  for (const auto* runs : {&current, &good}) {
    for (const RunRow& run : *runs) {
      if (run.outcome == "done") return run.rows;
    }
  }
  return -1;
}

void HttpPost(const std::string& url, const std::string& body, const std::function<void(const std::string&)>& log) {
  const size_t slash = url.find('/', 7);  // after "http://"
  httplib::Client client(url.substr(0, slash));
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  client.set_write_timeout(5);
  auto res = client.Post(slash == std::string::npos ? "/" : url.substr(slash), body, "application/json");
  if (!res) {
    if (log) log("watch: the webhook " + url + " did not answer: " + httplib::to_string(res.error()));
  } else if (res->status >= 300) {
    if (log) log("watch: the webhook " + url + " answered " + std::to_string(res->status));
  }
}

Json TenantJson(const std::string& tenant, const Project& project) {
  const ParamSpec* spec = project.TenantSpec();
  if (spec == nullptr) return tenant;
  if (spec->type == ParamType::kInt || spec->type == ParamType::kBigint) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(tenant.data(), tenant.data() + tenant.size(), n);
    if (ec == std::errc() && end == tenant.data() + tenant.size()) return n;
  }
  if (spec->type == ParamType::kBool && (tenant == "true" || tenant == "false")) return tenant == "true";
  return tenant;
}

}  // namespace

Json EntryJson(const Entry& e, const Project& project) {
  Json j;
  j["report"] = e.report;
  j["tenant"] = TenantJson(e.tenant, project);
  j["state"] = e.state;
  j["current_version"] = e.current_version;
  j["good_version"] = e.good_version;
  j["ratio"] = std::isinf(e.ratio) ? Json(nullptr) : Json(std::round(e.ratio * 100) / 100);
  j["runs"] = e.runs;
  j["reason"] = e.reason;
  j["since"] = UtcTimestamp(e.since);
  j["verified"] = e.verified;
  const Json attribution = Json::parse(e.attribution, nullptr, /*allow_exceptions=*/false);
  j["attribution"] = attribution.is_object() ? attribution : Json(nullptr);
  return j;
}

Watch::Watch(const Project& project, WatchOptions options, std::unique_ptr<WatchStore> store)
    : project_(project), options_(std::move(options)), store_(std::move(store)) {
  if (!options_.now_ms) options_.now_ms = jobs::NowMillis;
  if (!options_.post) {
    options_.post = [log = options_.log](const std::string& url, const std::string& json) { HttpPost(url, json, log); };
  }
  poster_ = std::thread([this] { PostLoop(); });
}

Watch::~Watch() {
  {
    std::lock_guard lock(post_mu_);
    closing_ = true;
  }
  post_cv_.notify_all();
  if (poster_.joinable()) poster_.join();
}

Result<std::unique_ptr<Watch>> Watch::Open(const Project& project, WatchOptions options) {
  auto store = WatchStore::Open(options.jobs_url, /*create=*/true);
  if (!store.ok()) return store.status();
  std::unique_ptr<Watch> watch(new Watch(project, std::move(options), std::move(*store)));
  STRATA_RETURN_IF_ERROR(watch->RegisterVersions());
  return watch;
}

// Stores this process's version of every report, and releases the entries of versions a deploy
// replaced: the new version is judged afresh.
Status Watch::RegisterVersions() {
  std::lock_guard lock(mu_);
  for (const ReportSpec& report : project_.reports) {
    auto stored = store_->SaveVersion(VersionOf(report), Now());
    if (!stored.ok()) return stored.status();
    current_[report.name] = *stored;
  }
  auto entries = store_->Entries();
  if (!entries.ok()) return entries.status();
  for (Entry& e : *entries) {
    if (e.state != "fallback" && e.state != "regressed") continue;
    auto now = current_.find(e.report);
    if (now != current_.end() && now->second.id == e.current_version) continue;
    e.reason = now == current_.end()
                   ? "the report is no longer in the project"
                   : "version " + now->second.id + " replaced " + e.current_version + ": the watch judges it afresh";
    e.state = "released";
    e.since = Now();
    STRATA_RETURN_IF_ERROR(store_->PutEntry(e));
    ++counts_.released;
    Publish(e, "released");
  }
  versions_read_at_ = 0;
  return ReadLedger();
}

DetectorSettings Watch::Detector() const {
  DetectorSettings d;
  d.min_ratio = project_.serve.watch.min_ratio;
  d.min_slower_ms = project_.serve.watch.min_slower_ms;
  return d;
}

Result<std::optional<StoredVersion>> Watch::CachedVersion(const std::string& report, const std::string& id) {
  const std::string key = report + "/" + id;
  auto found = versions_.find(key);
  if (found != versions_.end()) return std::optional<StoredVersion>(found->second);
  auto stored = store_->Version(report, id);
  if (!stored.ok() || !*stored) return stored;
  versions_[key] = **stored;
  return stored;
}

// Adds the time from its construction to its end to a total.
class CostTimer {
 public:
  CostTimer(std::mutex& mu, double& total) : mu_(mu), total_(total), start_(std::chrono::steady_clock::now()) {}
  ~CostTimer() {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::lock_guard lock(mu_);
    total_ += s;
  }

 private:
  std::mutex& mu_;
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

jobs::RunChoice Watch::Choose(const jobs::Job& job, const std::shared_ptr<const ReportSpec>& current) {
  const CostTimer cost(cost_mu_, cost_seconds_);
  jobs::RunChoice choice{current, "", false};
  auto mine = current_.find(job.report);
  if (mine == current_.end()) return choice;
  choice.version = mine->second.id;
  if (project_.serve.watch.mode != WatchSettings::Mode::kFallback) return choice;
  std::lock_guard lock(mu_);
  auto entry = LedgerEntry(job.report, job.tenant);
  if (!entry.ok()) {
    Log("watch: cannot read the ledger, running the current version: " + entry.status().message());
    return choice;
  }
  if (!*entry || (*entry)->state != "fallback" || (*entry)->current_version != choice.version) return choice;
  auto good = CachedVersion(job.report, (*entry)->good_version);
  if (!good.ok() || !*good) {
    Log("watch: the good version " + (*entry)->good_version + " of " + job.report +
        " is not in the store; running the current version");
    return choice;
  }
  auto spec = SpecOf(**good, *current);
  if (!spec.ok()) {
    Log("watch: " + spec.status().message() + "; running the current version");
    return choice;
  }
  return jobs::RunChoice{std::make_shared<const ReportSpec>(std::move(*spec)), (*good)->id, true};
}

void Watch::Ran(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record,
                const jobs::RunContext& context) {
  if (choice.version.empty()) return;
  const CostTimer cost(cost_mu_, cost_seconds_);
  std::lock_guard lock(mu_);
  RunRow row;
  row.report = job.report;
  row.version = choice.version;
  row.tenant = job.tenant;
  row.job = job.id;
  row.fallback = choice.fallback;
  row.outcome = OutcomeName(record.kind);
  row.rows = record.rows;
  row.db_ms = record.db_seconds * 1000;
  row.wall_ms = record.wall_seconds * 1000;
  row.stratum = record.kind == jobs::RunRecord::Kind::kDone ? Stratum(record.rows) : 0;
  row.at = Now();
  row.error = record.error;
  row.plan = PlanOfNewStratum(row, choice, context);
  auto added = store_->AddRun(row);
  if (!added.ok()) {
    ++counts_.record_errors;
    Log("watch: cannot record the run of job " + job.id + ": " + added.status().message());
    return;
  }
  ++counts_.runs;
  if (project_.serve.watch.mode == WatchSettings::Mode::kOff) return;
  Status judged = Status::Ok();
  if (choice.fallback) {
    auto entry = LedgerEntry(job.report, job.tenant);
    judged = entry.status();
    if (entry.ok() && *entry && (*entry)->state == "fallback" && !(*entry)->verified &&
        (*entry)->good_version == choice.version) {
      judged = Verify(job, **entry);
    }
  } else {
    judged = Detect(job, choice, context);
  }
  if (!judged.ok()) Log("watch: cannot judge job " + job.id + ": " + judged.message());
}

// The version to compare with: the tenant's most recent finished run of another version, else the
// newest other version of the report.
Result<std::string> Watch::GoodVersion(const std::string& report, const std::string& current,
                                       const std::string& tenant) {
  // Once known it stays: after a deploy, the tenant's runs of other versions are fallback runs of it.
  const std::string key = LedgerKey(report, tenant) + "\n" + current;
  auto known = good_of_.find(key);
  if (known != good_of_.end()) return known->second;
  auto latest = store_->LatestOtherVersion(report, tenant, current);
  if (!latest.ok()) return latest;
  if (!latest->empty()) return good_of_[key] = *latest;
  auto versions = store_->Versions(report);
  if (!versions.ok()) return versions.status();
  for (auto v = versions->rbegin(); v != versions->rend(); ++v) {
    if (v->id != current) return v->id;
  }
  return std::string();
}

std::string Watch::LedgerKey(const std::string& report, const std::string& tenant) {
  return report + "\n" + tenant;
}

// The ledger's entry for the report and tenant, from a copy refreshed every kLedgerRefresh: one
// read per second instead of one per export. An entry another process writes is seen within it.
Result<std::optional<Entry>> Watch::LedgerEntry(const std::string& report, const std::string& tenant) {
  if (ledger_read_at_ == 0 || Now() - ledger_read_at_ >= kLedgerRefresh.count()) {
    STRATA_RETURN_IF_ERROR(ReadLedger());
  }
  auto found = ledger_.find(LedgerKey(report, tenant));
  if (found == ledger_.end()) return std::optional<Entry>();
  return std::optional<Entry>(found->second);
}

Status Watch::ReadLedger() {
  auto entries = store_->Entries();
  if (!entries.ok()) return entries.status();
  ledger_.clear();
  for (Entry& e : *entries) ledger_[LedgerKey(e.report, e.tenant)] = std::move(e);
  // Another process may have stored another version meanwhile (a deploy rolling over the fleet).
  if (Now() - versions_read_at_ >= kVersionsRefresh.count()) {
    for (const auto& [report, version] : current_) {
      auto versions = store_->Versions(report);
      if (!versions.ok()) return versions.status();
      has_other_version_[report] = versions->size() > 1;
    }
    versions_read_at_ = Now();
  }
  ledger_read_at_ = Now();
  return Status::Ok();
}

Status Watch::SaveEntry(const Entry& entry) {
  STRATA_RETURN_IF_ERROR(store_->PutEntry(entry));
  ledger_[LedgerKey(entry.report, entry.tenant)] = entry;
  return Status::Ok();
}

// The good version's runs for the tenant, topped up with its size stratum's when it has too few.
Result<std::vector<double>> Watch::Baseline(const jobs::Job& job, const std::vector<RunRow>& good_runs,
                                            const std::string& good, int64_t rows) {
  const DetectorSettings settings = Detector();
  std::vector<double> own = Samples(good_runs, [](const RunRow&) { return true; });
  const int stratum = Stratum(rows);
  if (static_cast<int>(own.size()) >= settings.tenant_baseline || stratum == 0) return own;
  auto others = store_->StratumRuns(job.report, good, stratum, job.tenant, settings.window);
  if (!others.ok()) return others.status();
  std::vector<double> pooled = Samples(*others, [](const RunRow&) { return true; });
  pooled.insert(pooled.end(), own.begin(), own.end());  // the tenant's own last: the window keeps them
  return pooled;
}

// The plan-shape fingerprint of the first finished run of a version in a size stratum (a cheap
// EXPLAIN on the run's connection); empty for every other run.
std::string Watch::PlanOfNewStratum(const RunRow& row, const jobs::RunChoice& choice, const jobs::RunContext& context) {
  if (context.source == nullptr || context.query == nullptr || row.stratum == 0) return "";
  const std::string key = row.report + "/" + row.version + "/" + std::to_string(row.stratum);
  if (planned_.count(key) != 0) return "";
  auto has = store_->HasPlan(row.report, row.version, row.stratum);
  if (!has.ok()) return "";
  planned_.insert(key);
  if (*has) return "";
  return PlanFingerprint(*context.source, *context.query, choice.report->execution == Execution::kPrepared);
}

// Adds to the entry what the database says of the regression: plans, estimates, statistics.
void Watch::Attribute(const jobs::Job& job, int64_t rows, const jobs::RunContext& context, Entry* entry) {
  if (context.source == nullptr || context.query == nullptr) return;
  auto good = CachedVersion(job.report, entry->good_version);
  const ReportSpec* current = project_.FindReport(job.report);
  if (!good.ok() || !*good || current == nullptr) return;
  auto spec = SpecOf(**good, *current);
  if (!spec.ok()) return;
  std::vector<ParamArg> given;
  for (const auto& [name, value] : job.params) given.push_back(ParamArg{name, std::nullopt, value});
  auto values = BindReportParams(*spec, given);
  if (!values.ok()) return;
  const Query good_query = ReportQuery(project_, *spec, std::move(*values));
  AttributionInput in;
  in.current = context.query;
  in.good = &good_query;
  in.prepared = current->execution == Execution::kPrepared;
  in.tenant = job.tenant;
  in.tenant_param = project_.tenant_param;
  in.rows = rows;
  const watch::Attribution a = watch::Attribute(*context.source, in);
  const std::string sentence = a.Sentence();
  if (!sentence.empty()) entry->reason += "; " + sentence;
  entry->attribution = a.ToJson().dump();
}

Status Watch::Detect(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunContext& context) {
  const std::string& version = choice.version;
  if (!has_other_version_[job.report]) return Status::Ok();  // nothing to compare with
  auto entry = LedgerEntry(job.report, job.tenant);
  if (!entry.ok()) return entry.status();
  int64_t from_seq = 0;
  if (*entry && (*entry)->current_version == version) {
    // Alerted, falling back, or released: decided. Reverted: judged again after the cooldown, on
    // the runs since.
    if ((*entry)->state != "reverted" || Now() < (*entry)->cooldown_until) return Status::Ok();
    from_seq = (*entry)->from_seq;
  }
  const DetectorSettings settings = Detector();
  auto current = store_->Runs({job.report, job.tenant, version, false, from_seq, INT64_MAX, settings.window});
  if (!current.ok()) return current.status();
  if (current->empty()) return Status::Ok();
  auto good = GoodVersion(job.report, version, job.tenant);
  if (!good.ok()) return good.status();
  if (good->empty()) return Status::Ok();
  auto good_runs = store_->Runs({job.report, job.tenant, *good, std::nullopt, 0, INT64_MAX, settings.window});
  if (!good_runs.ok()) return good_runs.status();
  const int64_t rows = RowsReturned(*current, *good_runs);
  auto baseline = Baseline(job, *good_runs, *good, rows);
  if (!baseline.ok()) return baseline.status();
  const RunRow& newest = current->front();
  const Judgement j =
      JudgeRegression(*baseline, Samples(*current, [](const RunRow&) { return true; }), newest.look, settings);
  if (!j.regressed) return Status::Ok();
  Entry e;
  e.report = job.report;
  e.tenant = job.tenant;
  e.state = project_.serve.watch.mode == WatchSettings::Mode::kFallback ? "fallback" : "regressed";
  e.current_version = version;
  e.good_version = *good;
  e.ratio = j.ratio;
  e.runs = j.runs;
  e.reason = j.reason;
  e.since = Now();
  e.from_seq = newest.seq;
  Attribute(job, rows, context, &e);
  STRATA_RETURN_IF_ERROR(SaveEntry(e));
  ++counts_.regressions;
  if (e.state == "fallback") ++counts_.fallbacks;
  Publish(e, e.state == "fallback" ? "regressed; falling back to " + e.good_version : "regressed");
  return Status::Ok();
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
  ++entry.verify_looks;
  const auto all = [](const RunRow&) { return true; };
  const VerifyResult v = VerifyFallback(Samples(*regressed, all), Samples(*fallback, all), settings);
  switch (v.outcome) {
    case Verification::kPending: return SaveEntry(entry);
    case Verification::kVerified:
      entry.verified = true;
      entry.reason += "; verified: " + v.reason;
      STRATA_RETURN_IF_ERROR(SaveEntry(entry));
      ++counts_.verified;
      Publish(entry, "fallback verified");
      return Status::Ok();
    case Verification::kNotFaster:
      entry.state = "reverted";
      entry.reason = "the fallback did not help: " + v.reason;
      entry.since = Now();
      entry.cooldown_until = Now() + project_.serve.watch.cooldown.count();
      entry.from_seq = fallback->front().seq;
      STRATA_RETURN_IF_ERROR(SaveEntry(entry));
      ++counts_.reverted;
      Publish(entry, "reverted to the current version");
      return Status::Ok();
  }
  return Status::Ok();
}

Result<std::vector<Entry>> Watch::Entries() {
  std::lock_guard lock(mu_);
  return store_->Entries();
}

Result<std::optional<Entry>> ReleaseEntry(WatchStore& store, const std::string& report, const std::string& tenant,
                                          int64_t now) {
  auto entry = store.GetEntry(report, tenant);
  if (!entry.ok()) return entry.status();
  if (!*entry || ((*entry)->state != "fallback" && (*entry)->state != "regressed")) return std::optional<Entry>();
  Entry e = **entry;
  e.state = "released";
  e.reason = "released by an operator (was: " + e.reason + ")";
  e.since = now;
  STRATA_RETURN_IF_ERROR(store.PutEntry(e));
  return std::optional<Entry>(e);
}

Result<bool> Watch::Release(const std::string& report, const std::string& tenant) {
  std::lock_guard lock(mu_);
  auto released = ReleaseEntry(*store_, report, tenant, Now());
  if (!released.ok()) return released.status();
  if (!*released) return false;
  ledger_[LedgerKey(report, tenant)] = **released;
  ++counts_.released;
  Publish(**released, "released by an operator");
  return true;
}

WatchCounts Watch::counts() const {
  WatchCounts c;
  {
    std::lock_guard lock(mu_);
    c = counts_;
  }
  std::lock_guard lock(cost_mu_);
  c.seconds = cost_seconds_;
  return c;
}

void Watch::Publish(const Entry& entry, const std::string& what) {
  Log("watch: " + entry.report + ", tenant " + entry.tenant + ": " + what + " (" + entry.reason + ")");
  if (project_.serve.watch.webhook.empty()) return;
  {
    std::lock_guard lock(post_mu_);
    posts_.push_back(EntryJson(entry, project_).dump());
  }
  post_cv_.notify_all();
}

void Watch::PostLoop() {
  std::unique_lock lock(post_mu_);
  for (;;) {
    post_cv_.wait(lock, [&] { return closing_ || !posts_.empty(); });
    if (posts_.empty()) return;  // closing, and everything was sent
    const std::string body = std::move(posts_.front());
    posts_.pop_front();
    lock.unlock();
    options_.post(project_.serve.watch.webhook, body);
    lock.lock();
  }
}

}  // namespace strata::watch
