#include "watch/watch.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "common/text.h"
#include "report/binding.h"
#include "watch/attribution.h"
#include "watch/judge_util.h"

namespace strata::watch {

using Json = nlohmann::ordered_json;

namespace {

const char* OutcomeName(jobs::RunRecord::Kind kind) {
  switch (kind) {
    case jobs::RunRecord::Kind::kDone: return "done";
    case jobs::RunRecord::Kind::kTimeout: return "timeout";
    case jobs::RunRecord::Kind::kError: return "error";
  }
  return "error";
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

// Stores this process's version of every report, and releases the entries of the versions it
// replaced.
Status Watch::RegisterVersions() {
  std::lock_guard lock(mu_);
  for (const ReportSpec& report : project_.reports) {
    auto stored = store_->SaveVersion(VersionOf(report), Now());
    if (!stored.ok()) return stored.status();
    current_[report.name] = *stored;
  }
  STRATA_RETURN_IF_ERROR(ReleaseReplaced());
  versions_read_at_ = 0;
  return ReadLedger();
}

// A deploy: the fallbacks and alerts of a version older than this process's are released, and the
// new version is judged afresh. An entry of a newer version (this process is an old one, during a
// rolling deploy) is left alone.
Status Watch::ReleaseReplaced() {
  auto entries = store_->Entries();
  if (!entries.ok()) return entries.status();
  for (Entry& e : *entries) {
    if (e.state != "fallback" && e.state != "regressed") continue;
    auto now = current_.find(e.report);
    if (now != current_.end()) {
      if (now->second.id == e.current_version) continue;
      auto theirs = CachedVersion(e.report, e.current_version);
      if (!theirs.ok()) return theirs.status();
      if (*theirs && (*theirs)->first_seen > now->second.first_seen) continue;
    }
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

// The good version as a report the job's parameters bind to: its SQL, parameters and execution,
// given the job's values for the parameters it declares (a parameter the new version added is left
// out). Fails when the job lacks one it needs.
Result<ReportSpec> Watch::FallbackSpec(const jobs::Job& job, const ReportSpec& current, const std::string& good) {
  auto version = CachedVersion(job.report, good);
  if (!version.ok()) return version.status();
  if (!*version) return Status::Config("the good version " + good + " of " + job.report + " is not in the store");
  auto spec = SpecOf(**version, current);
  if (!spec.ok()) return spec.status();
  auto values = BindReportParams(*spec, DeclaredParams(job, *spec));
  if (!values.ok()) return values.status();
  return spec;
}

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
  auto spec = FallbackSpec(job, *current, (*entry)->good_version);
  if (!spec.ok()) {
    Log("watch: job " + job.id + " cannot run the good version: " + spec.status().message() +
        "; running the current version");
    return choice;
  }
  return jobs::RunChoice{std::make_shared<const ReportSpec>(std::move(*spec)), (*entry)->good_version, true};
}

RunRow Watch::RowOf(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record, int64_t now) {
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
  row.at = now;
  row.error = record.error;
  return row;
}

// Records the run and judges the version; what needs the database (a plan's fingerprint, the
// explanation of a regression) runs outside the lock, so that other workers never wait for it.
void Watch::Ran(const jobs::Job& job, const jobs::RunChoice& choice, const jobs::RunRecord& record,
                const jobs::RunContext& context) {
  if (choice.version.empty()) return;
  const CostTimer cost(cost_mu_, cost_seconds_);
  RunRow row = RowOf(job, choice, record, Now());
  row.plan = PlanOfNewStratum(row, choice, context);
  std::optional<Found> found;
  {
    std::lock_guard lock(mu_);
    auto added = store_->AddRun(row);
    if (!added.ok()) {
      ++counts_.record_errors;
      Log("watch: cannot record the run of job " + job.id + ": " + added.status().message());
      return;
    }
    ++counts_.runs;
    if (project_.serve.watch.mode == WatchSettings::Mode::kOff) return;
    auto judged = Judge(job, choice, record);
    if (!judged.ok()) {
      Log("watch: cannot judge job " + job.id + ": " + judged.status().message());
      return;
    }
    found = std::move(*judged);
  }
  if (found) Explain(job, std::move(*found), context);
}

// The plan-shape fingerprint of the first finished run of a version in a size stratum (a cheap
// EXPLAIN on the run's connection); empty for every other run.
std::string Watch::PlanOfNewStratum(const RunRow& row, const jobs::RunChoice& choice, const jobs::RunContext& context) {
  if (context.source == nullptr || context.query == nullptr || row.stratum == 0) return "";
  const std::string key = row.report + "/" + row.version + "/" + std::to_string(row.stratum);
  {
    std::lock_guard lock(mu_);
    if (!planned_.insert(key).second) return "";
    auto has = store_->HasPlan(row.report, row.version, row.stratum);
    if (!has.ok() || *has) return "";
  }
  return PlanFingerprint(*context.source, *context.query, choice.report->execution == Execution::kPrepared);
}

// Adds what the database says of a regression to its entry, unless the entry changed meanwhile,
// and announces it.
void Watch::Explain(const jobs::Job& job, Found found, const jobs::RunContext& context) {
  Entry& e = found.entry;
  const Entry was = e;
  if (context.source != nullptr && context.query != nullptr && found.good_query) {
    AttributionInput in;
    in.current = context.query;
    in.good = &*found.good_query;
    const ReportSpec* current = project_.FindReport(job.report);
    in.prepared = current != nullptr && current->execution == Execution::kPrepared;
    in.tenant = job.tenant;
    in.tenant_param = project_.tenant_param;
    in.rows = found.rows;
    const Attribution a = Attribute(*context.source, in);
    const std::string sentence = a.Sentence();
    if (!sentence.empty()) e.reason += "; " + sentence;
    e.attribution = a.ToJson().dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  std::lock_guard lock(mu_);
  if (!e.attribution.empty()) {
    auto replaced = ReplaceEntry(e, was);
    if (!replaced.ok() || !*replaced) return;  // released or replaced meanwhile: announced by whoever did it
  }
  Publish(e, e.state == "fallback" ? "regressed; falling back to " + e.good_version : "regressed");
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

// A new entry (a regression found): written whatever was there, an older state of the same pair.
Status Watch::SaveEntry(const Entry& entry) {
  STRATA_RETURN_IF_ERROR(store_->PutEntry(entry));
  ledger_[LedgerKey(entry.report, entry.tenant)] = entry;
  return Status::Ok();
}

// A change to an entry as this process last saw it (`was`): written only if nobody released or
// replaced it meanwhile (another process, `strata watch release`); then the ledger is read again.
Result<bool> Watch::ReplaceEntry(const Entry& entry, const Entry& was) {
  auto replaced = store_->ReplaceEntry(entry, was.state, was.since);
  if (!replaced.ok()) return replaced.status();
  if (*replaced) {
    ledger_[LedgerKey(entry.report, entry.tenant)] = entry;
  } else {
    STRATA_RETURN_IF_ERROR(ReadLedger());
  }
  return *replaced;
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
  auto replaced = store.ReplaceEntry(e, (*entry)->state, (*entry)->since);
  if (!replaced.ok()) return replaced.status();
  if (!*replaced) return ReleaseEntry(store, report, tenant, now);  // it changed meanwhile: look again
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
    posts_.push_back(EntryJson(entry, project_).dump(-1, ' ', false, Json::error_handler_t::replace));
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
