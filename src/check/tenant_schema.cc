#include "check/tenant_schema.h"

#include <algorithm>
#include <deque>
#include <map>
#include <regex>
#include <set>

namespace strata::check {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1), with dates and booleans told apart
// by their declared names, as Strata's SQLite source does.
ColumnKind SqliteKind(const std::string& declared) {
  const std::string t = Lower(declared);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("bool")) return ColumnKind::kBool;
  if (has("date") || has("time")) return ColumnKind::kDate;
  if (has("int")) return ColumnKind::kNumber;
  if (has("char") || has("clob") || has("text")) return ColumnKind::kText;
  if (has("real") || has("floa") || has("doub") || has("num") || has("dec")) return ColumnKind::kNumber;
  return ColumnKind::kOther;
}

ColumnKind PostgresKind(const std::string& category) {
  if (category == "N") return ColumnKind::kNumber;
  if (category == "S") return ColumnKind::kText;
  if (category == "D") return ColumnKind::kDate;
  if (category == "B") return ColumnKind::kBool;
  if (category == "E") return ColumnKind::kEnum;
  return ColumnKind::kOther;
}

struct Table {
  std::string table;  // as SQL names it
  bool view = false;  // a view: no keys, no path through it
  std::vector<ColumnInfo> columns;
};

// Every table the connection sees, by lower-case name, with its columns (no keys yet).
Result<std::map<std::string, Table>> ReadColumns(Source* source) {
  std::string sql;
  if (source->dialect() == Dialect::kPostgres) {
    sql =
        // A domain has its base type's category; of the numbers, only those with the usual
        // arithmetic (not money, oid, reg*) count as numbers.
        "SELECT format('%I.%I', n.nspname, c.relname), lower(c.relname), a.attname, "
        "CASE WHEN b.typcategory = 'N' AND b.oid NOT IN (20, 21, 23, 700, 701, 1700) THEN 'X' "
        "ELSE b.typcategory::text END, "
        "CASE WHEN a.attnotnull THEN 0 ELSE 1 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND "
        "i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL) THEN 1 ELSE 0 END, "
        "CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND "
        "i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) THEN 1 ELSE 0 END, "
        "CASE WHEN c.relkind = 'v' THEN 1 ELSE 0 END "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid "
        "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
        "WHERE c.relkind IN ('r', 'p', 'm', 'v') AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_table_is_visible(c.oid) AND NOT c.relispartition ORDER BY 2, a.attnum";
  } else {
    sql =
        "SELECT '\"' || replace(m.name, '\"', '\"\"') || '\"', lower(m.name), p.name, p.type, "
        "CASE WHEN p.\"notnull\" = 0 AND p.pk = 0 THEN 1 ELSE 0 END, "
        "CASE WHEN (p.pk = 1 AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) = 1) "
        "OR EXISTS (SELECT 1 FROM pragma_index_list(m.name) il WHERE il.\"unique\" = 1 AND il.partial = 0 "
        "AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1 "
        "AND (SELECT ii.name FROM pragma_index_info(il.name) ii) = p.name) THEN 1 ELSE 0 END, "
        "CASE WHEN p.pk = 1 AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) = 1 "
        "THEN 1 ELSE 0 END, "
        "CASE WHEN m.type = 'view' THEN 1 ELSE 0 END "
        "FROM sqlite_schema m JOIN pragma_table_info(m.name) p "
        "WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%' ORDER BY 2, p.cid";
  }
  auto rows = QueryText(source, sql, {}, "the catalog (columns)");
  if (!rows.ok()) return rows.status();
  std::map<std::string, Table> out;
  for (const TextRow& r : *rows) {
    Table& t = out[r[1].value_or("")];
    t.table = r[0].value_or("");
    ColumnInfo c;
    c.name = r[2].value_or("");
    c.kind = source->dialect() == Dialect::kPostgres ? PostgresKind(r[3].value_or("")) : SqliteKind(r[3].value_or(""));
    c.nullable = r[4].value_or("1") == "1";
    c.unique = r[5].value_or("0") == "1";
    c.primary = r[6].value_or("0") == "1";
    t.view = r[7].value_or("0") == "1";
    t.columns.push_back(std::move(c));
  }
  return out;
}

// Declared single-column foreign keys: (child lower-case, child column) -> (parent lower-case, column).
using Keys = std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>>;

Result<Keys> ReadForeignKeys(Source* source, const std::map<std::string, Table>& tables) {
  std::string sql;
  if (source->dialect() == Dialect::kPostgres) {
    sql =
        "SELECT lower(cl.relname), a.attname, lower(pc.relname), pa.attname "
        "FROM pg_constraint k JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_class pc ON pc.oid = k.confrelid "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
        "JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1] "
        "WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND pg_table_is_visible(cl.oid)";
  } else {
    sql =
        "SELECT lower(m.name), f.\"from\", lower(f.\"table\"), coalesce(f.\"to\", '') "
        "FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
        "AND (SELECT count(*) FROM pragma_foreign_key_list(m.name) g WHERE g.id = f.id) = 1";
  }
  auto rows = QueryText(source, sql, {}, "the catalog (foreign keys)");
  if (!rows.ok()) return rows.status();
  Keys out;
  for (const TextRow& r : *rows) {
    const std::string parent = r[2].value_or("");
    std::string to = r[3].value_or("");
    auto p = tables.find(parent);
    if (p == tables.end()) continue;
    if (to.empty()) {  // SQLite: REFERENCES parent, without a column, names its primary key
      for (const ColumnInfo& c : p->second.columns) {
        if (c.primary) to = c.name;
      }
    }
    if (!to.empty()) out[{r[0].value_or(""), Lower(r[1].value_or(""))}] = {parent, to};
  }
  return out;
}

// The parent a column's name implies: "order_id" -> orders.id (a table whose "id" is unique).
bool ImpliedParent(const std::map<std::string, Table>& tables, const std::string& column, std::string* parent,
                   std::string* parent_column) {
  const std::string c = Lower(column);
  if (c.size() <= 3 || c.compare(c.size() - 3, 3, "_id") != 0) return false;
  const std::string base = c.substr(0, c.size() - 3);
  std::vector<std::string> names = {base, base + "s", base + "es"};
  if (base.back() == 'y') names.push_back(base.substr(0, base.size() - 1) + "ies");  // company -> companies
  for (const std::string& n : names) {
    auto t = tables.find(n);
    if (t == tables.end() || t->second.view) continue;
    for (const ColumnInfo& col : t->second.columns) {
      if (Lower(col.name) == "id" && col.unique) {
        *parent = n;
        *parent_column = col.name;
        return true;
      }
    }
  }
  return false;
}

const ColumnInfo* FindColumn(const Table& t, const std::string& lower_name) {
  for (const ColumnInfo& c : t.columns) {
    if (Lower(c.name) == lower_name) return &c;
  }
  return nullptr;
}

// Fills every column's foreign key, declared or implied.
void AttachKeys(std::map<std::string, Table>* tables, const Keys& declared) {
  for (auto& [name, t] : *tables) {
    if (t.view) continue;
    for (ColumnInfo& c : t.columns) {
      std::string parent, parent_column;
      auto k = declared.find({name, Lower(c.name)});
      if (k != declared.end()) {
        parent = k->second.first;
        parent_column = k->second.second;
        c.declared = true;
      } else if (!ImpliedParent(*tables, c.name, &parent, &parent_column)) {
        continue;
      }
      if (parent == name && Lower(parent_column) == Lower(c.name)) continue;
      const Table& p = tables->at(parent);
      const ColumnInfo* pc = FindColumn(p, Lower(parent_column));
      c.parent_table = p.table;
      c.parent_name = parent;
      c.parent_column = pc != nullptr ? pc->name : parent_column;
      c.parent_unique = pc != nullptr && pc->unique;
    }
  }
}

// The table's tenant column, if any: the one named like the parameter (tenant_columns[0]), else
// another compared with it: for this table ("orders.owner"), or unqualified and not unique here.
const ColumnInfo* TenantColumnOf(const std::string& name, const Table& t,
                                 const std::vector<std::string>& tenant_columns) {
  for (size_t k = 0; k < tenant_columns.size(); ++k) {
    const std::string& wanted = tenant_columns[k];
    const size_t dot = wanted.find('.');
    if (dot != std::string::npos && wanted.compare(0, dot, name) != 0) continue;
    const std::string column = dot == std::string::npos ? wanted : wanted.substr(dot + 1);
    for (const ColumnInfo& c : t.columns) {
      if (Lower(c.name) == column && (k == 0 || dot != std::string::npos || !c.unique)) return &c;
    }
  }
  return nullptr;
}

// The shortest chain of foreign keys (at most three) from a table to one with a tenant column.
bool PathToTenant(const std::map<std::string, Table>& tables, const std::string& start,
                  const std::vector<std::string>& tenant_columns, std::vector<TenantStep>* path,
                  std::string* tenant_column) {
  struct Node {
    std::string table;
    std::vector<TenantStep> path;
  };
  std::deque<Node> queue{{start, {}}};
  std::set<std::string> seen{start};
  while (!queue.empty()) {
    Node n = queue.front();
    queue.pop_front();
    const Table& t = tables.at(n.table);
    if (const ColumnInfo* c = TenantColumnOf(n.table, t, tenant_columns)) {
      *path = n.path;
      *tenant_column = c->name;
      return true;
    }
    if (n.path.size() >= 3 || t.view) continue;
    for (const ColumnInfo& c : t.columns) {
      if (c.parent_name.empty() || !c.parent_unique || !seen.insert(c.parent_name).second) continue;
      Node next{c.parent_name, n.path};
      next.path.push_back({c.name, c.parent_table, c.parent_column});
      queue.push_back(std::move(next));
    }
  }
  return false;
}

}  // namespace

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::string> JoinKeyNames(const std::string& sql_text) {
  static const std::regex compared(
      "[A-Za-z_][A-Za-z0-9_]*\\.([A-Za-z_][A-Za-z0-9_]*)\\s*(?:=|<>|!=)\\s*[A-Za-z_][A-Za-z0-9_]*\\.([A-Za-z_][A-Za-z0-"
      "9_]*)");
  static const std::regex using_list("\\b[Uu][Ss][Ii][Nn][Gg]\\s*\\(([^)]*)\\)");
  static const std::regex word("[A-Za-z_][A-Za-z0-9_]*");
  std::vector<std::string> out;
  auto add = [&](const std::string& w) {
    if (!Contains(out, Lower(w))) out.push_back(Lower(w));
  };
  for (auto it = std::sregex_iterator(sql_text.begin(), sql_text.end(), compared); it != std::sregex_iterator(); ++it) {
    add((*it)[1].str());
    add((*it)[2].str());
  }
  for (auto it = std::sregex_iterator(sql_text.begin(), sql_text.end(), using_list); it != std::sregex_iterator();
       ++it) {
    const std::string inside = (*it)[1].str();
    for (auto w = std::sregex_iterator(inside.begin(), inside.end(), word); w != std::sregex_iterator(); ++w) {
      add(w->str());
    }
  }
  return out;
}

Result<std::vector<TenantCarrier>> MapTenantCarriers(Source* source, const ParsedSql& sql,
                                                     const std::vector<std::string>& tenant_columns) {
  auto tables = ReadColumns(source);
  if (!tables.ok()) return tables.status();
  auto keys = ReadForeignKeys(source, *tables);
  if (!keys.ok()) return keys.status();
  AttachKeys(&*tables, *keys);
  const std::vector<std::string> join_keys = JoinKeyNames(sql.text);
  std::vector<TenantCarrier> out;
  for (const auto& [name, t] : *tables) {
    if (!Contains(sql.words, name)) continue;
    TenantCarrier carrier;
    if (!PathToTenant(*tables, name, tenant_columns, &carrier.path, &carrier.tenant_column)) continue;
    carrier.table = t.table;
    carrier.name = name;
    for (const ColumnInfo& c : t.columns) {
      const std::string lower = Lower(c.name);
      if (!Contains(sql.words, lower)) continue;
      if (carrier.path.empty() && c.name == carrier.tenant_column) continue;
      ColumnInfo read = c;
      read.join_key = Contains(join_keys, lower);
      carrier.columns.push_back(std::move(read));
    }
    out.push_back(std::move(carrier));
  }
  return out;
}

}  // namespace strata::check
