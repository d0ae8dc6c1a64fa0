// Plans: what the database's EXPLAIN says, reduced to what the gate compares and shows.
//
// PostgreSQL (EXPLAIN (FORMAT JSON), with ANALYZE when it ran): the plan's shape fingerprint (node
// types, join types, relations and indexes, in tree order: costs and row counts left out, so a plan
// "flips" only when its shape changes), an indented text form, whether it is a prepared statement's
// generic plan (its conditions hold $n parameters), the relations it reads, and the nodes whose
// estimated rows are off from the actual rows by 10x or more (the q-error), with their table and
// condition. SQLite (EXPLAIN QUERY PLAN): the fingerprint and text of its steps.
#pragma once

#include <string>
#include <vector>

#include "check/check.h"
#include "common/status.h"

namespace strata::check {

struct PlanInfo {
  std::string fingerprint;  // 12 hex digits
  std::string text;         // the plan as an indented tree
  bool generic = false;
  std::vector<std::string> relations;     // tables read, in plan order, without duplicates
  std::vector<Misestimate> misestimates;  // largest q-error first; only for an analyzed plan
  double estimated_rows = -1;             // PostgreSQL: the rows the planner expects the query to return
};

inline constexpr double kMisestimateQ = 10;

Result<PlanInfo> ParsePostgresPlan(const std::string& json);
PlanInfo ParseSqlitePlan(const std::string& eqp);

}  // namespace strata::check
