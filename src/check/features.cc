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

// The table's pass: one query grouped by tenant.
void TablePass(Source* source, const TenantCarrier& t, const std::set<std::pair<std::string, std::string>>& many,
               const FeaturePassOptions& options, FeaturePass* pass) {
  std::vector<std::string> aggregates;  // "sum(...)", "min(...)", "max(...)": each combines with itself
  std::string joins;
  std::vector<Column> columns;
  std::vector<ParamValue> params;
  std::vector<size_t> null_figures;  // for the shares of NULL, after the query
  auto add = [&](const std::string& expr, size_t figure, decltype(Column::read) read) {
    aggregates.push_back(expr);
    columns.push_back({figure, read});
  };
  auto figure = [&](std::string id, FeatureKind kind, std::string noun) {
    AddFigure(pass, std::move(id), t.name, kind, std::move(noun));
    return pass->figures.size() - 1;
  };
  size_t orphan_checks = 0;
  size_t category_queries = 0;
  for (const ColumnInfo& c : t.columns) {
    const std::string col = "x." + QuoteIdentifier(c.name);
    const std::string where = t.name + "." + c.name;
    if (c.nullable) {
      const size_t f = figure("null:" + where, FeatureKind::kCount, "rows of " + t.name + " with " + c.name + " NULL");
      add("sum(CASE WHEN " + col + " IS NULL THEN 1 ELSE 0 END)", f, Column::kCount);
      null_figures.push_back(f);
    }
    if (c.kind == ColumnKind::kNumber && !IsKey(c)) {
      add("sum(CASE WHEN " + col + " < 0 THEN 1 ELSE 0 END)",
          figure("negative:" + where, FeatureKind::kCount, "rows of " + t.name + " with " + c.name + " below zero"),
          Column::kCount);
      add("sum(CASE WHEN " + col + " = 0 THEN 1 ELSE 0 END)",
          figure("zero:" + where, FeatureKind::kCount, "rows of " + t.name + " with " + c.name + " zero"),
          Column::kCount);
      add("min(" + col + ")", figure("min:" + where, FeatureKind::kLow, "smallest " + where), Column::kNumber);
      add("max(" + col + ")", figure("max:" + where, FeatureKind::kHigh, "largest " + where), Column::kNumber);
    }
    if (c.kind == ColumnKind::kDate) {
      size_t lo = figure("min:" + where, FeatureKind::kLow, "earliest " + where);
      pass->figures[lo].dates = true;
      add("min(" + col + ")", lo, Column::kDate);
      size_t hi = figure("max:" + where, FeatureKind::kHigh, "latest " + where);
      pass->figures[hi].dates = true;
      add("max(" + col + ")", hi, Column::kDate);
    }
    const bool category = c.kind == ColumnKind::kText || c.kind == ColumnKind::kBool || c.kind == ColumnKind::kEnum;
    if (category && !IsKey(c) && many.count({t.name, Lower(c.name)}) == 0 && ++category_queries > kMaxCategoryColumns) {
      pass->notes.push_back("values of " + where + " not read: more than " + std::to_string(kMaxCategoryColumns) +
                            " category columns in " + t.name);
    } else if (category && !IsKey(c) && many.count({t.name, Lower(c.name)}) == 0) {
      for (const std::string& v : CategoryValues(source, t, c, options, pass)) {
        ParamValue p;
        p.type = ParamType::kText;
        p.text = v;
        params.push_back(p);
        add("sum(CASE WHEN CAST(" + col + " AS TEXT) = CAST(:v" + std::to_string(params.size()) +
                " AS TEXT) THEN 1 ELSE 0 END)",
            figure("value:" + where + "=" + v, FeatureKind::kCount,
                   "rows of " + t.name + " with " + c.name + " = '" + v + "'"),
            Column::kCount);
      }
    }
    const bool on_path = !t.path.empty() && t.path.front().column == c.name;
    if (c.parent_unique && !on_path && orphan_checks < kMaxOrphanChecks) {
      const std::string alias = "o" + std::to_string(++orphan_checks);
      joins += " LEFT JOIN " + c.parent_table + " " + alias + " ON " + alias + "." + QuoteIdentifier(c.parent_column) +
               " = " + col;
      add("sum(CASE WHEN " + col + " IS NOT NULL AND " + alias + "." + QuoteIdentifier(c.parent_column) +
              " IS NULL THEN 1 ELSE 0 END)",
          figure("orphan:" + where, FeatureKind::kCount,
                 "rows of " + t.name + " whose " + c.name + " has no row in " + c.parent_name),
          Column::kCount);
    }
  }
  const bool keyed = !t.path.empty();
  size_t fan = 0, dup = 0;
  if (keyed) {  // the key that leads to the tenant: its fan-out and duplicates come with the pass
    const std::string where = t.name + "." + t.path.front().column;
    dup = figure("duplicate:" + where, FeatureKind::kCount,
                 "rows of " + t.name + " repeating a value of " + t.path.front().column);
    fan = figure("fanout:" + where, FeatureKind::kHigh, "rows of " + t.name + " per " + t.path.front().column);
  }
  const std::string sql = keyed ? KeyedPassSql(t, aggregates, joins) : DirectPassSql(t, aggregates, joins);
  auto rows = Aggregate(source, sql, params, "the value features of " + t.name, options, pass);
  if (!rows.ok()) {
    GiveUp(pass, "value features of " + t.name, rows.status());
    if (!pass->stopped.ok()) return;
    // The tenants and their rows are still needed: a plain count (only the first two columns are read).
    columns.clear();
    rows = Aggregate(source, keyed ? KeyedPassSql(t, {}, "") : DirectPassSql(t, {}, ""), {},
                     "rows per tenant in " + t.name, options, pass);
    if (!rows.ok()) {
      GiveUp(pass, "rows per tenant in " + t.name, rows.status());
      return;
    }
  }
  auto& counts = pass->rows[t.name];
  for (const TextRow& r : *rows) {
    if (!r[0]) continue;
    const std::string& tenant = *r[0];
    counts[tenant] = std::atoll(r[1].value_or("0").c_str());
    const size_t first = keyed ? 4 : 2;
    if (keyed) {  // rows, the most rows of one key, the distinct keys
      const double most = std::atof(r[2].value_or("0").c_str());
      pass->figures[dup].value[tenant] = static_cast<double>(counts[tenant]) - std::atof(r[3].value_or("0").c_str());
      pass->figures[fan].value[tenant] = most;
      pass->figures[fan].shown[tenant] = FormatCount(most);
    }
    for (size_t k = 0; k < columns.size(); ++k) {
      const std::optional<std::string>& cell = r[k + first];
      if (!cell) continue;
      FeatureFigure& f = pass->figures[columns[k].figure];
      const double v = columns[k].read == Column::kDate ? DateNumber(*cell) : std::atof(cell->c_str());
      if (std::isnan(v)) continue;
      f.value[tenant] = v;
      if (columns[k].read != Column::kCount) f.shown[tenant] = *cell;
    }
  }
  for (size_t f : null_figures) {  // the share of rows with NULL: 90% where the typical tenant has 5%
    const FeatureFigure nulls = pass->figures[f];
    FeatureFigure& share =
        AddFigure(pass, "null_share:" + nulls.id.substr(5), t.name, FeatureKind::kHigh, "share of " + nulls.noun);
    for (const auto& [tenant, n] : counts) {
      auto v = nulls.value.find(tenant);
      const double s = n > 0 && v != nulls.value.end() ? v->second / static_cast<double>(n) : 0;
      share.value[tenant] = s;
      share.shown[tenant] = FormatFixed(100 * s, 0) + "%";
    }
  }
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
