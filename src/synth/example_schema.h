// The example project's schema, for both databases, as data: tables with their columns, then the
// keys, foreign keys and indexes. Both get unique keys and indexes after the rows, where building
// an index once is much faster than row by row. SQLite declares its primary and foreign keys in
// CREATE TABLE (it cannot add them later, and does not enforce foreign keys by default; its
// primary key is the rowid, "integer primary key"); PostgreSQL adds and validates them after.
#pragma once

#include <string>
#include <vector>

#include "synth/bulk_writer.h"

namespace strata::synth {

// Drops the example's tables and creates them.
std::vector<std::string> SchemaBeforeLoad(Dialect dialect);
// Keys, foreign keys and indexes to add once the rows are in.
std::vector<std::string> SchemaAfterLoad(Dialect dialect);
// The example's tables, parents first.
std::vector<std::string> ExampleTables();
// The column names of a table, in the order the generator writes them.
std::vector<std::string> ColumnsOf(const std::string& table);

}  // namespace strata::synth
