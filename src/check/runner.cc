// RunCheck: the gate's procedure (check.h). For each report pair: pick the tenants, then for each
// tenant run base and candidate alternately (warm-up with result digests, then timed repetitions),
// compare, read the plans and statistics, and give the verdict with its explanation.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "check/check.h"
#include "check/compare.h"
#include "check/plans.h"
#include "check/statistics.h"
#include "check/tenants.h"
#include "check/timing.h"

namespace strata::check {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

const char* ExecutionName(Execution e) {
  return e == Execution::kPrepared ? "prepared" : "simple";
}

// One version of a report bound for one tenant.
struct Version {
  const ReportSpec* spec = nullptr;
  Query query;
  Execution execution = Execution::kSimple;
};

class Runner {
 public:
  Runner(Source* source, CheckCost* cost) : source_(source), cost_(cost) {}

  // Runs a version once, draining every row; digest/sample may be null. Returns the time in ms.
  Result<double> Run(const Version& v, std::chrono::milliseconds timeout, ResultDigest* digest, RowSample* sample) {
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

  // The plan, with ANALYZE when it can finish in time (else the plain plan).
  PlanInfo Plan(const Version& v, std::chrono::milliseconds timeout, std::string* error) {
    ExplainOptions xo;
    xo.prepared = v.execution == Execution::kPrepared;
    xo.statement_timeout = timeout;
    xo.analyze = source_->dialect() == Dialect::kPostgres;
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

  template <typename F>
  auto Timed(F f) {
    const auto t0 = Clock::now();
    auto r = f();
    cost_->query_ms += MsSince(t0);
    return r;
  }

 private:
  Source* source_;
  CheckCost* cost_;
  Batch batch_;
};

bool Fatal(const Status& s) {
  return s.code() == Status::Code::kCancelled || s.code() == Status::Code::kInternal;
}

// Binds a version's parameters for a tenant: the tenant, then --param values the version declares.
Result<std::vector<ParamValue>> BindFor(const ReportSpec& spec, const std::string& tenant_param,
                                        const ParamValue& tenant, const std::vector<ParamArg>& given) {
  std::vector<ParamArg> args{{tenant_param, std::nullopt, tenant.text}};
  for (const ParamArg& a : given) {
    if (a.name != tenant_param && spec.FindParam(a.name) != nullptr) args.push_back(a);
  }
  return BindReportParams(spec, args);
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kDifferentResults: return "different_results";
    case Verdict::kSlower: return "slower";
    case Verdict::kTimeout: return "timeout";
    case Verdict::kError: return "error";
  }
  return "error";
}

// In explain.cc: the paragraph a DBA reads for a tenant.
std::string Explain(const TenantResult& t, const CheckSettings& settings, const std::string& tenant_param);

Result<CheckResult> RunCheck(Source* source, const Project& project, const std::vector<ReportPair>& pairs,
                             const CheckOptions& options) {
  const auto start = Clock::now();
  CheckResult result;
  result.database = source->description();
  result.dialect = source->dialect();
  Runner runner(source, &result.cost);
  const Dialect dialect = source->dialect();
  const TimingRule rule{options.settings.slower_ratio, options.settings.min_slower_ms};

  for (const ReportPair& pair : pairs) {
    const ReportSpec& base = *pair.base;
    const ReportSpec& cand = *pair.candidate;
    ReportResult rr;
    rr.report = cand.name;
    if (base.name != cand.name) rr.base_report = base.name;
    const ParamSpec* tenant_spec = cand.FindParam(project.tenant_param);
    if (tenant_spec == nullptr) {
      return Status::Config("report " + cand.name + " does not use the tenant parameter " + project.tenant_param);
    }
    const ParamType tenant_type = tenant_spec->type;
    auto note = [&](const std::string& what) {
      if (options.progress) options.progress(rr.report + ": " + what);
    };

    // The tables the two versions read, and those with a tenant column.
    std::vector<std::string> words = base.sql.words;
    for (const std::string& w : cand.sql.words) {
      if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
    }
    ParsedSql both = cand.sql;
    both.words = words;
    both.text = base.sql.text + "\n" + cand.sql.text;
    auto tenant_tables = runner.Timed([&] { return FindTenantTables(source, both, project.tenant_param); });
    if (!tenant_tables.ok()) return tenant_tables.status();
    auto tables = runner.Timed([&] { return TablesAmongWords(source, words); });
    if (!tables.ok()) return tables.status();

    if (options.analyze_first && !tables->empty()) {
      std::vector<std::string> quoted;
      auto stats = runner.Timed([&] { return ReadTableStats(source, *tables, {}); });
      if (!stats.ok()) return stats.status();
      for (const TableStats& s : *stats) quoted.push_back(s.table);
      note("ANALYZE " + std::to_string(quoted.size()) + " tables first");
      Status s = runner.Timed([&] { return source->Analyze(quoted); });
      if (!s.ok()) return s;
      result.analyzed_first = true;
      for (const std::string& q : quoted) {
        if (std::find(result.analyzed_tables.begin(), result.analyzed_tables.end(), q) == result.analyzed_tables.end())
          result.analyzed_tables.push_back(q);
      }
    }

    // The tenants: from the report's or the project's tenant list, else from a profile.
    const std::optional<ParsedSql>& list_sql = cand.tenants ? cand.tenants : project.tenant_list;
    const bool need_counts = !list_sql || dialect == Dialect::kPostgres;
    TableCounts counts;
    if (need_counts && !tenant_tables->empty()) {
      note("counting rows per tenant");
      auto c = runner.Timed([&] { return CountPerTenant(source, *tenant_tables); });
      if (!c.ok()) return c.status();
      counts = std::move(*c);
    }
    TenantList list;
    if (list_sql) {
      auto l = runner.Timed([&] {
        return LoadTenantList(source, *list_sql, cand.tenants ? "the tenant list of " + cand.name : "the tenant list",
                              tenant_type);
      });
      if (!l.ok()) return l.status();
      list = std::move(*l);
      list.from = cand.tenants ? "the report's tenant query" : "the project's tenant query";
    } else if (!tenant_tables->empty()) {
      auto l = TenantListFromCounts(counts, *tenant_tables, tenant_type);
      if (!l.ok()) return l.status();
      list = std::move(*l);
    } else if (options.tenants.empty()) {
      return Status::Config("report " + cand.name + ": no tenant list and no table it reads has a column " +
                            project.tenant_param + ": add [tenant] list to strata.toml or name tenants with --tenants");
    }
    rr.dimensions = list.dimensions;
    rr.tenants_from = list.from;

    auto stats = runner.Timed([&] { return ReadTableStats(source, *tables, *tenant_tables); });
    if (!stats.ok()) return stats.status();
    for (const TableStats& s : *stats) {
      TableHealth h = Health(s, nullptr, -1, dialect);
      if (h.stale) rr.notes.push_back("statistics of " + h.table + ": " + h.reason + " (run " + h.analyze_sql + ")");
      rr.tables.push_back(std::move(h));
    }

    PickOptions pick;
    pick.max_tenants = options.settings.max_tenants;
    for (const std::string& t : options.tenants) {
      auto v = ParseParamValue(tenant_type, t);
      if (!v.ok()) {
        return Status::Usage("--tenants: '" + t + "' is not a " + std::string(ParamTypeName(tenant_type)) + ": " +
                             v.status().message());
      }
      pick.named.push_back(std::move(*v));
    }
    if (dialect == Dialect::kPostgres) pick.flagged = GrownTenants(*stats, counts);
    std::vector<PickedTenant> picked = PickTenants(list, pick);

    size_t done = 0;
    for (PickedTenant& tenant : picked) {
      ++done;
      note("tenant " + tenant.value.text + " (" + std::to_string(done) + "/" + std::to_string(picked.size()) + ")");
      auto typed = ParseParamValue(tenant_type, tenant.value.text);
      if (!typed.ok()) return Status::Usage("tenant '" + tenant.value.text + "': " + typed.status().message());
      tenant.value = *typed;
      TenantResult tr;
      tr.tenant = tenant;
      Version vb, vc;
      vb.spec = &base;
      vc.spec = &cand;
      vb.execution = options.execution.value_or(base.execution);
      vc.execution = options.execution.value_or(cand.execution);
      tr.execution = ExecutionName(vc.execution);
      auto bp = BindFor(base, project.tenant_param, tenant.value, options.params);
      if (!bp.ok()) return bp.status();
      auto cp = BindFor(cand, project.tenant_param, tenant.value, options.params);
      if (!cp.ok()) return cp.status();
      vb.query = Query{"report " + base.name + " (base)", base.sql_path, base.sql, *bp};
      vc.query = Query{"report " + cand.name + " (candidate)", cand.sql_path, cand.sql, *cp};
      for (size_t k = 0; k < cand.sql.names.size(); ++k) tr.params.push_back({cand.sql.names[k], (*cp)[k]});

      // Warm-up: each version once, its rows digested; the candidate's timeout follows from the
      // base's time. A prepared statement is then run until the plan cache may pick the generic
      // plan (after five custom plans), as an application's pooled connection would.
      source->ForgetPrepared();
      ResultDigest db, dc;
      const auto statement_timeout = options.statement_timeout;
      auto bw = runner.Run(vb, statement_timeout, &db, nullptr);
      if (!bw.ok() && Fatal(bw.status())) return bw.status();
      std::chrono::milliseconds cand_timeout = statement_timeout;
      if (bw.ok()) {
        tr.base.rows = db.rows();
        const double t = std::max(*bw * options.timeout_ratio, static_cast<double>(options.min_timeout.count()));
        cand_timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(t)));
        if (statement_timeout.count() > 0) cand_timeout = std::min(cand_timeout, statement_timeout);
      } else {
        tr.base.error = bw.status().message();
      }
      tr.base.timeout_ms = static_cast<double>(statement_timeout.count());
      tr.candidate.timeout_ms = static_cast<double>(cand_timeout.count());
      auto cw = runner.Run(vc, cand_timeout, &dc, nullptr);
      if (!cw.ok() && Fatal(cw.status())) return cw.status();
      if (cw.ok()) {
        tr.candidate.rows = dc.rows();
      } else if (cw.status().code() == Status::Code::kTimeout) {
        tr.candidate.timed_out = true;
      } else {
        tr.candidate.error = cw.status().message();
      }
      const bool runs_ok = bw.ok() && cw.ok();
      if (runs_ok && dialect == Dialect::kPostgres) {
        for (int k = 1; k < 5; ++k) {
          if (vb.execution == Execution::kPrepared) {
            auto r = runner.Run(vb, statement_timeout, nullptr, nullptr);
            if (!r.ok() && Fatal(r.status())) return r.status();
          }
          if (vc.execution == Execution::kPrepared) {
            auto r = runner.Run(vc, cand_timeout, nullptr, nullptr);
            if (!r.ok() && Fatal(r.status())) return r.status();
            if (!r.ok() && r.status().code() == Status::Code::kTimeout) tr.candidate.timed_out = true;
          }
        }
      }
      // Repetitions, alternating which version goes first. A set that says "slower" is confirmed
      // by a second set (timing.h): noise never fails the gate, a regression costs one more set.
      auto run_set = [&](std::vector<double>* base_ms, std::vector<double>* cand_ms) -> Status {
        for (int rep = 0; runs_ok && !tr.candidate.timed_out && rep < options.settings.repetitions; ++rep) {
          for (int side = 0; side < 2; ++side) {
            const bool run_base = (side == 0) == (rep % 2 == 0);
            auto r = runner.Run(run_base ? vb : vc, run_base ? statement_timeout : cand_timeout, nullptr, nullptr);
            if (!r.ok() && Fatal(r.status())) return r.status();
            if (r.ok()) {
              (run_base ? base_ms : cand_ms)->push_back(*r);
            } else if (!run_base && r.status().code() == Status::Code::kTimeout) {
              tr.candidate.timed_out = true;
              return Status::Ok();
            } else {
              (run_base ? tr.base : tr.candidate).error = r.status().message();
              return Status::Ok();
            }
          }
        }
        return Status::Ok();
      };
      Status set_status = run_set(&tr.base.ms, &tr.candidate.ms);
      if (!set_status.ok()) return set_status;
      bool slower = false;
      if (runs_ok && tr.base.error.empty() && tr.candidate.error.empty() && !tr.candidate.timed_out &&
          IsSlower(tr.base.ms, tr.candidate.ms, rule)) {
        std::vector<double> base_again, cand_again;
        set_status = run_set(&base_again, &cand_again);
        if (!set_status.ok()) return set_status;
        slower = IsSlower(base_again, cand_again, rule);
        tr.base.ms.insert(tr.base.ms.end(), base_again.begin(), base_again.end());
        tr.candidate.ms.insert(tr.candidate.ms.end(), cand_again.begin(), cand_again.end());
      }
      tr.base.median_ms = Median(tr.base.ms);
      tr.candidate.median_ms = Median(tr.candidate.ms);
      if (tr.base.median_ms == 0 && bw.ok()) tr.base.median_ms = *bw;

      // Results.
      if (runs_ok) {
        const bool ordered = base.sql.has_top_level_order_by && cand.sql.has_top_level_order_by;
        Comparison cmp = Compare(db, dc, ordered);
        if (!cmp.equal) {
          RowDiff diff;
          diff.only_in_base = cmp.only_in_base;
          diff.only_in_candidate = cmp.only_in_candidate;
          diff.order_only = cmp.order_only;
          diff.first_order_difference = cmp.first_order_difference;
          if (!cmp.order_only) {
            RowSample sb(cmp.base_extra, static_cast<size_t>(options.diff_rows));
            RowSample sc(cmp.candidate_extra, static_cast<size_t>(options.diff_rows));
            auto r1 = runner.Run(vb, statement_timeout, nullptr, &sb);
            if (!r1.ok() && Fatal(r1.status())) return r1.status();
            auto r2 = runner.Run(vc, cand_timeout, nullptr, &sc);
            if (!r2.ok() && Fatal(r2.status())) return r2.status();
            diff.base_rows = sb.TakeRows();
            diff.candidate_rows = sc.TakeRows();
          }
          tr.diff = std::move(diff);
        }
      }

      // Plans, after the runs: a prepared statement shows the plan its cache uses now.
      std::string plan_error;
      PlanInfo pb = runner.Plan(vb, statement_timeout, &plan_error);
      PlanInfo pc = runner.Plan(vc, cand_timeout, &plan_error);
      tr.base.plan = pb.fingerprint;
      tr.base.plan_text = pb.text;
      tr.base.generic_plan = pb.generic;
      tr.base.misestimates = pb.misestimates;
      tr.candidate.plan = pc.fingerprint;
      tr.candidate.plan_text = pc.text;
      tr.candidate.generic_plan = pc.generic;
      tr.candidate.misestimates = pc.misestimates;
      tr.plan_changed = !pb.fingerprint.empty() && !pc.fingerprint.empty() && pb.fingerprint != pc.fingerprint;

      // Statistics of the tables the plans read, for this tenant.
      std::vector<std::string> read = dialect == Dialect::kPostgres ? pb.relations : *tables;
      for (const std::string& r : pc.relations) {
        if (dialect == Dialect::kPostgres && std::find(read.begin(), read.end(), r) == read.end()) read.push_back(r);
      }
      for (const TableStats& s : *stats) {
        if (std::find(read.begin(), read.end(), s.name) == read.end()) continue;
        int64_t actual = -1;
        auto c = counts.find(s.name);
        if (c != counts.end()) {
          auto n = c->second.find(tenant.value.text);
          actual = n == c->second.end() ? 0 : n->second;
        }
        tr.tables.push_back(Health(s, &tenant.value.text, actual, dialect));
      }

      // The verdict.
      if (!tr.base.error.empty() || !tr.candidate.error.empty()) {
        tr.verdict = Verdict::kError;
      } else if (tr.diff) {
        tr.verdict = Verdict::kDifferentResults;
      } else if (tr.candidate.timed_out) {
        tr.verdict = Verdict::kTimeout;
      } else if (slower) {
        tr.verdict = Verdict::kSlower;
      }
      if (tr.candidate.timed_out) {
        tr.ratio = tr.candidate.timeout_ms / std::max(tr.base.median_ms, 1e-3);
      } else if (tr.base.median_ms > 0) {
        tr.ratio = tr.candidate.median_ms / tr.base.median_ms;
      }
      tr.explanation = Explain(tr, options.settings, project.tenant_param);
      if (tr.verdict != Verdict::kPass) rr.verdict = rr.verdict == Verdict::kPass ? tr.verdict : rr.verdict;
      rr.tenants.push_back(std::move(tr));
    }

    // Where the plans flip, tenants ordered by size (their first dimension, else the base's rows).
    std::vector<const TenantResult*> by_size;
    for (const TenantResult& t : rr.tenants) by_size.push_back(&t);
    auto size_of = [](const TenantResult* t) {
      for (double s : t->tenant.sizes) return s;
      return static_cast<double>(t->base.rows);
    };
    std::stable_sort(by_size.begin(), by_size.end(),
                     [&](const TenantResult* a, const TenantResult* b) { return size_of(a) < size_of(b); });
    for (size_t k = 1; k < by_size.size(); ++k) {
      const TenantResult& a = *by_size[k - 1];
      const TenantResult& b = *by_size[k];
      auto flip = [&](const VersionRuns& x, const VersionRuns& y) {
        return !x.plan.empty() && !y.plan.empty() && x.plan != y.plan;
      };
      const std::string between = "between tenant " + a.tenant.value.text + " and tenant " + b.tenant.value.text;
      if (flip(a.base, b.base)) rr.base_plan_flips.push_back(between + " (" + a.base.plan + " -> " + b.base.plan + ")");
      if (flip(a.candidate, b.candidate)) {
        rr.candidate_plan_flips.push_back(between + " (" + a.candidate.plan + " -> " + b.candidate.plan + ")");
      }
    }
    if (dialect == Dialect::kSqlite) {
      bool any_stat = false;
      for (const TableHealth& h : rr.tables) any_stat = any_stat || h.rows_at_analyze >= 0;
      if (!any_stat && !rr.tables.empty()) {
        rr.notes.push_back("no sqlite_stat1: SQLite plans without statistics (run ANALYZE)");
      }
    }
    if (rr.verdict != Verdict::kPass) result.pass = false;
    result.reports.push_back(std::move(rr));
  }
  result.cost.wall_ms = MsSince(start);
  return result;
}

}  // namespace strata::check
