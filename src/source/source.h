// Source: one small interface over a database (DESIGN.md, "source").
//
// A Source is a connection opened from a URL: "sqlite:path/to.db" for the embedded default, or a
// PostgreSQL URL ("postgresql://user@host:5432/db") or libpq conninfo ("host=... dbname=...") for
// the real target; PG* environment variables are honoured. Execute() runs one report query with
// its parameters bound through the driver (never spliced into the text), inside a read-only
// transaction bounded by the statement timeout, and returns a Cursor that streams typed rows in
// batches: rows are never all held in memory.
//
// Thread-safety: a Source and its Cursor are used by one thread at a time, except Cancel(), which
// any thread may call at any time (from a signal handler's thread, a server's cancel request).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/value.h"
#include "report/param.h"
#include "report/project.h"
#include "report/sql_params.h"

namespace strata {

// A query ready to run: SQL with named placeholders and the values for them.
struct Query {
  std::string origin;  // names the query in messages: "report member_activity", "query.sql"
  std::string file;    // the SQL's file, for positions in errors ("reports/x.sql"); may be empty
  ParsedSql sql;
  std::vector<ParamValue> params;  // one per sql.names, same order
};

// How PostgreSQL rows are streamed. Single-row mode is the default: the server sends rows without
// pausing, and it measured 1.01-1.03x psql's COPY for csv where a cursor measured 1.16-1.29x
// (every FETCH stops the executor for a round trip); see bench/RESULTS.md.
enum class PgFetch {
  kSingleRow,  // libpq's single-row mode: one result per row
  kCursor,     // DECLARE ... CURSOR, then FETCH FORWARD n: one result per n rows
};

struct ExecuteOptions {
  // Run as the application does with a prepared statement: on PostgreSQL the Source prepares each
  // distinct SQL text once (a named statement) and executes it, so the plan cache applies (custom
  // plans for the first five executions, then perhaps the generic plan: plan_cache_mode auto).
  // SQLite always prepares; there it changes nothing.
  bool prepared = false;
  // 0: no limit. With PgFetch::kCursor PostgreSQL applies it to each FETCH, not to the whole run.
  std::chrono::milliseconds statement_timeout{0};
  size_t batch_rows = 4096;       // rows per Batch at most
  size_t batch_bytes = 4u << 20;  // text bytes per Batch at most (the row that crosses it is kept)
  PgFetch pg_fetch = PgFetch::kSingleRow;
  // PostgreSQL, single-row mode: ask for the binary result format when every column's type has a
  // decoder (pg_binary.h); the cells are the same as from the text format. False: always text.
  bool pg_binary = true;
};

enum class Dialect { kSqlite, kPostgres };

struct ExplainOptions {
  bool analyze = false;   // PostgreSQL: run the query and report actual rows and times per node
  bool prepared = false;  // PostgreSQL: the plan of the prepared statement as the plan cache picks it now
  std::chrono::milliseconds statement_timeout{0};
};

class Cursor {
 public:
  virtual ~Cursor() = default;
  // The result's columns, known before the first row.
  virtual const std::vector<Column>& columns() const = 0;
  // Clears batch and fills it with the next rows. An empty batch means the rows are done.
  // Fails with kDatabase (the error, the timeout, a lost connection) or kCancelled.
  virtual Status Next(Batch* batch) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // REQUIRES: no other Cursor of this Source is alive. The Cursor must not outlive the Source.
  virtual Result<std::unique_ptr<Cursor>> Execute(const Query& query, const ExecuteOptions& options) = 0;
  // Thread-safe, and final: stops the query running now, if any, and every later Execute() and
  // Next() of this Source fails with kCancelled, so a cancel that lands between two steps of a run
  // is never lost. A Source is not reused after a cancel.
  virtual void Cancel() = 0;
  // The URL without its password, for messages and reports.
  virtual const std::string& description() const = 0;
  virtual Dialect dialect() const = 0;

  // The plan of query with its parameters bound. PostgreSQL: the output of EXPLAIN (FORMAT JSON)
  // (with ANALYZE: the query runs, read-only). SQLite: EXPLAIN QUERY PLAN's rows, one per line,
  // "id<TAB>parent<TAB>detail".
  virtual Result<std::string> Explain(const Query& query, const ExplainOptions& options) = 0;
  // Forgets the statements prepared by Execute(prepared), so the next run starts a new plan cache.
  virtual void ForgetPrepared() {}
  // Refreshes the planner statistics of tables (names as SQL: quoted where needed). The only
  // statement a Source runs outside a read-only transaction; SQLite uses a separate read-write
  // connection for it.
  virtual Status Analyze(const std::vector<std::string>& tables) = 0;
};

// Runs a small query (a catalog lookup) and returns every cell as text; nullopt for NULL. Dates and
// timestamps as ISO text, numbers as printed by std::to_chars.
using TextRow = std::vector<std::optional<std::string>>;
// statement_timeout: 0 for none.
Result<std::vector<TextRow>> QueryText(Source* source, const std::string& sql, const std::vector<ParamValue>& params,
                                       const std::string& origin,
                                       std::chrono::milliseconds statement_timeout = std::chrono::milliseconds(0));
// One cell as text, as QueryText writes it.
std::string CellText(const Batch& batch, const Value& value);

// The query that runs a project's report with these values (in report.sql.names' order): the one
// place a report becomes a query, for export, serve and check. Its origin is "report NAME", with
// " (role)" when a role is given (check's "base" and "candidate"); its file is the report's SQL file
// as the project names it (folder/sql_path), so a database error points into that file.
Query ReportQuery(const Project& project, const ReportSpec& report, std::vector<ParamValue> values,
                  std::string_view role = {});

// Opens a connection. Fails with kDatabase when the database cannot be reached, kUsage when the
// URL is not one Strata knows.
Result<std::unique_ptr<Source>> OpenSource(const std::string& url);

// The URL with any password removed ("postgresql://u:secret@h/db" -> "postgresql://u@h/db",
// "password=secret" -> "password=***").
std::string RedactUrl(const std::string& url);

// A libpq message (several lines, a trailing newline) as one line, its lines joined by "; ".
std::string OneLineMessage(const char* message);

// "sqlite:x.db" made relative to base when x.db is a relative path; other URLs unchanged.
std::string ResolveSqliteUrl(const std::string& url, const std::string& base);

// Added to the error when a report tries to write: exports run in read-only transactions.
inline constexpr const char* kOneQueryHint =
    " (a report must be one query: SELECT, WITH ... SELECT, VALUES or TABLE; exports are read-only)";

// For the implementations: the message for an error at a byte offset of the SQL text that was
// sent (RewriteSql(query.sql, style)): "origin: file:line:column: what".
std::string ErrorAtSql(const Query& query, Placeholders style, size_t sent_offset, const std::string& what);

// The byte offset of a 1-based character position (PostgreSQL counts characters) in text.
size_t ByteOffsetOfCharacter(std::string_view text, int position);

}  // namespace strata
