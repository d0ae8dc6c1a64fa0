#include "server/byte_range.h"

#include <gtest/gtest.h>

namespace strata::server {
namespace {

TEST(ByteRangeTest, WithoutAHeaderOrWithAMalformedOneTheWholeFileIsSent) {
  for (const char* header :
       {"", "bytes", "bytes=", "bytes=-", "items=0-5", "bytes=a-5", "bytes=5-a", "bytes=5-3", "bytes=0-1,3-4",
        "bytes= 0-5", "bytes=0x10-", "bytes=-+5", "bytes=--5", "bytes=99999999999999999999999-"}) {
    const ByteRange r = ParseRange(header, 100);
    EXPECT_FALSE(r.partial) << header;
    EXPECT_FALSE(r.unsatisfiable) << header;
  }
}

TEST(ByteRangeTest, AFirstAndLastByteAreInclusiveAndClampedToTheFile) {
  ByteRange r = ParseRange("bytes=10-19", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.first, 10u);
  EXPECT_EQ(r.last, 19u);
  r = ParseRange("bytes=90-1000", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.last, 99u);
  r = ParseRange("bytes=90-", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = ParseRange("BYTES=0-0", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.last, 0u);
}

TEST(ByteRangeTest, ASuffixIsTheLastBytesOrTheWholeFile) {
  ByteRange r = ParseRange("bytes=-10", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = ParseRange("bytes=-1000", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
}

TEST(ByteRangeTest, AStartPastTheEndOrAnEmptySuffixIsUnsatisfiable) {
  EXPECT_TRUE(ParseRange("bytes=100-", 100).unsatisfiable);
  EXPECT_TRUE(ParseRange("bytes=100-200", 100).unsatisfiable);
  EXPECT_TRUE(ParseRange("bytes=-0", 100).unsatisfiable);
  EXPECT_TRUE(ParseRange("bytes=0-", 0).unsatisfiable);
  EXPECT_TRUE(ParseRange("bytes=-5", 0).unsatisfiable);
  EXPECT_FALSE(ParseRange("bytes=-0", 100).partial);
}

TEST(ByteRangeTest, TheLargestNumbersStayInsideTheFile) {
  const uint64_t max = UINT64_MAX;
  ByteRange r = ParseRange("bytes=0-18446744073709551615", 100);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.last, 99u);
  r = ParseRange("bytes=-18446744073709551615", max);
  ASSERT_TRUE(r.partial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, max - 1);
}

}  // namespace
}  // namespace strata::server
