#include "source/source.h"

#include <regex>

#include "source/postgres_source.h"
#include "source/sqlite_source.h"

namespace strata {

Result<std::unique_ptr<Source>> OpenSource(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    return OpenSqliteSource(path);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0 ||
      url.find('=') != std::string::npos) {
    return OpenPostgresSource(url);
  }
  if (url.empty()) {
    return Status::Usage("no database: give --database, set STRATA_DATABASE_URL, or [database] url in strata.toml");
  }
  return Status::Usage("unrecognised database URL '" + RedactUrl(url) +
                       "': use sqlite:path/to.db, postgresql://user@host:5432/db or a conninfo 'host=... dbname=...'");
}

std::string RedactUrl(const std::string& url) {
  static const std::regex kUserinfo(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
  static const std::regex kKeyword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))");
  static const std::regex kQuery(R"(([?&]password=)[^&]*)");
  if (url.rfind("postgres", 0) == 0) {
    return std::regex_replace(std::regex_replace(url, kUserinfo, "$1@"), kQuery, "$1***");
  }
  return std::regex_replace(url, kKeyword, "$1***");
}

std::string ErrorAtSql(const Query& query, Placeholders style, size_t sent_offset, const std::string& what) {
  int line, column;
  LineColumn(query.sql.text, OriginalOffset(query.sql, style, sent_offset), &line, &column);
  if (query.file.empty()) {
    return query.origin + ": line " + std::to_string(line) + " column " + std::to_string(column) + ": " + what;
  }
  const std::string who = query.origin == query.file ? std::string() : query.origin + ": ";
  return who + query.file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

size_t ByteOffsetOfCharacter(std::string_view text, int position) {
  int chars = 0;
  for (size_t k = 0; k < text.size(); ++k) {
    if ((static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) continue;
    if (++chars == position) return k;
  }
  return text.size();
}

}  // namespace strata
