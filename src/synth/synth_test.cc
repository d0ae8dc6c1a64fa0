// profile -> synth on real SQLite files: what the profile keeps and what it never holds, and what the
// synthetic database gets back (keys that hold, the unusual tenants with their own values).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "source/db_handles.h"
#include "synth/ddl.h"
#include "synth/fidelity.h"
#include "synth/profiler.h"
#include "synth/synthesizer.h"

namespace strata::synth {
namespace {

namespace fs = std::filesystem;

// 30 admins; admin 1 has 40 times the orders of the others, admin 7 alone has 'disputed' orders,
// admin 9 alone has orders without a member; every member has a private e-mail address.
constexpr const char* kSourceSql = R"(
CREATE TABLE admins (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE members (id INTEGER PRIMARY KEY, admin_id INTEGER NOT NULL REFERENCES admins (id),
  email TEXT NOT NULL UNIQUE, referred_by INTEGER REFERENCES members (id));
CREATE TABLE orders (id INTEGER PRIMARY KEY, admin_id INTEGER NOT NULL REFERENCES admins (id),
  member_id INTEGER REFERENCES members (id), status TEXT NOT NULL, amount NUMERIC(12,2) NOT NULL,
  CHECK (amount > -1000000));
CREATE INDEX orders_admin ON orders (admin_id);
CREATE UNIQUE INDEX members_admin_email ON members (admin_id, email);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
  INSERT INTO admins SELECT i, 'Admin Person ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
  INSERT INTO members SELECT i, 1 + (i - 1) % 30, 'private.person' || i || '@example.org',
    CASE WHEN i > 30 AND i % 3 = 0 THEN i - 30 END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
  INSERT INTO orders SELECT i, CASE WHEN i <= 2000 THEN 1 ELSE 2 + (i % 29) END, NULL,
    CASE i % 4 WHEN 0 THEN 'paid' WHEN 1 THEN 'shipped' WHEN 2 THEN 'paid' ELSE 'cancelled' END,
    (i % 97) * 1.25 FROM n;
UPDATE orders SET member_id = (SELECT min(m.id) FROM members m WHERE m.admin_id = orders.admin_id) + (id % 20) * 30;
UPDATE orders SET status = 'disputed' WHERE id IN (SELECT id FROM orders WHERE admin_id = 7 LIMIT 5);
UPDATE orders SET member_id = NULL WHERE id IN (SELECT id FROM orders WHERE admin_id = 9 LIMIT 20);
ANALYZE;
)";

class SynthSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strata_synth_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    source_ = (dir_ / "source.db").string();
    SqliteDbPtr db = Open(source_);
    ASSERT_EQ(sqlite3_exec(db.get(), kSourceSql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static SqliteDbPtr Open(const std::string& path) {
    sqlite3* raw = nullptr;
    sqlite3_open(path.c_str(), &raw);
    return SqliteDbPtr(raw);
  }
  static int64_t Count(const std::string& path, const std::string& sql) {
    SqliteDbPtr db = Open(path);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db.get());
    SqliteStmtPtr stmt(s);
    return sqlite3_step(stmt.get()) == SQLITE_ROW ? sqlite3_column_int64(stmt.get(), 0) : -1;
  }
  Profile ProfileOf(const std::string& path) {
    auto source = OpenSource("sqlite:" + path);
    EXPECT_TRUE(source.ok()) << source.status().message();
    ProfileOptions options;
    options.tenant_column = "admin_id";
    auto profile = RunProfile(source->get(), options);
    EXPECT_TRUE(profile.ok()) << profile.status().message();
    return *profile;
  }
  Status Synth(const Profile& profile, const std::string& path, uint64_t seed = 42, Replace replace = Replace::kNever) {
    auto writer = OpenBulkWriter("sqlite:" + path, {}, replace);
    if (!writer.ok()) return writer.status();
    SynthOptions options;
    options.seed = seed;
    auto result = Synthesize(writer->get(), profile, options);
    return result.ok() ? Status::Ok() : result.status();
  }

  fs::path dir_;
  std::string source_;
};

TEST_F(SynthSqliteTest, TheProfileKeepsStatusesAndTheUnusualTenantsButNoPrivateText) {
  const Profile profile = ProfileOf(source_);
  const std::string json = ProfileToJson(profile);
  EXPECT_EQ(json.find("@example.org"), std::string::npos);
  EXPECT_EQ(json.find("Admin Person"), std::string::npos);
  EXPECT_NE(json.find("\"disputed\""), std::string::npos) << "a status is a few values: kept";
  EXPECT_EQ(profile.tenant.table, "admins");
  EXPECT_EQ(profile.tenant.ranges, (std::vector<std::pair<int64_t, int64_t>>{{1, 30}}));
  std::set<std::string> kept;
  for (const KeptTenant& k : profile.tenants) kept.insert(k.tenant);
  EXPECT_TRUE(kept.count("1")) << "the heaviest";
  EXPECT_TRUE(kept.count("7")) << "the only one with a disputed order";
  EXPECT_TRUE(kept.count("9")) << "the only one with orders without a member";
  const TableProfile* members = profile.Table("members");
  ASSERT_NE(members, nullptr);
  ASSERT_EQ(members->foreign_keys.size(), 2u);
  EXPECT_EQ(members->tenant.column, "admin_id");

  auto back = ProfileFromJson(json, "p.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ProfileToJson(*back), json) << "the JSON reads back as written";
  EXPECT_FALSE(back->tenant.median.empty());
  EXPECT_EQ(back->tenants.size(), profile.tenants.size());
}

TEST_F(SynthSqliteTest, TheSyntheticDatabaseHoldsItsKeysAndTheUnusualTenants) {
  const Profile profile = ProfileOf(source_);
  const std::string target = (dir_ / "synth.db").string();
  ASSERT_TRUE(Synth(profile, target).ok());
  EXPECT_EQ(Count(target, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM admins"), 30);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM orders WHERE admin_id = 1"), 2000);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM orders WHERE status = 'disputed' AND admin_id = 7"), 5);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM orders WHERE status = 'disputed' AND admin_id <> 7"), 0);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM orders WHERE member_id IS NULL AND admin_id = 9"), 20);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM orders WHERE member_id IS NULL AND admin_id <> 9"), 0);
  EXPECT_EQ(Count(target,
                  "SELECT count(*) FROM orders o JOIN members m ON m.id = o.member_id "
                  "WHERE m.admin_id <> o.admin_id"),
            0)
      << "an order's member is of the order's tenant";
  EXPECT_EQ(Count(target, "SELECT count(*) FROM members WHERE email LIKE '%@example.org'"), 0);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM sqlite_schema WHERE name IN ('orders_admin', 'members_admin_email')"),
            2);
  const int64_t total = Count(target, "SELECT count(*) FROM orders");
  EXPECT_NEAR(static_cast<double>(total), 5000, 250);

  const Fidelity f = CompareProfiles(profile, ProfileOf(target));
  EXPECT_LE(f.max_tenant_q, 1.01);
  EXPECT_LE(f.max_table_error, 0.05);
}

TEST_F(SynthSqliteTest, TheSameSeedGivesTheSameRowsAndAnotherSeedOthers) {
  const Profile profile = ProfileOf(source_);
  const std::string a = (dir_ / "a.db").string(), b = (dir_ / "b.db").string(), c = (dir_ / "c.db").string();
  ASSERT_TRUE(Synth(profile, a, 7).ok());
  ASSERT_TRUE(Synth(profile, b, 7).ok());
  ASSERT_TRUE(Synth(profile, c, 8).ok());
  const std::string digest =
      "SELECT sum(id * 7 + coalesce(member_id, 3) * 13 + length(status) + CAST(amount * 100 AS INTEGER)) FROM orders";
  EXPECT_EQ(Count(a, digest), Count(b, digest));
  EXPECT_NE(Count(a, digest), Count(c, digest));
}

TEST_F(SynthSqliteTest, AnExistingDatabaseIsReplacedOnlyWhenAsked) {
  const Profile profile = ProfileOf(source_);
  Status refused = Synth(profile, source_);
  EXPECT_EQ(refused.code(), Status::Code::kUsage);
  EXPECT_NE(refused.message().find("--replace"), std::string::npos) << refused.message();
  EXPECT_EQ(Count(source_, "SELECT count(*) FROM orders"), 5000) << "nothing changed";
}

TEST_F(SynthSqliteTest, TenantsNamedByUuidsStayUuids) {
  const std::string source = (dir_ / "uuid.db").string();
  SqliteDbPtr db = Open(source);
  ASSERT_EQ(sqlite3_exec(db.get(), R"(
    CREATE TABLE accounts (id UUID PRIMARY KEY);
    CREATE TABLE notes (id INTEGER PRIMARY KEY, account_id UUID NOT NULL REFERENCES accounts (id), body TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
      INSERT INTO accounts SELECT printf('%08x-0000-4000-8000-%012x', i * 7919, i) FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
      INSERT INTO notes SELECT i, (SELECT id FROM accounts a WHERE a.rowid = 1 + (i * i) % 40), 'x' FROM n;
  )",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db.get());
  db.reset();
  auto opened = OpenSource("sqlite:" + source);
  ASSERT_TRUE(opened.ok());
  ProfileOptions options;
  options.tenant_column = "account_id";
  auto profile = RunProfile(opened->get(), options);
  ASSERT_TRUE(profile.ok()) << profile.status().message();
  EXPECT_FALSE(profile->tenant.integer);
  const std::string target = (dir_ / "synth.db").string();
  ASSERT_TRUE(Synth(*profile, target).ok());
  EXPECT_EQ(Count(target, "SELECT count(*) FROM accounts"), 40);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM accounts WHERE length(id) <> 36 OR substr(id, 15, 1) <> '4'"), 0);
  EXPECT_EQ(Count(target, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  for (const KeptTenant& k : profile->tenants) {
    EXPECT_EQ(Count(target, "SELECT count(*) FROM accounts WHERE id = '" + k.tenant + "'"), 1) << k.tenant;
  }
}

TEST(ProfileJsonTest, AnythingButAProfileIsAUsageErrorNamingTheFile) {
  auto not_json = ProfileFromJson("{nope", "p.json");
  EXPECT_EQ(not_json.status().code(), Status::Code::kUsage);
  EXPECT_NE(not_json.status().message().find("p.json"), std::string::npos);
  auto other = ProfileFromJson(R"({"format": "strata-profile/9"})", "p.json");
  EXPECT_NE(other.status().message().find("strata-profile/9"), std::string::npos);
  auto format_object = ProfileFromJson(R"({"format": {"dialect": "sqlite"}, "tables": []})", "p.json");
  EXPECT_EQ(format_object.status().code(), Status::Code::kUsage) << "a format that is no string is refused, not thrown";
  auto partial = ProfileFromJson(R"({"format": "strata-profile/1", "source": {"dialect": "sqlite"}})", "p.json");
  EXPECT_EQ(partial.status().code(), Status::Code::kUsage);
  EXPECT_NE(partial.status().message().find("tenant"), std::string::npos) << partial.status().message();
  auto huge = ProfileFromJson(R"({"format": "strata-profile/1", "source": {"dialect": "sqlite"},
      "tenant": {"column": "a"}, "tables": [{"name": "t", "rows": 1e300, "columns": []}]})",
                              "p.json");
  EXPECT_EQ(huge.status().code(), Status::Code::kUsage) << "a count that fits no integer is refused, not cast";
  EXPECT_NE(huge.status().message().find("1e+300"), std::string::npos) << huge.status().message();
}

TEST(SchemaForTest, PostgresTablesBecomeSqliteTablesAndWhatCannotFollowIsNamed) {
  Profile p;
  p.dialect = "postgres";
  TableProfile orders;
  orders.schema = "public";
  orders.name = "orders";
  auto column = [](const char* name, const char* type, ValueKind kind, bool nullable) {
    ColumnProfile c;
    c.name = name;
    c.type = type;
    c.kind = kind;
    c.nullable = nullable;
    return c;
  };
  orders.columns = {column("id", "bigint", ValueKind::kInteger, false),
                    column("tags", "text[]", ValueKind::kArray, true), column("ref", "uuid", ValueKind::kUuid, true)};
  orders.constraints.push_back({"orders_pkey", 'p', {"id"}, "PRIMARY KEY (id)"});
  orders.constraints.push_back({"positive", 'c', {}, "CHECK ((id > 0))"});
  orders.indexes.push_back(
      {"orders_lower", "CREATE INDEX orders_lower ON public.orders (lower(ref::text))", false, true, false, {""}});
  orders.indexes.push_back(
      {"orders_ref", "CREATE INDEX orders_ref ON public.orders (ref)", false, false, false, {"ref"}});
  p.tables.push_back(orders);
  auto s = SchemaFor(p, Dialect::kSqlite);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->before.size(), 1u);
  EXPECT_EQ(s->before[0],
            "CREATE TABLE \"orders\" (\"id\" INTEGER NOT NULL, \"tags\" TEXT, \"ref\" TEXT, PRIMARY KEY (\"id\"))");
  ASSERT_EQ(s->after.size(), 1u);
  EXPECT_EQ(s->after[0], "CREATE INDEX \"orders_ref\" ON \"orders\" (\"ref\")");
  ASSERT_EQ(s->notes.size(), 2u) << "the CHECK and the expression index";

  p.dialect = "sqlite";
  EXPECT_EQ(SchemaFor(p, Dialect::kPostgres).status().code(), Status::Code::kUsage);
}

}  // namespace
}  // namespace strata::synth
