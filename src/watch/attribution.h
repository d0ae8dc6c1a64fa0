// Why a version regressed for a tenant, as far as the database can say without running it again:
// whether its plan's shape differs from the good version's (a cheap EXPLAIN of each, no ANALYZE:
// the current version may never finish), whether the planner expected far fewer or more rows than
// the run returned, and which of the tables it reads have stale statistics (with the ANALYZE to
// run), including a tenant that grew since the last ANALYZE. The same facts `strata check` shows,
// from the same code (check/plans.h, check/statistics.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "check/check.h"
#include "common/status.h"
#include "source/source.h"

namespace strata::watch {

struct Attribution {
  std::string current_plan;  // plan-shape fingerprints (12 hex); empty when EXPLAIN failed
  std::string good_plan;
  double estimated_rows = -1;             // PostgreSQL: what the planner expected the current version to return
  int64_t rows = -1;                      // what the tenant's runs returned
  std::vector<check::TableHealth> stale;  // the tables with stale statistics, each with its ANALYZE

  bool plan_changed() const { return !current_plan.empty() && !good_plan.empty() && current_plan != good_plan; }
  // "the plan changed (a1b2... -> c3d4...); the planner expected 12 rows, the runs return 2,000;
  // stale statistics: public.orders (ANALYZE public.orders;)"; empty when nothing is known.
  std::string Sentence() const;
  nlohmann::ordered_json ToJson() const;
  static Attribution FromJson(const nlohmann::ordered_json& j);
};

struct AttributionInput {
  const Query* current = nullptr;  // both bound to the tenant's parameters
  const Query* good = nullptr;
  bool prepared = false;  // the current version's execution: the plan the plan cache picks
  int64_t rows = -1;      // rows the tenant's finished runs returned; -1 when they all failed
  std::string tenant;     // the tenant's value, as text
  std::string tenant_param;
};

// REQUIRES: source is the database the runs ran on, and not running anything else.
Attribution Attribute(Source& source, const AttributionInput& input);

// The plan-shape fingerprint of a query (a cheap EXPLAIN); empty when EXPLAIN failed.
std::string PlanFingerprint(Source& source, const Query& query, bool prepared);

}  // namespace strata::watch
