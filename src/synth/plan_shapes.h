// The plans a project's reports get on a database for given tenants (EXPLAIN, never ANALYZE): what
// `strata profile --project` records of production and `strata synth --project` compares the
// synthetic database with, so that a team sees whether its reports meet the same plans in CI.
//
// A plan is kept as its shape fingerprint (check/plans.h: node types, joins, relations, indexes)
// and, on PostgreSQL, the planner's estimated rows per node in tree order: no value of the
// database is in it.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "report/project.h"
#include "source/source.h"

namespace strata::synth {

struct PlanShape {
  std::string report;
  std::string tenant;
  std::string fingerprint;
  std::vector<std::pair<std::string, double>> nodes;  // (node type, estimated rows), pre-order
};

// One plan per report and tenant, with the parameters' defaults. A report whose plan cannot be had
// (a missing default, a failed EXPLAIN) is left out and named in `skipped`. Fails only when the
// source was cancelled.
Result<std::vector<PlanShape>> ExplainReports(Source* source, const Project& project,
                                              const std::vector<std::string>& tenants,
                                              std::chrono::milliseconds statement_timeout,
                                              std::vector<std::string>* skipped);

// Estimated rows per node of a PostgreSQL EXPLAIN (FORMAT JSON), in pre-order.
std::vector<std::pair<std::string, double>> PlanNodes(const std::string& explain_json);

}  // namespace strata::synth
