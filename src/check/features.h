// Value features: what each tenant's data holds in the columns a report reads, so that the gate
// picks the tenants that are unusual in their values and not only in their sizes.
//
// The feature pass (RunFeaturePass) reads every table that carries the tenant (tenant_schema.h)
// with a bounded number of aggregate queries, each under the statement timeout:
//   - per table, one pass grouped by tenant: its rows (the table's size dimension), and per read
//     column the NULLs, the negative and zero numbers, the smallest and largest numbers and dates,
//     the rows of each value of a low-cardinality column (statuses, methods, flags), the non-NULL
//     values of a join key, and the rows whose foreign key finds no parent row;
//   - per low-cardinality candidate (text, boolean, enum), one query for its distinct values
//     (at most 32; more means it is not a category) — on PostgreSQL skipped when pg_stats already
//     says the column has many values;
//   - per join key that is not unique, one query for its values and children per value per tenant:
//     duplicates on the key (rows - distinct values) and the largest fan-out (children per parent).
// A query that fails or times out costs its features, never the check: it becomes a note.
//
// DeriveFeatures turns the per-tenant figures into features: a count feature is held by a tenant
// whose count is above zero ("3 orders with member_id NULL"); an extreme is held by a tenant whose
// figure is an outlier among the tenants (robust z over 3.5; "up to 40 payments per order_id,
// typical tenant at most 1"). A feature is *rare* when some tenants hold it and fewer than half of
// the tenants with rows in its table do: the typical tenant lacks it, so a gate on typical tenants
// would never see it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "check/tenant_schema.h"
#include "source/source.h"

namespace strata::check {

enum class FeatureKind {
  kCount,  // held when the tenant's count is above zero
  kHigh,   // held when the tenant's figure is an outlier above the others
  kLow,    // held when the tenant's figure is an outlier below the others
};

// One per-tenant figure of one table.
struct FeatureFigure {
  std::string id;     // stable key: "null:orders.member_id", "value:orders.status=disputed"
  std::string table;  // lower-case table name
  FeatureKind kind = FeatureKind::kCount;
  std::string noun;                          // "rows of orders with member_id NULL"; "rows of payments per order_id"
  bool dates = false;                        // a date or timestamp, as days since 1970-01-01
  std::map<std::string, double> value;       // tenant (as text) -> figure
  std::map<std::string, std::string> shown;  // tenant -> the figure as the database wrote it
};

// The result of the pass: per table, rows per tenant; the figures; what it cost.
struct FeaturePass {
  std::vector<std::string> tables;                             // lower-case names, in order
  std::map<std::string, std::map<std::string, int64_t>> rows;  // table -> tenant -> rows
  std::vector<FeatureFigure> figures;
  int queries = 0;                 // aggregate queries run
  double ms = 0;                   // time spent in them
  std::vector<std::string> notes;  // features given up: "value features of orders not read: <why>"
  Status stopped;                  // the check was cancelled during the pass
};

struct FeaturePassOptions {
  std::chrono::milliseconds statement_timeout{0};
  int max_category_values = 32;
};

// REQUIRES: carriers from MapTenantCarriers on the same source. Fails only when the source was
// cancelled (kCancelled) or Strata itself failed (kInternal); a query that fails otherwise becomes
// a note.
Result<FeaturePass> RunFeaturePass(Source* source, const std::vector<TenantCarrier>& carriers,
                                   const FeaturePassOptions& options);

// A feature that some tenants hold, with the words a reviewer reads.
struct Feature {
  std::string id;
  std::string table;
  std::vector<std::string> holders;        // tenants holding it, most pronounced first
  std::map<std::string, std::string> why;  // tenant -> "3 orders with member_id NULL; ..."
  int64_t population = 0;                  // tenants with rows in its table
  bool rare = false;                       // held by fewer than half of the population
};

// tenants: every tenant of the report (as text); the population of a table is those with rows in it.
std::vector<Feature> DeriveFeatures(const FeaturePass& pass, const std::vector<std::string>& tenants);

}  // namespace strata::check
