#include "check/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace strata::check {

namespace {

std::string Literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string InList(const std::vector<std::string>& names) {
  std::string in;
  for (const std::string& n : names) in += (in.empty() ? "" : ", ") + Literal(n);
  return in.empty() ? "NULL" : in;
}

double ToDouble(const std::optional<std::string>& s, double otherwise) {
  if (!s) return otherwise;
  char* end = nullptr;
  const double d = std::strtod(s->c_str(), &end);
  return end == s->c_str() ? otherwise : d;
}

std::string Rows(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

constexpr double kGrownFactor = 10;
constexpr int64_t kGrownMinRows = 100;

Result<std::vector<TableStats>> PostgresStats(Source* source, const std::vector<std::string>& names,
                                              const std::vector<TenantTable>& tenant_tables) {
  const std::string sql =
      "SELECT format('%I.%I', n.nspname, c.relname), c.relname, c.reltuples, c.relpages, "
      "pg_relation_size(c.oid) / current_setting('block_size')::bigint, s.n_live_tup, s.n_mod_since_analyze, "
      "to_char(greatest(s.last_analyze, s.last_autoanalyze) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
      "n.nspname "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
      "WHERE c.relkind IN ('r', 'p', 'm') AND pg_table_is_visible(c.oid) AND c.relname IN (" +
      InList(names) + ") ORDER BY c.relname";
  auto rows = QueryText(source, sql, {}, "the statistics catalog");
  if (!rows.ok()) return rows.status();
  std::vector<TableStats> out;
  for (const TextRow& r : *rows) {
    TableStats t;
    t.table = r[0].value_or("");
    t.name = r[1].value_or("");
    t.reltuples = ToDouble(r[2], -1);
    const double relpages = ToDouble(r[3], 0), pages = ToDouble(r[4], 0);
    t.size_scale = relpages > 0 && t.reltuples >= 0 ? pages / relpages : 1;
    t.live_rows = static_cast<int64_t>(ToDouble(r[5], -1));
    t.modified_since_analyze = static_cast<int64_t>(ToDouble(r[6], -1));
    t.last_analyze = r[7].value_or("");
    for (const TenantTable& tt : tenant_tables) {
      if (tt.name == t.name) t.tenant_column = tt.column;
    }
    if (!t.tenant_column.empty()) {
      const std::string stats_sql =
          "SELECT null_frac, n_distinct, array_to_json(most_common_vals::text::text[])::text, "
          "array_to_json(most_common_freqs)::text FROM pg_stats WHERE schemaname = " +
          Literal(r[8].value_or("")) + " AND tablename = " + Literal(t.name) +
          " AND attname = " + Literal(t.tenant_column);
      auto s = QueryText(source, stats_sql, {}, "the statistics of " + t.table);
      if (!s.ok()) return s.status();
      if (!s->empty()) {
        const TextRow& c = s->front();
        t.column_analyzed = true;
        t.null_frac = ToDouble(c[0], 0);
        t.n_distinct = ToDouble(c[1], 0);
        auto vals = nlohmann::json::parse(c[2].value_or("[]"), nullptr, false);
        auto freqs = nlohmann::json::parse(c[3].value_or("[]"), nullptr, false);
        if (vals.is_array() && freqs.is_array()) {
          for (size_t k = 0; k < vals.size() && k < freqs.size(); ++k) {
            if (!vals[k].is_string() || !freqs[k].is_number()) continue;
            t.mcv[vals[k].get<std::string>()] = freqs[k].get<double>();
            t.mcv_total += freqs[k].get<double>();
          }
        }
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<TableStats>> SqliteStats(Source* source, const std::vector<std::string>& names,
                                            const std::vector<TenantTable>& tenant_tables) {
  auto has_stat1 =
      QueryText(source, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'", {}, "the catalog");
  if (!has_stat1.ok()) return has_stat1.status();
  std::map<std::string, double> analyzed;  // table -> rows when analyzed
  if (has_stat1->front()[0].value_or("0") != "0") {
    auto stat = QueryText(source, "SELECT lower(tbl), stat FROM sqlite_stat1", {}, "sqlite_stat1");
    if (!stat.ok()) return stat.status();
    for (const TextRow& r : *stat) analyzed[r[0].value_or("")] = ToDouble(r[1], 0);
  }
  std::vector<TableStats> out;
  for (const std::string& name : names) {
    TableStats t;
    t.name = name;
    t.table = "\"" + name + "\"";
    auto count = QueryText(source, "SELECT count(*) FROM " + t.table, {}, "counting rows of " + name);
    if (!count.ok()) return count.status();
    t.live_rows = static_cast<int64_t>(ToDouble(count->front()[0], -1));
    auto it = analyzed.find(name);
    if (it != analyzed.end()) t.reltuples = it->second;
    for (const TenantTable& tt : tenant_tables) {
      if (tt.name == name) t.tenant_column = tt.column;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

Result<std::vector<TableStats>> ReadTableStats(Source* source, const std::vector<std::string>& names,
                                               const std::vector<TenantTable>& tenant_tables) {
  if (names.empty()) return std::vector<TableStats>{};
  return source->dialect() == Dialect::kPostgres ? PostgresStats(source, names, tenant_tables)
                                                 : SqliteStats(source, names, tenant_tables);
}

double EstimateTenantRows(const TableStats& s, const std::string& tenant) {
  if (!s.column_analyzed || s.reltuples < 0) return -1;
  const double tuples = std::max(s.reltuples * s.size_scale, 1.0);
  auto it = s.mcv.find(tenant);
  if (it != s.mcv.end()) return std::max(1.0, it->second * tuples);
  // PostgreSQL's var_eq_const for a value outside the MCV list: the rest of the rows shared evenly
  // among the other distinct values.
  double distinct = s.n_distinct >= 0 ? s.n_distinct : -s.n_distinct * s.reltuples;
  distinct -= static_cast<double>(s.mcv.size());
  const double rest = std::max(0.0, 1.0 - s.mcv_total - s.null_frac);
  double selectivity = distinct >= 1 ? rest / distinct : rest;
  // The planner caps it at the least common MCV's frequency (the value is less common than that).
  if (!s.mcv.empty()) {
    double least = 1;
    for (const auto& [v, f] : s.mcv) least = std::min(least, f);
    selectivity = std::min(selectivity, least);
  }
  return std::max(1.0, selectivity * tuples);
}

TableHealth Health(const TableStats& s, const std::string* tenant, int64_t actual, Dialect dialect) {
  TableHealth h;
  h.table = s.table;
  h.live_rows = s.live_rows;
  h.rows_at_analyze = s.reltuples < 0 ? -1 : static_cast<int64_t>(s.reltuples);
  h.modified_since_analyze = s.modified_since_analyze;
  h.last_analyze = s.last_analyze;
  h.tenant_column = s.tenant_column;
  std::vector<std::string> reasons;
  if (dialect == Dialect::kPostgres) {
    if (s.reltuples < 0 || (s.last_analyze.empty() && !s.column_analyzed)) {
      reasons.push_back("never analyzed: the planner guesses its size and contents");
    } else if (s.modified_since_analyze >= 0 &&
               static_cast<double>(s.modified_since_analyze) > 50 + 0.1 * std::max(s.reltuples, 0.0)) {
      reasons.push_back(std::to_string(s.modified_since_analyze) + " rows modified since the last ANALYZE, " +
                        Rows(100.0 * static_cast<double>(s.modified_since_analyze) / std::max(s.reltuples, 1.0)) +
                        "% of the " + Rows(s.reltuples) + " it was analyzed at");
    }
  } else {
    if (s.reltuples < 0) {
      reasons.push_back("no sqlite_stat1 row: never analyzed, the planner guesses");
    } else if (s.live_rows >= 0 &&
               std::max<double>(static_cast<double>(s.live_rows), 1) >= 10 * std::max(s.reltuples, 1.0)) {
      reasons.push_back("sqlite_stat1 says " + Rows(s.reltuples) + " rows, it has " + std::to_string(s.live_rows));
    }
  }
  if (tenant != nullptr && !s.tenant_column.empty()) {
    h.tenant_actual_rows = actual;
    h.tenant_estimated_rows = EstimateTenantRows(s, *tenant);
    if (s.column_analyzed) h.tenant_in_mcv = s.mcv.count(*tenant) > 0;
    if (h.tenant_estimated_rows >= 0 && actual >= kGrownMinRows &&
        static_cast<double>(actual) >= kGrownFactor * h.tenant_estimated_rows) {
      reasons.push_back("the planner expects " + Rows(h.tenant_estimated_rows) + " rows with " + s.tenant_column +
                        " = " + *tenant + ", there are " + std::to_string(actual) +
                        " (the tenant was created or grew since the last ANALYZE)");
    }
  }
  if (!reasons.empty()) {
    h.stale = true;
    for (const std::string& r : reasons) h.reason += (h.reason.empty() ? "" : "; ") + r;
    h.analyze_sql = "ANALYZE " + s.table + ";";
  }
  return h;
}

std::vector<std::pair<std::string, std::string>> GrownTenants(const std::vector<TableStats>& stats,
                                                              const TableCounts& counts) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const TableStats& s : stats) {
    auto c = counts.find(s.name);
    if (c == counts.end() || !s.column_analyzed) continue;
    // The most underestimated first: with a cap on tenants, the worst ones are kept.
    std::vector<std::pair<double, std::string>> grown;
    for (const auto& [tenant, actual] : c->second) {
      const double est = EstimateTenantRows(s, tenant);
      if (est >= 0 && actual >= kGrownMinRows && static_cast<double>(actual) >= kGrownFactor * est) {
        grown.push_back({static_cast<double>(actual) / est, tenant});
      }
    }
    std::sort(grown.rbegin(), grown.rend());
    for (size_t k = 0; k < grown.size() && k < 3; ++k) {
      out.push_back({grown[k].second, "grown since the last ANALYZE of " + s.name + " (" +
                                          std::to_string(c->second.at(grown[k].second)) + " rows, estimated " +
                                          Rows(EstimateTenantRows(s, grown[k].second)) + ")"});
    }
  }
  return out;
}

Result<std::vector<std::string>> TablesAmongWords(Source* source, const std::vector<std::string>& words) {
  const std::string sql =
      source->dialect() == Dialect::kPostgres
          ? "SELECT DISTINCT lower(c.relname) FROM pg_class c WHERE c.relkind IN ('r', 'p', 'm') AND "
            "pg_table_is_visible(c.oid) AND lower(c.relname) IN (" +
                InList(words) + ") ORDER BY 1"
          : "SELECT lower(name) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND lower(name) "
            "IN (" +
                InList(words) + ") ORDER BY 1";
  auto rows = QueryText(source, sql, {}, "the catalog");
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  for (const TextRow& r : *rows) out.push_back(r[0].value_or(""));
  return out;
}

}  // namespace strata::check
