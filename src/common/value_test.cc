#include "common/value.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(ValueTest, CivilRoundTripsAcrossCenturies) {
  for (int64_t days = -800'000; days <= 800'000; days += 997) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(ValueTest, ParseDateIsStrict) {
  EXPECT_EQ(ParseDate("1970-01-02"), 1);
  EXPECT_EQ(ParseDate("2024-02-29"), DaysFromCivil(2024, 2, 29));
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-13-01", "2024-1-01", "2024-01-01x", "", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseDate("2000-02-29").has_value());
}

TEST(ValueTest, ParseTimestampWithFractionsAndZones) {
  const int64_t day = DaysFromCivil(2024, 5, 6) * kMicrosPerDay;
  EXPECT_EQ(ParseTimestamp("2024-05-06 07:08:09", false), day + (7 * 3600 + 8 * 60 + 9) * kMicrosPerSecond);
  EXPECT_EQ(ParseTimestamp("2024-05-06T07:08", false), day + (7 * 3600 + 8 * 60) * kMicrosPerSecond);
  EXPECT_EQ(ParseTimestamp("2024-05-06 00:00:00.5", false), day + 500000);
  EXPECT_EQ(ParseTimestamp("2024-05-06 00:00:00.000001", false), day + 1);
  EXPECT_FALSE(ParseTimestamp("2024-05-06 00:00:00.0000001", false).has_value());
  EXPECT_EQ(ParseTimestamp("2024-05-06 02:00:00+02", true), day);
  EXPECT_EQ(ParseTimestamp("2024-05-06 02:00:00+02:00", true), day);
  EXPECT_EQ(ParseTimestamp("2024-05-05 19:00:00-05", true), day);
  EXPECT_EQ(ParseTimestamp("2024-05-06 00:00:00Z", true), day);
  EXPECT_FALSE(ParseTimestamp("2024-05-06 00:00:00+02", false).has_value());
  EXPECT_FALSE(ParseTimestamp("2024-05-06 25:00:00", false).has_value());
}

TEST(ValueTest, FormatsIsoText) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(DaysFromCivil(1, 1, 1)), "0001-01-01");
  EXPECT_EQ(FormatTimestamp(kMicrosPerDay + 1500000), "1970-01-02 00:00:01.5");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31 23:59:59.999999");
}

}  // namespace
}  // namespace strata
