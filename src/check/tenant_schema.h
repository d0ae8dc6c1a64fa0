// Where the tenant lives: which tables a report reads carry the tenant, how, and which of their
// columns the report reads.
//
// A table carries the tenant directly, through a tenant column (one named like the tenant parameter,
// or compared with it in the report: "o.owner = :admin_id"), or through a chain of foreign keys (at
// most three) to a table that has one: order_items -> orders.admin_id, refunds -> payments ->
// orders.admin_id. Foreign keys are the declared ones (single-column), and, for a column with no
// declared key, the one its name implies: "order_id" -> a table "order" or "orders" ("box_id" ->
// "boxes", "company_id" -> "companies") with a unique "id". Real schemas often leave their keys
// undeclared. A table's tenant column is the one named like the tenant parameter; failing that, a
// column compared with the parameter that is not unique in the table (in "a.id = :account", the id
// of every other table is not the tenant). Views carry the tenant only through a tenant column.
//
// The columns a report reads are the columns of those tables whose names are among the report's
// words (both versions'): an over-approximation that costs a few aggregates and never misses a
// predicate, a join key, a CASE / FILTER / IN operand, a grouped or aggregated column. A read column
// is a join key when the report compares it with another column ("a.x = b.y", USING (x)).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "report/sql_params.h"
#include "source/source.h"

namespace strata::check {

// A column's kind of values, from the catalog (PostgreSQL's pg_type.typcategory; SQLite's declared
// type by its affinity rules).
enum class ColumnKind { kNumber, kText, kDate, kBool, kEnum, kOther };

struct ColumnInfo {
  std::string name;  // as the catalog spells it
  ColumnKind kind = ColumnKind::kOther;
  bool nullable = true;
  bool unique = false;    // a one-column primary key or unique index (no two rows share a value)
  bool primary = false;   // the table's one-column primary key
  bool join_key = false;  // compared with another column in the report
  // The foreign key this column is, if any: the parent table (as SQL names it) and column.
  std::string parent_table;
  std::string parent_name;  // lower-case
  std::string parent_column;
  bool parent_unique = false;  // the parent column is unique: an orphan check is exact
  bool declared = false;       // the key is declared (else implied by the column's name)
};

// One step of the way from a table to its tenant: this table's column -> the parent's column.
struct TenantStep {
  std::string column;
  std::string parent_table;  // as SQL names it
  std::string parent_column;
};

struct TenantCarrier {
  std::string table;  // as SQL names it: "public.orders", "\"orders\""
  std::string name;   // lower-case: "orders"
  // The tenant column of the last table of the path (of this table when the path is empty).
  std::string tenant_column;
  std::vector<TenantStep> path;     // empty when this table has the tenant column itself
  std::vector<ColumnInfo> columns;  // the columns the report reads, but the tenant column
};

// The tables among the report's words that carry the tenant, each with the columns it reads.
// sql: both versions' texts and words together.
Result<std::vector<TenantCarrier>> MapTenantCarriers(Source* source, const ParsedSql& sql,
                                                     const std::vector<std::string>& tenant_columns);

// The lower-cased column names the report compares with another column: "a.x = b.y" gives x and y,
// "USING (x, y)" gives x and y.
std::vector<std::string> JoinKeyNames(const std::string& sql_text);

// A name as a quoted SQL identifier: "x" with any '"' doubled.
std::string QuoteIdentifier(const std::string& name);

}  // namespace strata::check
