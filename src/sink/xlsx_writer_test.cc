#include "sink/xlsx_writer.h"

#include <gtest/gtest.h>

#include "sink/test_unzip.h"

namespace strata {
namespace {

struct Written {
  std::map<std::string, testing::UnzippedEntry> parts;
  std::vector<std::string> warnings;
  std::string sheet(int n) { return parts["xl/worksheets/sheet" + std::to_string(n) + ".xml"].data; }
};

Written WriteXlsx(const std::vector<Column>& columns, const std::vector<Batch>& batches, XlsxOptions options = {}) {
  StringOutput out;
  options.timestamp = 1700000000;
  XlsxWriter w(options, &out);
  EXPECT_TRUE(w.Begin(columns).ok());
  for (const Batch& b : batches) EXPECT_TRUE(w.Write(b).ok());
  EXPECT_TRUE(w.Finish().ok());
  return {testing::Unzip(out.data()), w.warnings()};
}

// The <sheetData> rows after the header.
std::string DataRows(const std::string& sheet) {
  const size_t start = sheet.find("</row>", sheet.find("<sheetData>")) + 6;
  return sheet.substr(start, sheet.find("</sheetData>") - start);
}

TEST(ExcelSerialTest, HonoursThe1900LeapYearBug) {
  EXPECT_EQ(ExcelDateSerial(DaysFromCivil(1900, 1, 1)), 1);
  EXPECT_EQ(ExcelDateSerial(DaysFromCivil(1900, 2, 28)), 59);
  EXPECT_EQ(ExcelDateSerial(DaysFromCivil(1900, 3, 1)), 61);  // 60 is Excel's 1900-02-29
  EXPECT_EQ(ExcelDateSerial(DaysFromCivil(1970, 1, 1)), 25569);
  EXPECT_EQ(ExcelDateSerial(DaysFromCivil(9999, 12, 31)), 2958465);
  EXPECT_FALSE(ExcelDateSerial(DaysFromCivil(1899, 12, 31)).has_value());
  EXPECT_FALSE(ExcelDateSerial(DaysFromCivil(10000, 1, 1)).has_value());
  EXPECT_DOUBLE_EQ(*ExcelTimestampSerial(DaysFromCivil(1970, 1, 1) * kMicrosPerDay + kMicrosPerDay / 4), 25569.25);
}

TEST(NumericTest, ExactDigitsDecideNumberOrText) {
  double d;
  EXPECT_TRUE(NumericFitsDouble("12.50", &d));
  EXPECT_EQ(d, 12.5);
  EXPECT_TRUE(NumericFitsDouble("-0.000000000000001", &d));
  EXPECT_TRUE(NumericFitsDouble("123456789012345", &d));
  EXPECT_TRUE(NumericFitsDouble("100000000000000000000", &d));  // 1e20: one significant digit
  EXPECT_FALSE(NumericFitsDouble("1234567890123456", &d));
  EXPECT_FALSE(NumericFitsDouble("0.1234567890123456", &d));
  EXPECT_FALSE(NumericFitsDouble("NaN", &d));
  EXPECT_FALSE(NumericFitsDouble("1e400", &d));
}

TEST(XlsxWriterTest, EveryCellType) {
  const std::vector<Column> cols = {{"v", Type::kText}};
  Batch b(1);
  b.AddNull();
  b.AddBool(true);
  b.AddInt64(42);
  b.AddInt64(999'999'999'999'999);    // 15 digits: a number
  b.AddInt64(1'234'567'890'123'456);  // 16 digits: Excel would change the last one, so text
  b.AddDouble(0.1);
  b.AddDouble(std::numeric_limits<double>::quiet_NaN());
  b.AddText(Type::kNumeric, "12.50");
  b.AddText(Type::kNumeric, "12345678901234567890.123");
  b.AddDate(DaysFromCivil(1900, 3, 1));
  b.AddDate(DaysFromCivil(1800, 1, 1));
  b.AddTimestamp(DaysFromCivil(1970, 1, 1) * kMicrosPerDay + kMicrosPerDay / 2, false);
  b.AddText(Type::kBytes, std::string("\x00\xff", 2));
  b.AddText(Type::kText, " padded ");
  std::vector<Batch> batches;
  batches.push_back(std::move(b));
  Written w = WriteXlsx(cols, batches);
  EXPECT_EQ(DataRows(w.sheet(1)),
            "<row><c/></row>"
            "<row><c t=\"b\"><v>1</v></c></row>"
            "<row><c><v>42</v></c></row>"
            "<row><c><v>999999999999999</v></c></row>"
            "<row><c t=\"inlineStr\"><is><t>1234567890123456</t></is></c></row>"
            "<row><c><v>0.1</v></c></row>"
            "<row><c t=\"inlineStr\"><is><t>NaN</t></is></c></row>"
            "<row><c><v>12.5</v></c></row>"
            "<row><c t=\"inlineStr\"><is><t>12345678901234567890.123</t></is></c></row>"
            "<row><c s=\"2\"><v>61</v></c></row>"
            "<row><c t=\"inlineStr\"><is><t>1800-01-01</t></is></c></row>"
            "<row><c s=\"3\"><v>25569.5</v></c></row>"
            "<row><c t=\"inlineStr\"><is><t>\\x00ff</t></is></c></row>"
            "<row><c t=\"inlineStr\"><is><t xml:space=\"preserve\"> padded </t></is></c></row>");
  ASSERT_EQ(w.warnings.size(), 2u);
  EXPECT_NE(w.warnings[0].find("3 number(s) were written as text"), std::string::npos) << w.warnings[0];
  EXPECT_NE(w.warnings[1].find("1 date(s) outside Excel's calendar"), std::string::npos) << w.warnings[1];
}

TEST(XlsxWriterTest, HeaderIsBoldFrozenAndFiltered) {
  const std::vector<Column> cols = {{"id", Type::kInt64}, {"a name that is long", Type::kText}};
  Batch b(2);
  b.AddInt64(1);
  b.AddText(Type::kText, "x");
  std::vector<Batch> batches;
  batches.push_back(std::move(b));
  XlsxOptions o;
  o.sheet_name = "member/activity";
  Written w = WriteXlsx(cols, batches, o);
  const std::string sheet = w.sheet(1);
  EXPECT_NE(sheet.find("<c s=\"1\" t=\"inlineStr\"><is><t>id</t></is></c>"), std::string::npos);
  EXPECT_NE(sheet.find("state=\"frozen\""), std::string::npos);
  EXPECT_NE(sheet.find("<autoFilter ref=\"A1:B2\"/>"), std::string::npos);
  EXPECT_NE(sheet.find("<col min=\"2\" max=\"2\" width=\"23.7\" customWidth=\"1\"/>"), std::string::npos) << sheet;
  const std::string wb = w.parts["xl/workbook.xml"].data;
  EXPECT_NE(wb.find("<sheet name=\"member_activity\""), std::string::npos) << wb;
  EXPECT_NE(wb.find("'member_activity'!$A$1:$B$2"), std::string::npos) << wb;
  EXPECT_EQ(w.parts.count("[Content_Types].xml"), 1u);
  EXPECT_EQ(w.parts.count("xl/styles.xml"), 1u);
}

TEST(XlsxWriterTest, SpillsToNewSheetsWithTheHeaderRepeated) {
  const std::vector<Column> cols = {{"n", Type::kInt64}};
  std::vector<Batch> batches;
  for (int k = 0; k < 3; ++k) {
    Batch b(1);
    for (int r = 0; r < 3; ++r) b.AddInt64(k * 3 + r);
    batches.push_back(std::move(b));
  }
  XlsxOptions o;
  o.max_rows_per_sheet = 4;
  o.sheet_name = "r";
  Written w = WriteXlsx(cols, batches, o);
  EXPECT_EQ(DataRows(w.sheet(1)),
            "<row><c><v>0</v></c></row><row><c><v>1</v></c></row>"
            "<row><c><v>2</v></c></row><row><c><v>3</v></c></row>");
  EXPECT_EQ(DataRows(w.sheet(2)),
            "<row><c><v>4</v></c></row><row><c><v>5</v></c></row>"
            "<row><c><v>6</v></c></row><row><c><v>7</v></c></row>");
  EXPECT_EQ(DataRows(w.sheet(3)), "<row><c><v>8</v></c></row>");
  EXPECT_NE(w.sheet(3).find("<t>n</t>"), std::string::npos);
  EXPECT_NE(w.sheet(1).find("<dimension ref=\"A1:A5\"        />"), std::string::npos) << w.sheet(1);
  EXPECT_NE(w.sheet(3).find("<dimension ref=\"A1:A2\"        />"), std::string::npos) << w.sheet(3);
  const std::string wb = w.parts["xl/workbook.xml"].data;
  EXPECT_NE(wb.find("<sheet name=\"r (3)\" sheetId=\"3\""), std::string::npos) << wb;
  EXPECT_NE(w.parts["[Content_Types].xml"].data.find("/xl/worksheets/sheet3.xml"), std::string::npos);
  ASSERT_FALSE(w.warnings.empty());
  EXPECT_NE(w.warnings.back().find("continue on 3 sheets"), std::string::npos);
}

TEST(XlsxWriterTest, EmptyResultStillHasHeader) {
  Written w = WriteXlsx({{"a", Type::kText}, {"b", Type::kText}}, {});
  EXPECT_NE(w.sheet(1).find("<t>b</t>"), std::string::npos);
  EXPECT_NE(w.sheet(1).find("<autoFilter ref=\"A1:B1\"/>"), std::string::npos);
  EXPECT_NE(w.sheet(1).find("<dimension ref=\"A1:B1\""), std::string::npos);
}

// The <dimension> comes where the schema puts it (before <sheetViews>), in the written file and in
// the streamed one alike, and names the last column and row.
TEST(XlsxWriterTest, EachSheetHasItsDimension) {
  std::vector<Column> cols;
  for (int c = 0; c < 28; ++c) cols.push_back({"c" + std::to_string(c), Type::kInt64});
  Batch b(cols.size());
  for (int r = 0; r < 1000; ++r) {
    for (size_t c = 0; c < cols.size(); ++c) b.AddInt64(r * 100 + static_cast<int>(c));
  }
  for (bool seekable : {true, false}) {
    StringOutput out(seekable);
    XlsxWriter w(XlsxOptions{}, &out);
    ASSERT_TRUE(w.Begin(cols).ok());
    ASSERT_TRUE(w.Write(b).ok());
    ASSERT_TRUE(w.Finish().ok());
    const std::string sheet = testing::Unzip(out.data())["xl/worksheets/sheet1.xml"].data;
    const size_t dimension = sheet.find("<dimension ref=\"A1:AB1001\"");
    ASSERT_NE(dimension, std::string::npos) << "seekable " << seekable;
    EXPECT_LT(sheet.find("<worksheet "), dimension);
    EXPECT_LT(dimension, sheet.find("<sheetViews>"));
  }
}

TEST(XlsxWriterTest, SheetNamesAndColumnLetters) {
  EXPECT_EQ(ColumnLetters(0), "A");
  EXPECT_EQ(ColumnLetters(25), "Z");
  EXPECT_EQ(ColumnLetters(26), "AA");
  EXPECT_EQ(ColumnLetters(16383), "XFD");
  EXPECT_EQ(SafeSheetName("a:b*c?[d]", ""), "a_b_c__d_");
  EXPECT_EQ(SafeSheetName(std::string(40, 'x'), " (2)").size(), 31u);
  EXPECT_EQ(SafeSheetName("'quoted'", ""), "quoted");
  EXPECT_EQ(SafeSheetName("", ""), "Sheet");
}

TEST(XlsxWriterTest, TooManyColumnsIsAUsageError) {
  StringOutput out;
  XlsxWriter w({}, &out);
  std::vector<Column> cols(16385, Column{"c", Type::kText});
  Status s = w.Begin(cols);
  EXPECT_EQ(s.code(), Status::Code::kUsage);
}

}  // namespace
}  // namespace strata
