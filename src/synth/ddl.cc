#include "synth/ddl.h"

#include <algorithm>

#include "synth/catalog.h"

namespace strata::synth {

namespace {

std::string Literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string ColumnList(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + Quote(c);
  return out;
}

// --- PostgreSQL -> PostgreSQL ----------------------------------------------------------------------

void PostgresTypes(const Profile& p, SchemaStatements* s) {
  std::vector<std::string> schemas;
  auto add_schema = [&](const std::string& name) {
    if (name.empty() || name == "public" || std::find(schemas.begin(), schemas.end(), name) != schemas.end()) return;
    schemas.push_back(name);
    s->before.push_back("CREATE SCHEMA IF NOT EXISTS " + Quote(name));
  };
  for (const TableProfile& t : p.tables) add_schema(t.schema);
  for (const EnumProfile& e : p.enums) {
    add_schema(e.schema);
    std::string labels;
    for (const std::string& l : e.labels) labels += (labels.empty() ? "" : ", ") + Literal(l);
    s->drop.push_back("DROP TYPE IF EXISTS " + QualifiedName(e.schema, e.name) + " CASCADE");
    s->before.push_back("CREATE TYPE " + QualifiedName(e.schema, e.name) + " AS ENUM (" + labels + ")");
  }
  for (const DomainProfile& d : p.domains) {
    add_schema(d.schema);
    std::string sql = "CREATE DOMAIN " + QualifiedName(d.schema, d.name) + " AS " + d.base_type;
    if (d.not_null) sql += " NOT NULL";
    for (const std::string& c : d.constraints) sql += " " + c;
    s->drop.push_back("DROP DOMAIN IF EXISTS " + QualifiedName(d.schema, d.name) + " CASCADE");
    s->before.push_back(sql);
  }
}

std::string PostgresColumn(const ColumnProfile& c) {
  std::string sql = Quote(c.name) + " " + c.type;
  if (!c.generated_sql.empty()) return sql + " GENERATED ALWAYS AS (" + c.generated_sql + ") STORED";
  if (!c.default_sql.empty()) sql += " DEFAULT " + c.default_sql;
  if (!c.nullable) sql += " NOT NULL";
  return sql;
}

void PostgresTables(const Profile& p, SchemaStatements* s) {
  for (const TableProfile& t : p.tables) {
    std::string sql = "CREATE TABLE " + QualifiedName(t.schema, t.name) + " (";
    for (size_t k = 0; k < t.columns.size(); ++k) sql += (k ? ", " : "") + PostgresColumn(t.columns[k]);
    sql += ")";
    if (!t.partition_key.empty()) sql += " PARTITION BY " + t.partition_key;
    s->drop.push_back("DROP TABLE IF EXISTS " + QualifiedName(t.schema, t.name) + " CASCADE");
    s->before.push_back(sql);
    for (const PartitionProfile& part : t.partitions) {
      s->before.push_back("CREATE TABLE " + QualifiedName(part.schema, part.name) + " PARTITION OF " +
                          QualifiedName(t.schema, t.name) + " " + part.bound);
    }
  }
}

void PostgresAfterLoad(const Profile& p, SchemaStatements* s) {
  auto add = [&](const TableProfile& t, const std::string& name, const std::string& definition) {
    s->after.push_back("ALTER TABLE " + QualifiedName(t.schema, t.name) + " ADD CONSTRAINT " + Quote(name) + " " +
                       definition);
  };
  for (const TableProfile& t : p.tables) {
    for (const ConstraintProfile& c : t.constraints) {
      if (c.type == 'p' || c.type == 'u') add(t, c.name, c.definition);
    }
  }
  for (const TableProfile& t : p.tables) {
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (k.declared) add(t, k.name, k.definition);
    }
    for (const ConstraintProfile& c : t.constraints) {
      if (c.type == 'c' || c.type == 'x') add(t, c.name, c.definition);
    }
    for (const IndexProfile& i : t.indexes) s->after.push_back(i.definition);
  }
  for (const ViewProfile& v : p.views) {
    s->drop.insert(s->drop.begin(), "DROP VIEW IF EXISTS " + QualifiedName(v.schema, v.name) + " CASCADE");
    s->after.push_back("CREATE VIEW " + QualifiedName(v.schema, v.name) + " AS " + v.definition);
  }
}

// --- PostgreSQL -> SQLite --------------------------------------------------------------------------

std::string SqliteType(const ColumnProfile& c) {
  switch (c.kind) {
    case ValueKind::kInteger: return "INTEGER";
    case ValueKind::kDecimal: return "NUMERIC";
    case ValueKind::kFloat: return "REAL";
    case ValueKind::kBool: return "BOOLEAN";
    case ValueKind::kDate: return "DATE";
    case ValueKind::kTimestamp: return "TIMESTAMP";
    case ValueKind::kTimestampTz: return "TIMESTAMPTZ";
    case ValueKind::kBytes: return "BLOB";
    default: return "TEXT";  // text, uuid, json, arrays, enums
  }
}

void SqliteFromPostgres(const Profile& p, SchemaStatements* s) {
  for (const TableProfile& t : p.tables) {
    std::string sql = "CREATE TABLE " + Quote(t.name) + " (";
    for (size_t k = 0; k < t.columns.size(); ++k) {
      const ColumnProfile& c = t.columns[k];
      sql += (k ? ", " : "") + Quote(c.name) + " " + SqliteType(c) + (c.nullable ? "" : " NOT NULL");
    }
    for (const ConstraintProfile& c : t.constraints) {
      if (c.type == 'p') sql += ", PRIMARY KEY (" + ColumnList(c.columns) + ")";
      if (c.type == 'u') sql += ", UNIQUE (" + ColumnList(c.columns) + ")";
      if (c.type == 'c' || c.type == 'x') {
        s->notes.push_back({t.name + " constraint " + c.name, "not carried to SQLite (" + c.definition + ")"});
      }
    }
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (!k.declared) continue;
      sql += ", FOREIGN KEY (" + ColumnList(k.columns) + ") REFERENCES " + Quote(k.parent) + " (" +
             ColumnList(k.parent_columns) + ")";
    }
    s->before.push_back(sql + ")");
    if (!t.partition_key.empty()) {
      s->notes.push_back({t.name, "partitioned by " + t.partition_key + ": one plain table in SQLite"});
    }
    for (const IndexProfile& i : t.indexes) {
      if (i.expression || i.partial) {
        s->notes.push_back({"index " + i.name, "not carried to SQLite (" + i.definition + ")"});
        continue;
      }
      s->after.push_back(std::string("CREATE ") + (i.unique ? "UNIQUE " : "") + "INDEX " + Quote(i.name) + " ON " +
                         Quote(t.name) + " (" + ColumnList(i.columns) + ")");
    }
  }
  for (const ViewProfile& v : p.views) {
    s->notes.push_back({"view " + v.name, "PostgreSQL's SQL: not carried to SQLite"});
  }
}

// --- SQLite -> SQLite ------------------------------------------------------------------------------

void SqliteFromSqlite(const Profile& p, SchemaStatements* s) {
  for (const TableProfile& t : p.tables) {
    s->before.push_back(t.create_sql);
    for (const IndexProfile& i : t.indexes) {
      if (!i.definition.empty()) s->after.push_back(i.definition);
    }
  }
  for (const ViewProfile& v : p.views) s->after.push_back(v.definition);
}

}  // namespace

std::string TargetName(const TableProfile& table, Dialect target) {
  return target == Dialect::kPostgres ? QualifiedName(table.schema, table.name) : Quote(table.name);
}

Result<SchemaStatements> SchemaFor(const Profile& profile, Dialect target) {
  SchemaStatements s;
  if (profile.dialect == "sqlite" && target == Dialect::kPostgres) {
    return Status::Usage(
        "a profile of a SQLite database is synthesized into SQLite only (its types are too loose "
        "to say what PostgreSQL should hold)");
  }
  if (target == Dialect::kPostgres) {
    PostgresTypes(profile, &s);
    PostgresTables(profile, &s);
    PostgresAfterLoad(profile, &s);
  } else if (profile.dialect == "postgres") {
    SqliteFromPostgres(profile, &s);
  } else {
    SqliteFromSqlite(profile, &s);
  }
  // Views, then tables, then the types their columns used.
  std::stable_partition(s.drop.begin(), s.drop.end(),
                        [](const std::string& d) { return d.rfind("DROP VIEW", 0) == 0; });
  std::stable_partition(s.drop.begin(), s.drop.end(), [](const std::string& d) {
    return d.rfind("DROP TYPE", 0) != 0 && d.rfind("DROP DOMAIN", 0) != 0;
  });
  return s;
}

}  // namespace strata::synth
