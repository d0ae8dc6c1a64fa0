#include "sink/csv_writer.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

std::string WriteCsv(const std::vector<Column>& cols, const Batch& b, CsvOptions options = {}) {
  StringOutput out;
  CsvWriter w(options, &out);
  EXPECT_TRUE(w.Begin(cols).ok());
  EXPECT_TRUE(w.Write(b).ok());
  EXPECT_TRUE(w.Finish().ok());
  return out.data();
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  Batch b(3);
  b.AddText(Type::kText, "plain");
  b.AddText(Type::kText, "a,b");
  b.AddText(Type::kText, "say \"hi\"\r\nbye");
  EXPECT_EQ(WriteCsv({{"x", Type::kText}, {"y,z", Type::kText}, {"w", Type::kText}}, b),
            "x,\"y,z\",w\r\nplain,\"a,b\",\"say \"\"hi\"\"\r\nbye\"\r\n");
}

TEST(CsvWriterTest, GuardsFormulasInTextOnly) {
  Batch b(6);
  b.AddText(Type::kText, "=HYPERLINK(\"x\")");
  b.AddText(Type::kText, "+1");
  b.AddText(Type::kText, "@SUM(A1)");
  b.AddText(Type::kText, "\tx");
  b.AddInt64(-5);
  b.AddText(Type::kNumeric, "-1.5");
  const std::vector<Column> cols(6, Column{"c", Type::kText});
  EXPECT_EQ(WriteCsv(cols, b), "c,c,c,c,c,c\r\n\"'=HYPERLINK(\"\"x\"\")\",'+1,'@SUM(A1),'\tx,-5,-1.5\r\n");
  CsvOptions off;
  off.formula_guard = false;
  EXPECT_EQ(WriteCsv(cols, b, off), "c,c,c,c,c,c\r\n\"=HYPERLINK(\"\"x\"\")\",+1,@SUM(A1),\tx,-5,-1.5\r\n");
}

TEST(CsvWriterTest, TypedValuesAndBom) {
  Batch b(8);
  b.AddNull();
  b.AddBool(false);
  b.AddDouble(0.1);
  b.AddDate(DaysFromCivil(1900, 2, 28));
  b.AddTimestamp(DaysFromCivil(2024, 1, 2) * kMicrosPerDay + 1, true);
  b.AddText(Type::kBytes, "\x01\xab");
  b.AddText(Type::kText, "bad\xff");
  b.AddText(Type::kText, "김민준 😀");
  CsvOptions o;
  o.bom = true;
  EXPECT_EQ(WriteCsv(std::vector<Column>(8, Column{"c", Type::kText}), b, o),
            "\xEF\xBB\xBF"
            "c,c,c,c,c,c,c,c\r\n,false,0.1,1900-02-28,2024-01-02 00:00:00.000001+00,\\x01ab,"
            "bad\xEF\xBF\xBD,김민준 😀\r\n");
}

}  // namespace
}  // namespace strata
