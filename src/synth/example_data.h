// The example project's data: a multi-tenant shop (admins, members, products, orders, order items,
// payments, refunds) with the shape of production rather than of a fixture. The tenant kinds and
// their parameters are one table, kTenantKinds in example_data.cc; docs/example.md explains each.
//
// Deterministic: the same seed and scale give the same rows, value for value, on SQLite and on
// PostgreSQL. Every random draw is a function of (seed, what is drawn, the row's key), so the
// tables can be written one after another and re-derived where one depends on another.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "synth/bulk_writer.h"

namespace strata::synth {

struct GenerateOptions {
  double scale = 1;  // 1: the demo (about 2 million rows); 0.01 for tests; 10+ for benchmarks
  // Typical admins (the unusual ones come on top, one of each kind); 0: 200 x scale, at least 12.
  // Sizes still come from the scale: more tenants add smaller ones to the heavy tail.
  int tenants = 0;
  uint64_t seed = 42;
  bool analyze = true;  // refresh the planner's statistics at the end
  // Called now and then with the table being written and the rows written so far in it.
  std::function<void(const std::string& table, uint64_t rows)> on_progress;
  // When set and it becomes true, generation stops with kCancelled and nothing is published.
  const std::atomic<bool>* cancel = nullptr;
};

struct TableCount {
  std::string table;
  uint64_t rows = 0;
};

struct GenerateResult {
  std::vector<TableCount> tables;
  uint64_t rows = 0;
  double seconds = 0;       // everything, constraints and ANALYZE included
  double load_seconds = 0;  // generating and loading rows only
};

// Creates the schema (replacing the example's tables) and fills it, then adds constraints and
// indexes, then ANALYZE; publishes only when all of it succeeded (BulkWriter::Commit).
Result<GenerateResult> GenerateExample(BulkWriter& writer, const GenerateOptions& options);

// The kinds of tenant the generator makes, for docs and the demo: name (admins.profile) and why.
struct TenantKindInfo {
  std::string name;
  std::string why;
};
std::vector<TenantKindInfo> TenantKinds();

}  // namespace strata::synth
