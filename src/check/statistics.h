// Statistics health: whether the planner's picture of the tables a report reads is true.
//
// PostgreSQL: per table, the rows the statistics were taken at (reltuples), the rows modified since
// (n_mod_since_analyze), the last ANALYZE (manual or auto), and for the tenant column the planner's
// own estimate of "column = tenant" (from its most-common values, n_distinct and null fraction, as
// the planner computes it) against the real count. A table is stale when it was never analyzed,
// when more of it changed than autovacuum's default analyze threshold (50 rows + 10%), or when a
// tenant's real rows are 10x or more its estimate (the tenant was created or grown since the last
// ANALYZE). Each stale table comes with the ANALYZE to run.
// SQLite: whether sqlite_stat1 has rows for the table, and their row count against the real one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check/check.h"
#include "check/tenants.h"
#include "source/source.h"

namespace strata::check {

struct TableStats {
  std::string table;  // as SQL names it
  std::string name;
  double reltuples = -1;  // -1: never analyzed
  double size_scale = 1;  // current pages / pages at analyze: the planner scales reltuples by it
  int64_t live_rows = -1;
  int64_t modified_since_analyze = -1;
  std::string last_analyze;
  // The tenant column's statistics, when the table has one.
  std::string tenant_column;
  bool column_analyzed = false;
  double null_frac = 0;
  double n_distinct = 0;              // as pg_stats gives it: negative is a fraction of the rows
  std::map<std::string, double> mcv;  // value as text -> frequency
  double mcv_total = 0;
};

// The statistics of tables (plain names, as a plan names them). tenant_tables give the tenant
// column of those that have one. Tables the catalog does not know are left out.
Result<std::vector<TableStats>> ReadTableStats(Source* source, const std::vector<std::string>& names,
                                               const std::vector<TenantTable>& tenant_tables);

// The planner's estimate of rows with tenant_column = tenant; -1 when the column has no statistics.
double EstimateTenantRows(const TableStats& stats, const std::string& tenant);

// The health of one table, for one tenant when tenant is given (actual: the tenant's real rows,
// -1 when unknown).
TableHealth Health(const TableStats& stats, const std::string* tenant, int64_t actual, Dialect dialect);

// Tenants whose real rows in a table are 10x or more the planner's estimate: (tenant, reason).
std::vector<std::pair<std::string, std::string>> GrownTenants(const std::vector<TableStats>& stats,
                                                              const TableCounts& counts);

// The tables among a report's words that the database has (SQLite's plan names aliases, not tables).
Result<std::vector<std::string>> TablesAmongWords(Source* source, const std::vector<std::string>& words);

}  // namespace strata::check
