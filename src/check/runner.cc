// One tenant checked in full (runner.h): warm-up with result digests, priming, timed repetitions,
// row differences, plans, statistics and the verdict, each a step below.
#include "check/runner.h"

#include <algorithm>
#include <cmath>

namespace strata::check {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

const char* ExecutionName(Execution e) {
  return e == Execution::kPrepared ? "prepared" : "simple";
}

Result<std::vector<ParamValue>> BindFor(const ReportSpec& spec, const std::string& tenant_param,
                                        const ParamValue& tenant, const std::vector<ParamArg>& given) {
  std::vector<ParamArg> args{{tenant_param, std::nullopt, tenant.text}};
  for (const ParamArg& a : given) {
    if (a.name != tenant_param && spec.FindParam(a.name) != nullptr) args.push_back(a);
  }
  return BindReportParams(spec, args);
}

// The state of one tenant's check between its steps.
struct TenantCheck {
  explicit TenantCheck(const ReportRun& r) : run(r) {}
  const ReportRun& run;
  TenantResult tr;
  Version vb, vc;
  std::chrono::milliseconds base_timeout{0}, cand_timeout{0};
  ResultDigest db, dc;
  bool runs_ok = false;  // both warm-ups ran
  bool slower = false;   // both timed sets said slower
  double base_warm_ms = 0;
  std::string plan_error;
};

// Warm-up: each version once, its rows digested; the candidate's timeout follows from the base's time.
Status WarmUp(TenantCheck& c) {
  const CheckOptions& o = *c.run.options;
  c.run.runner->source()->ForgetPrepared();
  c.base_timeout = o.statement_timeout;
  auto bw = c.run.runner->Run(c.vb, c.base_timeout, &c.db, nullptr);
  if (!bw.ok() && Fatal(bw.status())) return bw.status();
  c.cand_timeout = c.base_timeout;
  if (bw.ok()) {
    c.tr.base.rows = c.db.rows();
    c.base_warm_ms = *bw;
    c.cand_timeout = o.CandidateTimeout(*bw);
  } else {
    c.tr.base.error = bw.status().message();
  }
  c.tr.base.timeout_ms = static_cast<double>(c.base_timeout.count());
  c.tr.candidate.timeout_ms = static_cast<double>(c.cand_timeout.count());
  auto cw = c.run.runner->Run(c.vc, c.cand_timeout, &c.dc, nullptr);
  if (!cw.ok() && Fatal(cw.status())) return cw.status();
  if (cw.ok()) {
    c.tr.candidate.rows = c.dc.rows();
  } else if (cw.status().code() == Status::Code::kTimeout) {
    c.tr.candidate.timed_out = true;
  } else {
    c.tr.candidate.error = cw.status().message();
  }
  c.runs_ok = bw.ok() && cw.ok();
  return Status::Ok();
}

// A prepared statement is run until the plan cache may pick the generic plan (after five custom
// plans), as an application's pooled connection would.
Status Prime(TenantCheck& c) {
  if (!c.runs_ok || c.run.runner->source()->dialect() != Dialect::kPostgres) return Status::Ok();
  for (int k = 1; k < 5; ++k) {
    if (c.vb.execution == Execution::kPrepared) {
      auto r = c.run.runner->Run(c.vb, c.base_timeout, nullptr, nullptr);
      if (!r.ok() && Fatal(r.status())) return r.status();
    }
    if (c.vc.execution == Execution::kPrepared) {
      auto r = c.run.runner->Run(c.vc, c.cand_timeout, nullptr, nullptr);
      if (!r.ok() && Fatal(r.status())) return r.status();
      if (!r.ok() && r.status().code() == Status::Code::kTimeout) c.tr.candidate.timed_out = true;
    }
  }
  return Status::Ok();
}

// A set can no longer say "slower" once a candidate run was as fast as a base run (timing.h): the
// rest of it is skipped (both versions have run once; the warm-up ran each before).
bool Overlap(const std::vector<double>& base_ms, const std::vector<double>& cand_ms) {
  return !base_ms.empty() && !cand_ms.empty() &&
         *std::min_element(cand_ms.begin(), cand_ms.end()) <= *std::max_element(base_ms.begin(), base_ms.end());
}

// One set of repetitions, alternating which version goes first.
Status TimedSet(TenantCheck& c, std::vector<double>* base_ms, std::vector<double>* cand_ms) {
  for (int rep = 0; c.runs_ok && !c.tr.candidate.timed_out && rep < c.run.options->settings.repetitions; ++rep) {
    if (rep >= 1 && Overlap(*base_ms, *cand_ms)) break;
    for (int side = 0; side < 2; ++side) {
      const bool run_base = (side == 0) == (rep % 2 == 0);
      auto r = c.run.runner->Run(run_base ? c.vb : c.vc, run_base ? c.base_timeout : c.cand_timeout, nullptr, nullptr);
      if (!r.ok() && Fatal(r.status())) return r.status();
      if (r.ok()) {
        (run_base ? base_ms : cand_ms)->push_back(*r);
      } else if (!run_base && r.status().code() == Status::Code::kTimeout) {
        c.tr.candidate.timed_out = true;
        return Status::Ok();
      } else {
        (run_base ? c.tr.base : c.tr.candidate).error = r.status().message();
        return Status::Ok();
      }
    }
  }
  return Status::Ok();
}

// Repetitions; a set that says "slower" is confirmed by a second set (timing.h): noise never fails
// the gate, a regression costs one more set.
Status Time(TenantCheck& c) {
  const CheckSettings& s = c.run.options->settings;
  const TimingRule rule{s.slower_ratio, s.min_slower_ms};
  STRATA_RETURN_IF_ERROR(TimedSet(c, &c.tr.base.ms, &c.tr.candidate.ms));
  if (c.runs_ok && c.tr.base.error.empty() && c.tr.candidate.error.empty() && !c.tr.candidate.timed_out &&
      IsSlower(c.tr.base.ms, c.tr.candidate.ms, rule)) {
    std::vector<double> base_again, cand_again;
    STRATA_RETURN_IF_ERROR(TimedSet(c, &base_again, &cand_again));
    c.slower = IsSlower(base_again, cand_again, rule);
    c.tr.base.ms.insert(c.tr.base.ms.end(), base_again.begin(), base_again.end());
    c.tr.candidate.ms.insert(c.tr.candidate.ms.end(), cand_again.begin(), cand_again.end());
  }
  c.tr.base.median_ms = Median(c.tr.base.ms);
  c.tr.candidate.median_ms = Median(c.tr.candidate.ms);
  if (c.tr.base.median_ms == 0 && c.tr.base.rows >= 0) c.tr.base.median_ms = c.base_warm_ms;
  return Status::Ok();
}

// Rows: compared from the warm-up digests; when they differ, one more run of each collects the
// first differing rows.
Status CompareRows(TenantCheck& c) {
  if (!c.runs_ok) return Status::Ok();
  c.tr.compared = true;
  const bool ordered = c.run.base->sql.has_top_level_order_by && c.run.candidate->sql.has_top_level_order_by;
  Comparison cmp = Compare(c.db, c.dc, ordered);
  if (cmp.equal) return Status::Ok();
  RowDiff diff;
  diff.only_in_base = cmp.only_in_base;
  diff.only_in_candidate = cmp.only_in_candidate;
  diff.ordered = ordered;
  diff.order_only = cmp.order_only;
  diff.first_order_difference = cmp.first_order_difference;
  if (!cmp.order_only) {
    const auto rows = static_cast<size_t>(c.run.options->diff_rows);
    RowSample sb(cmp.base_extra, rows);
    RowSample sc(cmp.candidate_extra, rows);
    auto r1 = c.run.runner->Run(c.vb, c.base_timeout, nullptr, &sb);
    if (!r1.ok() && Fatal(r1.status())) return r1.status();
    auto r2 = c.run.runner->Run(c.vc, c.cand_timeout, nullptr, &sc);
    if (!r2.ok() && Fatal(r2.status())) return r2.status();
    diff.base_rows = sb.TakeRows();
    diff.candidate_rows = sc.TakeRows();
    if (r1.ok() && r2.ok()) {  // a run that failed has no columns to compare
      diff.columns = sb.columns();
      if (sc.columns() != sb.columns()) diff.candidate_columns = sc.columns();
    }
  }
  c.tr.diff = std::move(diff);
  return Status::Ok();
}

void CopyPlan(const PlanInfo& p, VersionRuns* r) {
  r->plan = p.fingerprint;
  r->plan_text = p.text;
  r->generic_plan = p.generic;
  r->misestimates = p.misestimates;
}

// Plans, after the runs: a prepared statement shows the plan its cache uses now. EXPLAIN ANALYZE
// runs the query once more, so it is kept for failing tenants and for quick ones; a passing heavy
// tenant gets the plain plan (its fingerprint still finds the plan flips), and a candidate that
// timed out is not run to its timeout again. Then the statistics of the tables the plans read.
constexpr double kAnalyzeBelowMs = 250;

void ReadPlansAndStatistics(TenantCheck& c) {
  const Dialect dialect = c.run.runner->source()->dialect();
  const bool analyze =
      c.tr.verdict != Verdict::kPass || std::max(c.tr.base.median_ms, c.tr.candidate.median_ms) < kAnalyzeBelowMs;
  PlanInfo pb = c.run.runner->Plan(c.vb, c.base_timeout, &c.plan_error, analyze);
  PlanInfo pc = c.run.runner->Plan(c.vc, c.cand_timeout, &c.plan_error, analyze && !c.tr.candidate.timed_out);
  CopyPlan(pb, &c.tr.base);
  CopyPlan(pc, &c.tr.candidate);
  c.tr.plan_changed = !pb.fingerprint.empty() && !pc.fingerprint.empty() && pb.fingerprint != pc.fingerprint;
  std::vector<std::string> read = dialect == Dialect::kPostgres ? pb.relations : c.run.tables;
  for (const std::string& r : pc.relations) {
    if (dialect == Dialect::kPostgres && std::find(read.begin(), read.end(), r) == read.end()) read.push_back(r);
  }
  const std::string& tenant = c.tr.tenant.value.text;
  for (const TableStats& s : c.run.stats) {
    if (std::find(read.begin(), read.end(), s.name) == read.end()) continue;
    int64_t actual = -1;
    auto counts = c.run.counts.find(s.name);
    if (counts != c.run.counts.end()) {
      auto n = counts->second.find(tenant);
      actual = n == counts->second.end() ? 0 : n->second;
    }
    c.tr.tables.push_back(Health(s, &tenant, actual, dialect));
  }
}

void Judge(TenantCheck& c) {
  TenantResult& tr = c.tr;
  if (!tr.base.error.empty() || !tr.candidate.error.empty()) {
    tr.verdict = Verdict::kError;
  } else if (tr.diff) {
    tr.verdict = Verdict::kDifferentResults;
  } else if (tr.candidate.timed_out) {
    tr.verdict = Verdict::kTimeout;
  } else if (c.slower) {
    tr.verdict = Verdict::kSlower;
  }
  if (tr.candidate.timed_out) {
    tr.ratio = tr.candidate.timeout_ms / std::max(tr.base.median_ms, 1e-3);
  } else if (tr.base.median_ms > 0) {
    tr.ratio = tr.candidate.median_ms / tr.base.median_ms;
  }
}

}  // namespace

Result<double> Runner::Run(const Version& v, std::chrono::milliseconds timeout, ResultDigest* digest,
                           RowSample* sample) {
  ExecuteOptions eo;
  eo.statement_timeout = timeout;
  eo.prepared = v.execution == Execution::kPrepared;
  const auto t0 = Clock::now();
  ++cost_->executions;
  auto cursor = source_->Execute(v.query, eo);
  if (!cursor.ok()) {
    cost_->query_ms += MsSince(t0);
    return cursor.status();
  }
  if (sample != nullptr) {
    std::vector<std::string> names;
    for (const Column& c : (*cursor)->columns()) names.push_back(c.name);
    sample->SetColumns(std::move(names));
  }
  Status s;
  double hashing = 0;
  for (;;) {
    s = (*cursor)->Next(&batch_);
    if (!s.ok() || batch_.empty()) break;
    if (digest != nullptr || sample != nullptr) {
      // Hashing is Strata's work, not the query's: it is kept out of the time.
      const auto h0 = Clock::now();
      if (digest != nullptr) digest->Add(batch_);
      if (sample != nullptr) sample->Add(batch_);
      hashing += MsSince(h0);
    }
  }
  cursor->reset();
  const double ms = MsSince(t0) - hashing;
  cost_->query_ms += ms;
  if (!s.ok()) return s;
  return ms;
}

PlanInfo Runner::Plan(const Version& v, std::chrono::milliseconds timeout, std::string* error, bool analyze) {
  ExplainOptions xo;
  xo.prepared = v.execution == Execution::kPrepared;
  xo.statement_timeout = timeout;
  xo.analyze = analyze && source_->dialect() == Dialect::kPostgres;
  const auto t0 = Clock::now();
  if (xo.analyze) ++cost_->executions;
  auto text = source_->Explain(v.query, xo);
  if (!text.ok() && text.status().code() == Status::Code::kTimeout) {
    xo.analyze = false;
    text = source_->Explain(v.query, xo);
  }
  cost_->query_ms += MsSince(t0);
  if (!text.ok()) {
    *error = text.status().message();
    return {};
  }
  if (source_->dialect() == Dialect::kSqlite) return ParseSqlitePlan(*text);
  auto plan = ParsePostgresPlan(*text);
  if (!plan.ok()) {
    *error = plan.status().message();
    return {};
  }
  return *plan;
}

std::chrono::milliseconds CheckOptions::CandidateTimeout(double base_ms) const {
  const double ratio = std::max(timeout_ratio, 2 * settings.slower_ratio);
  const double t = std::max(base_ms * ratio, static_cast<double>(min_timeout.count()));
  auto out = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(t)));
  if (statement_timeout.count() > 0) out = std::min(out, statement_timeout);
  return out;
}

bool Fatal(const Status& s) {
  return s.code() == Status::Code::kCancelled || s.code() == Status::Code::kInternal;
}

Result<std::pair<Version, Version>> BindVersions(const ReportRun& run, const ParamValue& tenant) {
  const CheckOptions& o = *run.options;
  const std::string& param = run.project->tenant_param;
  Version vb, vc;
  vb.spec = run.base;
  vc.spec = run.candidate;
  vb.execution = o.execution.value_or(run.base->execution);
  vc.execution = o.execution.value_or(run.candidate->execution);
  auto bp = BindFor(*run.base, param, tenant, o.params);
  if (!bp.ok()) return bp.status();
  auto cp = BindFor(*run.candidate, param, tenant, o.params);
  if (!cp.ok()) return cp.status();
  vb.query = ReportQuery(*run.base_project, *run.base, std::move(*bp), "base");
  vc.query = ReportQuery(*run.project, *run.candidate, std::move(*cp), "candidate");
  return std::make_pair(std::move(vb), std::move(vc));
}

Result<TenantResult> RunTenant(const ReportRun& run, const PickedTenant& tenant) {
  TenantCheck c(run);
  auto typed = ParseParamValue(run.tenant_type, tenant.value.text);
  if (!typed.ok()) return Status::Usage("tenant '" + tenant.value.text + "': " + typed.status().message());
  c.tr.tenant = tenant;
  c.tr.tenant.value = *typed;
  auto versions = BindVersions(run, c.tr.tenant.value);
  if (!versions.ok()) return versions.status();
  c.vb = std::move(versions->first);
  c.vc = std::move(versions->second);
  c.tr.execution = ExecutionName(c.vc.execution);
  for (size_t k = 0; k < run.candidate->sql.names.size(); ++k) {
    c.tr.params.push_back({run.candidate->sql.names[k], c.vc.query.params[k]});
  }
  STRATA_RETURN_IF_ERROR(WarmUp(c));
  STRATA_RETURN_IF_ERROR(Prime(c));
  STRATA_RETURN_IF_ERROR(Time(c));
  STRATA_RETURN_IF_ERROR(CompareRows(c));
  Judge(c);
  ReadPlansAndStatistics(c);
  c.tr.explanation = ExplainTenant(c.tr, run.options->settings, run.project->tenant_param);
  return std::move(c.tr);
}

}  // namespace strata::check
