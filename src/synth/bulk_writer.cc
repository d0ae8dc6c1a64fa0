#include "synth/bulk_writer.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "common/value.h"
#include "source/db_handles.h"
#include "source/source.h"

namespace strata::synth {

namespace fs = std::filesystem;

size_t FormatCents(int64_t cents, char* out) {
  size_t n = 0;
  // The magnitude without overflowing on INT64_MIN.
  const uint64_t v = cents < 0 ? static_cast<uint64_t>(-(cents + 1)) + 1 : static_cast<uint64_t>(cents);
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

namespace {

std::string OneLine(std::string m) {
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (char& c : m) c = c == '\n' ? ' ' : c;
  return m;
}

// --- SQLite --------------------------------------------------------------------------------------

using DbPtr = SqliteDbPtr;
using StmtPtr = SqliteStmtPtr;

Status SqliteExec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status::Database(m + " (in: " + sql.substr(0, 80) + ")");
  }
  return Status::Ok();
}

struct SqliteKind {
  bool empty = false;      // it holds no tables
  bool generated = false;  // strata generate made it
};

Result<SqliteKind> SqliteIsGenerated(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return Status::Database("cannot open " + path + ": " + sqlite3_errmsg(raw));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db.get(),
                         "SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table'), "
                         "(SELECT count(*) FROM pragma_table_info('admins') WHERE name = 'profile')",
                         -1, &s, nullptr) != SQLITE_OK) {
    return Status::Database("cannot read " + path + ": " + sqlite3_errmsg(db.get()));
  }
  StmtPtr stmt(s);
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) return Status::Database("cannot read " + path);
  const bool empty = sqlite3_column_int(stmt.get(), 0) == 0;
  const bool generated = sqlite3_column_int(stmt.get(), 1) == 1;
  stmt.reset();
  // Fold any write-ahead log into the file and switch it off, so that no stale -wal beside the
  // target can later shadow the new file that replaces it.
  sqlite3_exec(db.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
  return SqliteKind{empty, generated};
}

Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Status::Io("cannot open " + path + " to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::Io("cannot sync " + path);
}

class SqliteWriter : public BulkWriter {
 public:
  SqliteWriter(DbPtr db, std::string target, std::string temp)
      : db_(std::move(db)), target_(std::move(target)), temp_(std::move(temp)) {}
  ~SqliteWriter() override {
    stmt_.reset();
    db_.reset();
    if (!committed_) {
      std::error_code ec;
      fs::remove(temp_, ec);
    }
  }
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Execute(const std::string& sql) override { return SqliteExec(db_.get(), sql); }
  Result<int64_t> QueryCount(const std::string& sql) override {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      return Status::Database(std::string(sqlite3_errmsg(db_.get())) + " (in: " + sql.substr(0, 80) + ")");
    }
    StmtPtr stmt(s);
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Status::Database(sqlite3_errmsg(db_.get()));
    return rc == SQLITE_ROW ? sqlite3_column_int64(stmt.get(), 0) : 0;
  }
  Status BeginTable(const std::string& table, const std::vector<std::string>& columns) override {
    std::string sql = "INSERT INTO " + table + " (";
    std::string marks;
    for (size_t k = 0; k < columns.size(); ++k) {
      sql += (k ? ", " : "") + columns[k];
      marks += k ? ", ?" : "?";
    }
    sql += ") VALUES (" + marks + ")";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      return Status::Database(table + ": " + sqlite3_errmsg(db_.get()));
    }
    stmt_.reset(s);
    table_ = table;
    columns_ = static_cast<int>(columns.size());
    column_ = 0;
    return Status::Ok();
  }
  void Null() override { sqlite3_bind_null(stmt_.get(), ++column_); }
  void Int(int64_t v) override { sqlite3_bind_int64(stmt_.get(), ++column_, v); }
  void Bool(bool v) override { sqlite3_bind_int(stmt_.get(), ++column_, v ? 1 : 0); }
  void Text(std::string_view v) override {
    sqlite3_bind_text(stmt_.get(), ++column_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Cents(int64_t cents) override {
    // NUMERIC affinity stores 12.34 as a REAL; binding the double directly skips the text parse.
    sqlite3_bind_double(stmt_.get(), ++column_, static_cast<double>(cents) / 100.0);
  }
  void Date(int64_t days) override { BindText(FormatDateTo(days, buf_)); }
  void Timestamp(int64_t micros) override { BindText(FormatTimestampTo(micros, buf_)); }
  void TimestampTz(int64_t utc_micros, int offset_minutes) override {
    BindText(FormatTimestampTz(utc_micros, offset_minutes, buf_));
  }
  Status EndRow() override {
    if (column_ != columns_) {
      return Status::Internal(table_ + ": a row of " + std::to_string(column_) + " cells for " +
                              std::to_string(columns_) + " columns");
    }
    column_ = 0;
    const int rc = sqlite3_step(stmt_.get());
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    if (rc != SQLITE_DONE) return Status::Database(table_ + ": " + sqlite3_errmsg(db_.get()));
    return Status::Ok();
  }
  Status EndTable() override {
    stmt_.reset();
    return Status::Ok();
  }
  Status Commit() override {
    STRATA_RETURN_IF_ERROR(Execute("COMMIT"));
    stmt_.reset();
    sqlite3* db = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);  // Cancel() must not use the handle being closed
      db = db_.release();
    }
    if (sqlite3_close_v2(db) != SQLITE_OK) return Status::Io("cannot close " + temp_);
    // The file was written without syncs (it was not yet the database): sync it before it becomes one.
    STRATA_RETURN_IF_ERROR(SyncFile(temp_));
    std::error_code ec;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(target_ + suffix, ec);
    fs::rename(temp_, target_, ec);
    if (ec) return Status::Io("cannot rename the new database to " + target_ + ": " + ec.message());
    committed_ = true;
    const fs::path dir = fs::path(target_).has_parent_path() ? fs::path(target_).parent_path() : fs::path(".");
    return SyncFile(dir.string());
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (db_ != nullptr) sqlite3_interrupt(db_.get());
  }

 private:
  void BindText(size_t n) { sqlite3_bind_text(stmt_.get(), ++column_, buf_, static_cast<int>(n), SQLITE_TRANSIENT); }

  std::mutex mu_;
  DbPtr db_;
  StmtPtr stmt_;
  std::string target_, temp_, table_;
  int columns_ = 0;
  int column_ = 0;
  bool committed_ = false;
  char buf_[64];
};

Result<std::unique_ptr<BulkWriter>> OpenSqlite(const std::string& path, Replace replace) {
  std::error_code ec;
  if (fs::exists(path, ec) && replace != Replace::kAlways) {
    auto generated = SqliteIsGenerated(path);
    if (!generated.ok()) return generated.status();
    if (replace == Replace::kNever && !generated->empty) {
      return Status::Usage(path + " already holds tables; it would be replaced whole (--replace to do that)");
    }
    if (!generated->generated && !generated->empty) {
      return Status::Usage(path +
                           " is a database that strata generate did not make; it would be replaced "
                           "whole (--replace to do that)");
    }
  }
  const std::string temp = path + ".generating-" + std::to_string(::getpid());
  fs::remove(temp, ec);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(temp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return Status::Database("cannot create " + temp + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  // A new file that replaces the target only when complete: no journal needed while loading.
  STRATA_RETURN_IF_ERROR(SqliteExec(db.get(),
                                    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = "
                                    "EXCLUSIVE; PRAGMA cache_size = -262144; BEGIN"));
  return std::unique_ptr<BulkWriter>(new SqliteWriter(std::move(db), path, temp));
}

// --- PostgreSQL ----------------------------------------------------------------------------------

using ConnPtr = PgConnPtr;
using ResultPtr = PgResultPtr;

class PostgresWriter : public BulkWriter {
 public:
  explicit PostgresWriter(ConnPtr conn) : conn_(std::move(conn)), cancel_(PQgetCancel(conn_.get())) {
    line_.reserve(kFlush * 2);
  }
  // An uncommitted transaction rolls back when the connection closes.
  Dialect dialect() const override { return Dialect::kPostgres; }

  Status Execute(const std::string& sql) override {
    ResultPtr r(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    return Status::Database(Message(r.get()) + " (in: " + sql.substr(0, 80) + ")");
  }
  Result<int64_t> QueryCount(const std::string& sql) override {
    auto v = Value(sql);
    if (!v.ok()) return v.status();
    return std::atoll(v->c_str());
  }
  // The first value of a one-row query.
  Result<std::string> Value(const std::string& sql) {
    ResultPtr r(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
      return Status::Database(Message(r.get()) + " (in: " + sql.substr(0, 80) + ")");
    }
    return std::string(PQgetvalue(r.get(), 0, 0));
  }
  Status BeginTable(const std::string& table, const std::vector<std::string>& columns) override {
    std::string sql = "COPY " + table + " (";
    for (size_t k = 0; k < columns.size(); ++k) sql += (k ? ", " : "") + columns[k];
    sql += ") FROM STDIN";
    ResultPtr r(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return Status::Database(table + ": " + Message(r.get()));
    table_ = table;
    columns_ = columns.size();
    cells_ = 0;
    return Status::Ok();
  }
  void Null() override {
    Sep();
    line_ += "\\N";
  }
  void Int(int64_t v) override {
    Sep();
    char b[24];
    line_.append(b, static_cast<size_t>(std::to_chars(b, b + 24, v).ptr - b));
  }
  void Bool(bool v) override {
    Sep();
    line_ += v ? 't' : 'f';
  }
  void Text(std::string_view v) override {
    Sep();
    for (char c : v) {  // COPY's text format: backslash escapes
      switch (c) {
        case '\\': line_ += "\\\\"; break;
        case '\t': line_ += "\\t"; break;
        case '\n': line_ += "\\n"; break;
        case '\r': line_ += "\\r"; break;
        default: line_ += c;
      }
    }
  }
  void Cents(int64_t cents) override {
    Sep();
    line_.append(buf_, FormatCents(cents, buf_));
  }
  void Date(int64_t days) override {
    Sep();
    line_.append(buf_, FormatDateTo(days, buf_));
  }
  void Timestamp(int64_t micros) override {
    Sep();
    line_.append(buf_, FormatTimestampTo(micros, buf_));
  }
  void TimestampTz(int64_t utc_micros, int offset_minutes) override {
    Sep();
    line_.append(buf_, FormatTimestampTz(utc_micros, offset_minutes, buf_));
  }
  Status EndRow() override {
    if (cells_ != columns_) {
      return Status::Internal(table_ + ": a row of " + std::to_string(cells_) + " cells for " +
                              std::to_string(columns_) + " columns");
    }
    line_ += '\n';
    cells_ = 0;
    return line_.size() >= kFlush ? Flush() : Status::Ok();
  }
  Status EndTable() override {
    STRATA_RETURN_IF_ERROR(Flush());
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) return Status::Database(table_ + ": " + Message(nullptr));
    ResultPtr r(PQgetResult(conn_.get()));
    const bool ok = PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    std::string m = ok ? "" : Message(r.get());
    while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
    return ok ? Status::Ok() : Status::Database(table_ + ": " + m);
  }
  Status Commit() override { return Execute("COMMIT"); }
  void Cancel() override {
    char err[256];
    PQcancel(cancel_.get(), err, sizeof err);
  }

 private:
  static constexpr size_t kFlush = 1 << 20;
  void Sep() {
    if (cells_++ > 0) line_ += '\t';
  }
  Status Flush() {
    if (!line_.empty() && PQputCopyData(conn_.get(), line_.data(), static_cast<int>(line_.size())) != 1) {
      return Status::Database(table_ + ": " + Message(nullptr));
    }
    line_.clear();
    return Status::Ok();
  }
  std::string Message(const PGresult* r) const {
    std::string m = r != nullptr ? PQresultErrorMessage(r) : "";
    if (m.empty()) m = PQerrorMessage(conn_.get());
    return OneLine(m);
  }

  ConnPtr conn_;
  PgCancelPtr cancel_;
  std::string line_, table_;
  size_t columns_ = 0;
  size_t cells_ = 0;
  char buf_[64];
};

Result<std::unique_ptr<BulkWriter>> OpenPostgres(const std::string& url, const std::vector<std::string>& tables,
                                                 Replace replace) {
  // client_encoding: the generator's text is UTF-8; a database that cannot hold it fails loudly.
  const char* keys[] = {"application_name", "connect_timeout", "client_encoding", "dbname", nullptr};
  const char* values[] = {"strata generate", "10", "UTF8", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, 1));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Database("cannot connect to " + RedactUrl(url) + ": " + OneLine(PQerrorMessage(conn.get())));
  }
  auto w = std::make_unique<PostgresWriter>(std::move(conn));
  STRATA_RETURN_IF_ERROR(w->Execute("SET client_min_messages = warning"));
  STRATA_RETURN_IF_ERROR(w->Execute("BEGIN"));
  if (replace != Replace::kAlways) {
    std::string names;
    for (const std::string& t : tables) {
      std::string quoted;  // a literal: quotes doubled
      for (char c : t) quoted += c == '\'' ? std::string("''") : std::string(1, c);
      names += (names.empty() ? "'" : ", '") + quoted + "'";
    }
    auto existing = w->Value("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm') AND relname IN (" +
                             names + ") AND pg_table_is_visible(oid)");
    auto generated = w->Value(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'admins' "
        "AND column_name = 'profile' AND table_schema = current_schema()");
    if (!existing.ok()) return existing.status();
    if (!generated.ok()) return generated.status();
    if (replace == Replace::kNever && *existing != "0") {
      return Status::Usage(
          "the database already has tables named like the profile's; they would be dropped "
          "(--replace to do that)");
    }
    if (*existing != "0" && *generated == "0") {
      return Status::Usage(
          "the database already has tables named like the example's (admins, orders, ...) that "
          "strata generate did not make; they would be dropped (--replace to do that)");
    }
  }
  return std::unique_ptr<BulkWriter>(std::move(w));
}

}  // namespace

Result<std::unique_ptr<BulkWriter>> OpenBulkWriter(const std::string& url, const std::vector<std::string>& table_names,
                                                   Replace replace) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    return OpenSqlite(path, replace);
  }
  return OpenPostgres(url, table_names, replace);
}

}  // namespace strata::synth
