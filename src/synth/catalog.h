// The schema half of a profile, read from the database's catalogs only (no table is scanned):
// tables and their columns, keys, constraints, indexes, partitions, views, enum types, domains and
// the state of the planner's statistics.
//
// PostgreSQL: pg_class, pg_attribute, pg_constraint, pg_index, pg_inherits, pg_type, pg_enum and
// pg_stat_user_tables, with the server's own deparsers (format_type, pg_get_constraintdef,
// pg_get_indexdef, pg_get_expr, pg_get_viewdef), so that what synth recreates is what the server
// says it has. Every schema but the system ones. SQLite: sqlite_schema (the CREATE statements as
// the database keeps them), the table_info / foreign_key_list / index_list pragmas and sqlite_stat1.
//
// What synth cannot recreate (triggers, policies, sub-partitions, materialized views, ...) is named
// in Profile::unsupported, never dropped in silence.
#pragma once

#include "common/status.h"
#include "source/source.h"
#include "synth/profile.h"

namespace strata::synth {

// Fills profile's dialect, tables (schema, columns with types and kinds, constraints, foreign keys,
// indexes, partitions, statistics), views, enums, domains and unsupported. Rows and shapes are left
// for the profiler.
Status ReadCatalog(Source* source, std::chrono::milliseconds statement_timeout, Profile* profile);

// A table's name as SQL writes it: "public"."orders" on PostgreSQL, "orders" on SQLite.
std::string QualifiedName(const std::string& schema, const std::string& name);
std::string Quote(const std::string& identifier);

}  // namespace strata::synth
