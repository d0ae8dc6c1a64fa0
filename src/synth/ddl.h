// The statements that recreate a profiled schema in a target database, in two halves: what must
// exist before the rows are loaded (schemas, enum types, domains, tables, partitions) and what is
// faster to build once they are in (keys, foreign keys, checks, indexes, views).
//
// PostgreSQL -> PostgreSQL recreates what the server's own deparsers wrote into the profile.
// SQLite -> SQLite runs the CREATE statements the database kept. PostgreSQL -> SQLite maps each
// type to its SQLite affinity (uuid, jsonb, arrays and enums become TEXT, booleans 0/1), declares
// keys in CREATE TABLE (SQLite cannot add them later), keeps the indexes on plain columns and names
// what it cannot carry over (checks, expression and partial indexes, partitions, views) in `notes`.
// SQLite -> PostgreSQL is not offered: SQLite's types are too loose to say what PostgreSQL should
// hold.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/source.h"
#include "synth/profile.h"

namespace strata::synth {

struct SchemaStatements {
  std::vector<std::string> drop;    // with --replace: what the profile's objects would collide with
  std::vector<std::string> before;  // before the rows; each must succeed
  // After the rows; each one that fails is a warning, not a failed load (a CHECK that the synthetic
  // values break is added NOT VALID on PostgreSQL).
  std::vector<std::string> after;
  // SQLite: a failed statement may leave a half-built index behind (the load runs without a
  // journal), so a unique index is built only when this count of repeated keys is zero.
  struct RepeatCheck {
    std::string table;
    std::vector<std::string> columns;
    std::string count_sql;  // counts the keys that repeat
  };
  std::map<std::string, RepeatCheck> repeats_before;  // statement -> its check
  std::vector<Unsupported> notes;                     // what the target cannot hold
};

// Fails with kUsage for a pair of databases synth does not translate between.
Result<SchemaStatements> SchemaFor(const Profile& profile, Dialect target);

// The table's name in the target: schema-qualified on PostgreSQL, the bare name on SQLite.
std::string TargetName(const TableProfile& table, Dialect target);

}  // namespace strata::synth
