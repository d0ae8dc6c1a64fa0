#include "source/postgres_source.h"

#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>

#include "source/db_handles.h"
#include "source/pg_binary.h"

namespace strata {

namespace {

// Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types.
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26, kTextOid = 25,
              kFloat4Oid = 700, kFloat8Oid = 701, kDateOid = 1082, kTimestampOid = 1114, kTimestamptzOid = 1184,
              kNumericOid = 1700;

using ConnPtr = PgConnPtr;
using ResultPtr = PgResultPtr;
using CancelPtr = PgCancelPtr;

std::string Trim(const char* message) {
  return OneLineMessage(message);
}

// A Database status, transient when its SQLSTATE says trying again may help.
Status DatabaseError(const char* sqlstate, std::string message) {
  if (IsTransientSqlstate(sqlstate)) return Status::TransientDatabase(std::move(message));
  return Status::Database(std::move(message));
}

Type TypeOfOid(Oid oid) {
  switch (oid) {
    case kBoolOid: return Type::kBool;
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: return Type::kInt64;
    case kFloat4Oid:
    case kFloat8Oid: return Type::kDouble;
    case kNumericOid: return Type::kNumeric;
    case kDateOid: return Type::kDate;
    case kTimestampOid: return Type::kTimestamp;
    case kTimestamptzOid: return Type::kTimestampTz;
    case kByteaOid: return Type::kBytes;
    default: return Type::kText;  // text, varchar, json, uuid, interval, arrays...: their text form
  }
}

Oid OidOfParam(ParamType t) {
  switch (t) {
    case ParamType::kInt: return kInt4Oid;
    case ParamType::kBigint: return kInt8Oid;
    case ParamType::kNumeric: return kNumericOid;
    case ParamType::kText: return kTextOid;
    case ParamType::kDate: return kDateOid;
    case ParamType::kTimestamp: return kTimestampOid;
    case ParamType::kTimestamptz: return kTimestamptzOid;
    case ParamType::kBool: return kBoolOid;
  }
  return kTextOid;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends one value in PostgreSQL's text format (DateStyle ISO, TimeZone UTC) as a typed cell.
// Values a spreadsheet cannot hold as their type (infinity, BC dates) stay text, as printed.
void AddValue(Batch* batch, Type type, std::string_view s, std::string* scratch) {
  switch (type) {
    case Type::kBool: return batch->AddBool(s == "t");
    case Type::kInt64: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return batch->AddInt64(v);
      break;
    }
    case Type::kDouble: {
      double v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return batch->AddDouble(v);
      break;
    }
    case Type::kNumeric: return batch->AddText(Type::kNumeric, s);
    case Type::kDate:
      if (auto d = ParseDate(s)) return batch->AddDate(*d);
      break;
    case Type::kTimestamp:
    case Type::kTimestampTz:
      if (auto t = ParseTimestamp(s, type == Type::kTimestampTz))
        return batch->AddTimestamp(*t, type == Type::kTimestampTz);
      break;
    case Type::kBytes:
      if (s.size() >= 2 && s[0] == '\\' && s[1] == 'x' && s.size() % 2 == 0) {
        scratch->clear();
        for (size_t k = 2; k + 1 < s.size(); k += 2) {
          const int hi = HexDigit(s[k]), lo = HexDigit(s[k + 1]);
          if (hi < 0 || lo < 0) break;
          scratch->push_back(static_cast<char>(hi * 16 + lo));
        }
        return batch->AddText(Type::kBytes, *scratch);
      }
      break;
    default: break;
  }
  batch->AddText(Type::kText, s);
}

class PostgresSource;

class PostgresCursor : public Cursor {
 public:
  PostgresCursor(PostgresSource* source, std::vector<Column> columns, ExecuteOptions options, std::string origin)
      : source_(source), columns_(std::move(columns)), options_(options), origin_(std::move(origin)) {}
  ~PostgresCursor() override;
  const std::vector<Column>& columns() const override { return columns_; }
  Status Next(Batch* batch) override;

  ResultPtr first_;  // single-row mode: the first row, read by Execute to learn the columns
  // Single-row mode in the binary format: each column's type OID, for its decoder.
  std::vector<Oid> binary_oids_;

 private:
  Status NextFromCursor(Batch* batch);
  Status NextSingleRow(Batch* batch);
  void AddRows(Batch* batch, const PGresult* r, int first, int count);

  PostgresSource* source_;
  std::vector<Column> columns_;
  ExecuteOptions options_;
  std::string origin_;
  ResultPtr pending_;  // cursor mode: the result being drained into batches
  int pending_row_ = 0;
  bool done_ = false;
  std::string scratch_;
};

class PostgresSource : public Source {
 public:
  PostgresSource(ConnPtr conn, std::string description)
      : conn_(std::move(conn)), cancel_(PQgetCancel(conn_.get())), description_(std::move(description)) {}

  Result<std::unique_ptr<Cursor>> Execute(const Query& query, const ExecuteOptions& options) override;
  void Cancel() override {
    cancelled_ = true;
    SendCancel();
  }
  // Asks the server to stop the running query; harmless when none runs.
  void SendCancel() {
    std::lock_guard<std::mutex> lock(cancel_mutex_);
    if (cancel_ != nullptr) {
      char err[256];
      PQcancel(cancel_.get(), err, sizeof err);
    }
  }
  const std::string& description() const override { return description_; }
  Dialect dialect() const override { return Dialect::kPostgres; }
  Result<std::string> Explain(const Query& query, const ExplainOptions& options) override;
  void ForgetPrepared() override {
    if (!prepared_.empty()) PQclear(PQexec(conn_.get(), "DEALLOCATE ALL"));
    prepared_.clear();
  }
  Status Analyze(const std::vector<std::string>& tables) override {
    std::string sql = "ANALYZE ";
    for (size_t k = 0; k < tables.size(); ++k) sql += (k ? ", " : "") + tables[k];
    return tables.empty() ? Status::Ok() : Command(sql, sql);
  }

  PGconn* conn() const { return conn_.get(); }

  // Runs a command that returns no rows; maps its failure.
  Status Command(const std::string& sql, const std::string& origin) {
    ResultPtr r(PQexec(conn_.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return ErrorOf(r.get(), origin, nullptr);
    return Status::Ok();
  }

  // The Status for a failed result: cancelled, timed out, lost connection or a query error. query,
  // when given, is the one whose text the error position refers to.
  Status ErrorOf(const PGresult* r, const std::string& origin, const Query* query) {
    if (cancelled_) return Status::Cancelled(origin + ": cancelled");
    if (PQstatus(conn_.get()) == CONNECTION_BAD) {
      return Status::TransientDatabase(origin + ": the connection to " + description_ +
                                       " was lost: " + Trim(PQerrorMessage(conn_.get())));
    }
    std::string message = r != nullptr ? Trim(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) : "";
    if (message.empty()) message = r != nullptr ? Trim(PQresultErrorMessage(r)) : "";
    if (message.empty()) message = Trim(PQerrorMessage(conn_.get()));
    const char* pos = r != nullptr ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : nullptr;
    const char* sqlstate = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (sqlstate != nullptr && std::strcmp(sqlstate, "25006") == 0) message += kOneQueryHint;  // read-only
    if (sqlstate != nullptr && std::strcmp(sqlstate, "57014") == 0 && !cancelled_) {
      return Status::Timeout(origin + ": " + message + " (statement_timeout " + std::to_string(timeout_.count()) +
                             "ms)");
    }
    if (pos != nullptr && query != nullptr) {
      const std::string sent = sql_prefix_ + RewriteSql(query->sql, Placeholders::kDollar);
      const size_t at = ByteOffsetOfCharacter(sent, std::atoi(pos));
      if (at >= sql_prefix_.size()) {
        if (at == sql_prefix_.size() && !sql_prefix_.empty() && sqlstate != nullptr &&
            std::strcmp(sqlstate, "42601") == 0) {
          // A cursor takes only a query: "DELETE ..." fails as a syntax error at its first word.
          message += kOneQueryHint;
        }
        return DatabaseError(sqlstate, ErrorAtSql(*query, Placeholders::kDollar, at - sql_prefix_.size(), message));
      }
    }
    return DatabaseError(sqlstate, origin + ": " + message);
  }

  // query_running: a single-row query whose results were not all read; it is cancelled, then
  // drained, before the connection is used again.
  void EndTransaction(bool query_running) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) return;
    if (query_running) SendCancel();
    while (PGresult* r = PQgetResult(conn_.get())) PQclear(r);
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) PQclear(PQexec(conn_.get(), "ROLLBACK"));
  }

 private:
  // The name of the statement prepared for the SQL text (PQprepare), preparing it on first use.
  Result<std::string> Prepare(const Query& query, const std::string& sql, const std::vector<Oid>& types) {
    auto it = prepared_.find(sql);
    if (it != prepared_.end()) return it->second;
    const std::string name = "strata_" + std::to_string(prepared_.size() + 1);
    sql_prefix_.clear();
    ResultPtr r(PQprepare(conn_.get(), name.c_str(), sql.c_str(), static_cast<int>(types.size()), types.data()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return ErrorOf(r.get(), query.origin, &query);
    prepared_.emplace(sql, name);
    return name;
  }

  // The unnamed statement for the SQL text: parsed now, planned when executed with its values.
  Result<std::string> PrepareUnnamed(const Query& query, const std::string& sql, const std::vector<Oid>& types) {
    ResultPtr r(PQprepare(conn_.get(), "", sql.c_str(), static_cast<int>(types.size()), types.data()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return ErrorOf(r.get(), query.origin, &query);
    return std::string();
  }

  // The type OIDs of the prepared statement's columns when all can be read in binary (and the
  // options allow it); empty for the text format.
  Result<std::vector<Oid>> BinaryColumns(const Query& query, const std::string& name, const ExecuteOptions& options) {
    std::vector<Oid> oids;
    if (!options.pg_binary) return oids;
    ResultPtr d(PQdescribePrepared(conn_.get(), name.c_str()));
    if (PQresultStatus(d.get()) != PGRES_COMMAND_OK) return ErrorOf(d.get(), query.origin, nullptr);
    for (int c = 0; c < PQnfields(d.get()); ++c) {
      if (!pg::HasBinaryDecoder(PQftype(d.get(), c))) return std::vector<Oid>();
      oids.push_back(PQftype(d.get(), c));
    }
    return oids;
  }

  std::map<std::string, std::string> prepared_;  // SQL text -> prepared statement name
  std::string sql_prefix_;  // what was sent before the report's SQL ("DECLARE ... FOR "), for positions
  std::chrono::milliseconds timeout_{0};
  ConnPtr conn_;
  std::mutex cancel_mutex_;
  CancelPtr cancel_;
  std::string description_;
  std::atomic<bool> cancelled_{false};

  friend class PostgresCursor;
};

PostgresCursor::~PostgresCursor() {
  pending_.reset();
  first_.reset();
  source_->EndTransaction(options_.pg_fetch == PgFetch::kSingleRow && !done_);
}

void PostgresCursor::AddRows(Batch* batch, const PGresult* r, int first, int count) {
  const int n = static_cast<int>(columns_.size());
  const bool binary = !binary_oids_.empty();
  for (int row = first; row < first + count; ++row) {
    for (int c = 0; c < n; ++c) {
      if (PQgetisnull(r, row, c)) {
        batch->AddNull();
      } else if (binary) {
        pg::AddBinaryValue(batch, binary_oids_[static_cast<size_t>(c)],
                           std::string_view(PQgetvalue(r, row, c), static_cast<size_t>(PQgetlength(r, row, c))),
                           &scratch_);
      } else {
        AddValue(batch, columns_[static_cast<size_t>(c)].type,
                 std::string_view(PQgetvalue(r, row, c), static_cast<size_t>(PQgetlength(r, row, c))), &scratch_);
      }
    }
  }
}

Status PostgresCursor::Next(Batch* batch) {
  batch->Clear(columns_.size());
  if (done_) return Status::Ok();
  if (source_->cancelled_) return Status::Cancelled(origin_ + ": cancelled");
  return options_.pg_fetch == PgFetch::kCursor ? NextFromCursor(batch) : NextSingleRow(batch);
}

Status PostgresCursor::NextFromCursor(Batch* batch) {
  while (batch->rows() < options_.batch_rows && batch->arena_bytes() < options_.batch_bytes) {
    if (pending_ == nullptr || pending_row_ >= PQntuples(pending_.get())) {
      const std::string fetch = "FETCH FORWARD " + std::to_string(options_.batch_rows) + " FROM strata_export";
      pending_.reset(PQexec(source_->conn(), fetch.c_str()));
      pending_row_ = 0;
      if (PQresultStatus(pending_.get()) != PGRES_TUPLES_OK) return source_->ErrorOf(pending_.get(), origin_, nullptr);
      if (PQntuples(pending_.get()) == 0) {
        done_ = true;
        pending_.reset();
        return source_->Command("CLOSE strata_export", origin_);
      }
    }
    const int take =
        std::min(PQntuples(pending_.get()) - pending_row_, static_cast<int>(options_.batch_rows - batch->rows()));
    AddRows(batch, pending_.get(), pending_row_, take);
    pending_row_ += take;
  }
  return Status::Ok();
}

Status PostgresCursor::NextSingleRow(Batch* batch) {
  PGconn* conn = source_->conn();
  if (first_ != nullptr) {
    AddRows(batch, first_.get(), 0, 1);
    first_.reset();
  }
  while (batch->rows() < options_.batch_rows && batch->arena_bytes() < options_.batch_bytes) {
    ResultPtr r(PQgetResult(conn));
    if (r == nullptr) {
      done_ = true;
      break;
    }
    const ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_SINGLE_TUPLE) {
      AddRows(batch, r.get(), 0, 1);
    } else if (st == PGRES_TUPLES_OK) {
      continue;  // the end of the rows; the next PQgetResult returns null
    } else {
      Status s = source_->ErrorOf(r.get(), origin_, nullptr);
      while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
      done_ = true;  // nothing more will come: no cancel needed at the end
      return s;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Cursor>> PostgresSource::Execute(const Query& query, const ExecuteOptions& options) {
  if (cancelled_) return Status::Cancelled(query.origin + ": cancelled");
  timeout_ = options.statement_timeout;
  STRATA_RETURN_IF_ERROR(Command("BEGIN READ ONLY", query.origin));
  auto fail = [&](Status s) -> Result<std::unique_ptr<Cursor>> {
    EndTransaction(/*query_running=*/false);
    return s;
  };
  Status s =
      Command("SET LOCAL statement_timeout = " + std::to_string(options.statement_timeout.count()), query.origin);
  if (s.ok() && options.pg_fetch == PgFetch::kCursor) {
    // A cursor is planned for its first rows unless told it will be read to the end; an export
    // reads everything, and must run the plan the application's query gets.
    s = Command("SET LOCAL cursor_tuple_fraction = 1.0", query.origin);
  }
  if (!s.ok()) return fail(s);

  const std::string sql = RewriteSql(query.sql, Placeholders::kDollar);
  std::vector<Oid> types;
  std::vector<std::string> texts;
  std::vector<const char*> values;
  for (const ParamValue& p : query.params) {
    types.push_back(OidOfParam(p.type));
    texts.push_back(p.type == ParamType::kTimestamptz ? p.text + "+00" : p.text);
  }
  for (const std::string& t : texts) values.push_back(t.c_str());
  const int nparams = static_cast<int>(values.size());

  std::vector<Column> columns;
  auto describe = [&](const PGresult* r) {
    for (int c = 0; c < PQnfields(r); ++c) columns.push_back({PQfname(r, c), TypeOfOid(PQftype(r, c))});
  };
  if (options.pg_fetch == PgFetch::kCursor) {
    sql_prefix_ = "DECLARE strata_export NO SCROLL CURSOR FOR ";
    const std::string declare = sql_prefix_ + sql;
    ResultPtr r(PQexecParams(conn_.get(), declare.c_str(), nparams, types.data(), values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail(ErrorOf(r.get(), query.origin, &query));
    ResultPtr d(PQdescribePortal(conn_.get(), "strata_export"));
    if (PQresultStatus(d.get()) != PGRES_COMMAND_OK) return fail(ErrorOf(d.get(), query.origin, nullptr));
    describe(d.get());
  } else {
    sql_prefix_.clear();
    // The statement is prepared (named, or unnamed: planned at each execution with its values, as
    // PQsendQueryParams would) and described first, so that its columns' types choose the format.
    auto name = options.prepared ? Prepare(query, sql, types) : PrepareUnnamed(query, sql, types);
    if (!name.ok()) return fail(name.status());
    auto binary_oids = BinaryColumns(query, *name, options);
    if (!binary_oids.ok()) return fail(binary_oids.status());
    const int format = binary_oids->empty() ? 0 : 1;
    const int sent = PQsendQueryPrepared(conn_.get(), name->c_str(), nparams, values.data(), nullptr, nullptr, format);
    if (!sent || !PQsetSingleRowMode(conn_.get())) {
      return fail(ErrorOf(nullptr, query.origin, &query));
    }
    // A cancel that came while BEGIN or SET ran found no query to stop: stop this one.
    if (cancelled_) SendCancel();
    // The query is in flight; its first result tells the columns (or the error).
    ResultPtr d(PQgetResult(conn_.get()));
    const ExecStatusType st = PQresultStatus(d.get());
    if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
      Status error = ErrorOf(d.get(), query.origin, &query);
      while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
      return fail(error);
    }
    describe(d.get());
    if (columns.empty()) {
      while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
      return fail(Status::Database(query.origin + ": the statement returns no columns"));
    }
    auto cursor = std::make_unique<PostgresCursor>(this, std::move(columns), options, query.origin);
    cursor->binary_oids_ = std::move(*binary_oids);
    if (st == PGRES_SINGLE_TUPLE) cursor->first_ = std::move(d);
    return std::unique_ptr<Cursor>(std::move(cursor));
  }
  if (columns.empty())
    return fail(Status::Database(query.origin + ": the statement returns no columns (a report must be a query)"));
  return std::unique_ptr<Cursor>(new PostgresCursor(this, std::move(columns), options, query.origin));
}

const char* SqlTypeOfParam(ParamType t) {
  switch (t) {
    case ParamType::kInt: return "integer";
    case ParamType::kBigint: return "bigint";
    case ParamType::kNumeric: return "numeric";
    case ParamType::kText: return "text";
    case ParamType::kDate: return "date";
    case ParamType::kTimestamp: return "timestamp";
    case ParamType::kTimestamptz: return "timestamptz";
    case ParamType::kBool: return "boolean";
  }
  return "text";
}

Result<std::string> PostgresSource::Explain(const Query& query, const ExplainOptions& options) {
  if (cancelled_) return Status::Cancelled(query.origin + ": cancelled");
  timeout_ = options.statement_timeout;
  const std::string sql = RewriteSql(query.sql, Placeholders::kDollar);
  std::vector<Oid> types;
  std::vector<std::string> texts;
  for (const ParamValue& p : query.params) {
    types.push_back(OidOfParam(p.type));
    texts.push_back(p.type == ParamType::kTimestamptz ? p.text + "+00" : p.text);
  }
  const std::string head = options.analyze ? "EXPLAIN (ANALYZE, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ";
  STRATA_RETURN_IF_ERROR(Command("BEGIN READ ONLY", query.origin));
  Status s =
      Command("SET LOCAL statement_timeout = " + std::to_string(options.statement_timeout.count()), query.origin);
  ResultPtr r;
  if (s.ok() && options.prepared) {
    // EXECUTE takes its arguments as expressions: typed literals, escaped by libpq.
    auto name = Prepare(query, sql, types);
    if (!name.ok()) {
      s = name.status();
    } else {
      std::string execute = head + "EXECUTE " + *name;
      for (size_t k = 0; k < texts.size(); ++k) {
        char* lit = PQescapeLiteral(conn_.get(), texts[k].data(), texts[k].size());
        if (lit == nullptr) return Status::Database(query.origin + ": " + Trim(PQerrorMessage(conn_.get())));
        execute += (k == 0 ? "(" : ", ") + std::string(lit) + "::" + SqlTypeOfParam(query.params[k].type);
        PQfreemem(lit);
      }
      if (!texts.empty()) execute += ")";
      r.reset(PQexec(conn_.get(), execute.c_str()));
    }
  } else if (s.ok()) {
    sql_prefix_ = head;
    std::vector<const char*> values;
    for (const std::string& t : texts) values.push_back(t.c_str());
    const std::string explain = head + sql;
    r.reset(PQexecParams(conn_.get(), explain.c_str(), static_cast<int>(values.size()), types.data(), values.data(),
                         nullptr, nullptr, 0));
  }
  std::string plan;
  if (s.ok()) {
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      s = ErrorOf(r.get(), query.origin, options.prepared ? nullptr : &query);
    } else {
      for (int row = 0; row < PQntuples(r.get()); ++row) plan += PQgetvalue(r.get(), row, 0);
    }
  }
  r.reset();
  sql_prefix_.clear();
  EndTransaction(/*query_running=*/false);
  if (!s.ok()) return s;
  return plan;
}

}  // namespace

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running..."): make
// them one line, the lines joined by "; ".
std::string OneLineMessage(const char* message) {
  std::string out;
  bool line_break = false;
  for (const char* p = message == nullptr ? "" : message; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\r') {
      line_break = true;
    } else if ((*p == ' ' || *p == '\t') && (out.empty() || line_break || out.back() == ' ')) {
      continue;
    } else {
      if (line_break && !out.empty()) out += "; ";
      line_break = false;
      out += *p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool IsTransientSqlstate(const char* sqlstate) {
  if (sqlstate == nullptr) return false;
  static const char* const kTransient[] = {
      "08000", "08001", "08003", "08004", "08006", "08007",  // connection exceptions (not 08P01, a protocol bug)
      "53000", "53100", "53200", "53300",                    // resources (not 53400, a configured limit)
      "57P01", "57P02", "57P03",                             // the server shutting down, crashed, starting
      "40001", "40P01", "55P03",                             // serialization, deadlock, lock not available
      "58030",                                               // an I/O error
  };
  for (const char* code : kTransient) {
    if (std::strcmp(sqlstate, code) == 0) return true;
  }
  return false;
}

namespace {

// A failed connection. libpq gives no SQLSTATE for it, so the message decides: a refused or
// unreachable server, one that is starting or shutting down, or one out of connection slots may
// answer later; a wrong password, user or database name will not.
Status ConnectError(PGconn* conn, const std::string& description) {
  const std::string message = "cannot connect to " + description + ": " + Trim(PQerrorMessage(conn));
  bool lasting = PQconnectionNeedsPassword(conn);
  for (const char* words :
       {"authentication failed", "does not exist", "pg_hba.conf", "SSL", "permission denied", "invalid "}) {
    lasting = lasting || message.find(words) != std::string::npos;
  }
  return lasting ? Status::Database(message) : Status::TransientDatabase(message);
}

}  // namespace

Result<std::unique_ptr<Source>> OpenPostgresSource(const std::string& conninfo) {
  // Defaults first: the URL, expanded last, overrides them. Keepalives let a dead server (one that
  // vanished without closing the connection) fail the export instead of hanging it.
  // client_encoding: rows arrive as UTF-8 whatever the database's encoding (the server converts).
  const char* keys[] = {"application_name",    "connect_timeout",  "client_encoding", "keepalives", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "dbname",          nullptr};
  const char* values[] = {"strata", "10", "UTF8", "1", "30", "10", "3", conninfo.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  const std::string description = RedactUrl(conninfo);
  if (conn == nullptr) return Status::Database("cannot connect to " + description + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return ConnectError(conn.get(), description);
  }
  // Values are parsed from PostgreSQL's text format: fix the settings that change that format.
  ResultPtr r(PQexec(conn.get(),
                     "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET extra_float_digits = 1; "
                     "SET bytea_output = 'hex'"));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return Status::Database("cannot set up the session on " + description + ": " + Trim(PQresultErrorMessage(r.get())));
  }
  return std::unique_ptr<Source>(new PostgresSource(std::move(conn), description));
}

}  // namespace strata
