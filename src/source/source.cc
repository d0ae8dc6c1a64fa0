#include "source/source.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "source/postgres_source.h"
#include "source/sqlite_source.h"

namespace strata {

namespace {
// The path of a "sqlite:" URL ("sqlite:a.db", "sqlite:///abs/a.db"), or nullopt for other URLs.
std::optional<std::string> SqlitePath(const std::string& url) {
  if (url.rfind("sqlite:", 0) != 0) return std::nullopt;
  std::string path = url.substr(7);
  if (path.rfind("//", 0) == 0) path = path.substr(2);
  return path;
}
}  // namespace

std::string ResolveSqliteUrl(const std::string& url, const std::string& base) {
  auto path = SqlitePath(url);
  if (!path || path->empty() || *path == ":memory:" || std::filesystem::path(*path).is_absolute()) return url;
  return "sqlite:" + (std::filesystem::path(base) / *path).lexically_normal().string();
}

Query ReportQuery(const Project& project, const ReportSpec& report, std::vector<ParamValue> values,
                  std::string_view role) {
  Query query;
  query.origin = "report " + report.name;
  if (!role.empty()) query.origin += " (" + std::string(role) + ")";
  // A base read from git is named "ref:" or "ref:folder" (check/versions.cc).
  query.file = !project.folder.empty() && project.folder.back() == ':'
                   ? project.folder + report.sql_path
                   : (std::filesystem::path(project.folder) / report.sql_path).string();
  query.sql = report.sql;
  query.params = std::move(values);
  return query;
}

Result<std::unique_ptr<Source>> OpenSource(const std::string& url) {
  if (auto path = SqlitePath(url)) return OpenSqliteSource(*path);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0 || url.find('=') != std::string::npos) {
    return OpenPostgresSource(url);
  }
  if (url.empty()) {
    return Status::Usage("no database: give --database, set STRATA_DATABASE_URL, or [database] url in strata.toml");
  }
  return Status::Usage("unrecognised database URL '" + RedactUrl(url) +
                       "': use sqlite:path/to.db, postgresql://user@host:5432/db or a conninfo 'host=... dbname=...'");
}

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  if (url.rfind("postgres", 0) == 0) {
    // postgresql://user:secret@host/db?password=secret
    const size_t authority = out.find("://");
    if (authority != std::string::npos) {
      const size_t start = authority + 3;
      const size_t at = out.find('@', start);
      const size_t slash = out.find('/', start);
      if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
        const size_t colon = out.find(':', start);
        if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
      }
    }
    for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
      if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&')) continue;
      const size_t value = p + 9;
      const size_t end = std::min(out.find('&', value), out.size());
      out.replace(value, end - value, "***");
    }
    return out;
  }
  // A conninfo: password = secret, or password='sec ret' with backslash escapes.
  for (size_t p = out.find("password"); p != std::string::npos; p = out.find("password", p + 1)) {
    if (p > 0 && out[p - 1] != ' ' && out[p - 1] != '\t') continue;
    size_t k = p + 8;
    while (k < out.size() && out[k] == ' ') ++k;
    if (k >= out.size() || out[k] != '=') continue;
    ++k;
    while (k < out.size() && out[k] == ' ') ++k;
    size_t end = k;
    if (end < out.size() && out[end] == '\'') {
      for (++end; end < out.size() && out[end] != '\''; ++end) {
        if (out[end] == '\\') ++end;
      }
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && out[end] != ' ') ++end;
    }
    out.replace(k, end - k, "***");
  }
  return out;
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

namespace strata {

std::string CellText(const Batch& batch, const Value& v) {
  char buf[64];
  switch (v.type) {
    case Type::kNull: return "";
    case Type::kBool: return v.b ? "true" : "false";
    case Type::kInt64: return std::to_string(v.i);
    case Type::kDouble: {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.d);
      return ec == std::errc() ? std::string(buf, end) : "";
    }
    case Type::kDate: return FormatDate(v.i);
    case Type::kTimestamp:
    case Type::kTimestampTz: return FormatTimestamp(v.i);
    default: return std::string(batch.Text(v));
  }
}

Result<std::vector<TextRow>> QueryText(Source* source, const std::string& sql, const std::vector<ParamValue>& params,
                                       const std::string& origin, std::chrono::milliseconds statement_timeout) {
  auto parsed = ParseSql(sql, origin);
  if (!parsed.ok()) return Status::Internal(parsed.status().message());
  Query query{origin, "", std::move(*parsed), params};
  ExecuteOptions options;
  options.statement_timeout = statement_timeout;
  auto cursor = source->Execute(query, options);
  if (!cursor.ok()) return cursor.status();
  std::vector<TextRow> rows;
  Batch batch;
  for (;;) {
    STRATA_RETURN_IF_ERROR((*cursor)->Next(&batch));
    if (batch.empty()) break;
    for (size_t r = 0; r < batch.rows(); ++r) {
      TextRow row;
      for (size_t c = 0; c < batch.columns(); ++c) {
        const Value& v = batch.at(r, c);
        row.push_back(v.type == Type::kNull ? std::nullopt : std::optional<std::string>(CellText(batch, v)));
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace strata
