// The job store's SQLite database: one connection in WAL mode, so readers never wait for the
// writer, and statements prepared once per connection.
#include <sqlite3.h>

#include <thread>
#include <unordered_map>

#include "jobs/store_db.h"
#include "source/db_handles.h"

namespace strata::jobs {

namespace {

class SqliteStoreDb : public StoreDb {
 public:
  SqliteStoreDb(SqliteDbPtr db, std::string path) : db_(std::move(db)), description_("sqlite:" + std::move(path)) {}

  Result<int64_t> Exec(const std::string& sql, const std::vector<SqlArg>& args, std::vector<SqlRow>* rows) override {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
      sqlite3_stmt* raw = nullptr;
      if (sqlite3_prepare_v2(db_.get(), sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
        return Error("cannot prepare a statement");
      }
      found = statements_.emplace(sql, SqliteStmtPtr(raw)).first;
    }
    sqlite3_stmt* stmt = found->second.get();
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    for (size_t k = 0; k < args.size(); ++k) {
      const int at = static_cast<int>(k + 1);
      if (const auto* n = std::get_if<int64_t>(&args[k])) {
        sqlite3_bind_int64(stmt, at, *n);
      } else if (const auto* s = std::get_if<std::string>(&args[k])) {
        sqlite3_bind_text(stmt, at, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, at);
      }
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status s = Error("a statement failed");
        sqlite3_reset(stmt);
        return s;
      }
      if (rows == nullptr) continue;
      SqlRow row;
      const int n = sqlite3_column_count(stmt);
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
      rows->push_back(std::move(row));
    }
    const int64_t changes = sqlite3_changes64(db_.get());
    sqlite3_reset(stmt);
    return changes;
  }

  Status Begin() override { return Simple("BEGIN IMMEDIATE"); }
  Status Commit() override { return Simple("COMMIT"); }
  void Rollback() override {
    if (!sqlite3_get_autocommit(db_.get())) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status LockClaims() override { return Status::Ok(); }
  Status Notify() override { return Status::Ok(); }
  void WaitForWork(std::chrono::milliseconds timeout) override { std::this_thread::sleep_for(timeout); }
  const char* ForUpdateSkipLocked() const override { return ""; }
  Status CreateSchema() override {
    STRATA_RETURN_IF_ERROR(Simple("BEGIN IMMEDIATE"));
    Status s = Simple(JobTablesSql(false));
    for (const AddedColumn& c : kAddedColumns) {
      if (!s.ok()) break;
      std::vector<SqlRow> found;
      auto asked = Exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
                        {std::string(c.table), std::string(c.name)}, &found);
      if (!asked.ok()) s = asked.status();
      if (s.ok() && found.empty()) {
        s = Simple(std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.name + " " + c.type);
      }
    }
    if (!s.ok()) {
      Rollback();
      return s;
    }
    return Simple("COMMIT");
  }
  Status ExecScript(const std::string& sql) override { return Simple(sql); }
  bool is_postgres() const override { return false; }
  const std::string& description() const override { return description_; }

 private:
  Status Simple(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : sqlite3_errmsg(db_.get());
      sqlite3_free(message);
      return Status::Database("job store " + description_ + ": " + text);
    }
    return Status::Ok();
  }
  Status Error(const std::string& what) {
    return Status::Database("job store " + description_ + ": " + what + ": " + sqlite3_errmsg(db_.get()));
  }

  SqliteDbPtr db_;
  std::string description_;
  std::unordered_map<std::string, SqliteStmtPtr> statements_;
};

}  // namespace

Result<std::unique_ptr<StoreDb>> OpenSqliteStoreDb(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDbPtr db(raw);
  if (rc != SQLITE_OK) {
    return Status::Database("cannot open the job store sqlite:" + path + ": " +
                            (db ? sqlite3_errmsg(db.get()) : "out of memory"));
  }
  // Another process may hold the write lock for a moment: wait for it rather than fail.
  sqlite3_busy_timeout(db.get(), 10000);
  // WAL: readers (the API) never block the writer (the workers). synchronous=NORMAL in WAL mode
  // survives a crash of the process; only a power loss can drop the last commits.
  char* message = nullptr;
  if (sqlite3_exec(db.get(), "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", nullptr,
                   nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Status::Database("cannot set up the job store sqlite:" + path + ": " + text);
  }
  return std::unique_ptr<StoreDb>(new SqliteStoreDb(std::move(db), path));
}

}  // namespace strata::jobs
