#include "sink/xml_text.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

std::string Cell(std::string_view text, TextRepairs* repairs = nullptr) {
  TextRepairs local;
  ByteBuffer out(8);
  AppendXmlCellText(text, &out, repairs ? repairs : &local);
  return std::string(out.view());
}

TEST(XmlTextTest, EscapesMarkup) {
  EXPECT_EQ(Cell("a<b>&c\"d'"), "a&lt;b&gt;&amp;c\"d'");
  EXPECT_EQ(Cell("tab\there\nline"), "tab\there\nline");
  EXPECT_EQ(Cell("김민준 café 😀"), "김민준 café 😀");
}

TEST(XmlTextTest, KeepsCarriageReturnAndLiteralEscapes) {
  EXPECT_EQ(Cell("a\r\nb"), "a&#13;\nb");
  EXPECT_EQ(Cell("_x0041_"), "_x005F_x0041_");
  EXPECT_EQ(Cell("snake_case_x"), "snake_case_x");
}

TEST(XmlTextTest, DropsForbiddenAndRepairsInvalid) {
  TextRepairs r;
  EXPECT_EQ(Cell(std::string("a\0b\x01\x0B\x1F"
                             "c",
                             7),
                 &r),
            "abc");
  EXPECT_EQ(r.dropped_characters, 4u);
  EXPECT_EQ(Cell("x\xEF\xBF\xBEy\xEF\xBF\xBFz", &r), "xyz");  // U+FFFE, U+FFFF
  EXPECT_EQ(r.dropped_characters, 6u);
  EXPECT_EQ(Cell("bad\xC3(", &r), "bad\xEF\xBF\xBD(");
  EXPECT_EQ(r.invalid_utf8, 1u);
}

TEST(XmlTextTest, CutsAtExcelsLimitCountingUtf16Units) {
  TextRepairs r;
  const std::string ascii(40000, 'a');
  EXPECT_EQ(Cell(ascii, &r).size(), kExcelMaxCellChars);
  EXPECT_EQ(r.truncated_cells, 1u);

  // 16,383 emoji are 32,766 units; one more would be 32,768: it must not be split or kept.
  std::string emoji;
  for (int k = 0; k < 16384; ++k) emoji += "😀";
  const std::string cut = Cell(emoji, &r);
  EXPECT_EQ(cut.size(), 16383u * 4);
  EXPECT_EQ(r.truncated_cells, 2u);

  const std::string exact(kExcelMaxCellChars, 'b');
  EXPECT_EQ(Cell(exact, &r), exact);
  EXPECT_EQ(r.truncated_cells, 2u);
}

TEST(XmlTextTest, EscapedAttributes) {
  ByteBuffer out;
  AppendXmlEscaped("O'Brien & <Co> \"x\"\x01", &out);
  EXPECT_EQ(out.view(), "O&apos;Brien &amp; &lt;Co&gt; &quot;x&quot;");
  EXPECT_TRUE(NeedsSpacePreserve(" a"));
  EXPECT_TRUE(NeedsSpacePreserve("a\n"));
  EXPECT_FALSE(NeedsSpacePreserve("a b"));
}

}  // namespace
}  // namespace strata
