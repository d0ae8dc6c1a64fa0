// The named-parameter lexer: finds `:name` placeholders in a report's SQL and rewrites them into the
// driver's own placeholders, so values are always bound, never spliced into the text.
//
// It understands what can hide a colon: string literals ('it''s', E'\'' escapes), quoted identifiers
// ("a:b"), comments (-- and nested /* */), PostgreSQL casts (x::date), dollar-quoted bodies
// ($$...$$, $tag$...$tag$), and assignment (:=). A name is [A-Za-z_][A-Za-z0-9_]*.
//
// A report is one statement: a trailing ';' is removed, anything after it that is not a comment
// or white space is an error. Errors name origin:line:column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace strata {

struct ParamUse {
  std::string name;
  size_t offset = 0;  // byte offset of the ':' in ParsedSql::text
  size_t length = 0;  // bytes of ":name"
  int line = 0;       // 1-based, in the original text
  int column = 0;     // 1-based, in characters
};

struct ParsedSql {
  std::string text;                // the statement, trailing ';' removed
  std::vector<ParamUse> uses;      // every placeholder, in order of appearance
  std::vector<std::string> names;  // distinct names, in order of first use
  // Offsets of '?' outside quotes and comments: an operator in PostgreSQL (jsonb ? 'key'), but a
  // parameter to SQLite, which therefore refuses them.
  std::vector<size_t> question_marks;
  // An ORDER BY outside every parenthesis: it orders the statement's rows (a window's or a
  // subquery's does not).
  bool has_top_level_order_by = false;
  // The distinct bare words and double-quoted identifiers outside strings and comments, lower-cased
  // (keywords, table and column names): `check` finds the tables a report reads among them.
  std::vector<std::string> words;
};

// REQUIRES: origin names the text for messages ("reports/x.sql", "--sql", "tenants").
Result<ParsedSql> ParseSql(std::string_view sql, std::string_view origin);

enum class Placeholders {
  kDollar,    // PostgreSQL: $1, $2 ...
  kQuestion,  // SQLite: ?1, ?2 ...
};

// The text with each :name replaced by the placeholder of its index in names (1-based).
std::string RewriteSql(const ParsedSql& sql, Placeholders style);

// The offset in sql.text of a byte offset in RewriteSql(sql, style): for error positions the
// database reports against the text it was sent.
size_t OriginalOffset(const ParsedSql& sql, Placeholders style, size_t rewritten_offset);

// 1-based line and column (in UTF-8 characters) of a byte offset.
void LineColumn(std::string_view text, size_t offset, int* line, int* column);

}  // namespace strata
