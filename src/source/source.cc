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

std::string SqlPosition(const std::string& sql, int position) {
  int line = 1, column = 1, chars = 0;
  for (size_t k = 0; k < sql.size(); ++k) {
    const auto c = static_cast<unsigned char>(sql[k]);
    if ((c & 0xC0) == 0x80) continue;
    if (++chars >= position) break;
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace strata
