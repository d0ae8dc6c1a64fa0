// The correctness sweep (runner.h): the tenants that were not picked, one run of each version with
// their rows compared, rarest value features first, until the time budget is spent.
#include <algorithm>
#include <cmath>

#include "check/runner.h"

namespace strata::check {

namespace {

using Clock = std::chrono::steady_clock;

// After this many confirmed failures of a kind (the report fails already), further findings of the
// kind are listed in the summary instead of being checked in full.
constexpr size_t kFullChecksPerKind = 3;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

enum class Finding { kNone, kDiffered, kFailed, kSlower };

struct OneRun {
  Finding finding = Finding::kNone;
  bool compared = false;
  double base_ms = 0, candidate_ms = 0;
};

// One run of each version for one tenant; the base may take at most `left` (the sweep's budget).
Result<OneRun> RunOnce(const ReportRun& run, const ParamValue& tenant, std::chrono::milliseconds left) {
  const CheckOptions& o = *run.options;
  auto versions = BindVersions(run, tenant);
  if (!versions.ok()) return versions.status();
  const auto& [vb, vc] = *versions;
  run.runner->source()->ForgetPrepared();
  OneRun out;
  ResultDigest db, dc;
  auto base_timeout = std::max(left, o.min_timeout);
  if (o.statement_timeout.count() > 0) base_timeout = std::min(base_timeout, o.statement_timeout);
  auto b = run.runner->Run(vb, base_timeout, &db, nullptr);
  if (!b.ok()) {
    if (Fatal(b.status())) return b.status();
    return out;  // the base fails too: nothing to compare, nothing the candidate broke
  }
  out.base_ms = *b;
  auto c = run.runner->Run(vc, o.CandidateTimeout(*b), &dc, nullptr);
  if (!c.ok()) {
    if (Fatal(c.status())) return c.status();
    out.finding = c.status().code() == Status::Code::kTimeout ? Finding::kSlower : Finding::kFailed;
    return out;
  }
  out.candidate_ms = *c;
  out.compared = true;
  const bool ordered = run.base->sql.has_top_level_order_by && run.candidate->sql.has_top_level_order_by;
  if (!Compare(db, dc, ordered).equal) {
    out.finding = Finding::kDiffered;
  } else if (out.candidate_ms >= o.settings.slower_ratio * std::max(out.base_ms, 1e-3) &&
             out.candidate_ms - out.base_ms >= o.settings.min_slower_ms) {
    out.finding = Finding::kSlower;
  }
  return out;
}

std::string Found(Finding f, const OneRun& r) {
  switch (f) {
    case Finding::kDiffered: return "found by the sweep: its rows differed on one run";
    case Finding::kFailed: return "found by the sweep: the candidate failed on one run";
    case Finding::kSlower:
      return r.candidate_ms > 0
                 ? "found by the sweep: the candidate took " + std::to_string(std::lround(r.candidate_ms)) +
                       " ms against " + std::to_string(std::lround(r.base_ms)) + " ms on one run"
                 : "found by the sweep: the candidate timed out on one run";
    case Finding::kNone: break;
  }
  return "";
}

}  // namespace

Result<SweepSummary> Sweep(const ReportRun& run, const TenantList& list, const std::vector<SweepTenant>& order,
                           std::vector<TenantResult>* tenants) {
  SweepSummary s;
  s.budget_ms = static_cast<double>(run.options->settings.sweep_budget.count());
  if (s.budget_ms <= 0) {
    s.remaining = static_cast<int64_t>(order.size());
    return s;
  }
  const auto start = Clock::now();
  size_t full_differed = 0, full_slower = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    if (MsSince(start) >= s.budget_ms) {
      s.remaining = static_cast<int64_t>(order.size() - k);
      break;
    }
    const ParamValue& tenant = list.values[order[k].index];
    if (run.options->progress) {
      run.options->progress(run.candidate->name + ": sweep, tenant " + tenant.text + " (" + std::to_string(k + 1) +
                            "/" + std::to_string(order.size()) + ")");
    }
    const auto left = std::chrono::milliseconds(static_cast<int64_t>(s.budget_ms - MsSince(start)));
    auto one = RunOnce(run, tenant, left);
    if (!one.ok()) return one.status();
    ++s.tried;
    if (one->compared) ++s.compared;
    if (one->finding == Finding::kNone) continue;
    const bool slow = one->finding == Finding::kSlower;
    size_t& full = slow ? full_slower : full_differed;
    if (full >= kFullChecksPerKind) {
      (slow ? s.slower : s.differed).push_back(tenant.text);
      continue;
    }
    PickedTenant picked;
    picked.value = tenant;
    picked.sizes = list.sizes[order[k].index];
    picked.why.push_back(Found(one->finding, *one));
    if (!order[k].why.empty()) picked.why.push_back(order[k].why);
    auto checked = RunTenant(run, picked);
    if (!checked.ok()) return checked.status();
    checked->from_sweep = true;
    if (checked->verdict != Verdict::kPass) ++full;  // only confirmed findings count towards the cap
    tenants->push_back(std::move(*checked));
  }
  s.ms = MsSince(start);
  return s;
}

}  // namespace strata::check
