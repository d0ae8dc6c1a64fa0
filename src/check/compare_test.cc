#include "check/compare.h"

#include <gtest/gtest.h>

namespace strata::check {
namespace {

ResultDigest Digest(const std::vector<std::vector<double>>& rows) {
  Batch batch(rows.empty() ? 1 : rows[0].size());
  for (const auto& row : rows) {
    for (double v : row) batch.AddDouble(v);
  }
  ResultDigest d;
  d.Add(batch);
  return d;
}

TEST(CompareTest, NumbersCompareByValueNotSpelling) {
  Batch a(1), b(1);
  a.AddInt64(5);
  b.AddDouble(5.0);
  EXPECT_EQ(CanonicalCell(a, a.at(0, 0)), CanonicalCell(b, b.at(0, 0)));
  Batch c(1), d(1);
  c.AddText(Type::kNumeric, "34598.70");
  d.AddDouble(34598.7);
  EXPECT_EQ(CanonicalCell(c, c.at(0, 0)), CanonicalCell(d, d.at(0, 0)));
  Batch e(1), f(1);
  e.AddText(Type::kNumeric, "-000.500");
  f.AddText(Type::kNumeric, "-0.5");
  EXPECT_EQ(CanonicalCell(e, e.at(0, 0)), CanonicalCell(f, f.at(0, 0)));
  // Exact numerics keep every digit: a cent's difference on a large sum is a difference.
  Batch g(1), h(1);
  g.AddText(Type::kNumeric, "123456789012345.67");
  h.AddText(Type::kNumeric, "123456789012345.68");
  EXPECT_NE(CanonicalCell(g, g.at(0, 0)), CanonicalCell(h, h.at(0, 0)));
  // A number never equals text, and NULL equals neither empty text nor zero.
  Batch i(3), j(3);
  i.AddInt64(5);
  i.AddNull();
  i.AddNull();
  j.AddText(Type::kText, "5");
  j.AddText(Type::kText, "");
  j.AddInt64(0);
  for (size_t col = 0; col < 3; ++col) {
    EXPECT_NE(CanonicalCell(i, i.at(0, col)), CanonicalCell(j, j.at(0, col))) << col;
  }
}

TEST(CompareTest, FloatingPointRoundingIsTolerated) {
  volatile double tenth = 0.1, fifth = 0.2;
  const double sum1 = tenth + fifth, sum2 = 0.3;
  ASSERT_NE(sum1, sum2);  // the order of addition changed the last bits
  EXPECT_TRUE(Compare(Digest({{sum1}}), Digest({{sum2}}), false).equal);
  EXPECT_FALSE(Compare(Digest({{1.0}}), Digest({{1.0001}}), false).equal);
}

TEST(CompareTest, MultisetsCountDuplicates) {
  auto cmp = Compare(Digest({{1}, {2}, {2}}), Digest({{2}, {1}, {1}}), false);
  EXPECT_FALSE(cmp.equal);
  EXPECT_EQ(cmp.only_in_base, 1);  // one of the two 2s
  EXPECT_EQ(cmp.only_in_candidate, 1);
  EXPECT_TRUE(Compare(Digest({{1}, {2}, {2}}), Digest({{2}, {1}, {2}}), false).equal);
}

TEST(CompareTest, OrderMattersOnlyWhenOrdered) {
  EXPECT_TRUE(Compare(Digest({{1}, {2}, {3}}), Digest({{1}, {3}, {2}}), false).equal);
  auto c = Compare(Digest({{1}, {2}, {3}}), Digest({{1}, {3}, {2}}), true);
  EXPECT_FALSE(c.equal);
  EXPECT_TRUE(c.order_only);
  EXPECT_EQ(c.first_order_difference, 1);
}

TEST(CompareTest, SampleFindsTheDifferingRows) {
  Batch base(2), candidate(2);
  for (int k = 0; k < 100; ++k) {
    base.AddInt64(k);
    base.AddText(Type::kText, "same");
    candidate.AddInt64(k);
    candidate.AddText(Type::kText, k == 42 ? "changed" : "same");
  }
  ResultDigest a, b;
  a.Add(base);
  b.Add(candidate);
  auto c = Compare(a, b, false);
  ASSERT_EQ(c.only_in_base, 1);
  RowSample sample(c.candidate_extra, 5);
  sample.Add(candidate);
  auto rows = sample.TakeRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"42", "changed"}));
}

}  // namespace
}  // namespace strata::check
