// The tenants that matter: the list of tenants with their sizes, and the strata picked from it.
//
// Sizes come from the report's tenant query (tenant value first, then numeric size columns: the
// dimensions), or, without one, from profiling the tables the report reads that carry the tenant
// column (rows per tenant in each: one dimension per table).
//
// PickTenants takes, for every dimension, the empty, smallest, median, p90, p99 and largest
// tenants, and the outliers: tenants far (robust z-score over 3.5) from the others in a dimension
// or in the ratio of two dimensions (orders per member, payments per order), which is where the
// unusual tenants of real data hide. Every pick says why; duplicates merge their reasons; the
// result is capped by priority (named, then flagged by the statistics, then the extremes and
// outliers, then the middle).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "check/check.h"
#include "check/features.h"
#include "source/source.h"

namespace strata::check {

struct TenantList {
  std::vector<std::string> dimensions;     // "members", "orders"
  std::vector<ParamValue> values;          // one per tenant
  std::vector<std::vector<double>> sizes;  // one per tenant, one per dimension
  std::string from;                        // where it came from, for people
};

// A table that has a tenant column: (table as SQL names it, tenant column).
struct TenantTable {
  std::string table;   // "public.orders" on PostgreSQL, "orders" on SQLite
  std::string name;    // "orders"
  std::string column;  // "admin_id"
};

// The columns that hold the tenant in a report: the tenant parameter's name first, then every
// column compared with it, as "table.column" when its qualifier names a table or an alias of one
// ("FROM orders o ... o.owner = :admin_id" -> "orders.owner"), else as "column".
std::vector<std::string> TenantColumns(const ParsedSql& sql, const std::string& tenant_param);

// Rows per tenant value (as text) in each table.
using TableCounts = std::map<std::string, std::map<std::string, int64_t>>;  // table -> tenant -> rows

// The tenant list from a tenant query. type: the tenant parameter's declared type.
Result<TenantList> LoadTenantList(Source* source, const ParsedSql& list, const std::string& origin, ParamType type);
// The tenant list from counts, one dimension per table.
Result<TenantList> TenantListFromCounts(const TableCounts& counts, const std::vector<TenantTable>& tables,
                                        ParamType type);

struct PickOptions {
  int max_tenants = 24;
  std::vector<ParamValue> named;                             // --tenants, always included
  std::vector<std::pair<std::string, std::string>> flagged;  // (tenant text, reason), e.g. stale statistics
  // Value features (features.h): after the named, flagged, empty and largest tenants, and before the
  // rest of the size strata, tenants are added by a greedy set cover until every rare feature is held
  // by a picked tenant (or max_tenants is reached): each time the tenant that holds the most features
  // not yet covered, the rarest first on a tie, then the smallest.
  const std::vector<Feature>* features = nullptr;
};

std::vector<PickedTenant> PickTenants(const TenantList& list, const PickOptions& options);

// The rest of the tenants for the correctness sweep: those holding a rare feature first, the rarest
// feature first, then every other tenant from the smallest (total rows over the dimensions) up.
// Each with the words of its rarest feature, or empty.
struct SweepTenant {
  size_t index;     // into list.values
  std::string why;  // its rarest feature, for people; empty when it holds none
};
std::vector<SweepTenant> SweepOrder(const TenantList& list, const std::vector<Feature>& features,
                                    const std::vector<PickedTenant>& picked);

}  // namespace strata::check
