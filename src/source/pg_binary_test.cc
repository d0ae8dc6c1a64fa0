// The binary decoders on hand-made bytes, and on a real PostgreSQL (STRATA_TEST_PG): every type with
// a decoder, at its edges, read once in text and once in binary, must give the same cells.
#include "source/pg_binary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "report/sql_params.h"
#include "source/postgres_source.h"

namespace strata {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(PgBinaryTest, NumericsPrintAsTheServerPrintsThem) {
  std::string text;
  // 12345.678: ndigits 3, weight 1, positive, dscale 3; digits 1, 2345, 6780.
  ASSERT_TRUE(pg::NumericText(Bytes({0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c}), &text));
  EXPECT_EQ(text, "12345.678");
  // -0.0012: ndigits 1, weight -1, negative, dscale 4; digit 12.
  ASSERT_TRUE(pg::NumericText(Bytes({0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 12}), &text));
  EXPECT_EQ(text, "-0.0012");
  // 0 with dscale 2.
  ASSERT_TRUE(pg::NumericText(Bytes({0, 0, 0, 0, 0, 0, 0, 2}), &text));
  EXPECT_EQ(text, "0.00");
  // 10000 (one digit of weight 1: trailing zero groups are not sent).
  ASSERT_TRUE(pg::NumericText(Bytes({0, 1, 0, 1, 0, 0, 0, 0, 0, 1}), &text));
  EXPECT_EQ(text, "10000");
  ASSERT_TRUE(pg::NumericText(Bytes({0, 0, 0, 0, 0xc0, 0, 0, 0}), &text));
  EXPECT_EQ(text, "NaN");
  ASSERT_TRUE(pg::NumericText(Bytes({0, 0, 0, 0, 0xf0, 0, 0, 0}), &text));
  EXPECT_EQ(text, "-Infinity");
}

TEST(PgBinaryTest, BytesThatAreNotTheirTypeAreSaidNotGuessed) {
  std::string text;
  EXPECT_FALSE(pg::NumericText(Bytes({0, 2, 0, 0, 0, 0, 0, 0, 0, 1}), &text)) << "too short for its digits";
  EXPECT_FALSE(pg::NumericText(Bytes({0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}), &text)) << "a digit of 10000";
  EXPECT_FALSE(pg::NumericText(Bytes({0, 0, 0, 0, 0x12, 0x34, 0, 0}), &text)) << "an unknown sign";
  Batch batch(1);
  std::string scratch;
  pg::AddBinaryValue(&batch, 23, Bytes({0, 0, 1}), &scratch);  // an int4 of 3 bytes
  EXPECT_EQ(batch.at(0, 0).type, Type::kText);
  EXPECT_NE(batch.Text(batch.at(0, 0)).find("3 bytes long"), std::string::npos);
}

// Every cell of a query, text and binary formats, through the real source.
struct Cells {
  Batch batch;
  std::vector<Column> columns;
};

Status ReadAll(Source& source, const std::string& sql, bool binary, Cells* out) {
  Query q;
  q.origin = "test";
  q.sql = ParseSql(sql, "test.sql").value();
  ExecuteOptions options;
  options.pg_binary = binary;
  auto cursor = source.Execute(q, options);
  if (!cursor.ok()) return cursor.status();
  out->columns = (*cursor)->columns();
  Batch b;
  for (;;) {
    STRATA_RETURN_IF_ERROR((*cursor)->Next(&b));
    if (b.empty()) return Status::Ok();
    out->batch = std::move(b);  // each query here fits one batch
  }
}

std::string Describe(const Batch& b, const Value& v) {
  switch (v.type) {
    case Type::kNull: return "NULL";
    case Type::kBool: return v.b ? "bool true" : "bool false";
    case Type::kInt64: return "int " + std::to_string(v.i);
    case Type::kDouble: {
      char text[64];
      std::snprintf(text, sizeof text, "double %.17g", v.d);
      return text;
    }
    case Type::kDate: return "date " + std::to_string(v.i);
    case Type::kTimestamp: return "timestamp " + std::to_string(v.i);
    case Type::kTimestampTz: return "timestamptz " + std::to_string(v.i);
    case Type::kNumeric: return "numeric " + std::string(b.Text(v));
    case Type::kBytes: return "bytes " + std::string(b.Text(v));
    case Type::kText: return "text " + std::string(b.Text(v));
  }
  return "?";
}

TEST(PgBinaryTest, EveryDecodedTypeGivesTheCellsOfTheTextFormat) {
  const char* url = std::getenv("STRATA_TEST_PG");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "STRATA_TEST_PG is not set";
  auto source = OpenPostgresSource(url);
  ASSERT_TRUE(source.ok()) << source.status().message();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"boolean", {"true", "false", "NULL"}},
      {"smallint", {"0", "-32768", "32767"}},
      {"integer", {"-2147483648", "2147483647", "7"}},
      {"bigint", {"-9223372036854775808", "9223372036854775807", "0"}},
      {"oid", {"0", "4294967295"}},
      {"real", {"0.1", "-3.4028235e38", "1e-45", "'NaN'", "'Infinity'", "'-Infinity'", "0", "'-0'"}},
      {"double precision", {"0.1", "1e300", "5e-324", "'NaN'", "'-Infinity'", "'-0'", "123456789.123456789"}},
      {"numeric",
       {"0", "-0.00012", "12345678901234567890.123456789", "'NaN'", "'Infinity'", "'-Infinity'", "1e-20", "100.000",
        "0.0001", "99990000", "-1", "1e100", "0.00000"}},
      {"numeric(12,2)", {"1", "-1234567890.12", "0.5"}},
      {"date",
       {"'2020-02-29'", "'infinity'", "'-infinity'", "'0044-03-15 BC'", "'10000-01-01'", "'0001-01-01'", "'9999-12-31'",
        "'1970-01-01'", "'1969-12-31'", "'4713-01-01 BC'", "'5874897-12-31'"}},
      {"timestamp",
       {"'2020-01-01 12:34:56.789'", "'1969-12-31 23:59:59.999999'", "'0044-03-15 10:00:00.5 BC'",
        "'12000-01-01 00:00:00'", "'infinity'", "'-infinity'", "'0001-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'",
        "'2000-01-01 00:00:00.000001'"}},
      {"timestamptz",
       {"'2020-01-01 12:34:56+02'", "'0044-03-15 BC'", "'infinity'", "'1999-12-31 23:59:59.5-01'",
        "'10000-06-01 00:00:00+00'"}},
      {"bytea", {"'\\x00ff'", "''", "'\\x5c78'"}},
      {"text", {"'abc'", "''", "'김민준 café'", "'line\nbreak'"}},
      {"varchar(3)", {"'x'", "'xyz'"}},
      {"char(4)", {"'ab'", "'abcd'"}},
      {"name", {"'n'"}},
      {"json", {"'{\"a\": 1}'", "'[1, 2]'"}},
      {"jsonb", {"'{\"b\": [1, 2], \"a\": null}'", "'\"s\"'"}},
      {"uuid", {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"}},
  };
  for (const auto& [type, values] : cases) {
    std::string sql = "SELECT x FROM (VALUES ";
    for (size_t k = 0; k < values.size(); ++k) sql += (k ? ", (CAST(" : "(CAST(") + values[k] + " AS " + type + "))";
    sql += ") AS v(x)";
    Cells text, binary;
    Status read = ReadAll(**source, sql, false, &text);
    ASSERT_TRUE(read.ok()) << sql << ": " << read.message();
    ASSERT_TRUE(ReadAll(**source, sql, true, &binary).ok()) << sql;
    ASSERT_EQ(text.batch.rows(), values.size()) << sql;
    ASSERT_EQ(binary.batch.rows(), values.size()) << sql;
    EXPECT_EQ(text.columns[0].type, binary.columns[0].type) << type;
    for (size_t row = 0; row < values.size(); ++row) {
      EXPECT_EQ(Describe(binary.batch, binary.batch.at(row, 0)), Describe(text.batch, text.batch.at(row, 0)))
          << type << " " << values[row];
    }
  }
}

TEST(PgBinaryTest, AColumnWithoutADecoderKeepsTheWholeQueryInText) {
  const char* url = std::getenv("STRATA_TEST_PG");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "STRATA_TEST_PG is not set";
  auto source = OpenPostgresSource(url);
  ASSERT_TRUE(source.ok());
  Cells cells;
  ASSERT_TRUE(ReadAll(**source, "SELECT 1 AS n, interval '1 day 2 hours' AS i, ARRAY[1,2] AS a", true, &cells).ok());
  EXPECT_EQ(Describe(cells.batch, cells.batch.at(0, 0)), "int 1");
  EXPECT_EQ(Describe(cells.batch, cells.batch.at(0, 1)), "text 1 day 02:00:00");
  EXPECT_EQ(Describe(cells.batch, cells.batch.at(0, 2)), "text {1,2}");
}

}  // namespace
}  // namespace strata
