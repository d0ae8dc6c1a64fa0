#include "common/text.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(TextTest, ValidSequences) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("é"), 2u);
  EXPECT_EQ(Utf8SequenceLength("김"), 3u);
  EXPECT_EQ(Utf8SequenceLength("😀"), 4u);
  EXPECT_EQ(Utf8Decode("😀", 4), 0x1F600u);
  EXPECT_EQ(Utf8Decode("김", 3), 0xAE40u);
}

TEST(TextTest, InvalidSequences) {
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);              // stray continuation
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80"), 0u);      // surrogate U+D800
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82"), 0u);          // cut short
  EXPECT_EQ(Utf8SequenceLength("\xFF"), 0u);
}

TEST(TextTest, RepairReplacesEachBadByte) {
  EXPECT_EQ(RepairUtf8("ok"), "ok");
  EXPECT_EQ(RepairUtf8("a\xFF"
                       "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(RepairUtf8("\xE2\x82"), "\xEF\xBF\xBD");  // one maximal subpart
  EXPECT_EQ(RepairUtf8("\xE2\x82z"), "\xEF\xBF\xBDz");
  EXPECT_EQ(RepairUtf8("\xF0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // no valid prefix
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(RepairUtf8("김\x80"), "김\xEF\xBF\xBD");
}

TEST(TextTest, MessagesAndNumbers) {
  EXPECT_EQ(QuoteForMessage("a\tb"), "'a\\x09b'");
  EXPECT_EQ(QuoteForMessage("abcdef", 3), "'abc…'");
  EXPECT_EQ(GroupThousands(0), "0");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(GroupThousands(1234567), "1,234,567");
}

}  // namespace
}  // namespace strata
