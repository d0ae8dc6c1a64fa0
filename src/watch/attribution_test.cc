// What the watch says of a regression (attribution.h), on a real SQLite file and, with
// STRATA_TEST_PG, a real PostgreSQL: the plan's shape before and after, and the tables whose
// statistics are stale (with the ANALYZE to run), including a tenant that grew since the ANALYZE.
#include "watch/attribution.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "report/sql_params.h"

namespace strata::watch {
namespace {

Query TenantQuery(const std::string& sql, int64_t tenant) {
  Query q;
  q.origin = "test";
  q.sql = *ParseSql(sql, "test");
  ParamValue v;
  v.type = ParamType::kBigint;
  v.integer = tenant;
  v.text = std::to_string(tenant);
  q.params = {v};
  return q;
}

const char* kGood = "SELECT o.id, o.amount FROM orders o WHERE o.admin_id = :admin_id ORDER BY o.id";
const char* kCrawl =
    "SELECT o.id, (SELECT sum(p.amount) FROM orders p WHERE p.id <= o.id AND p.admin_id + 0 = o.admin_id) "
    "FROM orders o WHERE o.admin_id + 0 = :admin_id ORDER BY o.id";

TEST(AttributionTest, SqliteTablesNeverAnalyzedAreStaleAndThePlanChange) {
  const auto path = std::filesystem::temp_directory_path() / ("strata-attribution-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE orders (id INTEGER PRIMARY KEY, admin_id INTEGER, amount REAL);"
                         "CREATE INDEX orders_admin ON orders (admin_id);"
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
                         " INSERT INTO orders SELECT i, i % 5, i * 1.5 FROM n;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto source = OpenSource("sqlite:" + path.string());
  ASSERT_TRUE(source.ok()) << source.status().message();
  const Query good = TenantQuery(kGood, 3);
  const Query crawl = TenantQuery(kCrawl, 3);
  AttributionInput in{&crawl, &good, false, 100, "3", "admin_id"};
  const Attribution a = Attribute(**source, in);
  EXPECT_TRUE(a.plan_changed()) << a.current_plan << " " << a.good_plan;
  ASSERT_EQ(a.stale.size(), 1u);
  EXPECT_EQ(a.stale[0].table, "\"orders\"");
  EXPECT_NE(a.stale[0].analyze_sql.find("ANALYZE"), std::string::npos);
  const std::string sentence = a.Sentence();
  EXPECT_NE(sentence.find("the plan changed"), std::string::npos) << sentence;
  EXPECT_NE(sentence.find("stale statistics on \"orders\""), std::string::npos) << sentence;
  // It survives the ledger's JSON.
  const Attribution back = Attribution::FromJson(a.ToJson());
  EXPECT_EQ(back.Sentence(), sentence);
  ASSERT_TRUE((*source)->Analyze({"orders"}).ok());
  EXPECT_TRUE(Attribute(**source, in).stale.empty()) << "after ANALYZE nothing is stale";
  source->reset();
  std::filesystem::remove(path);
}

TEST(AttributionTest, PostgresTenantThatGrewSinceTheAnalyzeAndTheEstimateThatMissed) {
  const char* url = std::getenv("STRATA_TEST_PG");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "STRATA_TEST_PG is not set";
  const std::string schema = "strata_attribution_" + std::to_string(getpid());
  PGconn* c = PQconnectdb(url);
  auto exec = [&](const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << PQerrorMessage(c);
    PQclear(r);
  };
  exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema + "; SET search_path = " + schema);
  // Tenant 1 is most of the table at the ANALYZE; tenant 7 arrives afterwards, 20,000 rows.
  exec(
      "CREATE TABLE orders (id bigint PRIMARY KEY, admin_id bigint, amount numeric);"
      "CREATE INDEX orders_admin ON orders (admin_id);"
      "INSERT INTO orders SELECT i, CASE WHEN i % 100 = 0 THEN 2 ELSE 1 END, i FROM generate_series(1, 5000) i;"
      "ANALYZE orders;"
      "INSERT INTO orders SELECT i, 7, i FROM generate_series(5001, 25000) i;");
  auto source = OpenSource(std::string(url) + "?options=-csearch_path%3D" + schema);
  ASSERT_TRUE(source.ok()) << source.status().message();
  const Query good = TenantQuery(kGood, 7);
  const Query crawl = TenantQuery(kCrawl, 7);
  AttributionInput in{&crawl, &good, false, 20000, "7", "admin_id"};
  const Attribution a = Attribute(**source, in);
  EXPECT_TRUE(a.plan_changed());
  EXPECT_GE(a.estimated_rows, 0);
  ASSERT_EQ(a.stale.size(), 1u) << a.Sentence();
  EXPECT_NE(a.stale[0].reason.find("admin_id = 7, there are 20000"), std::string::npos) << a.stale[0].reason;
  EXPECT_NE(a.Sentence().find("the planner expects"), std::string::npos) << a.Sentence();
  std::printf("%s\n", a.Sentence().c_str());
  source->reset();
  exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  PQfinish(c);
}

}  // namespace
}  // namespace strata::watch
