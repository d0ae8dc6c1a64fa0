#include "report/param.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(ParamTest, ParsesEachTypeToItsCanonicalText) {
  EXPECT_EQ(ParseParamValue(ParamType::kBigint, "+42")->text, "42");
  EXPECT_EQ(ParseParamValue(ParamType::kBigint, "9223372036854775807")->integer, INT64_MAX);
  EXPECT_EQ(ParseParamValue(ParamType::kInt, "-7")->integer, -7);
  EXPECT_EQ(ParseParamValue(ParamType::kNumeric, "+12.50")->text, "12.50");
  EXPECT_EQ(ParseParamValue(ParamType::kNumeric, "1e-3")->text, "1e-3");
  EXPECT_EQ(ParseParamValue(ParamType::kDate, "2024-02-29")->text, "2024-02-29");
  EXPECT_EQ(ParseParamValue(ParamType::kTimestamp, "2024-01-01")->text, "2024-01-01 00:00:00");
  EXPECT_EQ(ParseParamValue(ParamType::kTimestamptz, "2024-01-01 02:00:00+02:00")->text, "2024-01-01 00:00:00");
  EXPECT_EQ(ParseParamValue(ParamType::kBool, "YES")->integer, 1);
  EXPECT_EQ(ParseParamValue(ParamType::kBool, "off")->text, "false");
  EXPECT_EQ(ParseParamValue(ParamType::kText, " it's :x ")->text, " it's :x ");
}

TEST(ParamTest, RejectsValuesOfTheWrongType) {
  EXPECT_FALSE(ParseParamValue(ParamType::kInt, "2147483648").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kBigint, "9223372036854775808").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kBigint, "12abc").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kBigint, "").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kNumeric, "1.2.3").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kNumeric, "NaN").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kDate, "2023-02-29").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kDate, "01/02/2024").ok());
  EXPECT_FALSE(ParseParamValue(ParamType::kBool, "maybe").ok());
  EXPECT_NE(ParseParamValue(ParamType::kDate, "2024-02-30").status().message().find("no such day"), std::string::npos);
  auto s = ParseParamValue(ParamType::kDate, "tomorrow");
  EXPECT_EQ(s.status().code(), Status::Code::kUsage);
  EXPECT_NE(s.status().message().find("YYYY-MM-DD"), std::string::npos);
}

TEST(ParamTest, InfersAdHocTypes) {
  EXPECT_EQ(InferParamType("42"), ParamType::kBigint);
  EXPECT_EQ(InferParamType("-4.5"), ParamType::kNumeric);
  EXPECT_EQ(InferParamType("2024-01-01"), ParamType::kDate);
  EXPECT_EQ(InferParamType("2024-01-01 10:00:00"), ParamType::kTimestamp);
  EXPECT_EQ(InferParamType("true"), ParamType::kBool);
  EXPECT_EQ(InferParamType("Seoul"), ParamType::kText);
}

TEST(ParamTest, TypeNames) {
  for (ParamType t : {ParamType::kInt, ParamType::kBigint, ParamType::kNumeric, ParamType::kText, ParamType::kDate,
                      ParamType::kTimestamp, ParamType::kTimestamptz, ParamType::kBool}) {
    EXPECT_EQ(ParamTypeFromName(ParamTypeName(t)), t);
  }
  EXPECT_FALSE(ParamTypeFromName("varchar").has_value());
}

}  // namespace
}  // namespace strata
