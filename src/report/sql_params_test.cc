#include "report/sql_params.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace strata {
namespace {

struct Case {
  const char* sql;
  const char* postgres;  // rewritten with $n
  const char* sqlite;    // rewritten with ?n
};

// Every place a colon can hide, and the placeholders that must still be found.
const Case kCases[] = {
    {"select * from t where a = :a", "select * from t where a = $1", "select * from t where a = ?1"},
    {"select :a, :b, :a", "select $1, $2, $1", "select ?1, ?2, ?1"},
    {"select ':a' , :a", "select ':a' , $1", "select ':a' , ?1"},
    {"select 'it''s :no', :yes", "select 'it''s :no', $1", "select 'it''s :no', ?1"},
    {"select E'\\' :no', :yes", "select E'\\' :no', $1", "select E'\\' :no', ?1"},
    {"select \"col:no\" from t where x = :yes", "select \"col:no\" from t where x = $1",
     "select \"col:no\" from t where x = ?1"},
    {"select 1 -- :no\n, :yes", "select 1 -- :no\n, $1", "select 1 -- :no\n, ?1"},
    {"select /* :no /* nested :no */ :no */ :yes", "select /* :no /* nested :no */ :no */ $1",
     "select /* :no /* nested :no */ :no */ ?1"},
    {"select :d::date, x::text", "select $1::date, x::text", "select ?1::date, x::text"},
    {"select $$ :no $$, $fn$ ' :no $fn$, :yes", "select $$ :no $$, $fn$ ' :no $fn$, $1",
     "select $$ :no $$, $fn$ ' :no $fn$, ?1"},
    {"select a[1:2], :yes", "select a[1:2], $1", "select a[1:2], ?1"},
    {"select x := 1", "select x := 1", "select x := 1"},
    {"select doc ? 'k', `a:b` from t where :k", "select doc ? 'k', `a:b` from t where $1",
     "select doc ? 'k', `a:b` from t where ?1"},
    {"select :admin_id2 from t;", "select $1 from t", "select ?1 from t"},
    {"select 1; -- trailing comment\n", "select 1", "select 1"},
    // Not a :name placeholder (ASCII names only); SQLite's source refuses it rather than run it unbound.
    {"select '김민준:x', :이름", "select '김민준:x', :이름", "select '김민준:x', :이름"},
};

TEST(SqlParamsTest, FindsAndRewritesPlaceholders) {
  for (const Case& c : kCases) {
    auto parsed = ParseSql(c.sql, "t.sql");
    ASSERT_TRUE(parsed.ok()) << c.sql << ": " << parsed.status().message();
    EXPECT_EQ(RewriteSql(*parsed, Placeholders::kDollar), c.postgres) << c.sql;
    EXPECT_EQ(RewriteSql(*parsed, Placeholders::kQuestion), c.sqlite) << c.sql;
  }
}

TEST(SqlParamsTest, NamesInOrderOfFirstUseWithPositions) {
  auto parsed = ParseSql("select\n  :b,\n  :a, :b", "t.sql");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->names, (std::vector<std::string>{"b", "a"}));
  ASSERT_EQ(parsed->uses.size(), 3u);
  EXPECT_EQ(parsed->uses[1].name, "a");
  EXPECT_EQ(parsed->uses[1].line, 3);
  EXPECT_EQ(parsed->uses[1].column, 3);
}

TEST(SqlParamsTest, MapsRewrittenOffsetsBack) {
  auto parsed = ParseSql("select :admin_id, x, :admin_id, y", "t.sql");
  ASSERT_TRUE(parsed.ok());
  const std::string sent = RewriteSql(*parsed, Placeholders::kDollar);  // "select $1, x, $1, y"
  EXPECT_EQ(OriginalOffset(*parsed, Placeholders::kDollar, sent.find('x')), parsed->text.find('x'));
  EXPECT_EQ(OriginalOffset(*parsed, Placeholders::kDollar, sent.find('y')), parsed->text.find('y'));
  EXPECT_EQ(OriginalOffset(*parsed, Placeholders::kDollar, 7), 7u);  // inside the first placeholder
  EXPECT_EQ(OriginalOffset(*parsed, Placeholders::kDollar, 2), 2u);
}

struct BadCase {
  const char* sql;
  const char* message;  // what the error must say, with line:column
};

const BadCase kBadCases[] = {
    {"select 'open", "t.sql:1:8: unterminated string literal"},
    {"select\n \"open", "t.sql:2:2: unterminated quoted identifier"},
    {"select /* open /* nested */", "t.sql:1:8: unterminated /* comment"},
    {"select $tag$ body", "t.sql:1:8: unterminated dollar-quoted string $tag$"},
    {"select 1; select 2", "t.sql:1:11: a report is one statement"},
    {"select $1", "t.sql:1:8: positional parameter $1"},
    {"  \n ", "t.sql: the SQL is empty"},
};

TEST(SqlParamsTest, ErrorsNameFileLineAndColumn) {
  for (const BadCase& c : kBadCases) {
    auto parsed = ParseSql(c.sql, "t.sql");
    ASSERT_FALSE(parsed.ok()) << c.sql;
    EXPECT_EQ(parsed.status().code(), Status::Code::kConfig);
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos)
        << "got: " << parsed.status().message() << "\nwant: " << c.message;
  }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

TEST(SqlParamsTest, FindsTopLevelOrderBy) {
  struct OrderCase {
    const char* sql;
    bool ordered;
  } cases[] = {
      {"select a from t order by a", true},
      {"SELECT a FROM t ORDER\n  -- why\n  BY a;", true},
      {"select a from t union all select b from u order by 1 limit 5", true},
      {"select a from t", false},
      {"select row_number() over (order by a) from t", false},
      {"with x as (select a from t order by a) select * from x", false},
      {"select string_agg(a, ',' order by a) from t", false},
      {"select 'order by' from t -- order by a\n", false},
      {"select \"order by\" from t", false},
      {"select border, byte from t", false},
  };
  for (const OrderCase& c : cases) {
    auto parsed = ParseSql(c.sql, "q.sql");
    ASSERT_TRUE(parsed.ok()) << c.sql;
    EXPECT_EQ(parsed->has_top_level_order_by, c.ordered) << c.sql;
  }
}

TEST(SqlParamsTest, CollectsWordsAndQuotedNamesLowerCased) {
  auto parsed = ParseSql("SELECT o.id FROM Orders o JOIN \"Members\" m ON m.id = :member -- payments\n", "q.sql");
  ASSERT_TRUE(parsed.ok());
  const auto& w = parsed->words;
  EXPECT_NE(std::find(w.begin(), w.end(), "orders"), w.end());
  EXPECT_NE(std::find(w.begin(), w.end(), "members"), w.end());   // a quoted name is a word too
  EXPECT_EQ(std::find(w.begin(), w.end(), "payments"), w.end());  // in a comment
  EXPECT_EQ(std::find(w.begin(), w.end(), "member"), w.end());    // a parameter
}

}  // namespace
}  // namespace strata
