// strata profile: a database's profile (profile.h) from its catalogs and aggregate queries only.
//
// Read-only and gentle: every query is an aggregate (counts, distinct counts, min/max, a quantile by
// ntile over one column, rows per value of a low-cardinality column, rows per tenant, children per
// parent) run under the statement timeout, one at a time; it is fine on a replica. The steps:
//   1. the catalog (catalog.h);
//   2. the tenant: the tables that have the tenant column, the tenant table (the parent their keys
//      name, declared or implied by the column's name), and for every other table the foreign key
//      through which it reaches the tenant;
//   3. per table one aggregate for its rows and every column's NULLs and distinct values, then per
//      number / date / text column one quantile query, and per low-cardinality column its values;
//   4. rows per tenant in every table that carries the tenant;
//   5. per foreign key, children per parent (zero included), per tenant;
//   6. the per-tenant value features of `strata check` (check/features.h): NULLs, negative and zero
//      numbers, rare values, duplicates and fan-out on keys, extremes;
//   7. the tenants kept with exact figures: the heaviest of every table, those holding a rare
//      feature, and those whose rows the planner's statistics underestimate tenfold.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/source.h"
#include "synth/profile.h"

namespace strata::synth {

struct ProfileOptions {
  std::string tenant_column;             // required: "admin_id"
  std::vector<std::string> keep_values;  // "table.column": text values kept although they are many
  std::chrono::milliseconds statement_timeout{0};
  int heaviest_per_table = 3;   // kept tenants: the heaviest of each tenant-carrying table
  int holders_per_feature = 3;  // kept tenants: the most pronounced holders of each rare feature
  int max_kept_tenants = 200;
  std::vector<std::string> keep_tenants;  // always kept (the fidelity report: the profile's own)
  // A text column's values are kept when it has at most this many distinct values, each held by
  // at least min_value_repeats rows on average (statuses, methods, countries; never names).
  int max_category_values = 32;
  int min_value_repeats = 4;
  // Called once the catalog is read: the tables, and about how many queries profiling them takes.
  std::function<void(int tables, int queries)> on_start;
  // Called before each query: the step ("orders: quantiles of total") and the queries run so far.
  std::function<void(const std::string& step, int queries)> on_progress;
};

// Fails with kUsage when no table has the tenant column, kDatabase when a catalog query fails, and
// kCancelled when the source was cancelled. A shape query that fails or times out costs that
// figure only: it becomes an entry of `unsupported` and profiling goes on.
Result<Profile> RunProfile(Source* source, const ProfileOptions& options);

}  // namespace strata::synth
