// The profile: a statistical portrait of a database that can leave the production network
// (`strata profile` writes it, `strata synth` builds a database from it). docs/profile-format.md
// documents its JSON, "strata-profile/1", field by field.
//
// What it holds: the schema (tables, columns and their types as the catalog spells them, keys,
// constraints, indexes, partitions, enum types and domains), and the shape of the data: rows per
// table, per column the NULLs, distinct values, quantiles of numbers and dates, lengths of text, the
// values of low-cardinality columns; per foreign key the children per parent; per tenant-carrying
// table the rows per tenant; the tenants that matter (the heaviest, and those unusual in a value
// feature) with their own exact figures; and the statistics state (rows the planner's statistics
// were taken at, rows changed since).
//
// What it never holds (privacy): a text value of a column with many distinct values (names,
// e-mail addresses, free text), unless the user names the column (--keep-values). Numbers and
// dates only as quantiles and per-tenant extremes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "source/source.h"
#include "synth/plan_shapes.h"

namespace strata::synth {

inline constexpr const char* kProfileFormat = "strata-profile/1";

// The quantile probabilities of every "quantiles" and "lengths" list, in order.
inline constexpr double kQuantilePoints[] = {0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1};
inline constexpr int kQuantileCount = sizeof(kQuantilePoints) / sizeof(kQuantilePoints[0]);

// How synth makes a column's values (from the catalog's type).
enum class ValueKind {
  kInteger,      // int2/4/8, SQLite INTEGER affinity
  kDecimal,      // numeric(p,s), SQLite NUMERIC/REAL
  kFloat,        // float4/8
  kText,         // text, varchar(n), char(n)
  kBool,         //
  kDate,         // days since 1970-01-01
  kTimestamp,    // seconds since 1970-01-01, no time zone
  kTimestampTz,  // seconds since 1970-01-01 UTC
  kUuid,         //
  kJson,         // json, jsonb
  kArray,        // any array
  kEnum,         // a PostgreSQL enum: its labels are in Profile::enums
  kBytes,        // bytea, BLOB
  kOther,        // anything else: generated NULL when nullable (named in `unsupported`)
};
const char* ValueKindName(ValueKind kind);
ValueKind ValueKindFromName(const std::string& name);

struct ValueCount {
  std::string value;  // as the database prints it
  int64_t rows = 0;
};

struct ColumnProfile {
  std::string name;
  std::string type;       // as the catalog spells it: "character(3)", "public.order_status", "jsonb"
  std::string base_type;  // a domain's base type; else empty
  ValueKind kind = ValueKind::kOther;
  bool nullable = true;
  std::string default_sql;         // a constant default, kept; empty when none (or not reproducible)
  std::string generated_sql;       // PostgreSQL GENERATED ALWAYS AS (...) STORED: not loaded, computed
  std::string identity;            // PostgreSQL identity column: "always" or "by default"; empty: not one
  int max_length = -1;             // varchar(n) / char(n): n
  int scale = -1;                  // numeric(p,s): s
  int64_t nulls = 0;               // rows with NULL
  int64_t negatives = 0;           // numbers: rows below zero
  int64_t zeros = 0;               // numbers: rows equal to zero
  int64_t distinct = -1;           // distinct non-NULL values; -1 when not measured
  std::vector<ValueCount> values;  // every value, when kept (few values, or --keep-values)
  std::string kept;                // why values are kept: "few values", "--keep-values"; empty: not kept
  std::vector<double> quantiles;   // numbers, dates (days), timestamps (seconds): kQuantilePoints
  std::vector<double> lengths;     // text: character lengths at kQuantilePoints
  // Numbers and dates: the smallest and largest value of the tenants that are not kept (the
  // quantiles' ends often belong to one unusual tenant); has_typical_range false when unknown.
  bool has_typical_range = false;
  double typical_min = 0, typical_max = 0;
  // Almost every value differs (an external reference, a code) though no key says so: values are
  // made distinct, and a kept tenant's duplicates (counts "duplicate:" and "fanout:") come back.
  bool near_unique = false;
  // PostgreSQL's pg_stats.correlation: how closely the physical order of the rows follows this
  // column's order (1: appended in order, like an id or a creation time). 0 when unknown.
  double correlation = 0;
};

struct ForeignKeyProfile {
  std::string name;
  std::vector<std::string> columns;
  std::string parent;  // the parent table's name (in the same schema on PostgreSQL: parent_schema)
  std::string parent_schema;
  std::vector<std::string> parent_columns;
  std::string definition;  // PostgreSQL: pg_get_constraintdef; empty for SQLite
  bool declared = true;    // false: implied by a column's name (order_id -> orders.id), not in the schema
  // Children per parent row, zero included: (children, parents) pairs, children ascending. Counts
  // of 16 and more are grouped into powers of two: 16-31 is 16, 32-63 is 32 (the group's smallest).
  std::vector<std::pair<int64_t, int64_t>> fanout;
  int64_t orphans = 0;  // child rows whose key finds no parent (an implied key, or an unchecked one)
};

struct ConstraintProfile {
  std::string name;
  char type = 'c';  // 'p' primary key, 'u' unique, 'c' check, 'x' exclusion
  std::vector<std::string> columns;
  std::string definition;  // PostgreSQL: pg_get_constraintdef ("CHECK ((amount >= 0))")
};

struct IndexProfile {
  std::string name;
  std::string definition;  // PostgreSQL: pg_get_indexdef; SQLite: the CREATE INDEX statement
  bool unique = false;
  bool expression = false;           // on an expression, not only columns
  bool partial = false;              // WHERE ...
  std::vector<std::string> columns;  // the plain columns, in order (empty entries for expressions)
};

struct PartitionProfile {
  std::string schema;
  std::string name;
  std::string bound;  // "FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')", "DEFAULT"
};

// The planner's statistics of a table when it was profiled.
struct StatisticsState {
  bool analyzed = false;
  double analyzed_rows = -1;            // the rows the statistics count (reltuples); -1 never analyzed
  int64_t modified_since_analyze = -1;  // PostgreSQL's n_mod_since_analyze; -1 unknown
  std::string last_analyze;             // ISO time of the last ANALYZE (manual or auto); empty unknown
};

// How a table carries the tenant: a column of its own, or a chain of foreign keys to a table that has
// one. Empty column and path: it does not carry the tenant.
struct TenantLink {
  std::string column;  // the tenant column of this table, when it has one
  // Otherwise the foreign key (by name) whose parent carries the tenant.
  std::string via;
};

struct TableProfile {
  std::string schema;  // PostgreSQL schema; empty for SQLite
  std::string name;
  std::string create_sql;  // SQLite: CREATE TABLE as the database keeps it; empty for PostgreSQL
  int64_t rows = 0;
  std::vector<ColumnProfile> columns;
  std::vector<ConstraintProfile> constraints;  // primary key, unique, check
  std::vector<ForeignKeyProfile> foreign_keys;
  std::vector<IndexProfile> indexes;  // not those that back a constraint
  std::string partition_key;          // "RANGE (created_on)"; empty: not partitioned
  std::vector<PartitionProfile> partitions;
  TenantLink tenant;
  StatisticsState statistics;
  // Rows per tenant over every tenant (zero included), at kQuantilePoints; empty when the table does
  // not carry the tenant.
  std::vector<double> rows_per_tenant;

  const ColumnProfile* Column(const std::string& column) const;
  std::vector<std::string> PrimaryKey() const;
};

struct EnumProfile {
  std::string schema;
  std::string name;
  std::vector<std::string> labels;
};

struct DomainProfile {
  std::string schema;
  std::string name;
  std::string base_type;                 // format_type of the base
  std::vector<std::string> constraints;  // "CHECK ((VALUE >= (0)::numeric))"
  bool not_null = false;
};

// A tenant kept with its own figures: the heaviest, the unusual ones.
struct KeptTenant {
  std::string tenant;                            // its value, as text
  std::vector<std::string> why;                  // "heaviest in orders", "rows of orders with member_id NULL"
  std::map<std::string, int64_t> rows;           // table -> rows
  std::map<std::string, double> estimated_rows;  // table -> the planner's estimate when profiled
  // Per column feature counts: "null:orders.member_id" -> 3, "value:orders.status=disputed" -> 5,
  // "negative:payments.amount" -> 2, "zero:...". Only counts above zero.
  std::map<std::string, int64_t> counts;
  // Per numeric or date column, the tenant's smallest and largest: "orders.total" -> {min, max}.
  std::map<std::string, std::pair<double, double>> range;
  // Per foreign key (child table + "." + key name), the tenant's own children-per-parent pairs.
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> fanout;
};

struct TenantProfile {
  std::string column;   // the tenant column's name in the tables that carry it ("admin_id")
  std::string table;    // the tenant table (its key is the tenant): "admins"; empty when none
  std::string key;      // that table's key column: "id"
  bool integer = true;  // tenant values are integers
  int64_t count = 0;    // tenants in the database
  std::string median;   // the tenant with the median rows in all tables (a typical one)
  // All tenant values when they are integers, as closed ranges [first, last].
  std::vector<std::pair<int64_t, int64_t>> ranges;
};

struct ViewProfile {
  std::string schema;
  std::string name;
  std::string definition;  // PostgreSQL: pg_get_viewdef (the SELECT); SQLite: the CREATE VIEW statement
};

struct Unsupported {
  std::string object;  // "public.orders.tags", "index orders_search_idx"
  std::string what;    // what synth does instead, in a sentence
};

struct Profile {
  std::string dialect;   // "postgres" | "sqlite"
  std::string database;  // the URL without its password
  std::string profiled_at;
  double seconds = 0;
  int queries = 0;
  TenantProfile tenant;
  std::vector<EnumProfile> enums;
  std::vector<DomainProfile> domains;
  std::vector<TableProfile> tables;  // in name order (synth orders them by their keys)
  std::vector<ViewProfile> views;
  std::vector<KeptTenant> tenants;
  std::vector<Unsupported> unsupported;
  // With --project: each report's plan for the kept tenants and the median one (plan_shapes.h).
  std::vector<PlanShape> plans;

  const TableProfile* Table(const std::string& name) const;
};

// JSON, documented in docs/profile-format.md.
std::string ProfileToJson(const Profile& profile);
// origin names the file in messages. Fails with kUsage on anything that is not a strata-profile/1.
Result<Profile> ProfileFromJson(const std::string& text, const std::string& origin);

}  // namespace strata::synth
