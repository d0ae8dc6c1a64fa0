#include "source/sqlite_source.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "source/postgres_source.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class SqliteSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("strata_sqlite_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    fs::remove(path_);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* schema = R"(
      create table t (id bigint, name text, amount numeric(12,2), ratio real, day date, at timestamp,
                      flag boolean, blob blob);
      insert into t values (1, '김민준', 12.5, 0.25, '2024-02-29', '2024-02-29 10:11:12', 1, x'00ff');
      insert into t values (2, null, null, null, null, null, 0, null);
      insert into t values (3, 'not a date', 3, 1e300, 'someday', '2024-02-29', 0, x'');
    )";
    ASSERT_EQ(sqlite3_exec(db, schema, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  void TearDown() override { fs::remove(path_); }

  std::unique_ptr<Source> Open() {
    auto s = OpenSqliteSource(path_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s).value();
  }
  static Query MakeQuery(const std::string& sql, std::vector<ParamValue> params = {}) {
    Query q;
    q.origin = "test";
    q.sql = ParseSql(sql, "test.sql").value();
    q.params = std::move(params);
    return q;
  }
  // Reads all rows of a query into one batch.
  static Status ReadAll(Source& src, const Query& q, Batch* all, std::vector<Column>* cols = nullptr,
                        ExecuteOptions opts = {}) {
    auto cursor = src.Execute(q, opts);
    if (!cursor.ok()) return cursor.status();
    if (cols) *cols = (*cursor)->columns();
    Batch b;
    for (;;) {
      Status s = (*cursor)->Next(&b);
      if (!s.ok()) return s;
      if (b.empty()) return Status::Ok();
      *all = std::move(b);  // the tests here fit one batch
    }
  }
  std::string path_;
};

// Export, serve and check make a report's query here: its origin names the report (and check's
// role), its file is where the project keeps the SQL, also for a base read from git.
TEST(ReportQueryTest, NamesTheReportAndItsFile) {
  Project project;
  project.folder = "projects/admin";
  ReportSpec report;
  report.name = "member_activity";
  report.sql_path = "reports/member_activity.sql";
  report.sql = *ParseSql("select :admin_id", "reports/member_activity.sql");
  Query q = ReportQuery(project, report, {ParamValue{ParamType::kBigint, "7"}});
  EXPECT_EQ(q.origin, "report member_activity");
  EXPECT_EQ(q.file, "projects/admin/reports/member_activity.sql");
  EXPECT_EQ(q.sql.text, report.sql.text);
  ASSERT_EQ(q.params.size(), 1u);
  EXPECT_EQ(q.params[0].text, "7");
  project.folder = "origin/main:";
  q = ReportQuery(project, report, {}, "base");
  EXPECT_EQ(q.origin, "report member_activity (base)");
  EXPECT_EQ(q.file, "origin/main:reports/member_activity.sql");
}

TEST_F(SqliteSourceTest, TypesFollowDeclarationsAndValues) {
  auto src = Open();
  Batch b;
  std::vector<Column> cols;
  ASSERT_TRUE(ReadAll(*src, MakeQuery("select * from t order by id"), &b, &cols).ok());
  ASSERT_EQ(b.rows(), 3u);
  EXPECT_EQ(cols[0].type, Type::kInt64);
  EXPECT_EQ(cols[4].type, Type::kDate);
  EXPECT_EQ(cols[6].type, Type::kBool);
  EXPECT_EQ(b.Text(b.at(0, 1)), "김민준");
  EXPECT_EQ(b.at(0, 2).type, Type::kDouble);  // NUMERIC affinity stored 12.5 as a real
  EXPECT_EQ(b.at(0, 4).type, Type::kDate);
  EXPECT_EQ(b.at(0, 4).i, DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(b.at(0, 5).type, Type::kTimestamp);
  EXPECT_EQ(b.at(0, 6).type, Type::kBool);
  EXPECT_TRUE(b.at(0, 6).b);
  EXPECT_EQ(b.at(0, 7).type, Type::kBytes);
  EXPECT_EQ(b.Text(b.at(0, 7)), std::string("\x00\xff", 2));
  EXPECT_EQ(b.at(1, 1).type, Type::kNull);
  EXPECT_EQ(b.at(2, 4).type, Type::kText);  // 'someday' is no date: kept as text
  EXPECT_EQ(b.at(2, 5).type, Type::kTimestamp);
  EXPECT_EQ(b.at(2, 5).i, DaysFromCivil(2024, 2, 29) * kMicrosPerDay);
}

TEST_F(SqliteSourceTest, ExpressionsAreSniffedOnlyForExactIsoText) {
  auto src = Open();
  Batch b;
  ASSERT_TRUE(ReadAll(*src, MakeQuery("select date('2024-01-05'), '2024-01-05 10:00:00', '2024-1-5', 7 * 6"), &b).ok());
  EXPECT_EQ(b.at(0, 0).type, Type::kDate);
  EXPECT_EQ(b.at(0, 1).type, Type::kTimestamp);
  EXPECT_EQ(b.at(0, 2).type, Type::kText);
  EXPECT_EQ(b.at(0, 3).i, 42);
}

TEST_F(SqliteSourceTest, ParametersAreBoundByType) {
  auto src = Open();
  Batch b;
  auto q = MakeQuery(
      "select id from t where day >= :from and amount > :min and flag = :flag and name <> :name",
      {ParseParamValue(ParamType::kDate, "2024-01-01").value(), ParseParamValue(ParamType::kNumeric, "12.25").value(),
       ParseParamValue(ParamType::kBool, "true").value(), ParseParamValue(ParamType::kText, "x' or '1'='1").value()});
  ASSERT_TRUE(ReadAll(*src, q, &b).ok());
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(b.at(0, 0).i, 1);
}

TEST_F(SqliteSourceTest, ErrorsNameThePlace) {
  auto src = Open();
  auto cursor = src->Execute(
      MakeQuery("select :a,\n  :b + nope from t",
                {ParseParamValue(ParamType::kInt, "1").value(), ParseParamValue(ParamType::kInt, "2").value()}),
      {});
  ASSERT_FALSE(cursor.ok());
  EXPECT_EQ(cursor.status().code(), Status::Code::kDatabase);
  EXPECT_FALSE(cursor.status().transient()) << "a broken query would fail the same way when tried again";
  EXPECT_NE(cursor.status().message().find("test: line 2 column 8: no such column: nope"), std::string::npos)
      << cursor.status().message();
  // The source stays usable after an error.
  Batch b;
  EXPECT_TRUE(ReadAll(*src, MakeQuery("select 1"), &b).ok());
}

TEST_F(SqliteSourceTest, IsReadOnly) {
  auto src = Open();
  Batch b;
  Status s = ReadAll(*src, MakeQuery("delete from t returning id"), &b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("readonly"), std::string::npos) << s.message();
}

const char* kSlowQuery =
    "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) select count(*) from n";

TEST_F(SqliteSourceTest, StatementTimeoutStopsTheQuery) {
  auto src = Open();
  ExecuteOptions o;
  o.statement_timeout = std::chrono::milliseconds(100);
  Batch b;
  const auto start = std::chrono::steady_clock::now();
  Status s = ReadAll(*src, MakeQuery(kSlowQuery), &b, nullptr, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kTimeout);
  EXPECT_NE(s.message().find("statement timeout of 100ms"), std::string::npos) << s.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(SqliteSourceTest, CancelFromAnotherThread) {
  auto src = Open();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    src->Cancel();
  });
  Batch b;
  Status s = ReadAll(*src, MakeQuery(kSlowQuery), &b);
  canceller.join();
  EXPECT_EQ(s.code(), Status::Code::kCancelled) << s.message();
}

TEST_F(SqliteSourceTest, PlaceholdersOnlyStrataBindsAreRefused) {
  auto src = Open();
  for (const char* sql : {"select id from t where id = $admin_id", "select id from t where id = @admin_id",
                          "select ?, :id from t", "select :id, ? from t", "select :이름 from t"}) {
    std::vector<ParamValue> params;
    if (std::string(sql).find(":id") != std::string::npos)
      params.push_back(ParseParamValue(ParamType::kInt, "1").value());
    auto cursor = src->Execute(MakeQuery(sql, params), {});
    ASSERT_FALSE(cursor.ok()) << sql << " ran with a parameter left unbound";
    EXPECT_NE(cursor.status().message().find("Strata does not bind"), std::string::npos) << cursor.status().message();
    EXPECT_EQ(cursor.status().code(), Status::Code::kUsage);
  }
}

TEST_F(SqliteSourceTest, ACancelBeforeTheQueryIsNotLost) {
  auto src = Open();
  src->Cancel();
  auto cursor = src->Execute(MakeQuery("select 1"), {});
  ASSERT_FALSE(cursor.ok());
  EXPECT_EQ(cursor.status().code(), Status::Code::kCancelled);
}

TEST_F(SqliteSourceTest, MissingAndBrokenFiles) {
  auto missing = OpenSqliteSource(path_ + ".nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kDatabase);
  EXPECT_NE(missing.status().message().find("no such file"), std::string::npos);
  const std::string junk = path_ + ".junk";
  std::ofstream(junk) << std::string(4096, 'x');
  auto broken = OpenSqliteSource(junk);
  fs::remove(junk);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("not a database"), std::string::npos) << broken.status().message();
}

TEST(SqliteDeclaredTypeTest, Mapping) {
  EXPECT_EQ(SqliteDeclaredType("BIGINT"), Type::kInt64);
  EXPECT_EQ(SqliteDeclaredType("numeric(12,2)"), Type::kNumeric);
  EXPECT_EQ(SqliteDeclaredType("timestamp with time zone"), Type::kTimestampTz);
  EXPECT_EQ(SqliteDeclaredType("DATETIME"), Type::kTimestamp);
  EXPECT_EQ(SqliteDeclaredType("varchar(20)"), Type::kText);
  EXPECT_EQ(SqliteDeclaredType(nullptr), Type::kNull);
}

TEST(RedactUrlTest, HidesPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://u:secret@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(RedactUrl("host=h password=secret dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(RedactUrl("postgresql://h/db?password=secret&x=1"), "postgresql://h/db?password=***&x=1");
  EXPECT_EQ(RedactUrl("host=h password = 'a b\\' c' user=u"), "host=h password = *** user=u");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("postgresql://h:5432/db"), "postgresql://h:5432/db");
  EXPECT_EQ(RedactUrl("sqlite:a.db"), "sqlite:a.db");
}

TEST(SqliteErrorTest, OnlyFailuresThatMayPassAreTransient) {
  for (int code : {SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_IOERR_READ, SQLITE_BUSY_SNAPSHOT, SQLITE_NOMEM,
                   SQLITE_PROTOCOL, SQLITE_SCHEMA}) {
    EXPECT_TRUE(IsTransientSqliteCode(code)) << code;
  }
  for (int code : {SQLITE_ERROR, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH,
                   SQLITE_READONLY, SQLITE_MISMATCH, SQLITE_CONSTRAINT, SQLITE_RANGE, SQLITE_INTERRUPT}) {
    EXPECT_FALSE(IsTransientSqliteCode(code)) << code;
  }
}

TEST(PostgresErrorTest, OnlyFailuresThatMayPassAreTransient) {
  for (const char* code : {"08000", "08003", "08006", "08001", "57P01", "57P02", "57P03", "53300", "53200", "53100",
                           "40001", "40P01", "55P03", "58030"}) {
    EXPECT_TRUE(IsTransientSqlstate(code)) << code;
  }
  for (const char* code : {"42601", "42P01", "42703", "42501", "22012", "22P02", "23505", "XX000", "57014", "0800", "",
                           "080000", "53400", "08P01", "58P01"}) {
    EXPECT_FALSE(IsTransientSqlstate(code)) << code;
  }
  EXPECT_FALSE(IsTransientSqlstate(nullptr));
}

}  // namespace
}  // namespace strata
