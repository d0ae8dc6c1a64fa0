#include "watch/attribution.h"

#include <algorithm>
#include <cstdio>

#include "check/plans.h"
#include "check/statistics.h"
#include "check/tenant_schema.h"
#include "common/batch.h"
#include "common/text.h"

namespace strata::watch {

using Json = nlohmann::ordered_json;

namespace {

check::PlanInfo Explain(Source& source, const Query& query, bool prepared) {
  ExplainOptions options;
  options.prepared = prepared;
  options.statement_timeout = std::chrono::seconds(30);
  auto text = source.Explain(query, options);
  if (!text.ok()) return {};
  if (source.dialect() == Dialect::kSqlite) return check::ParseSqlitePlan(*text);
  auto plan = check::ParsePostgresPlan(*text);
  return plan.ok() ? *plan : check::PlanInfo{};
}

void AddUnique(std::vector<std::string>* list, const std::string& s) {
  if (std::find(list->begin(), list->end(), s) == list->end()) list->push_back(s);
}

// The tables both versions read: PostgreSQL's plans name them; SQLite's name aliases, so there the
// tables among the reports' words.
std::vector<std::string> TablesRead(Source& source, const check::PlanInfo& a, const check::PlanInfo& b,
                                    const ParsedSql& sql) {
  std::vector<std::string> tables;
  if (source.dialect() == Dialect::kPostgres) {
    for (const std::string& r : a.relations) AddUnique(&tables, r);
    for (const std::string& r : b.relations) AddUnique(&tables, r);
    return tables;
  }
  auto found = check::TablesAmongWords(&source, sql.words);
  return found.ok() ? *found : tables;
}

// The tenant's value, as the current version binds it.
std::optional<ParamValue> TenantValue(const Query& query, const std::string& param) {
  for (size_t k = 0; k < query.sql.names.size() && k < query.params.size(); ++k) {
    if (query.sql.names[k] == param) return query.params[k];
  }
  return std::nullopt;
}

// The tenant's rows in a table with its tenant column; -1 when the count fails.
int64_t CountTenantRows(Source& source, const std::string& table, const std::string& column, const ParamValue& tenant) {
  auto sql = ParseSql("SELECT count(*) FROM " + table + " WHERE " + check::QuoteIdentifier(column) + " = :tenant",
                      "the watch's count of " + table);
  if (!sql.ok()) return -1;
  Query query;
  query.origin = "the watch's count of " + table;
  query.sql = std::move(*sql);
  query.params = {tenant};
  ExecuteOptions options;
  options.statement_timeout = std::chrono::seconds(30);
  auto cursor = source.Execute(query, options);
  if (!cursor.ok()) return -1;
  Batch batch;
  if (!(*cursor)->Next(&batch).ok() || batch.rows() != 1 || batch.at(0, 0).type != Type::kInt64) return -1;
  return batch.at(0, 0).i;
}

std::string Rows(double n) {
  return GroupThousands(static_cast<uint64_t>(std::max(n, 0.0) + 0.5));
}

}  // namespace

std::string PlanFingerprint(Source& source, const Query& query, bool prepared) {
  return Explain(source, query, prepared).fingerprint;
}

Attribution Attribute(Source& source, const AttributionInput& in) {
  Attribution a;
  const check::PlanInfo current = Explain(source, *in.current, in.prepared);
  const check::PlanInfo good = Explain(source, *in.good, false);
  a.current_plan = current.fingerprint;
  a.good_plan = good.fingerprint;
  a.estimated_rows = current.estimated_rows;
  a.rows = in.rows;
  ParsedSql both = in.current->sql;
  for (const std::string& w : in.good->sql.words) AddUnique(&both.words, w);
  both.text += "\n" + in.good->sql.text;
  const std::vector<std::string> tables = TablesRead(source, current, good, both);
  const std::optional<ParamValue> tenant = TenantValue(*in.current, in.tenant_param);
  if (tables.empty()) return a;
  std::vector<check::TenantTable> direct;
  auto carriers = check::MapTenantCarriers(&source, both, {in.tenant_param});
  if (carriers.ok()) {
    for (const check::TenantCarrier& c : *carriers) {
      if (c.path.empty()) direct.push_back({c.table, c.name, c.tenant_column});
    }
  }
  auto stats = check::ReadTableStats(&source, tables, direct);
  if (!stats.ok()) return a;
  for (const check::TableStats& s : *stats) {
    const int64_t actual =
        tenant && !s.tenant_column.empty() ? CountTenantRows(source, s.table, s.tenant_column, *tenant) : -1;
    check::TableHealth h = check::Health(s, &in.tenant, actual, source.dialect());
    if (h.stale) a.stale.push_back(std::move(h));
  }
  return a;
}

std::string Attribution::Sentence() const {
  std::vector<std::string> parts;
  if (plan_changed()) {
    parts.push_back("the plan changed (" + good_plan + " -> " + current_plan + ")");
  } else if (!current_plan.empty() && !good_plan.empty()) {
    parts.push_back("the plan's shape is the same (" + current_plan + ")");
  }
  if (estimated_rows >= 0 && rows >= 0) {
    const double q = std::max(estimated_rows, 1.0) / std::max<double>(static_cast<double>(rows), 1.0);
    if (q >= 10 || q <= 0.1) {
      parts.push_back("the planner expects " + Rows(estimated_rows) + " rows, the runs return " +
                      Rows(static_cast<double>(rows)));
    }
  }
  for (const check::TableHealth& h : stale) {
    parts.push_back("stale statistics on " + h.table + ": " + h.reason + " (run " + h.analyze_sql + ")");
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

Json Attribution::ToJson() const {
  Json stale_tables = Json::array();
  for (const check::TableHealth& h : stale) {
    stale_tables.push_back(Json{{"table", h.table}, {"reason", h.reason}, {"analyze", h.analyze_sql}});
  }
  return Json{{"plan_changed", plan_changed()},
              {"current_plan", current_plan.empty() ? Json(nullptr) : Json(current_plan)},
              {"good_plan", good_plan.empty() ? Json(nullptr) : Json(good_plan)},
              {"estimated_rows", estimated_rows < 0 ? Json(nullptr) : Json(estimated_rows)},
              {"rows", rows < 0 ? Json(nullptr) : Json(rows)},
              {"stale_tables", stale_tables}};
}

Attribution Attribution::FromJson(const Json& j) {
  Attribution a;
  if (!j.is_object()) return a;
  auto text = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  a.current_plan = text("current_plan");
  a.good_plan = text("good_plan");
  if (j.contains("estimated_rows") && j["estimated_rows"].is_number())
    a.estimated_rows = j["estimated_rows"].get<double>();
  if (j.contains("rows") && j["rows"].is_number_integer()) a.rows = j["rows"].get<int64_t>();
  if (j.contains("stale_tables") && j["stale_tables"].is_array()) {
    for (const Json& t : j["stale_tables"]) {
      if (!t.is_object()) continue;
      auto field = [&](const char* key) {
        return t.contains(key) && t[key].is_string() ? t[key].get<std::string>() : std::string();
      };
      check::TableHealth h;
      h.table = field("table");
      h.reason = field("reason");
      h.analyze_sql = field("analyze");
      h.stale = true;
      a.stale.push_back(std::move(h));
    }
  }
  return a;
}

}  // namespace strata::watch
