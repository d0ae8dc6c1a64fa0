#include "check/features.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>

#include "check/render_format.h"
#include "check/timing.h"
#include "common/value.h"

namespace strata::check {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kOutlierZ = 3.5;
constexpr size_t kMaxOrphanChecks = 4;
constexpr size_t kMaxCategoryBytes = 200;
// Category columns per table whose values are read (one query each): bounds the pass on wide tables.
constexpr size_t kMaxCategoryColumns = 8;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

// Records a query that failed: its features are given up with a note, unless the check was
// cancelled (or Strata failed), which stops the pass.
void GiveUp(FeaturePass* pass, const std::string& what, const Status& status) {
  if (status.code() == Status::Code::kCancelled || status.code() == Status::Code::kInternal) {
    if (pass->stopped.ok()) pass->stopped = status;
    return;
  }
  pass->notes.push_back(what + " not read: " + status.message());
}

// Runs one aggregate query under the timeout, counting it.
Result<std::vector<TextRow>> Aggregate(Source* source, const std::string& sql, const std::vector<ParamValue>& params,
                                       const std::string& origin, const FeaturePassOptions& options,
                                       FeaturePass* pass) {
  const auto t0 = Clock::now();
  ++pass->queries;
  auto rows = QueryText(source, sql, params, origin, options.statement_timeout);
  pass->ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return rows;
}

// "FROM t x JOIN p j1 ON j1.id = x.order_id ..." and the tenant's expression at its end.
struct TenantFrom {
  std::string from;
  std::string tenant;
};

TenantFrom FromWithTenant(const TenantCarrier& t) {
  TenantFrom out;
  out.from = " FROM " + t.table + " x";
  std::string alias = "x";
  for (size_t k = 0; k < t.path.size(); ++k) {
    const TenantStep& step = t.path[k];
    const std::string next = "j" + std::to_string(k + 1);
    out.from += " JOIN " + step.parent_table + " " + next + " ON " + next + "." + QuoteIdentifier(step.parent_column) +
                " = " + alias + "." + QuoteIdentifier(step.column);
    alias = next;
  }
  out.tenant = alias + "." + QuoteIdentifier(t.tenant_column);
  return out;
}

bool IsKey(const ColumnInfo& c) {
  return c.unique || c.join_key || !c.parent_name.empty();
}

// Days since 1970-01-01 (with the time of day as a fraction) of an ISO date or timestamp, or NaN.
double DateNumber(const std::string& text) {
  int y = 0, m = 0, d = 0, hh = 0, mm = 0;
  double ss = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d", &y, &m, &d) != 3) return std::nan("");
  if (text.size() > 10) std::sscanf(text.c_str() + 11, "%d:%d:%lf", &hh, &mm, &ss);
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return static_cast<double>(days) + (hh * 3600 + mm * 60 + ss) / 86400.0;
}

struct Column {  // one output column of a table's pass: which figure, how to read it
  size_t figure;
  enum { kCount, kNumber, kDate } read;
};

FeatureFigure& AddFigure(FeaturePass* pass, std::string id, const std::string& table, FeatureKind kind,
                         std::string noun) {
  FeatureFigure f;
  f.id = std::move(id);
  f.table = table;
  f.kind = kind;
  f.noun = std::move(noun);
  pass->figures.push_back(std::move(f));
  return pass->figures.back();
}

// The distinct values of a column when they are few (a category), else none.
std::vector<std::string> CategoryValues(Source* source, const TenantCarrier& t, const ColumnInfo& c,
                                        const FeaturePassOptions& options, FeaturePass* pass) {
  const std::string col = "x." + QuoteIdentifier(c.name);
  const std::string sql = "SELECT CAST(" + col + " AS TEXT), count(*) FROM " + t.table + " x WHERE " + col +
                          " IS NOT NULL GROUP BY 1 LIMIT " + std::to_string(options.max_category_values + 1);
  auto rows = Aggregate(source, sql, {}, "the values of " + t.name + "." + c.name, options, pass);
  if (!rows.ok()) {
    GiveUp(pass, "values of " + t.name + "." + c.name, rows.status());
    return {};
  }
  if (rows->size() > static_cast<size_t>(options.max_category_values)) return {};
  std::vector<std::string> out;
  for (const TextRow& r : *rows) {
    if (!r[0] || r[0]->size() > kMaxCategoryBytes) return {};
    out.push_back(*r[0]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// PostgreSQL: columns pg_stats already knows to have more distinct values than a category has.
Result<std::set<std::pair<std::string, std::string>>> ManyValued(Source* source, const FeaturePassOptions& options,
                                                                 FeaturePass* pass) {
  std::set<std::pair<std::string, std::string>> out;
  if (source->dialect() != Dialect::kPostgres) return out;
  const std::string sql =
      "SELECT lower(c.relname), s.attname FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname "
      "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename WHERE pg_table_is_visible(c.oid) "
      "AND (s.n_distinct > " +
      std::to_string(options.max_category_values) + " OR (s.n_distinct < 0 AND -s.n_distinct * c.reltuples > " +
      std::to_string(options.max_category_values) + "))";
  auto rows = Aggregate(source, sql, {}, "pg_stats", options, pass);
  if (!rows.ok()) return rows.status();
  for (const TextRow& r : *rows) out.insert({r[0].value_or(""), Lower(r[1].value_or(""))});
  return out;
}

// "SELECT tenant, count(*), aggregates... FROM table x JOIN ... GROUP BY tenant"
std::string DirectPassSql(const TenantCarrier& t, const std::vector<std::string>& aggregates,
                          const std::string& joins) {
  const TenantFrom tf = FromWithTenant(t);
  std::string select = "SELECT " + tf.tenant + ", count(*)";
  for (const std::string& a : aggregates) select += ", " + a;
  return select + tf.from + joins + " GROUP BY " + tf.tenant;
}

// A table that reaches its tenant through a key: aggregated per key first, then per tenant through
// the key's parent (fewer rows to join), which also gives the key's fan-out and duplicates:
// "SELECT tenant, sum(g.n), max(g.n), count(*), sum(g.a1), min(g.a2)... FROM (SELECT x.key AS k,
// count(*) AS n, aggregates... FROM table x ... GROUP BY x.key) g JOIN parent x ON ... GROUP BY tenant".
std::string KeyedPassSql(const TenantCarrier& t, const std::vector<std::string>& aggregates, const std::string& joins) {
  const TenantStep& step = t.path.front();
  const std::string key = "x." + QuoteIdentifier(step.column);
  std::string inner = "SELECT " + key + " AS k, count(*) AS n";
  std::string outer;
  for (size_t k = 0; k < aggregates.size(); ++k) {
    const std::string a = "a" + std::to_string(k + 1);
    inner += ", " + aggregates[k] + " AS " + a;
    outer += ", " + aggregates[k].substr(0, 3) + "(g." + a + ")";
  }
  inner += " FROM " + t.table + " x" + joins + " WHERE " + key + " IS NOT NULL GROUP BY " + key;
  TenantCarrier parent = t;
  parent.table = step.parent_table;
  parent.path.erase(parent.path.begin());
  const TenantFrom pf = FromWithTenant(parent);
  const std::string rest = pf.from.substr((" FROM " + parent.table + " x").size());
  return "SELECT " + pf.tenant + ", sum(g.n), max(g.n), count(*)" + outer + " FROM (" + inner + ") g JOIN " +
         parent.table + " x ON x." + QuoteIdentifier(step.parent_column) + " = g.k" + rest + " GROUP BY " + pf.tenant;
}

// The query of a table's pass, built column by column: its aggregates (each "sum(...)", "min(...)"
// or "max(...)", so it combines with itself when aggregated per key first), the LEFT JOINs of its
// orphan checks, the bound category values, and which figure each output column fills.
struct TableQuery {
  TableQuery(const TenantCarrier& table, FeaturePass* feature_pass) : t(table), pass(feature_pass) {}
  const TenantCarrier& t;
  FeaturePass* pass;
  std::vector<std::string> aggregates;
  std::string joins;
  std::vector<Column> columns;
  std::vector<ParamValue> params;
  std::vector<size_t> null_figures;  // for the shares of NULL, after the query
  size_t orphan_checks = 0;
  size_t category_columns = 0;

  size_t Figure(std::string id, FeatureKind kind, std::string noun) {
    AddFigure(pass, std::move(id), t.name, kind, std::move(noun));
    return pass->figures.size() - 1;
  }
  void Add(const std::string& expr, size_t figure, decltype(Column::read) read) {
    aggregates.push_back(expr);
    columns.push_back({figure, read});
  }
};

void AddNumberFigures(const ColumnInfo& c, const std::string& col, TableQuery* q) {
  const std::string where = q->t.name + "." + c.name;
  const std::string rows = "rows of " + q->t.name + " with " + c.name;
  if (c.nullable) {
    const size_t f = q->Figure("null:" + where, FeatureKind::kCount, rows + " NULL");
    q->Add("sum(CASE WHEN " + col + " IS NULL THEN 1 ELSE 0 END)", f, Column::kCount);
    q->null_figures.push_back(f);
  }
  if (c.kind == ColumnKind::kNumber && !IsKey(c)) {
    q->Add("sum(CASE WHEN " + col + " < 0 THEN 1 ELSE 0 END)",
           q->Figure("negative:" + where, FeatureKind::kCount, rows + " below zero"), Column::kCount);
    q->Add("sum(CASE WHEN " + col + " = 0 THEN 1 ELSE 0 END)",
           q->Figure("zero:" + where, FeatureKind::kCount, rows + " zero"), Column::kCount);
    q->Add("min(" + col + ")", q->Figure("min:" + where, FeatureKind::kLow, "smallest " + where), Column::kNumber);
    q->Add("max(" + col + ")", q->Figure("max:" + where, FeatureKind::kHigh, "largest " + where), Column::kNumber);
  }
  if (c.kind == ColumnKind::kDate) {
    const size_t lo = q->Figure("min:" + where, FeatureKind::kLow, "earliest " + where);
    const size_t hi = q->Figure("max:" + where, FeatureKind::kHigh, "latest " + where);
    q->pass->figures[lo].dates = q->pass->figures[hi].dates = true;
    q->Add("min(" + col + ")", lo, Column::kDate);
    q->Add("max(" + col + ")", hi, Column::kDate);
  }
}

// The rows of each value of a category column (its values read first, one query).
void AddCategoryFigures(Source* source, const ColumnInfo& c, const std::string& col,
                        const std::set<std::pair<std::string, std::string>>& many, const FeaturePassOptions& options,
                        TableQuery* q) {
  const bool category = c.kind == ColumnKind::kText || c.kind == ColumnKind::kBool || c.kind == ColumnKind::kEnum;
  if (!category || IsKey(c) || many.count({q->t.name, Lower(c.name)}) != 0) return;
  const std::string where = q->t.name + "." + c.name;
  if (++q->category_columns > kMaxCategoryColumns) {
    q->pass->notes.push_back("values of " + where + " not read: more than " + std::to_string(kMaxCategoryColumns) +
                             " category columns in " + q->t.name);
    return;
  }
  for (const std::string& v : CategoryValues(source, q->t, c, options, q->pass)) {
    ParamValue p;
    p.type = ParamType::kText;
    p.text = v;
    q->params.push_back(p);
    q->Add("sum(CASE WHEN CAST(" + col + " AS TEXT) = CAST(:v" + std::to_string(q->params.size()) +
               " AS TEXT) THEN 1 ELSE 0 END)",
           q->Figure("value:" + where + "=" + v, FeatureKind::kCount,
                     "rows of " + q->t.name + " with " + c.name + " = '" + v + "'"),
           Column::kCount);
  }
}

// Rows whose key finds no parent row (a LEFT JOIN to the parent), for keys that do not lead to the tenant.
void AddOrphanFigure(const ColumnInfo& c, const std::string& col, TableQuery* q) {
  const bool on_path = !q->t.path.empty() && q->t.path.front().column == c.name;
  if (!c.parent_unique || on_path || q->orphan_checks >= kMaxOrphanChecks) return;
  const std::string alias = "o" + std::to_string(++q->orphan_checks);
  const std::string parent = alias + "." + QuoteIdentifier(c.parent_column);
  q->joins += " LEFT JOIN " + c.parent_table + " " + alias + " ON " + parent + " = " + col;
  q->Add("sum(CASE WHEN " + col + " IS NOT NULL AND " + parent + " IS NULL THEN 1 ELSE 0 END)",
         q->Figure("orphan:" + q->t.name + "." + c.name, FeatureKind::kCount,
                   "rows of " + q->t.name + " whose " + c.name + " has no row in " + c.parent_name),
         Column::kCount);
}

// Runs the table's query; when it fails, a plain count stands in so the tenants and their rows are
// not lost (its only columns are then the tenant and the rows).
Result<std::vector<TextRow>> RunTableQuery(Source* source, TableQuery* q, const FeaturePassOptions& options) {
  const TenantCarrier& t = q->t;
  const bool keyed = !t.path.empty();
  const std::string sql = keyed ? KeyedPassSql(t, q->aggregates, q->joins) : DirectPassSql(t, q->aggregates, q->joins);
  auto rows = Aggregate(source, sql, q->params, "the value features of " + t.name, options, q->pass);
  if (rows.ok()) return rows;
  GiveUp(q->pass, "value features of " + t.name, rows.status());
  if (!q->pass->stopped.ok()) return rows.status();
  q->columns.clear();
  rows = Aggregate(source, keyed ? KeyedPassSql(t, {}, "") : DirectPassSql(t, {}, ""), {},
                   "rows per tenant in " + t.name, options, q->pass);
  if (!rows.ok()) GiveUp(q->pass, "rows per tenant in " + t.name, rows.status());
  return rows;
}

// Fills the figures from the rows: tenant, rows, [the key's most rows and distinct values,] aggregates.
void ReadTableRows(const std::vector<TextRow>& rows, size_t dup, size_t fan, TableQuery* q) {
  const bool keyed = !q->t.path.empty();
  auto& counts = q->pass->rows[q->t.name];
  for (const TextRow& r : rows) {
    if (!r[0]) continue;
    const std::string& tenant = *r[0];
    counts[tenant] = std::atoll(r[1].value_or("0").c_str());
    if (keyed) {
      const double most = std::atof(r[2].value_or("0").c_str());
      q->pass->figures[dup].value[tenant] = static_cast<double>(counts[tenant]) - std::atof(r[3].value_or("0").c_str());
      q->pass->figures[fan].value[tenant] = most;
      q->pass->figures[fan].shown[tenant] = FormatCount(most);
    }
    const size_t first = keyed ? 4 : 2;
    for (size_t k = 0; k < q->columns.size(); ++k) {
      const std::optional<std::string>& cell = r[k + first];
      if (!cell) continue;
      FeatureFigure& f = q->pass->figures[q->columns[k].figure];
      const double v = q->columns[k].read == Column::kDate ? DateNumber(*cell) : std::atof(cell->c_str());
      if (std::isnan(v)) continue;
      f.value[tenant] = v;
      if (q->columns[k].read != Column::kCount) f.shown[tenant] = *cell;
    }
  }
}

// The share of rows with NULL: 90% where the typical tenant has 5%.
void AddNullShares(TableQuery* q) {
  const auto& counts = q->pass->rows[q->t.name];
  for (size_t f : q->null_figures) {
    const FeatureFigure nulls = q->pass->figures[f];
    FeatureFigure& share =
        AddFigure(q->pass, "null_share:" + nulls.id.substr(5), q->t.name, FeatureKind::kHigh, "share of " + nulls.noun);
    for (const auto& [tenant, n] : counts) {
      auto v = nulls.value.find(tenant);
      const double s = n > 0 && v != nulls.value.end() ? v->second / static_cast<double>(n) : 0;
      share.value[tenant] = s;
      share.shown[tenant] = FormatFixed(100 * s, 0) + "%";
    }
  }
}

// The table's pass: one query grouped by tenant.
void TablePass(Source* source, const TenantCarrier& t, const std::set<std::pair<std::string, std::string>>& many,
               const FeaturePassOptions& options, FeaturePass* pass) {
  TableQuery q(t, pass);
  for (const ColumnInfo& c : t.columns) {
    const std::string col = "x." + QuoteIdentifier(c.name);
    AddNumberFigures(c, col, &q);
    AddCategoryFigures(source, c, col, many, options, &q);
    AddOrphanFigure(c, col, &q);
  }
  size_t fan = 0, dup = 0;
  if (!t.path.empty()) {  // the key that leads to the tenant: its fan-out and duplicates come with the pass
    const std::string& key = t.path.front().column;
    dup = q.Figure("duplicate:" + t.name + "." + key, FeatureKind::kCount,
                   "rows of " + t.name + " repeating a value of " + key);
    fan = q.Figure("fanout:" + t.name + "." + key, FeatureKind::kHigh, "rows of " + t.name + " per " + key);
  }
  auto rows = RunTableQuery(source, &q, options);
  if (!rows.ok()) return;
  ReadTableRows(*rows, dup, fan, &q);
  AddNullShares(&q);
}

// A join key's duplicates and fan-out, per tenant: one query.
void KeyPass(Source* source, const TenantCarrier& t, const ColumnInfo& c, const FeaturePassOptions& options,
             FeaturePass* pass) {
  const TenantFrom tf = FromWithTenant(t);
  const std::string col = "x." + QuoteIdentifier(c.name);
  const std::string inner = "SELECT " + tf.tenant + " AS t, count(*) AS n" + tf.from + " WHERE " + col +
                            " IS NOT NULL GROUP BY " + tf.tenant + ", " + col;
  const std::string sql = "SELECT s.t, max(s.n), count(*), sum(s.n) FROM (" + inner + ") s GROUP BY s.t";
  auto rows = Aggregate(source, sql, {}, "the keys of " + t.name + "." + c.name, options, pass);
  if (!rows.ok()) {
    GiveUp(pass, "duplicates on " + t.name + "." + c.name, rows.status());
    return;
  }
  const std::string where = t.name + "." + c.name;
  FeatureFigure dup;
  dup.id = "duplicate:" + where;
  dup.table = t.name;
  dup.noun = "rows of " + t.name + " repeating a value of " + c.name;
  FeatureFigure fan;
  fan.id = "fanout:" + where;
  fan.table = t.name;
  fan.kind = FeatureKind::kHigh;
  fan.noun = "rows of " + t.name + " per " + c.name;
  for (const TextRow& r : *rows) {
    if (!r[0]) continue;
    const double most = std::atof(r[1].value_or("0").c_str());
    dup.value[*r[0]] = std::atof(r[3].value_or("0").c_str()) - std::atof(r[2].value_or("0").c_str());
    fan.value[*r[0]] = most;
    fan.shown[*r[0]] = FormatCount(most);
  }
  pass->figures.push_back(std::move(dup));
  pass->figures.push_back(std::move(fan));
}

// "3 rows of orders with ...", "1 row of orders with ...".
std::string Plural(int64_t n, const std::string& noun_rows) {
  if (n == 1 && noun_rows.rfind("rows ", 0) == 0) return "1 row " + noun_rows.substr(5);
  return FormatCount(n) + " " + noun_rows;
}

}  // namespace

Result<FeaturePass> RunFeaturePass(Source* source, const std::vector<TenantCarrier>& carriers,
                                   const FeaturePassOptions& options) {
  FeaturePass pass;
  auto many = ManyValued(source, options, &pass);
  if (!many.ok()) {
    pass.notes.push_back("pg_stats not read: " + many.status().message());
    many = std::set<std::pair<std::string, std::string>>{};
  }
  for (const TenantCarrier& t : carriers) {
    if (!pass.stopped.ok()) return pass.stopped;
    pass.tables.push_back(t.name);
    TablePass(source, t, *many, options, &pass);
    for (const ColumnInfo& c : t.columns) {
      const bool on_path = !t.path.empty() && t.path.front().column == c.name;  // done by the table's pass
      if (!c.unique && !on_path && (c.join_key || !c.parent_name.empty())) KeyPass(source, t, c, options, &pass);
    }
  }
  if (!pass.stopped.ok()) return pass.stopped;
  return pass;
}

std::vector<Feature> DeriveFeatures(const FeaturePass& pass, const std::vector<std::string>& tenants) {
  std::vector<Feature> out;
  for (const FeatureFigure& f : pass.figures) {
    auto rows = pass.rows.find(f.table);
    if (rows == pass.rows.end()) continue;
    std::vector<std::string> population;
    for (const std::string& t : tenants) {
      auto n = rows->second.find(t);
      if (n != rows->second.end() && n->second > 0) population.push_back(t);
    }
    if (population.empty()) continue;
    Feature feature;
    feature.id = f.id;
    feature.table = f.table;
    feature.population = static_cast<int64_t>(population.size());
    const std::string of_all = FormatCount(static_cast<int64_t>(population.size())) + " tenants with " + f.table;
    if (f.kind == FeatureKind::kCount) {
      std::vector<std::pair<double, std::string>> held;
      for (const std::string& t : population) {
        auto v = f.value.find(t);
        if (v != f.value.end() && v->second > 0) held.push_back({v->second, t});
      }
      if (held.empty()) continue;
      std::stable_sort(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      const int64_t none = feature.population - static_cast<int64_t>(held.size());
      for (const auto& [v, t] : held) {
        feature.holders.push_back(t);
        feature.why[t] =
            Plural(static_cast<int64_t>(v), f.noun) + "; " + FormatCount(none) + " of " + of_all + " have none";
      }
    } else {
      std::vector<std::string> who;
      std::vector<double> x;
      for (const std::string& t : population) {
        auto v = f.value.find(t);
        if (v == f.value.end()) continue;
        who.push_back(t);
        const bool log_scale = !f.dates && f.id.rfind("null_share:", 0) != 0;
        x.push_back(log_scale ? std::copysign(std::log1p(std::fabs(v->second)), v->second) : v->second);
      }
      if (who.size() < 5) continue;
      const std::vector<double> z = RobustZ(x);
      std::vector<size_t> order(who.size());
      for (size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
      const std::string typical_tenant = who[order[order.size() / 2]];
      auto shown = [&](const std::string& t) {
        auto s = f.shown.find(t);
        return s != f.shown.end() ? s->second : FormatCount(f.value.at(t));
      };
      const double sign = f.kind == FeatureKind::kHigh ? 1 : -1;
      std::vector<std::pair<double, std::string>> held;
      for (size_t k = 0; k < who.size(); ++k) {
        if (sign * z[k] > kOutlierZ) held.push_back({sign * z[k], who[k]});
      }
      if (held.empty()) continue;
      std::stable_sort(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      for (const auto& [score, t] : held) {
        feature.holders.push_back(t);
        const bool fan = f.id.rfind("fanout:", 0) == 0;
        feature.why[t] =
            fan ? "up to " + shown(t) + " " + f.noun + " (typical tenant: at most " + shown(typical_tenant) + ")"
                : f.noun + " " + shown(t) + " (typical tenant: " + shown(typical_tenant) + ")";
      }
    }
    feature.rare = 2 * static_cast<int64_t>(feature.holders.size()) < feature.population;
    out.push_back(std::move(feature));
  }
  return out;
}

}  // namespace strata::check
