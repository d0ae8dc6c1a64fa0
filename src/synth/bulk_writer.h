// BulkWriter: loads generated rows into a database as fast as it takes them (DESIGN.md's later
// "synth" stage; the sources are read-only, so writing has its own small interface).
//
// SQLite: one transaction, prepared INSERTs, journal off (the file is new and is renamed into place
// only when complete). PostgreSQL: one transaction, COPY ... FROM STDIN in text format; the caller
// adds constraints and indexes after the data, which is much faster than checking them row by row.
// Either way a failed load changes nothing: Commit() is the only step that publishes.
//
// Calls: Execute* / (BeginTable, rows, EndTable)* / Commit. Rows are given a cell at a time,
// in the column order of BeginTable, then EndRow(). One thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "source/source.h"

namespace strata::synth {

using Dialect = ::strata::Dialect;  // the source's: one word for the two databases

class BulkWriter {
 public:
  virtual ~BulkWriter() = default;
  virtual Dialect dialect() const = 0;
  // Runs one SQL statement (DDL, ANALYZE).
  virtual Status Execute(const std::string& sql) = 0;
  // The first column of the first row of a query (a count), inside the load's transaction.
  virtual Result<int64_t> QueryCount(const std::string& sql) = 0;
  virtual Status BeginTable(const std::string& table, const std::vector<std::string>& columns) = 0;
  virtual void Null() = 0;
  virtual void Int(int64_t v) = 0;
  virtual void Bool(bool v) = 0;
  virtual void Text(std::string_view v) = 0;   // valid UTF-8
  virtual void Cents(int64_t cents) = 0;       // a numeric(12,2): 1234 -> 12.34
  virtual void Date(int64_t days) = 0;         // days since 1970-01-01
  virtual void Timestamp(int64_t micros) = 0;  // no time zone
  // A moment with the UTC offset it was recorded in ("2024-03-01 09:30:00+09:00").
  virtual void TimestampTz(int64_t utc_micros, int offset_minutes) = 0;
  virtual Status EndRow() = 0;
  virtual Status EndTable() = 0;
  // Publishes everything: commits the transaction (and, for SQLite, syncs the new file and renames
  // it into place).
  virtual Status Commit() = 0;
  // Thread-safe: interrupts the statement running now (an index build, a COPY); it then fails.
  virtual void Cancel() = 0;
};

// Which tables a load may replace. A database is never changed silently: a SQLite file that
// exists, or PostgreSQL tables with the example's names, are replaced only when they hold a
// database strata generate made (its admins table has a "profile" column), or with kAlways.
// kNever (strata synth without --replace): a SQLite file that holds tables, or PostgreSQL tables
// with any of table_names, make the load fail before it starts.
enum class Replace { kOnlyGenerated, kAlways, kNever };

// The text the writers load for a numeric(12,2) and a timestamptz ("-12.34",
// "2024-03-01 09:30:00+09:00"); out must hold 64 bytes. For tests.
size_t FormatCents(int64_t cents, char* out);
size_t FormatTimestampTz(int64_t utc_micros, int offset_minutes, char* out);

// "sqlite:path" or a PostgreSQL URL/conninfo. A SQLite file is built beside the target and replaces
// it on Commit(); PostgreSQL's tables are replaced inside the one transaction. table_names are the
// tables the load will create (to check what it would replace).
Result<std::unique_ptr<BulkWriter>> OpenBulkWriter(const std::string& url, const std::vector<std::string>& table_names,
                                                   Replace replace);

}  // namespace strata::synth
