// strata synth: a database built from a profile (profile.h), the profiled schema filled with rows
// of the profiled shape.
//
// Top-down: tables are filled parents first (a foreign-key order; a cycle is broken at a foreign key
// whose values are then NULL, and named). The tenant table gets the profiled tenant values. A table
// with the tenant column gets, per tenant, the profiled rows of a kept tenant, or for any other
// tenant a draw from the table's rows-per-tenant quantiles at the tenant's own rank (one rank per
// tenant for every table: a tenant large in one table is large in the others), times --scale. A
// table reached through a foreign key gets, per parent row, a draw of the profiled children per
// parent (a kept tenant: its own distribution, totalling its profiled rows). Every other foreign key
// picks its parent among the same tenant's rows, in proportion to a draw of the profiled fan-out, so
// that the children per parent follow the profile too. Rows are then shuffled (production rows of
// tenants interleave; a table clustered by tenant would give the planner another correlation).
// Column values come from value_gen.h.
//
// The statistics state: rows production added since its last ANALYZE (a kept tenant's rows beyond
// the planner's estimate, and the table's growth since the rows ANALYZE counted) are loaded after the
// synthetic database's ANALYZE, with autovacuum off for those tables on PostgreSQL, so that the
// planner is as wrong here as there.
//
// One transaction (BulkWriter): interrupted or failed, nothing is published.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "synth/bulk_writer.h"
#include "synth/profile.h"

namespace strata::synth {

struct SynthOptions {
  double scale = 1;  // rows of the tenants that are not kept (the typical ones); kept ones keep theirs
  uint64_t seed = 42;
  bool replace = false;  // drop the profiled tables, views and types first (PostgreSQL)
  std::function<void(const std::string& table, uint64_t rows)> on_progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct SynthTable {
  std::string table;
  uint64_t rows = 0;
  uint64_t late_rows = 0;  // of which loaded after ANALYZE
};

struct SynthResult {
  std::vector<SynthTable> tables;
  uint64_t rows = 0;
  double seconds = 0;                 // everything
  double load_seconds = 0;            // making and loading rows only
  double keys_seconds = 0;            // keys, foreign keys, checks, indexes and views after the rows
  double analyze_seconds = 0;         // the planner's statistics
  std::vector<std::string> warnings;  // a constraint or index that could not be built, rows dropped
  std::vector<Unsupported> notes;     // what the target cannot hold (ddl.h)
};

Result<SynthResult> Synthesize(BulkWriter* writer, const Profile& profile, const SynthOptions& options);

}  // namespace strata::synth
