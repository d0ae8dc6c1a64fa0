#include "report/sql_params.h"

#include <algorithm>

namespace strata {

namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || (c >= '0' && c <= '9');
}

Status ErrorAt(std::string_view text, std::string_view origin, size_t offset, const std::string& what) {
  int line, column;
  LineColumn(text, offset, &line, &column);
  return Status::Config(std::string(origin) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
}

// Scans the quoted run that starts at s[i] (the opening quote) and returns the index just past it,
// or npos when it is not closed. A doubled quote is an escaped quote; with backslashes, \x escapes x.
size_t SkipQuoted(std::string_view s, size_t i, char quote, bool backslashes) {
  for (size_t k = i + 1; k < s.size(); ++k) {
    if (backslashes && s[k] == '\\') {
      ++k;
    } else if (s[k] == quote) {
      if (k + 1 < s.size() && s[k + 1] == quote) {
        ++k;
      } else {
        return k + 1;
      }
    }
  }
  return std::string_view::npos;
}

// Nested block comment starting at s[i] == '/' && s[i+1] == '*'.
size_t SkipBlockComment(std::string_view s, size_t i) {
  int depth = 0;
  for (size_t k = i; k + 1 < s.size(); ++k) {
    if (s[k] == '/' && s[k + 1] == '*') {
      ++depth;
      ++k;
    } else if (s[k] == '*' && s[k + 1] == '/') {
      ++k;
      if (--depth == 0) return k + 1;
    }
  }
  return std::string_view::npos;
}

// A dollar-quote opening tag at s[i] ('$'): "$$" or "$tag$". Returns the tag length (including both
// dollars) or 0 when s[i] does not open one (e.g. a positional $1).
size_t DollarTag(std::string_view s, size_t i) {
  size_t k = i + 1;
  if (k < s.size() && s[k] == '$') return 2;
  if (k >= s.size() || !IsIdentStart(s[k])) return 0;
  while (k < s.size() && IsIdentChar(s[k])) ++k;
  return k < s.size() && s[k] == '$' ? k - i + 1 : 0;
}

}  // namespace

void LineColumn(std::string_view text, size_t offset, int* line, int* column) {
  *line = 1;
  *column = 1;
  for (size_t k = 0; k < offset && k < text.size(); ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c == '\n') {
      ++*line;
      *column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++*column;
    }
  }
}

Result<ParsedSql> ParseSql(std::string_view s, std::string_view origin) {
  ParsedSql out;
  size_t end = s.size();  // where the statement ends (a top-level ';')
  size_t i = 0;
  int depth = 0;          // parentheses open at i
  std::string last_word;  // the previous bare word (comments and white space between are skipped)
  while (i < s.size()) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == '\'' || ((c == 'E' || c == 'e') && next == '\'' && (i == 0 || !IsIdentChar(s[i - 1])))) {
      const bool escapes = c != '\'';
      const size_t open = escapes ? i + 1 : i;
      const size_t k = SkipQuoted(s, open, '\'', escapes);
      if (k == std::string_view::npos) return ErrorAt(s, origin, i, "unterminated string literal");
      i = k;
    } else if (c == '"') {
      const size_t k = SkipQuoted(s, i, '"', false);
      if (k == std::string_view::npos) return ErrorAt(s, origin, i, "unterminated quoted identifier");
      // A quoted name ("Orders", "accountId") is a word too, lower-cased like the bare ones.
      std::string word(s.substr(i + 1, k - i - 2));
      for (char& ch : word) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
      if (!word.empty() && word.find('"') == std::string::npos &&
          std::find(out.words.begin(), out.words.end(), word) == out.words.end()) {
        out.words.push_back(word);
      }
      i = k;
    } else if (c == '-' && next == '-') {
      const size_t k = s.find('\n', i);
      i = k == std::string_view::npos ? s.size() : k + 1;
    } else if (c == '/' && next == '*') {
      const size_t k = SkipBlockComment(s, i);
      if (k == std::string_view::npos) return ErrorAt(s, origin, i, "unterminated /* comment");
      i = k;
    } else if (c == '$' && (i == 0 || !IsIdentChar(s[i - 1]))) {
      const size_t tag_len = DollarTag(s, i);
      if (tag_len == 0) {
        if (next >= '0' && next <= '9') {
          return ErrorAt(
              s, origin, i,
              "positional parameter $" + std::string(1, next) + "...: use named parameters such as :tenant_id");
        }
        ++i;
        continue;
      }
      const std::string_view tag = s.substr(i, tag_len);
      const size_t close = s.find(tag, i + tag_len);
      if (close == std::string_view::npos) {
        return ErrorAt(s, origin, i, "unterminated dollar-quoted string " + std::string(tag));
      }
      i = close + tag_len;
    } else if (c == ':') {
      if (next == ':') {  // a cast: skip both colons so the type name is not taken for a parameter
        i += 2;
      } else if (IsIdentStart(next) && (i == 0 || s[i - 1] != ':')) {
        size_t k = i + 1;
        while (k < s.size() && IsIdentChar(s[k])) ++k;
        ParamUse use;
        use.name = std::string(s.substr(i + 1, k - i - 1));
        use.offset = i;
        use.length = k - i;
        LineColumn(s, i, &use.line, &use.column);
        if (std::find(out.names.begin(), out.names.end(), use.name) == out.names.end()) {
          out.names.push_back(use.name);
        }
        out.uses.push_back(std::move(use));
        i = k;
      } else {
        ++i;
      }
    } else if (c == '?') {
      out.question_marks.push_back(i);
      ++i;
    } else if (c == '`') {  // a MySQL/SQLite quoted identifier: `a:b` holds no parameter
      const size_t k = SkipQuoted(s, i, '`', false);
      if (k == std::string_view::npos) return ErrorAt(s, origin, i, "unterminated `quoted identifier`");
      i = k;
    } else if (c == ';') {
      end = i;
      // Only comments and white space may follow.
      size_t k = i + 1;
      while (k < s.size()) {
        if (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r' || s[k] == ';') {
          ++k;
        } else if (s[k] == '-' && k + 1 < s.size() && s[k + 1] == '-') {
          const size_t nl = s.find('\n', k);
          k = nl == std::string_view::npos ? s.size() : nl + 1;
        } else if (s[k] == '/' && k + 1 < s.size() && s[k + 1] == '*') {
          const size_t e = SkipBlockComment(s, k);
          if (e == std::string_view::npos) return ErrorAt(s, origin, k, "unterminated /* comment");
          k = e;
        } else {
          return ErrorAt(s, origin, k, "a report is one statement, but another one starts here");
        }
      }
      break;
    } else if (c == '(') {
      ++depth;
      ++i;
    } else if (c == ')') {
      depth = depth > 0 ? depth - 1 : 0;
      ++i;
    } else if (IsIdentStart(c) && (i == 0 || !IsIdentChar(s[i - 1]))) {
      size_t k = i;
      while (k < s.size() && (IsIdentChar(s[k]) || s[k] == '$')) ++k;
      std::string word(s.substr(i, k - i));
      for (char& ch : word) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
      if (depth == 0 && word == "by" && last_word == "order") out.has_top_level_order_by = true;
      if (std::find(out.words.begin(), out.words.end(), word) == out.words.end()) out.words.push_back(word);
      last_word = std::move(word);
      i = k;
    } else {
      ++i;
    }
  }
  out.text = std::string(s.substr(0, end));
  size_t first = out.text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::Config(std::string(origin) + ": the SQL is empty");
  return out;
}

std::string RewriteSql(const ParsedSql& sql, Placeholders style) {
  std::string out;
  out.reserve(sql.text.size() + 16);
  size_t pos = 0;
  for (const ParamUse& use : sql.uses) {
    out.append(sql.text, pos, use.offset - pos);
    const auto index = std::find(sql.names.begin(), sql.names.end(), use.name) - sql.names.begin() + 1;
    out += style == Placeholders::kDollar ? '$' : '?';
    out += std::to_string(index);
    pos = use.offset + use.length;
  }
  out.append(sql.text, pos, std::string::npos);
  return out;
}

size_t OriginalOffset(const ParsedSql& sql, Placeholders style, size_t rewritten_offset) {
  (void)style;       // both styles spell placeholder k as one character and the digits of k
  size_t shift = 0;  // original bytes minus rewritten bytes, over the placeholders passed so far
  for (const ParamUse& use : sql.uses) {
    const auto index = std::find(sql.names.begin(), sql.names.end(), use.name) - sql.names.begin() + 1;
    const size_t written = 1 + std::to_string(index).size();
    const size_t rewritten_start = use.offset - shift;
    if (rewritten_offset < rewritten_start) break;
    if (rewritten_offset < rewritten_start + written) return use.offset;
    shift += use.length - written;
  }
  return rewritten_offset + shift;
}

}  // namespace strata
