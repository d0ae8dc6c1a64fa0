#include "watch/watch.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/text.h"
#include "report/binding.h"
#include "watch/attribution.h"

namespace strata::watch {

using Json = nlohmann::ordered_json;

namespace {

// Runs of a tenant read per judgement: every version's, newest first; enough for both windows.
constexpr int kTenantRunsRead = 4 * kRunsKept;

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
  return Status::Ok();
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

jobs::RunChoice Watch::Choose(const jobs::Job& job, const std::shared_ptr<const ReportSpec>& current) {
  jobs::RunChoice choice{current, "", false};
  auto mine = current_.find(job.report);
  if (mine == current_.end()) return choice;
  choice.version = mine->second.id;
  if (project_.serve.watch.mode != WatchSettings::Mode::kFallback) return choice;
  std::lock_guard lock(mu_);
  auto entry = store_->GetEntry(job.report, job.tenant);
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
    auto entry = store_->GetEntry(job.report, job.tenant);
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

// The version to compare with: the tenant's most recent run of another version, else the newest
// other version of the report.
Result<std::string> Watch::GoodVersion(const std::string& report, const std::string& current,
                                       const std::vector<RunRow>& runs) {
  for (const RunRow& run : runs) {
    if (run.version != current && run.outcome == "done") return run.version;
  }
  auto versions = store_->Versions(report);
  if (!versions.ok()) return versions.status();
  for (auto v = versions->rbegin(); v != versions->rend(); ++v) {
    if (v->id != current) return v->id;
  }
  return std::string();
}

// The good version's runs for the tenant, topped up with its size stratum's when it has too few.
Result<std::vector<double>> Watch::Baseline(const jobs::Job& job, const std::vector<RunRow>& runs,
                                            const std::string& good) {
  const DetectorSettings settings = Detector();
  std::vector<double> own = Samples(runs, [&](const RunRow& r) { return r.version == good; });
  if (static_cast<int>(own.size()) >= settings.tenant_baseline) return own;
  int stratum = 0;
  for (const RunRow& run : runs) {
    if (run.outcome == "done") {
      stratum = run.stratum;
      break;
    }
  }
  if (stratum == 0) return own;
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
void Watch::Attribute(const jobs::Job& job, const std::vector<RunRow>& runs, const jobs::RunContext& context,
                      Entry* entry) {
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
  for (const RunRow& run : runs) {
    if (run.outcome == "done") {
      in.rows = run.rows;
      break;
    }
  }
  const watch::Attribution a = watch::Attribute(*context.source, in);
  const std::string sentence = a.Sentence();
  if (!sentence.empty()) entry->reason += "; " + sentence;
  entry->attribution = a.ToJson().dump();
}

Status Watch::Detect(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunContext& context) {
  const std::string& version = choice.version;
  auto entry = store_->GetEntry(job.report, job.tenant);
  if (!entry.ok()) return entry.status();
  int64_t from_seq = 0;
  if (*entry && (*entry)->current_version == version) {
    // Alerted, falling back, or released: decided. Reverted: judged again after the cooldown, on
    // the runs since.
    if ((*entry)->state != "reverted" || Now() < (*entry)->cooldown_until) return Status::Ok();
    from_seq = (*entry)->from_seq;
  }
  auto runs = store_->TenantRuns(job.report, job.tenant, kTenantRunsRead);
  if (!runs.ok()) return runs.status();
  auto is_current = [&](const RunRow& r) { return r.version == version && !r.fallback && r.seq > from_seq; };
  const std::vector<double> current = Samples(*runs, is_current);
  if (current.empty()) return Status::Ok();
  const auto newest = std::find_if(runs->begin(), runs->end(), is_current);
  auto good = GoodVersion(job.report, version, *runs);
  if (!good.ok()) return good.status();
  if (good->empty()) return Status::Ok();
  auto baseline = Baseline(job, *runs, *good);
  if (!baseline.ok()) return baseline.status();
  const Judgement j = JudgeRegression(*baseline, current, newest->look, Detector());
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
  e.from_seq = newest->seq;
  Attribute(job, *runs, context, &e);
  STRATA_RETURN_IF_ERROR(store_->PutEntry(e));
  ++counts_.regressions;
  if (e.state == "fallback") ++counts_.fallbacks;
  Publish(e, e.state == "fallback" ? "regressed; falling back to " + e.good_version : "regressed");
  return Status::Ok();
}

Status Watch::Verify(const jobs::Job& job, Entry entry) {
  const DetectorSettings settings = Detector();
  auto runs = store_->TenantRuns(job.report, job.tenant, kTenantRunsRead);
  if (!runs.ok()) return runs.status();
  const std::vector<double> regressed = Samples(*runs, [&](const RunRow& r) {
    return r.version == entry.current_version && !r.fallback && r.seq <= entry.from_seq;
  });
  const std::vector<double> fallback = Samples(
      *runs, [&](const RunRow& r) { return r.version == entry.good_version && r.fallback && r.seq > entry.from_seq; });
  if (static_cast<int>(fallback.size()) < settings.verify_runs) return Status::Ok();
  ++entry.verify_looks;
  const VerifyResult v = VerifyFallback(regressed, fallback, settings);
  switch (v.outcome) {
    case Verification::kPending: return store_->PutEntry(entry);
    case Verification::kVerified:
      entry.verified = true;
      entry.reason += "; verified: " + v.reason;
      STRATA_RETURN_IF_ERROR(store_->PutEntry(entry));
      ++counts_.verified;
      Publish(entry, "fallback verified");
      return Status::Ok();
    case Verification::kNotFaster:
      entry.state = "reverted";
      entry.reason = "the fallback did not help: " + v.reason;
      entry.since = Now();
      entry.cooldown_until = Now() + project_.serve.watch.cooldown.count();
      entry.from_seq = runs->empty() ? entry.from_seq : runs->front().seq;
      STRATA_RETURN_IF_ERROR(store_->PutEntry(entry));
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
  ++counts_.released;
  Publish(**released, "released by an operator");
  return true;
}

WatchCounts Watch::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
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
