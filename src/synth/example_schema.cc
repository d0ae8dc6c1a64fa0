#include "synth/example_schema.h"

#include <stdexcept>

namespace strata::synth {

namespace {

struct ColumnDef {
  const char* name;
  const char* type;  // as declared: Strata maps SQLite's declared types to cell types
  bool not_null;
  const char* references = nullptr;  // "admins (id)"
};

struct TableDef {
  const char* name;
  std::vector<ColumnDef> columns;   // the first is the bigint primary key "id"
  std::vector<const char*> unique;  // column lists: "admin_id, email"
};

const std::vector<TableDef>& Tables() {
  static const std::vector<TableDef> kTables = {
      {"admins",
       {{"id", "bigint", true},
        {"name", "text", true},
        {"plan", "text", true},
        {"profile", "text", true},  // the generator's tenant kind (docs/example.md)
        {"created_at", "timestamp", true}},
       {}},
      {"members",
       {{"id", "bigint", true},
        {"admin_id", "bigint", true, "admins (id)"},
        {"email", "text", true},
        {"display_name", "text", false},
        {"country", "text", false},
        {"joined_on", "date", true},
        {"is_active", "boolean", true}},
       {"admin_id, email"}},
      {"products",
       {{"id", "bigint", true},
        {"admin_id", "bigint", true, "admins (id)"},
        {"sku", "text", true},
        {"name", "text", true},
        {"unit_price", "numeric(12,2)", true}},
       {"admin_id, sku"}},
      {"orders",
       {{"id", "bigint", true},
        {"admin_id", "bigint", true, "admins (id)"},
        {"member_id", "bigint", false, "members (id)"},  // NULL: a guest checkout
        {"ordered_at", "timestamp", true},               // UTC
        {"placed_at", "timestamptz", true},              // the same moment, in the buyer's time zone
        {"status", "text", true},
        {"external_ref", "text", true}},  // the order's number in the shop front; an import may repeat it
       {}},
      {"order_items",
       {{"id", "bigint", true},
        {"order_id", "bigint", true, "orders (id)"},
        {"product_id", "bigint", true, "products (id)"},
        {"quantity", "integer", true},
        {"unit_price", "numeric(12,2)", true}},
       {}},
      {"payments",
       {{"id", "bigint", true},
        {"order_id", "bigint", true, "orders (id)"},
        {"paid_at", "timestamp", true},
        {"amount", "numeric(12,2)", true},
        {"method", "text", false}},
       {}},
      {"refunds",
       {{"id", "bigint", true},
        {"payment_id", "bigint", true, "payments (id)"},
        {"refunded_at", "timestamp", true},
        {"amount", "numeric(12,2)", true},
        {"reason", "text", false}},
       {}},
  };
  return kTables;
}

const char* kIndexes[] = {
    "CREATE INDEX members_admin_id_idx ON members (admin_id)",
    "CREATE INDEX orders_admin_id_ordered_at_idx ON orders (admin_id, ordered_at)",
    "CREATE INDEX orders_member_id_idx ON orders (member_id)",
    "CREATE INDEX orders_admin_id_external_ref_idx ON orders (admin_id, external_ref)",
    "CREATE INDEX order_items_order_id_idx ON order_items (order_id)",
    "CREATE INDEX order_items_product_id_idx ON order_items (product_id)",
    "CREATE INDEX payments_order_id_idx ON payments (order_id)",
    "CREATE INDEX payments_paid_at_idx ON payments (paid_at)",
    "CREATE INDEX refunds_payment_id_idx ON refunds (payment_id)",
};

}  // namespace

std::vector<std::string> SchemaBeforeLoad(Dialect dialect) {
  std::vector<std::string> out;
  const auto& tables = Tables();
  for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
    // No CASCADE: a view or a key of the user's on these tables makes the load fail, not vanish.
    out.push_back(std::string("DROP TABLE IF EXISTS ") + it->name);
  }
  for (const TableDef& t : tables) {
    std::string sql = std::string("CREATE TABLE ") + t.name + " (\n";
    for (size_t k = 0; k < t.columns.size(); ++k) {
      const ColumnDef& c = t.columns[k];
      // In SQLite "integer primary key" is the rowid itself: no second index to fill while loading.
      const bool rowid = dialect == Dialect::kSqlite && k == 0;
      sql += std::string("  ") + c.name + " " + (rowid ? "integer" : c.type) + (c.not_null ? " NOT NULL" : "");
      if (rowid) sql += " PRIMARY KEY";
      if (dialect == Dialect::kSqlite && c.references != nullptr) sql += std::string(" REFERENCES ") + c.references;
      sql += k + 1 < t.columns.size() ? ",\n" : "\n";
    }
    out.push_back(sql + ")");
  }
  return out;
}

std::vector<std::string> SchemaAfterLoad(Dialect dialect) {
  std::vector<std::string> out;
  if (dialect == Dialect::kSqlite) {
    for (const TableDef& t : Tables()) {
      for (const char* u : t.unique) {
        std::string name = std::string(t.name) + "_";
        for (const char* ch = u; *ch != '\0'; ++ch) {
          if (*ch != ' ') name += *ch == ',' ? '_' : *ch;
        }
        name += "_key";
        out.push_back("CREATE UNIQUE INDEX " + name + " ON " + t.name + " (" + u + ")");
      }
    }
  } else {
    for (const TableDef& t : Tables()) {
      std::string sql = std::string("ALTER TABLE ") + t.name + " ADD PRIMARY KEY (id)";
      for (const char* u : t.unique) sql += std::string(", ADD UNIQUE (") + u + ")";
      for (const ColumnDef& c : t.columns) {
        if (c.references != nullptr)
          sql += std::string(", ADD FOREIGN KEY (") + c.name + ") REFERENCES " + c.references;
      }
      out.push_back(sql);
    }
  }
  for (const char* index : kIndexes) out.emplace_back(index);
  return out;
}

std::vector<std::string> ExampleTables() {
  std::vector<std::string> names;
  for (const TableDef& t : Tables()) names.emplace_back(t.name);
  return names;
}

std::vector<std::string> ColumnsOf(const std::string& table) {
  for (const TableDef& t : Tables()) {
    if (table == t.name) {
      std::vector<std::string> names;
      for (const ColumnDef& c : t.columns) names.emplace_back(c.name);
      return names;
    }
  }
  return {};  // not an example table
}

}  // namespace strata::synth
