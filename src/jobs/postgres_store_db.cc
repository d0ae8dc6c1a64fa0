// The job store's PostgreSQL database: statements prepared once per connection, claims serialized
// by a transaction-scoped advisory lock (so the per-tenant and global limits hold exactly across
// processes), and LISTEN/NOTIFY to wake idle workers of every process when work arrives.
#include <libpq-fe.h>
#include <poll.h>

#include <thread>
#include <unordered_map>

#include "jobs/store_db.h"
#include "source/db_handles.h"
#include "source/source.h"

namespace strata::jobs {

namespace {

constexpr const char* kChannel = "strata_jobs";

// Takes a transaction-scoped advisory lock (store_db.h names the keys).
std::string AdvisoryLock(int64_t key) {
  return "SELECT pg_advisory_xact_lock(" + std::to_string(key) + ")";
}

std::string Trim(const char* message) {
  return OneLineMessage(message);
}

// "... ? ... ?" → "... $1 ... $2". The store's SQL has no '?' inside literals.
std::string NumberPlaceholders(const std::string& sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class PostgresStoreDb : public StoreDb {
 public:
  PostgresStoreDb(PgConnPtr conn, std::string description)
      : conn_(std::move(conn)), description_(std::move(description)) {}

  Result<int64_t> Exec(const std::string& sql, const std::vector<SqlArg>& args, std::vector<SqlRow>* rows) override {
    // A statement on its own (no transaction open) that finds the connection broken, by a server
    // restart since the last call, is tried once more on a new one: nothing of it was done.
    const bool alone = PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
    Result<int64_t> result = ExecOnce(sql, args, rows);
    if (!result.ok() && alone && PQstatus(conn_.get()) == CONNECTION_BAD) {
      if (rows != nullptr) rows->clear();
      result = ExecOnce(sql, args, rows);
    }
    return result;
  }

  Result<int64_t> ExecOnce(const std::string& sql, const std::vector<SqlArg>& args, std::vector<SqlRow>* rows) {
    STRATA_RETURN_IF_ERROR(Reconnect());
    auto found = prepared_.find(sql);
    if (found == prepared_.end()) {
      std::string name = "strata_job_" + std::to_string(prepared_.size() + 1);
      PgResultPtr r(PQprepare(conn_.get(), name.c_str(), NumberPlaceholders(sql).c_str(), 0, nullptr));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error(r.get());
      found = prepared_.emplace(sql, std::move(name)).first;
    }
    std::vector<std::string> texts(args.size());
    std::vector<const char*> values(args.size(), nullptr);
    for (size_t k = 0; k < args.size(); ++k) {
      if (const auto* n = std::get_if<int64_t>(&args[k])) {
        texts[k] = std::to_string(*n);
        values[k] = texts[k].c_str();
      } else if (const auto* s = std::get_if<std::string>(&args[k])) {
        values[k] = s->c_str();
      }
    }
    PgResultPtr r(PQexecPrepared(conn_.get(), found->second.c_str(), static_cast<int>(values.size()), values.data(),
                                 nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Error(r.get());
    if (rows != nullptr && status == PGRES_TUPLES_OK) {
      const int n = PQntuples(r.get());
      const int cols = PQnfields(r.get());
      for (int i = 0; i < n; ++i) {
        SqlRow row;
        for (int c = 0; c < cols; ++c) {
          if (PQgetisnull(r.get(), i, c)) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(std::string(PQgetvalue(r.get(), i, c), static_cast<size_t>(PQgetlength(r.get(), i, c))));
          }
        }
        rows->push_back(std::move(row));
      }
    }
    const char* changed = PQcmdTuples(r.get());
    return changed != nullptr && *changed != '\0' ? std::stoll(changed) : int64_t{0};
  }

  Status Begin() override { return BeginWith("BEGIN"); }
  Status BeginClaim() override { return BeginWith(("BEGIN; " + AdvisoryLock(kClaimLockKey)).c_str()); }
  Status Commit() override {
    const bool notify = notify_;
    notify_ = false;
    return Simple(notify ? std::string("NOTIFY ") + kChannel + "; COMMIT" : std::string("COMMIT"));
  }
  void Rollback() override {
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) PgResultPtr(PQexec(conn_.get(), "ROLLBACK"));
  }
  // Any constant: every Strata process takes the same lock for the length of a claim.
  Status LockClaims() override { return Simple(AdvisoryLock(kClaimLockKey)); }
  Status Notify() override {
    if (PQtransactionStatus(conn_.get()) == PQTRANS_INTRANS) {
      notify_ = true;  // sent with the COMMIT: one round trip fewer
      return Status::Ok();
    }
    return Simple(std::string("NOTIFY ") + kChannel);
  }

  void WaitForWork(std::chrono::milliseconds timeout) override {
    if (!Reconnect().ok() || (!listening_ && !Simple(std::string("LISTEN ") + kChannel).ok())) {
      std::this_thread::sleep_for(timeout);
      return;
    }
    listening_ = true;
    if (Drain()) return;
    pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(timeout.count())) > 0) {
      PQconsumeInput(conn_.get());
      Drain();
    }
  }

  const char* ForUpdateSkipLocked() const override { return " FOR UPDATE SKIP LOCKED"; }
  bool HasClaimFunction() const override { return true; }
  bool HasFinishFunction() const override { return true; }
  Status CreateSchema() override {
    // Two processes starting at once must not race on CREATE ... IF NOT EXISTS.
    std::string added;
    for (const AddedColumn& c : kAddedColumns) {
      added += std::string("ALTER TABLE ") + c.table + " ADD COLUMN IF NOT EXISTS " + c.name + " " + c.type + ";";
    }
    return Simple("BEGIN; " + AdvisoryLock(kSchemaLockKey) + "; " + JobTablesSql(true) + added + ClaimFunctionSql() +
                  FinishFunctionSql() + " COMMIT");
  }
  Status ExecScript(const std::string& sql) override { return Simple(sql); }
  bool is_postgres() const override { return true; }
  const std::string& description() const override { return description_; }

 private:
  // As Exec: a broken connection found by the BEGIN is replaced once.
  Status BeginWith(const char* sql) {
    notify_ = false;
    STRATA_RETURN_IF_ERROR(Reconnect());
    Status s = Simple(sql);
    if (!s.ok() && PQstatus(conn_.get()) == CONNECTION_BAD) {
      STRATA_RETURN_IF_ERROR(Reconnect());
      s = Simple(sql);
    }
    return s;
  }
  // A server restart breaks the connection: reconnect once per call, as the queue must outlive it.
  Status Reconnect() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_.get());
    prepared_.clear();
    listening_ = false;
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return Status::Database("job store " + description_ + ": " + Trim(PQerrorMessage(conn_.get())));
    }
    return Simple("SET application_name = 'strata jobs'");
  }
  bool Drain() {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_.get())) {
      PQfreemem(n);
      any = true;
    }
    return any;
  }
  Status Simple(const std::string& sql) {
    PgResultPtr r(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Error(r.get());
    return Status::Ok();
  }
  Status Error(const PGresult* r) {
    std::string message = r != nullptr ? Trim(PQresultErrorMessage(r)) : "";
    if (message.empty()) message = Trim(PQerrorMessage(conn_.get()));
    return Status::Database("job store " + description_ + ": " + message);
  }

  PgConnPtr conn_;
  std::string description_;
  std::unordered_map<std::string, std::string> prepared_;
  bool listening_ = false;
  bool notify_ = false;
};

}  // namespace

Result<std::unique_ptr<StoreDb>> OpenPostgresStoreDb(const std::string& conninfo) {
  // Keepalives, as for the reports' connections: a store server that vanished without closing the
  // connection must fail the heartbeat in seconds, not hang it until the leases run out.
  const char* keys[] = {"application_name",    "connect_timeout",  "client_encoding", "keepalives", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "dbname",          nullptr};
  const char* values[] = {"strata jobs", "10", "UTF8", "1", "10", "5", "3", conninfo.c_str(), nullptr};
  PgConnPtr conn(PQconnectdbParams(keys, values, 1));
  const std::string description = RedactUrl(conninfo);
  if (conn == nullptr) return Status::Database("cannot open the job store " + description + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Database("cannot open the job store " + description + ": " + Trim(PQerrorMessage(conn.get())));
  }
  PgResultPtr r(PQexec(conn.get(), "SET client_min_messages = warning"));
  return std::unique_ptr<StoreDb>(new PostgresStoreDb(std::move(conn), description));
}

}  // namespace strata::jobs
