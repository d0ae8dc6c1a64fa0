#include "source/sqlite_source.h"

#include <sqlite3.h>

#include <atomic>
#include <charconv>
#include <filesystem>
#include <string_view>

#include "source/db_handles.h"

namespace strata {

namespace {

using DbPtr = SqliteDbPtr;
using StmtPtr = SqliteStmtPtr;

bool Contains(const std::string& upper, std::string_view what) {
  return upper.find(what) != std::string::npos;
}

// A Database status, transient when SQLite's result code says trying again may help.
Status ErrorOf(int code, std::string message) {
  if (IsTransientSqliteCode(code)) return Status::TransientDatabase(std::move(message));
  return Status::Database(std::move(message));
}

class SqliteSource;

class SqliteCursor : public Cursor {
 public:
  SqliteCursor(SqliteSource* source, StmtPtr stmt, std::vector<Column> columns, std::vector<Type> declared,
               ExecuteOptions options, std::string origin)
      : source_(source),
        stmt_(std::move(stmt)),
        columns_(std::move(columns)),
        declared_(std::move(declared)),
        options_(options),
        origin_(std::move(origin)) {}
  ~SqliteCursor() override;

  const std::vector<Column>& columns() const override { return columns_; }
  Status Next(Batch* batch) override;

 private:
  void AddText(Batch* batch, int column, Type declared);

  SqliteSource* source_;
  StmtPtr stmt_;
  std::vector<Column> columns_;
  std::vector<Type> declared_;
  ExecuteOptions options_;
  std::string origin_;
  bool done_ = false;
};

class SqliteSource : public Source {
 public:
  SqliteSource(DbPtr db, std::string description) : db_(std::move(db)), description_(std::move(description)) {
    sqlite3_progress_handler(db_.get(), 10000, &SqliteSource::Progress, this);
  }

  Result<std::unique_ptr<Cursor>> Execute(const Query& query, const ExecuteOptions& options) override;
  void Cancel() override {
    cancelled_ = true;
    sqlite3_interrupt(db_.get());
  }
  const std::string& description() const override { return description_; }
  Dialect dialect() const override { return Dialect::kSqlite; }
  Result<std::string> Explain(const Query& query, const ExplainOptions& options) override;
  Status Analyze(const std::vector<std::string>& tables) override;

  sqlite3* db() const { return db_.get(); }

  // Maps an error of the running statement to a Status, telling a timeout and a cancel apart.
  Status StepError(const std::string& origin) {
    if (cancelled_) return Status::Cancelled(origin + ": cancelled");
    if (timed_out_) {
      return Status::Timeout(origin + ": canceled by the statement timeout of " + std::to_string(timeout_.count()) +
                             "ms");
    }
    const int code = sqlite3_extended_errcode(db_.get()) & 0xFF;
    return ErrorOf(code, origin + ": " + sqlite3_errmsg(db_.get()) + (code == SQLITE_READONLY ? kOneQueryHint : ""));
  }
  void EndTransaction() { sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr); }
  void ClearDeadline() { deadline_ = {}; }

 private:
  static int Progress(void* self_ptr) {
    auto* self = static_cast<SqliteSource*>(self_ptr);
    if (self->cancelled_) return 1;
    if (self->deadline_ != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() > self->deadline_) {
      self->timed_out_ = true;
      return 1;
    }
    return 0;
  }

  DbPtr db_;
  std::string description_;
  std::atomic<bool> cancelled_{false};
  bool timed_out_ = false;
  std::chrono::milliseconds timeout_{0};
  std::chrono::steady_clock::time_point deadline_{};

  friend class SqliteCursor;
};

SqliteCursor::~SqliteCursor() {
  stmt_.reset();
  source_->EndTransaction();
  source_->ClearDeadline();
}

void SqliteCursor::AddText(Batch* batch, int column, Type declared) {
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  const std::string_view text(bytes == nullptr ? "" : bytes,
                              static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), column)));
  switch (declared) {
    case Type::kDate:
      if (auto d = ParseDate(text)) return batch->AddDate(*d);
      if (auto t = ParseTimestamp(text, false)) return batch->AddTimestamp(*t, false);
      break;
    case Type::kTimestamp:
      if (auto t = ParseTimestamp(text, false)) return batch->AddTimestamp(*t, false);
      if (auto d = ParseDate(text)) return batch->AddTimestamp(*d * kMicrosPerDay, false);
      break;
    case Type::kTimestampTz:
      if (auto t = ParseTimestamp(text, true)) return batch->AddTimestamp(*t, true);
      break;
    case Type::kNull:  // an expression: take exact ISO dates and timestamps as such
      if (text.size() == 10) {
        if (auto d = ParseDate(text)) return batch->AddDate(*d);
      } else if (text.size() >= 16 && text.size() <= 26) {
        if (auto t = ParseTimestamp(text, false)) return batch->AddTimestamp(*t, false);
      }
      break;
    default: break;
  }
  batch->AddText(Type::kText, text);
}

Status SqliteCursor::Next(Batch* batch) {
  batch->Clear(columns_.size());
  if (done_) return Status::Ok();
  if (source_->cancelled_) return Status::Cancelled(origin_ + ": cancelled");
  sqlite3_stmt* stmt = stmt_.get();
  const int n = static_cast<int>(columns_.size());
  while (batch->rows() < options_.batch_rows && batch->arena_bytes() < options_.batch_bytes) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
      done_ = true;
      break;
    }
    if (rc != SQLITE_ROW) return source_->StepError(origin_);
    for (int c = 0; c < n; ++c) {
      const Type declared = declared_[static_cast<size_t>(c)];
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: batch->AddNull(); break;
        case SQLITE_INTEGER: {
          const int64_t v = sqlite3_column_int64(stmt, c);
          if (declared == Type::kBool) {
            batch->AddBool(v != 0);
          } else {
            batch->AddInt64(v);
          }
          break;
        }
        case SQLITE_FLOAT: batch->AddDouble(sqlite3_column_double(stmt, c)); break;
        case SQLITE_BLOB: {
          const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          batch->AddText(Type::kBytes,
                         std::string_view(p == nullptr ? "" : p, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          break;
        }
        default: AddText(batch, c, declared); break;
      }
    }
  }
  return Status::Ok();
}

Status Bind(sqlite3_stmt* stmt, int index, const ParamValue& v) {
  int rc = SQLITE_OK;
  switch (v.type) {
    case ParamType::kInt:
    case ParamType::kBigint:
    case ParamType::kBool: rc = sqlite3_bind_int64(stmt, index, v.integer); break;
    case ParamType::kNumeric: {
      // A number compares as a number in SQLite; keep the text only when a double would lose digits.
      double d = 0;
      auto [end, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), d);
      size_t digits = 0;
      for (char c : v.text) digits += (c >= '0' && c <= '9');
      if (ec == std::errc() && end == v.text.data() + v.text.size() && digits <= 15) {
        rc = sqlite3_bind_double(stmt, index, d);
      } else {
        rc = sqlite3_bind_text(stmt, index, v.text.data(), static_cast<int>(v.text.size()), SQLITE_TRANSIENT);
      }
      break;
    }
    default:  // text, and dates and timestamps as SQLite stores them: ISO 8601 text
      rc = sqlite3_bind_text(stmt, index, v.text.data(), static_cast<int>(v.text.size()), SQLITE_TRANSIENT);
      break;
  }
  return rc == SQLITE_OK ? Status::Ok() : Status::Internal("cannot bind parameter " + std::to_string(index));
}

Result<std::unique_ptr<Cursor>> SqliteSource::Execute(const Query& query, const ExecuteOptions& options) {
  if (cancelled_) return Status::Cancelled(query.origin + ": cancelled");
  timed_out_ = false;
  timeout_ = options.statement_timeout;
  if (!query.sql.question_marks.empty()) {
    int line, column;
    LineColumn(query.sql.text, query.sql.question_marks.front(), &line, &column);
    return Status::Usage(query.origin + ": line " + std::to_string(line) + " column " + std::to_string(column) +
                         ": SQLite takes '?' as a parameter, which Strata does not bind: write parameters as :name");
  }
  const std::string sql = RewriteSql(query.sql, Placeholders::kQuestion);
  if (sqlite3_exec(db_.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return ErrorOf(sqlite3_errcode(db_.get()),
                   query.origin + ": cannot begin a transaction: " + sqlite3_errmsg(db_.get()));
  }
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()), 0, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) {
    const int offset = sqlite3_error_offset(db_.get());
    Status s = ErrorOf(rc, offset >= 0 ? ErrorAtSql(query, Placeholders::kQuestion, static_cast<size_t>(offset),
                                                    sqlite3_errmsg(db_.get()))
                                       : query.origin + ": " + sqlite3_errmsg(db_.get()));
    EndTransaction();
    return s;
  }
  // SQLite also takes $name, @name, :이름 and a bare ? as parameters; the lexer knows only :name.
  // Any other would run unbound, as NULL: refuse it instead.
  const int count = sqlite3_bind_parameter_count(stmt.get());
  for (int k = 1; k <= count; ++k) {
    const char* name = sqlite3_bind_parameter_name(stmt.get(), k);
    if (k > static_cast<int>(query.params.size()) || name == nullptr || name != "?" + std::to_string(k)) {
      EndTransaction();
      return Status::Usage(query.origin + ": SQLite sees a parameter " +
                           (name == nullptr ? std::string("?") : std::string(name)) +
                           " that Strata does not bind: write parameters as :name (ASCII letters, digits, _)");
    }
  }
  for (size_t k = 0; k < query.params.size(); ++k) {
    Status s = Bind(stmt.get(), static_cast<int>(k + 1), query.params[k]);
    if (!s.ok()) {
      EndTransaction();
      return s;
    }
  }
  std::vector<Column> columns;
  std::vector<Type> declared;
  const int n = sqlite3_column_count(stmt.get());
  if (n == 0) {
    EndTransaction();
    return Status::Database(query.origin + ": the statement returns no columns (a report must be a query)");
  }
  for (int c = 0; c < n; ++c) {
    const Type t = SqliteDeclaredType(sqlite3_column_decltype(stmt.get(), c));
    declared.push_back(t);
    const char* name = sqlite3_column_name(stmt.get(), c);
    columns.push_back({name == nullptr ? "" : name, t == Type::kNull ? Type::kText : t});
  }
  if (options.statement_timeout.count() > 0) {
    deadline_ = std::chrono::steady_clock::now() + options.statement_timeout;
  }
  return std::unique_ptr<Cursor>(
      new SqliteCursor(this, std::move(stmt), std::move(columns), std::move(declared), options, query.origin));
}

Result<std::string> SqliteSource::Explain(const Query& query, const ExplainOptions& options) {
  (void)options;  // EXPLAIN QUERY PLAN does not run the query: no actual rows, nothing to time out
  auto rows = QueryText(this, "EXPLAIN QUERY PLAN " + query.sql.text, query.params, query.origin);
  if (!rows.ok()) return rows.status();
  std::string out;
  for (const TextRow& row : *rows) {
    if (row.size() < 4) continue;
    out += row[0].value_or("") + "\t" + row[1].value_or("") + "\t" + row[3].value_or("") + "\n";
  }
  return out;
}

Status SqliteSource::Analyze(const std::vector<std::string>& tables) {
  const char* file = sqlite3_db_filename(db_.get(), "main");
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file == nullptr ? "" : file, &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr rw(raw);
  if (rc != SQLITE_OK) return Status::Database("ANALYZE: cannot open " + description_ + " for writing");
  sqlite3_busy_timeout(rw.get(), 5000);
  for (const std::string& table : tables) {
    const std::string sql = "ANALYZE " + table;
    char* err = nullptr;
    if (sqlite3_exec(rw.get(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "failed";
      sqlite3_free(err);
      return Status::Database(sql + " on " + description_ + ": " + msg);
    }
  }
  return Status::Ok();
}

}  // namespace

Type SqliteDeclaredType(const char* decl) {
  if (decl == nullptr) return Type::kNull;
  std::string upper;
  for (const char* p = decl; *p != '\0'; ++p) upper += static_cast<char>(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
  if (Contains(upper, "BOOL")) return Type::kBool;
  if (Contains(upper, "INT")) return Type::kInt64;
  if (Contains(upper, "TIMESTAMPTZ") || Contains(upper, "WITH TIME ZONE")) return Type::kTimestampTz;
  if (Contains(upper, "TIMESTAMP") || Contains(upper, "DATETIME")) return Type::kTimestamp;
  if (Contains(upper, "DATE")) return Type::kDate;
  if (Contains(upper, "NUMERIC") || Contains(upper, "DECIMAL")) return Type::kNumeric;
  if (Contains(upper, "REAL") || Contains(upper, "FLOA") || Contains(upper, "DOUB")) return Type::kDouble;
  if (Contains(upper, "BLOB") || Contains(upper, "BYTEA")) return Type::kBytes;
  return Type::kText;
}

bool IsTransientSqliteCode(int code) {
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_SCHEMA: return true;
    default: return false;
  }
}

Result<std::unique_ptr<Source>> OpenSqliteSource(const std::string& path) {
  const std::string description = "sqlite:" + path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::Database("cannot open " + description + ": no such file");
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return ErrorOf(rc, "cannot open " + description + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  // A file that is not a database fails only when first read: find out now.
  char* err = nullptr;
  if (const int first = sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, &err);
      first != SQLITE_OK) {
    std::string msg = err ? err : "unreadable";
    sqlite3_free(err);
    return ErrorOf(first, "cannot open " + description + ": " + msg);
  }
  return std::unique_ptr<Source>(new SqliteSource(std::move(db), description));
}

}  // namespace strata
