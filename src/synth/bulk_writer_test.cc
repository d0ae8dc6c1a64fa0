#include "synth/bulk_writer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "common/value.h"

namespace strata::synth {
namespace {

namespace fs = std::filesystem;

TEST(BulkWriterTest, CentsAndZonesAsTheDatabasesRead) {
  char buf[64];
  EXPECT_EQ(std::string(buf, FormatCents(1234, buf)), "12.34");
  EXPECT_EQ(std::string(buf, FormatCents(5, buf)), "0.05");
  EXPECT_EQ(std::string(buf, FormatCents(-1, buf)), "-0.01");
  EXPECT_EQ(std::string(buf, FormatCents(-12345, buf)), "-123.45");
  EXPECT_EQ(std::string(buf, FormatCents(INT64_MIN, buf)), "-92233720368547758.08");
  const int64_t noon = (DaysFromCivil(2024, 3, 1) * 86400 + 12 * 3600) * kMicrosPerSecond;
  EXPECT_EQ(std::string(buf, FormatTimestampTz(noon, 540, buf)), "2024-03-01 21:00:00+09:00");
  EXPECT_EQ(std::string(buf, FormatTimestampTz(noon, -570, buf)), "2024-03-01 02:30:00-09:30");
}

class SqliteBulkWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strata_bulk_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Query(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    std::string out;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* o, int n, char** v, char**) {
          for (int k = 0; k < n; ++k) *static_cast<std::string*>(o) += std::string(v[k] ? v[k] : "NULL") + "|";
          return 0;
        },
        &out, nullptr);
    sqlite3_close(db);
    return out;
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteBulkWriterTest, WritesEveryCellKindAndPublishesOnlyOnCommit) {
  auto w = OpenBulkWriter("sqlite:" + path_, {"t"}, Replace::kOnlyGenerated);
  ASSERT_TRUE(w.ok()) << w.status().message();
  ASSERT_TRUE(
      (*w)->Execute("CREATE TABLE t (a bigint, b text, c numeric(12,2), d date, e timestamptz, f boolean)").ok());
  ASSERT_TRUE((*w)->BeginTable("t", {"a", "b", "c", "d", "e", "f"}).ok());
  (*w)->Int(-7);
  (*w)->Text("김\t\\");
  (*w)->Cents(-12345);
  (*w)->Date(DaysFromCivil(1901, 1, 2));
  (*w)->TimestampTz(0, -660);
  (*w)->Bool(true);
  ASSERT_TRUE((*w)->EndRow().ok());
  (*w)->Null();  // a row one cell short is a bug, not a row repeating the last value
  Status short_row = (*w)->EndRow();
  EXPECT_EQ(short_row.code(), Status::Code::kInternal);
  ASSERT_TRUE((*w)->EndTable().ok());
  EXPECT_FALSE(fs::exists(path_)) << "published before Commit";
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(Query("select * from t"), "-7|김\t\\|-123.45|1901-01-02|1969-12-31 13:00:00-11:00|1|");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1) << "a temporary file was left";
}

TEST_F(SqliteBulkWriterTest, AnAbandonedLoadLeavesNothing) {
  {
    auto w = OpenBulkWriter("sqlite:" + path_, {"t"}, Replace::kOnlyGenerated);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Execute("CREATE TABLE t (a int)").ok());
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SqliteBulkWriterTest, RefusesToReplaceADatabaseItDidNotMake) {
  Query("CREATE TABLE precious (x int); INSERT INTO precious VALUES (1)");
  auto w = OpenBulkWriter("sqlite:" + path_, {"t"}, Replace::kOnlyGenerated);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Status::Code::kUsage);
  EXPECT_NE(w.status().message().find("--replace"), std::string::npos);
  EXPECT_EQ(Query("select x from precious"), "1|");
  EXPECT_TRUE(OpenBulkWriter("sqlite:" + path_, {"t"}, Replace::kAlways).ok());
}

}  // namespace
}  // namespace strata::synth
