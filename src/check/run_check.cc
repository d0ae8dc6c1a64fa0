// RunCheck: the gate's procedure (check.h). For each report pair: find where the tenant lives and
// what each tenant's data holds (the feature pass), list and pick the tenants, check each picked
// tenant in full, sweep the others, and give the report's verdict with its coverage. With
// --statistics both, slower tenants are then re-timed under fresh statistics.
#include <algorithm>
#include <chrono>
#include <set>

#include "check/check.h"
#include "check/features.h"
#include "check/render_format.h"
#include "check/runner.h"
#include "check/tenant_schema.h"

namespace strata::check {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

// What a report's tenants are made of, before any run.
struct Population {
  TenantList list;
  FeaturePass pass;
  std::vector<Feature> features;
  std::vector<TenantCarrier> carriers;
  std::string error;  // when there is no tenant to check: why, and what to do
};

// Both versions' SQL as one, for the words and the columns compared with the tenant.
ParsedSql BothVersions(const ReportSpec& base, const ReportSpec& cand) {
  ParsedSql both = cand.sql;
  for (const std::string& w : base.sql.words) AddUnique(&both.words, w);
  both.text = base.sql.text + "\n" + cand.sql.text;
  return both;
}

TableCounts DirectCounts(const Population& p) {
  TableCounts counts;
  for (const TenantCarrier& c : p.carriers) {
    auto rows = p.pass.rows.find(c.name);
    if (c.path.empty() && rows != p.pass.rows.end()) counts[c.name] = rows->second;
  }
  return counts;
}

// A list without size columns gets Strata's own: rows per tenant in each table that carries it.
void AddOwnDimensions(TenantList* list, const Population& p) {
  for (const TenantCarrier& c : p.carriers) list->dimensions.push_back(c.name);
  for (size_t k = 0; k < list->values.size(); ++k) {
    for (const TenantCarrier& c : p.carriers) {
      double n = 0;
      auto rows = p.pass.rows.find(c.name);
      if (rows != p.pass.rows.end()) {
        auto r = rows->second.find(list->values[k].text);
        if (r != rows->second.end()) n = static_cast<double>(r->second);
      }
      list->sizes[k].push_back(n);
    }
  }
  list->from += " (sizes: rows per tenant in each table)";
}

Result<Population> FindPopulation(const ReportRun& run, CheckResult* result) {
  Population p;
  const ReportSpec& cand = *run.candidate;
  const ParsedSql both = BothVersions(*run.base, cand);
  const std::string& param = run.project->tenant_param;
  auto carriers =
      run.runner->Timed([&] { return MapTenantCarriers(run.runner->source(), both, TenantColumns(both, param)); });
  if (!carriers.ok()) return carriers.status();
  p.carriers = std::move(*carriers);
  if (run.options->progress) run.options->progress(cand.name + ": reading what each tenant's data holds");
  FeaturePassOptions fo;
  fo.statement_timeout = run.options->statement_timeout;
  auto pass = RunFeaturePass(run.runner->source(), p.carriers, fo);
  if (!pass.ok()) return pass.status();
  p.pass = std::move(*pass);
  result->cost.feature_queries += p.pass.queries;
  result->cost.feature_ms += p.pass.ms;
  result->cost.query_ms += p.pass.ms;

  const std::optional<ParsedSql>& list_sql = cand.tenants ? cand.tenants : run.project->tenant_list;
  if (list_sql) {
    auto l = run.runner->Timed([&] {
      return LoadTenantList(run.runner->source(), *list_sql,
                            cand.tenants ? "the tenant list of " + cand.name : "the tenant list", run.tenant_type);
    });
    if (!l.ok()) return l.status();
    p.list = std::move(*l);
    p.list.from = cand.tenants ? "the report's tenant query" : "the project's tenant query";
    if (p.list.dimensions.empty() && !p.carriers.empty()) AddOwnDimensions(&p.list, p);
    if (p.list.values.empty()) p.error = p.list.from + " returned no tenants: check that it reads the right database";
  } else if (!p.carriers.empty()) {
    std::vector<TenantTable> tables;
    for (const TenantCarrier& c : p.carriers) tables.push_back({c.table, c.name, c.tenant_column});
    auto l = TenantListFromCounts(p.pass.rows, tables, run.tenant_type);
    if (!l.ok()) return l.status();
    p.list = std::move(*l);
    if (p.list.values.empty()) p.error = "no tenant has rows in the tables it reads (" + p.list.from + ")";
  } else {
    p.error = "there is no tenant list and no table it reads has a column " + param +
              " (nor reaches one through a foreign key): add [tenant] list to strata.toml, or name tenants with "
              "--tenants";
  }
  std::vector<std::string> texts;
  for (const ParamValue& v : p.list.values) texts.push_back(v.text);
  p.features = DeriveFeatures(p.pass, texts);
  return p;
}

Status ReadStatistics(ReportRun* run, const Population& p, ReportResult* rr) {
  std::vector<TenantTable> direct;
  for (const TenantCarrier& c : p.carriers) {
    if (c.path.empty()) direct.push_back({c.table, c.name, c.tenant_column});
  }
  auto stats = run->runner->Timed([&] { return ReadTableStats(run->runner->source(), run->tables, direct); });
  if (!stats.ok()) return stats.status();
  run->stats = std::move(*stats);
  for (const TableStats& s : run->stats) {
    TableHealth h = Health(s, nullptr, -1, run->runner->source()->dialect());
    if (h.stale) rr->notes.push_back("statistics of " + h.table + ": " + h.reason + " (run " + h.analyze_sql + ")");
    rr->tables.push_back(std::move(h));
  }
  return Status::Ok();
}

Status AnalyzeTables(const ReportRun& run, CheckResult* result) {
  if (run.tables.empty()) return Status::Ok();
  auto stats = run.runner->Timed([&] { return ReadTableStats(run.runner->source(), run.tables, {}); });
  if (!stats.ok()) return stats.status();
  std::vector<std::string> quoted;
  for (const TableStats& s : *stats) quoted.push_back(s.table);
  if (run.options->progress) run.options->progress("ANALYZE " + std::to_string(quoted.size()) + " tables first");
  STRATA_RETURN_IF_ERROR(run.runner->Timed([&] { return run.runner->source()->Analyze(quoted); }));
  result->analyzed_first = true;
  for (const std::string& q : quoted) AddUnique(&result->analyzed_tables, q);
  return Status::Ok();
}

Result<std::vector<PickedTenant>> Pick(const ReportRun& run, const Population& p) {
  PickOptions pick;
  pick.max_tenants = run.options->settings.max_tenants;
  pick.features = &p.features;
  for (const std::string& t : run.options->tenants) {
    auto v = ParseParamValue(run.tenant_type, t);
    if (!v.ok()) {
      return Status::Usage("--tenants: '" + t + "' is not a " + std::string(ParamTypeName(run.tenant_type)) + ": " +
                           v.status().message());
    }
    pick.named.push_back(std::move(*v));
  }
  if (run.runner->source()->dialect() == Dialect::kPostgres) pick.flagged = GrownTenants(run.stats, run.counts);
  return PickTenants(p.list, pick);
}

// Where the plans flip, tenants ordered by size (their first dimension, else the base's rows).
void FindPlanFlips(ReportResult* rr) {
  std::vector<const TenantResult*> by_size;
  for (const TenantResult& t : rr->tenants) by_size.push_back(&t);
  auto size_of = [](const TenantResult* t) {
    for (double s : t->tenant.sizes) return s;
    return static_cast<double>(t->base.rows);
  };
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](const TenantResult* a, const TenantResult* b) { return size_of(a) < size_of(b); });
  auto flip = [](const VersionRuns& x, const VersionRuns& y) {
    return !x.plan.empty() && !y.plan.empty() && x.plan != y.plan;
  };
  for (size_t k = 1; k < by_size.size(); ++k) {
    const TenantResult& a = *by_size[k - 1];
    const TenantResult& b = *by_size[k];
    const std::string between = "between tenant " + a.tenant.value.text + " and tenant " + b.tenant.value.text;
    if (flip(a.base, b.base)) rr->base_plan_flips.push_back(between + " (" + a.base.plan + " -> " + b.base.plan + ")");
    if (flip(a.candidate, b.candidate)) {
      rr->candidate_plan_flips.push_back(between + " (" + a.candidate.plan + " -> " + b.candidate.plan + ")");
    }
  }
}

std::string FirstFew(const std::vector<std::string>& v) {
  std::string out;
  for (size_t k = 0; k < v.size() && k < 10; ++k) out += (k ? ", " : "") + v[k];
  if (v.size() > 10) out += " and " + std::to_string(v.size() - 10) + " more";
  return out;
}

// The report's verdict from its tenants, its coverage, and the notes a reviewer needs.
void Conclude(const Population& p, ReportResult* rr, Dialect dialect) {
  for (const TenantResult& t : rr->tenants) {
    if (t.compared && !t.from_sweep) ++rr->results_compared;
    if (t.verdict != Verdict::kPass && rr->verdict == Verdict::kPass) rr->verdict = t.verdict;
  }
  rr->results_compared += rr->sweep.compared;
  rr->tenants_total = static_cast<int64_t>(p.list.values.size());
  for (const TenantResult& t : rr->tenants) {  // a tenant named with --tenants that the list lacks
    const bool listed = std::any_of(p.list.values.begin(), p.list.values.end(),
                                    [&](const ParamValue& v) { return v.text == t.tenant.value.text; });
    if (!listed && !t.from_sweep) ++rr->tenants_total;
  }
  if (!rr->sweep.differed.empty()) {
    rr->notes.push_back("rows also differed, on one run of the sweep, for tenants " + FirstFew(rr->sweep.differed));
  }
  if (!rr->sweep.slower.empty()) {
    rr->notes.push_back("the candidate was also far slower, on one run of the sweep, for tenants " +
                        FirstFew(rr->sweep.slower));
  }
  for (const std::string& n : p.pass.notes) rr->notes.push_back(n);
  if (rr->error.empty() && rr->results_compared == 0) {
    std::string first;
    for (const TenantResult& t : rr->tenants) {
      if (first.empty()) first = !t.base.error.empty() ? t.base.error : t.candidate.error;
    }
    if (rr->tenants.empty()) {
      rr->error =
          "the results of no tenant were compared: no tenant could be picked (no table the report "
          "reads gives the tenants' sizes) and the sweep was off; turn the sweep on ([check] "
          "sweep_budget) or name tenants with --tenants";
    } else {
      rr->error = "the results of no tenant were compared: every picked tenant's run failed" +
                  (first.empty() ? std::string() : " (first: " + first + ")") +
                  "; fix the error, or name tenants with --tenants";
    }
  }
  if (!rr->error.empty()) rr->verdict = Verdict::kError;
  if (dialect == Dialect::kSqlite) {
    bool any_stat = false;
    for (const TableHealth& h : rr->tables) any_stat = any_stat || h.rows_at_analyze >= 0;
    if (!any_stat && !rr->tables.empty()) {
      rr->notes.push_back("no sqlite_stat1: SQLite plans without statistics (run ANALYZE)");
    }
  }
}

void CountFeatures(const Population& p, ReportResult* rr) {
  std::set<std::string> picked;
  for (const TenantResult& t : rr->tenants) picked.insert(t.tenant.value.text);
  for (const Feature& f : p.features) {
    if (!f.rare) continue;
    ++rr->rare_features;
    const bool covered =
        std::any_of(f.holders.begin(), f.holders.end(), [&](const std::string& h) { return picked.count(h) != 0; });
    if (!covered) ++rr->rare_features_uncovered;
  }
}

Result<ReportResult> CheckReport(ReportRun& run, CheckResult* result) {
  const ReportSpec& base = *run.base;
  const ReportSpec& cand = *run.candidate;
  ReportResult rr;
  rr.report = cand.name;
  if (base.name != cand.name) rr.base_report = base.name;
  const ParsedSql both = BothVersions(base, cand);
  auto tables = run.runner->Timed([&] { return TablesAmongWords(run.runner->source(), both.words); });
  if (!tables.ok()) return tables.status();
  run.tables = std::move(*tables);
  if (run.options->statistics == StatisticsMode::kFresh) STRATA_RETURN_IF_ERROR(AnalyzeTables(run, result));

  auto population = FindPopulation(run, result);
  if (!population.ok()) return population.status();
  const Population& p = *population;
  run.counts = DirectCounts(p);
  rr.dimensions = p.list.dimensions;
  rr.tenants_from = p.list.from;
  rr.error = p.error;
  STRATA_RETURN_IF_ERROR(ReadStatistics(&run, p, &rr));

  auto picked = Pick(run, p);
  if (!picked.ok()) return picked.status();
  if (!rr.error.empty() && picked->empty()) {
    Conclude(p, &rr, run.runner->source()->dialect());
    return rr;
  }
  size_t done = 0;
  for (const PickedTenant& tenant : *picked) {
    if (run.options->progress) {
      run.options->progress(cand.name + ": tenant " + tenant.value.text + " (" + std::to_string(++done) + "/" +
                            std::to_string(picked->size()) + ")");
    }
    auto tr = RunTenant(run, tenant);
    if (!tr.ok()) return tr.status();
    rr.tenants.push_back(std::move(*tr));
  }
  CountFeatures(p, &rr);
  const auto sweep_start = Clock::now();
  auto sweep = Sweep(run, p.list, SweepOrder(p.list, p.features, *picked), &rr.tenants);
  if (!sweep.ok()) return sweep.status();
  rr.sweep = std::move(*sweep);
  result->cost.sweep_ms += MsSince(sweep_start);
  FindPlanFlips(&rr);
  Conclude(p, &rr, run.runner->source()->dialect());
  return rr;
}

// --statistics both: every slower or timed-out tenant is checked again after ANALYZE of the tables
// its plans read, and its explanation says which statistics make it slow.
Status RetimeUnderFreshStatistics(std::vector<ReportRun>& runs, CheckResult* result) {
  for (size_t r = 0; r < runs.size(); ++r) {
    ReportResult& rr = result->reports[r];
    ReportRun& run = runs[r];
    for (TenantResult& t : rr.tenants) {
      if (t.verdict != Verdict::kSlower && t.verdict != Verdict::kTimeout) continue;
      std::vector<std::string> read;
      for (const TableHealth& h : t.tables) read.push_back(h.table);
      if (read.empty()) {
        for (const TableStats& s : run.stats) read.push_back(s.table);
      }
      std::vector<std::string> todo;
      for (const std::string& table : read) {
        if (std::find(result->analyzed_tables.begin(), result->analyzed_tables.end(), table) ==
            result->analyzed_tables.end())
          todo.push_back(table);
      }
      if (!todo.empty()) {
        if (run.options->progress) run.options->progress("ANALYZE " + FirstFew(todo) + " for fresh statistics");
        STRATA_RETURN_IF_ERROR(run.runner->Timed([&] { return run.runner->source()->Analyze(todo); }));
        for (const std::string& table : todo) result->analyzed_tables.push_back(table);
      }
      auto again = RunTenant(run, t.tenant);
      if (!again.ok()) return again.status();
      FreshStatistics f;
      f.analyzed = read;
      f.verdict = again->verdict;
      f.ratio = again->ratio;
      f.base_median_ms = again->base.median_ms;
      f.candidate_median_ms = again->candidate.median_ms;
      f.timed_out = again->candidate.timed_out;
      f.base_plan = again->base.plan;
      f.candidate_plan = again->candidate.plan;
      std::string analyze;
      for (const std::string& table : read) analyze += "ANALYZE " + table + "; ";
      if (f.verdict == Verdict::kPass) {
        t.explanation += " Under fresh statistics (after " + analyze + ") the candidate takes " +
                         FormatMs(f.candidate_median_ms) + " ms against the base's " + FormatMs(f.base_median_ms) +
                         " ms (" + FormatFixed(f.ratio, 2) +
                         "x): it is slower only under the current, stale statistics. Run " + analyze +
                         "in production before this change ships, and check again.";
      } else if (f.verdict == Verdict::kSlower || f.verdict == Verdict::kTimeout) {
        t.explanation += " Under fresh statistics too (after " + analyze + ") it is " +
                         (f.timed_out ? std::string("still timing out") : FormatFixed(f.ratio, 2) + "x slower") +
                         ": the rewrite itself is the cause, not the statistics.";
      } else {
        t.explanation += " Under fresh statistics (after " + analyze + ") its verdict is " + VerdictName(f.verdict) +
                         ", not a timing: the rewrite itself is the cause.";
      }
      t.fresh = std::move(f);
    }
  }
  return Status::Ok();
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

Result<CheckResult> RunCheck(Source* source, const Project& project, const std::vector<ReportPair>& pairs,
                             const CheckOptions& options) {
  const auto start = Clock::now();
  CheckResult result;
  result.database = source->description();
  result.dialect = source->dialect();
  Runner runner(source, &result.cost);
  std::vector<ReportRun> runs;
  for (const ReportPair& pair : pairs) {
    const ParamSpec* tenant_spec = pair.candidate->FindParam(project.tenant_param);
    if (tenant_spec == nullptr) {
      return Status::Config("report " + pair.candidate->name + " does not use the tenant parameter " +
                            project.tenant_param);
    }
    ReportRun run;
    run.runner = &runner;
    run.project = &project;
    run.options = &options;
    run.base = pair.base;
    run.base_project = pair.base_project != nullptr ? pair.base_project : &project;
    run.candidate = pair.candidate;
    run.tenant_type = tenant_spec->type;
    auto rr = CheckReport(run, &result);
    if (!rr.ok()) return rr.status();
    result.reports.push_back(std::move(*rr));
    runs.push_back(std::move(run));
  }
  if (options.statistics == StatisticsMode::kBoth) STRATA_RETURN_IF_ERROR(RetimeUnderFreshStatistics(runs, &result));
  for (const ReportResult& rr : result.reports) result.pass = result.pass && rr.verdict == Verdict::kPass;
  result.cost.wall_ms = MsSince(start);
  return result;
}

}  // namespace strata::check
