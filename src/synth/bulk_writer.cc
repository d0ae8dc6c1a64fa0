#include "synth/bulk_writer.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>

#include "common/value.h"
#include "source/source.h"

namespace strata::synth {

namespace {

// "-12.34" from cents.
size_t FormatCents(int64_t cents, char* out) {
  size_t n = 0;
  uint64_t v = cents < 0 ? static_cast<uint64_t>(-(cents + 1)) + 1 : static_cast<uint64_t>(cents);
  if (cents < 0) out[n++] = '-';
  n += static_cast<size_t>(std::to_chars(out + n, out + n + 24, v / 100).ptr - (out + n));
  out[n++] = '.';
  out[n++] = static_cast<char>('0' + v % 100 / 10);
  out[n++] = static_cast<char>('0' + v % 10);
  return n;
}

size_t FormatTimestampTz(int64_t utc_micros, int offset_minutes, char* out) {
  size_t n = FormatTimestampTo(utc_micros + int64_t{offset_minutes} * 60 * kMicrosPerSecond, out);
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  n += static_cast<size_t>(std::snprintf(out + n, 16, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', a / 60, a % 60));
  return n;
}

// --- SQLite --------------------------------------------------------------------------------------

class SqliteWriter : public BulkWriter {
 public:
  SqliteWriter(sqlite3* db, std::string target, std::string temp)
      : db_(db), target_(std::move(target)), temp_(std::move(temp)) {}
  ~SqliteWriter() override {
    sqlite3_finalize(stmt_);
    sqlite3_close_v2(db_);
    if (!committed_) std::filesystem::remove(temp_);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Execute(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::Database(m + " (in: " + sql.substr(0, 80) + ")");
    }
    return Status::Ok();
  }
  Status BeginTable(const std::string& table, const std::vector<std::string>& columns) override {
    std::string sql = "INSERT INTO " + table + " (";
    std::string marks;
    for (size_t k = 0; k < columns.size(); ++k) {
      sql += (k ? ", " : "") + columns[k];
      marks += k ? ", ?" : "?";
    }
    sql += ") VALUES (" + marks + ")";
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      return Status::Database(table + ": " + sqlite3_errmsg(db_));
    }
    table_ = table;
    column_ = 0;
    return Status::Ok();
  }
  void Null() override { sqlite3_bind_null(stmt_, ++column_); }
  void Int(int64_t v) override { sqlite3_bind_int64(stmt_, ++column_, v); }
  void Bool(bool v) override { sqlite3_bind_int(stmt_, ++column_, v ? 1 : 0); }
  void Text(std::string_view v) override {
    sqlite3_bind_text(stmt_, ++column_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Cents(int64_t cents) override {
    // NUMERIC affinity stores 12.34 as a REAL; binding the double directly skips the text parse.
    sqlite3_bind_double(stmt_, ++column_, static_cast<double>(cents) / 100.0);
  }
  void Date(int64_t days) override { BindText(FormatDateTo(days, buf_)); }
  void Timestamp(int64_t micros) override { BindText(FormatTimestampTo(micros, buf_)); }
  void TimestampTz(int64_t utc_micros, int offset_minutes) override {
    BindText(FormatTimestampTz(utc_micros, offset_minutes, buf_));
  }
  Status EndRow() override {
    column_ = 0;
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) return Status::Database(table_ + ": " + sqlite3_errmsg(db_));
    return Status::Ok();
  }
  Status EndTable() override {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    return Status::Ok();
  }
  Status Commit() override {
    STRATA_RETURN_IF_ERROR(Execute("COMMIT"));
    if (sqlite3_close_v2(db_) != SQLITE_OK) return Status::Io("cannot close " + temp_);
    db_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(temp_, target_, ec);
    if (ec) return Status::Io("cannot rename the new database to " + target_ + ": " + ec.message());
    committed_ = true;
    return Status::Ok();
  }

 private:
  void BindText(size_t n) { sqlite3_bind_text(stmt_, ++column_, buf_, static_cast<int>(n), SQLITE_TRANSIENT); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string target_, temp_, table_;
  int column_ = 0;
  bool committed_ = false;
  char buf_[64];
};

// --- PostgreSQL ----------------------------------------------------------------------------------

class PostgresWriter : public BulkWriter {
 public:
  explicit PostgresWriter(PGconn* conn) : conn_(conn) { line_.reserve(kFlush * 2); }
  ~PostgresWriter() override { PQfinish(conn_); }  // an uncommitted transaction rolls back
  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Execute(const std::string& sql) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    std::string m = ok ? "" : Message(r);
    PQclear(r);
    return ok ? Status::Ok() : Status::Database(m + " (in: " + sql.substr(0, 80) + ")");
  }
  Status BeginTable(const std::string& table, const std::vector<std::string>& columns) override {
    std::string sql = "COPY " + table + " (";
    for (size_t k = 0; k < columns.size(); ++k) sql += (k ? ", " : "") + columns[k];
    sql += ") FROM STDIN";
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    std::string m = ok ? "" : Message(r);
    PQclear(r);
    if (!ok) return Status::Database(table + ": " + m);
    table_ = table;
    first_ = true;
    return Status::Ok();
  }
  void Null() override { Sep(), line_ += "\\N"; }
  void Int(int64_t v) override {
    Sep();
    char b[24];
    line_.append(b, static_cast<size_t>(std::to_chars(b, b + 24, v).ptr - b));
  }
  void Bool(bool v) override { Sep(), line_ += v ? 't' : 'f'; }
  void Text(std::string_view v) override {
    Sep();
    for (char c : v) {  // COPY text format: backslash escapes
      switch (c) {
        case '\\': line_ += "\\\\"; break;
        case '\t': line_ += "\\t"; break;
        case '\n': line_ += "\\n"; break;
        case '\r': line_ += "\\r"; break;
        default: line_ += c;
      }
    }
  }
  void Cents(int64_t cents) override { Sep(), line_.append(buf_, FormatCents(cents, buf_)); }
  void Date(int64_t days) override { Sep(), line_.append(buf_, FormatDateTo(days, buf_)); }
  void Timestamp(int64_t micros) override { Sep(), line_.append(buf_, FormatTimestampTo(micros, buf_)); }
  void TimestampTz(int64_t utc_micros, int offset_minutes) override {
    Sep(), line_.append(buf_, FormatTimestampTz(utc_micros, offset_minutes, buf_));
  }
  Status EndRow() override {
    line_ += '\n';
    first_ = true;
    return line_.size() >= kFlush ? Flush() : Status::Ok();
  }
  Status EndTable() override {
    STRATA_RETURN_IF_ERROR(Flush());
    if (PQputCopyEnd(conn_, nullptr) != 1) return Status::Database(table_ + ": " + Message(nullptr));
    PGresult* r = PQgetResult(conn_);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string m = ok ? "" : Message(r);
    PQclear(r);
    while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
    return ok ? Status::Ok() : Status::Database(table_ + ": " + m);
  }
  Status Commit() override { return Execute("COMMIT"); }

 private:
  static constexpr size_t kFlush = 1 << 20;
  void Sep() {
    if (!first_) line_ += '\t';
    first_ = false;
  }
  Status Flush() {
    if (!line_.empty() && PQputCopyData(conn_, line_.data(), static_cast<int>(line_.size())) != 1) {
      return Status::Database(table_ + ": " + Message(nullptr));
    }
    line_.clear();
    return Status::Ok();
  }
  std::string Message(const PGresult* r) const {
    std::string m = r != nullptr ? PQresultErrorMessage(r) : "";
    if (m.empty()) m = PQerrorMessage(conn_);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (char& c : m) c = c == '\n' ? ' ' : c;
    return m;
  }

  PGconn* conn_;
  std::string line_, table_;
  bool first_ = true;
  char buf_[64];
};

}  // namespace

Result<std::unique_ptr<BulkWriter>> OpenBulkWriter(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    const std::string temp = path + ".generating-" + std::to_string(::getpid());
    std::filesystem::remove(temp);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(temp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      std::string m = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return Status::Database("cannot create " + temp + ": " + m);
    }
    auto w = std::make_unique<SqliteWriter>(db, path, temp);
    // A new file that replaces the target only when complete: no journal needed while loading.
    STRATA_RETURN_IF_ERROR(
        w->Execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
                   "PRAGMA cache_size = -262144; BEGIN"));
    return std::unique_ptr<BulkWriter>(std::move(w));
  }
  const char* keys[] = {"application_name", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"strata generate", "10", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string m = PQerrorMessage(conn);
    PQfinish(conn);
    while (!m.empty() && m.back() == '\n') m.pop_back();
    for (char& c : m) c = c == '\n' ? ' ' : c;
    return Status::Database("cannot connect to " + RedactUrl(url) + ": " + m);
  }
  auto w = std::make_unique<PostgresWriter>(conn);
  STRATA_RETURN_IF_ERROR(w->Execute("SET client_min_messages = warning"));
  STRATA_RETURN_IF_ERROR(w->Execute("BEGIN"));
  return std::unique_ptr<BulkWriter>(std::move(w));
}

}  // namespace strata::synth
