#include "check/plans.h"

#include <gtest/gtest.h>

namespace strata::check {
namespace {

// Trimmed from PostgreSQL 15's EXPLAIN (ANALYZE, FORMAT JSON).
const char* kAnalyzed = R"json([{"Plan": {"Node Type": "Hash Join", "Join Type": "Inner", "Plan Rows": 12,
  "Actual Rows": 48000, "Actual Loops": 1, "Actual Total Time": 80.5, "Hash Cond": "(o.member_id = m.id)",
  "Plans": [
    {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o", "Plan Rows": 5, "Actual Rows": 50000,
     "Actual Loops": 1, "Filter": "(admin_id = '172'::bigint)"},
    {"Node Type": "Hash", "Plan Rows": 100, "Actual Rows": 100, "Actual Loops": 1, "Plans": [
      {"Node Type": "Index Scan", "Relation Name": "members", "Alias": "m", "Index Name": "members_admin_id_idx",
       "Plan Rows": 100, "Actual Rows": 110, "Actual Loops": 1, "Index Cond": "(admin_id = '172'::bigint)"}]}]},
  "Planning Time": 0.3, "Execution Time": 81.0}])json";

TEST(PlansTest, PostgresPlanShapeMisestimatesAndRelations) {
  auto plan = ParsePostgresPlan(kAnalyzed);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->fingerprint.size(), 12u);
  EXPECT_EQ(plan->relations, (std::vector<std::string>{"orders", "members"}));
  EXPECT_FALSE(plan->generic);
  ASSERT_EQ(plan->misestimates.size(), 2u);  // the scan (10,000x) and the join (4,000x); not the index scan
  EXPECT_EQ(plan->misestimates[0].node, "Seq Scan");
  EXPECT_EQ(plan->misestimates[0].table, "orders");
  EXPECT_EQ(plan->misestimates[0].condition, "(admin_id = '172'::bigint)");
  EXPECT_DOUBLE_EQ(plan->misestimates[0].q_error, 10000);
  EXPECT_NE(plan->text.find("Seq Scan on orders o"), std::string::npos);
}

TEST(PlansTest, FingerprintIgnoresCostsButNotShape) {
  std::string other_rows = kAnalyzed;
  other_rows.replace(other_rows.find("\"Plan Rows\": 12"), 15, "\"Plan Rows\": 99");
  EXPECT_EQ(ParsePostgresPlan(kAnalyzed)->fingerprint, ParsePostgresPlan(other_rows)->fingerprint);
  std::string other_join = kAnalyzed;
  other_join.replace(other_join.find("Hash Join"), 9, "Merge Join");
  EXPECT_NE(ParsePostgresPlan(kAnalyzed)->fingerprint, ParsePostgresPlan(other_join)->fingerprint);
}

TEST(PlansTest, GenericPlanHasParameters) {
  auto plan = ParsePostgresPlan(
      R"json([{"Plan": {"Node Type": "Index Scan", "Relation Name": "orders", "Plan Rows": 10,
          "Index Cond": "(admin_id = $1)"}}])json");
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->generic);
  EXPECT_TRUE(plan->misestimates.empty());  // not analyzed: no actual rows
}

TEST(PlansTest, NotAPlanIsAnError) {
  EXPECT_FALSE(ParsePostgresPlan("").ok());
  EXPECT_FALSE(ParsePostgresPlan("[]").ok());
  EXPECT_FALSE(ParsePostgresPlan("{\"Plan\": 1}").ok());
}

TEST(PlansTest, SqlitePlanTreeAndFingerprint) {
  const std::string eqp =
      "2\t0\tSEARCH m USING INDEX members_admin_id_idx (admin_id=?)\n"
      "5\t0\tSEARCH o USING INDEX orders_member_id_idx (member_id=?)\n"
      "9\t5\tUSE TEMP B-TREE FOR ORDER BY\n";
  PlanInfo plan = ParseSqlitePlan(eqp);
  EXPECT_EQ(plan.text,
            "SEARCH m USING INDEX members_admin_id_idx (admin_id=?)\n"
            "SEARCH o USING INDEX orders_member_id_idx (member_id=?)\n"
            "  USE TEMP B-TREE FOR ORDER BY\n");
  EXPECT_EQ(plan.fingerprint.size(), 12u);
  EXPECT_NE(ParseSqlitePlan("2\t0\tSCAN m\n").fingerprint, plan.fingerprint);
}

}  // namespace
}  // namespace strata::check
