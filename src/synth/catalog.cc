#include "synth/catalog.h"

#include <algorithm>
#include <map>

namespace strata::synth {

std::string Quote(const std::string& identifier) {
  std::string out = "\"";
  for (char c : identifier) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string QualifiedName(const std::string& schema, const std::string& name) {
  return schema.empty() ? Quote(name) : Quote(schema) + "." + Quote(name);
}

namespace {

constexpr char kSep = '\x1f';  // joins lists inside one catalog cell

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

std::vector<std::string> Split(const std::optional<std::string>& cell) {
  std::vector<std::string> out;
  if (!cell || cell->empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t end = cell->find(kSep, start);
    out.push_back(cell->substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::string Cell(const TextRow& row, size_t k) {
  return k < row.size() ? row[k].value_or("") : "";
}

// "character varying(40)" -> 40, "numeric(12,2)" -> scale 2.
void TypeModifiers(const std::string& type, ColumnProfile* c) {
  const size_t open = type.find('(');
  if (open == std::string::npos) return;
  const std::string inside = type.substr(open + 1, type.find(')', open) - open - 1);
  const size_t comma = inside.find(',');
  if (c->kind == ValueKind::kText) c->max_length = std::atoi(inside.c_str());
  if (c->kind == ValueKind::kDecimal) c->scale = comma == std::string::npos ? 0 : std::atoi(inside.c_str() + comma + 1);
}

// --- PostgreSQL ----------------------------------------------------------------------------------

ValueKind PostgresKind(const std::string& base, const std::string& typtype, const std::string& category) {
  if (typtype == "e") return ValueKind::kEnum;
  if (category == "A") return ValueKind::kArray;
  if (base == "int2" || base == "int4" || base == "int8") return ValueKind::kInteger;
  if (base == "numeric") return ValueKind::kDecimal;
  if (base == "float4" || base == "float8") return ValueKind::kFloat;
  if (base == "text" || base == "varchar" || base == "bpchar" || base == "name" || base == "citext") {
    return ValueKind::kText;
  }
  if (base == "bool") return ValueKind::kBool;
  if (base == "date") return ValueKind::kDate;
  if (base == "timestamp") return ValueKind::kTimestamp;
  if (base == "timestamptz") return ValueKind::kTimestampTz;
  if (base == "uuid") return ValueKind::kUuid;
  if (base == "json" || base == "jsonb") return ValueKind::kJson;
  if (base == "bytea") return ValueKind::kBytes;
  return ValueKind::kOther;
}

constexpr const char* kUserSchemas =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
    "AND n.nspname NOT LIKE 'pg_temp%'";

struct Reader {
  Source* source;
  std::chrono::milliseconds timeout;
  Profile* profile;
  std::map<std::string, size_t> by_oid;  // table oid -> index in profile->tables

  Result<std::vector<TextRow>> Query(const std::string& sql, const std::string& what) {
    return QueryText(source, sql, {}, "the catalog (" + what + ")", timeout);
  }
  TableProfile* TableOf(const TextRow& row) {
    auto it = by_oid.find(Cell(row, 0));
    return it == by_oid.end() ? nullptr : &profile->tables[it->second];
  }
  void Note(std::string object, std::string what) {
    profile->unsupported.push_back({std::move(object), std::move(what)});
  }
};

Status PostgresTables(Reader* r) {
  // Partitioned tables: their partitions' statistics summed (the parent's own are for the tree).
  auto rows = r->Query(
      "SELECT c.oid, n.nspname, c.relname, coalesce(pg_get_partkeydef(c.oid), ''), "
      "CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(l.reltuples, 0)) FROM pg_partition_tree(c.oid) t "
      "JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) ELSE c.reltuples END, "
      "CASE WHEN c.relkind = 'p' THEN (SELECT sum(s2.n_mod_since_analyze) FROM pg_partition_tree(c.oid) t "
      "JOIN pg_stat_user_tables s2 ON s2.relid = t.relid) ELSE s.n_mod_since_analyze END, "
      "greatest(s.last_analyze, s.last_autoanalyze)::text, "
      "CASE WHEN c.relkind = 'p' THEN (SELECT bool_and(l.reltuples >= 0) FROM pg_partition_tree(c.oid) t "
      "JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) ELSE c.reltuples >= 0 END "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
      "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND " +
          std::string(kUserSchemas) + " ORDER BY n.nspname, c.relname",
      "tables");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile t;
    t.schema = Cell(row, 1);
    t.name = Cell(row, 2);
    t.partition_key = Cell(row, 3);
    t.statistics.analyzed = Cell(row, 7) == "true" || Cell(row, 7) == "t" || Cell(row, 7) == "1";
    t.statistics.analyzed_rows = t.statistics.analyzed ? std::atof(Cell(row, 4).c_str()) : -1;
    t.statistics.modified_since_analyze = row[5] ? std::atoll(row[5]->c_str()) : -1;
    t.statistics.last_analyze = Cell(row, 6);
    r->by_oid[Cell(row, 0)] = r->profile->tables.size();
    r->profile->tables.push_back(std::move(t));
  }
  return Status::Ok();
}

Status PostgresColumns(Reader* r) {
  auto rows = r->Query(
      "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), t.typtype, "
      "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END, "
      "b.typname, b.typcategory::text, b.typtype::text, a.attnotnull, "
      "coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attgenerated::text, a.attidentity::text "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_type t ON t.oid = a.atttypid "
      "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND " +
          std::string(kUserSchemas) + " ORDER BY a.attrelid, a.attnum",
      "columns");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile* t = r->TableOf(row);
    if (t == nullptr) continue;
    ColumnProfile c;
    c.name = Cell(row, 1);
    c.type = Cell(row, 2);
    c.base_type = Cell(row, 4);
    c.kind = PostgresKind(Cell(row, 5), Cell(row, 7), Cell(row, 6));
    if (Cell(row, 3) == "e") c.kind = ValueKind::kEnum;
    c.nullable = !(Cell(row, 8) == "true" || Cell(row, 8) == "t" || Cell(row, 8) == "1");
    TypeModifiers(c.base_type.empty() ? c.type : c.base_type, &c);
    const std::string def = Cell(row, 9);
    if (Cell(row, 11) == "a") c.identity = "always";
    if (Cell(row, 11) == "d") c.identity = "by default";
    if (Cell(row, 10) == "s") {
      c.generated_sql = def;
    } else if (def.find("nextval(") != std::string::npos) {
      r->Note(t->schema + "." + t->name + "." + c.name,
              "its default (" + def + ") is not recreated: synth writes every value itself");
    } else if (!def.empty() && def.find('(') == std::string::npos) {
      c.default_sql = def;  // a constant: 0, 'new'::text, true
    } else if (!def.empty()) {
      c.default_sql = def;  // now(), gen_random_uuid(): the server's own functions
    }
    if (c.kind == ValueKind::kOther) {
      r->Note(t->schema + "." + t->name + "." + c.name,
              "type " + c.type + " is not one synth fills: its values are NULL (or the default)");
    }
    t->columns.push_back(std::move(c));
  }
  return Status::Ok();
}

Status PostgresConstraints(Reader* r) {
  const std::string sep = "chr(31)";
  auto rows = r->Query(
      "SELECT k.conrelid, k.conname, k.contype::text, pg_get_constraintdef(k.oid), "
      "(SELECT string_agg(a.attname, " +
          sep +
          " ORDER BY u.o) FROM unnest(k.conkey) WITH ORDINALITY u(n, o) "
          "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n), "
          "pn.nspname, pc.relname, "
          "(SELECT string_agg(a.attname, " +
          sep +
          " ORDER BY u.o) FROM unnest(k.confkey) WITH ORDINALITY u(n, o) "
          "JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n) "
          "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
          "LEFT JOIN pg_class pc ON pc.oid = k.confrelid LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
          "WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND " +
          std::string(kUserSchemas) + " ORDER BY k.conrelid, k.contype DESC, k.conname",
      "constraints");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile* t = r->TableOf(row);
    if (t == nullptr) continue;
    const char type = Cell(row, 2).empty() ? 'c' : Cell(row, 2)[0];
    if (type == 'f') {
      ForeignKeyProfile k;
      k.name = Cell(row, 1);
      k.definition = Cell(row, 3);
      k.columns = Split(row[4]);
      k.parent_schema = Cell(row, 5);
      k.parent = Cell(row, 6);
      k.parent_columns = Split(row[7]);
      t->foreign_keys.push_back(std::move(k));
      continue;
    }
    t->constraints.push_back({Cell(row, 1), type, Split(row[4]), Cell(row, 3)});
  }
  return Status::Ok();
}

Status PostgresIndexes(Reader* r) {
  auto rows = r->Query(
      "SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indexprs IS NOT NULL, "
      "i.indpred IS NOT NULL, (SELECT string_agg(coalesce(a.attname, ''), chr(31) ORDER BY u.o) "
      "FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(n, o) LEFT JOIN pg_attribute a "
      "ON a.attrelid = i.indrelid AND a.attnum = u.n AND u.n > 0 WHERE u.o <= i.indnkeyatts) "
      "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', "
      "'x')) "
      "AND " +
          std::string(kUserSchemas) + " ORDER BY i.indrelid, ic.relname",
      "indexes");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile* t = r->TableOf(row);
    if (t == nullptr) continue;
    auto yes = [](const std::string& v) { return v == "true" || v == "t" || v == "1"; };
    IndexProfile x;
    x.name = Cell(row, 1);
    x.definition = Cell(row, 2);
    // A partitioned table's index deparses as "ON ONLY t": built that way it would cover no partition.
    const size_t only = x.definition.find(" ON ONLY ");
    if (only != std::string::npos) x.definition.erase(only + 3, 5);
    x.unique = yes(Cell(row, 3));
    x.expression = yes(Cell(row, 4));
    x.partial = yes(Cell(row, 5));
    x.columns = Split(row[6]);
    t->indexes.push_back(std::move(x));
  }
  return Status::Ok();
}

Status PostgresPartitions(Reader* r) {
  auto rows = r->Query(
      "SELECT h.inhparent, n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid), c.relkind::text "
      "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relispartition AND c.relkind IN ('r', 'p') ORDER BY h.inhparent, c.relname",
      "partitions");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile* t = r->TableOf(row);
    if (t == nullptr) {
      if (Cell(row, 4) != "i") {
        r->Note(Cell(row, 1) + "." + Cell(row, 2),
                "a partition of a partition: not recreated (its rows go to its parent)");
      }
      continue;
    }
    if (Cell(row, 4) == "p") {
      r->Note(Cell(row, 1) + "." + Cell(row, 2),
              "partitioned again: recreated as a plain partition (its sub-partitions are not)");
    }
    t->partitions.push_back({Cell(row, 1), Cell(row, 2), Cell(row, 3)});
  }
  return Status::Ok();
}

Status PostgresTypes(Reader* r) {
  auto enums = r->Query(
      "SELECT n.nspname, t.typname, string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder) "
      "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
      "WHERE " +
          std::string(kUserSchemas) + " GROUP BY n.nspname, t.typname ORDER BY 1, 2",
      "enum types");
  if (!enums.ok()) return enums.status();
  for (const TextRow& row : *enums) r->profile->enums.push_back({Cell(row, 0), Cell(row, 1), Split(row[2])});
  auto domains = r->Query(
      "SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, "
      "(SELECT string_agg(pg_get_constraintdef(k.oid), chr(31) ORDER BY k.conname) FROM pg_constraint k "
      "WHERE k.contypid = t.oid) "
      "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND " +
          std::string(kUserSchemas) + " ORDER BY 1, 2",
      "domains");
  if (!domains.ok()) return domains.status();
  for (const TextRow& row : *domains) {
    const std::string nn = Cell(row, 3);
    r->profile->domains.push_back(
        {Cell(row, 0), Cell(row, 1), Cell(row, 2), Split(row[4]), nn == "true" || nn == "t" || nn == "1"});
  }
  return Status::Ok();
}

Status PostgresViewsAndOthers(Reader* r) {
  auto views = r->Query(
      "SELECT n.nspname, c.relname, pg_get_viewdef(c.oid), c.relkind::text FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND " +
          std::string(kUserSchemas) + " ORDER BY c.oid",
      "views");
  if (!views.ok()) return views.status();
  for (const TextRow& row : *views) {
    r->profile->views.push_back({Cell(row, 0), Cell(row, 1), Cell(row, 2)});
    if (Cell(row, 3) == "m") {
      r->Note(Cell(row, 0) + "." + Cell(row, 1), "a materialized view: recreated as a plain view");
    }
  }
  // What synth does not recreate, counted so that it is named.
  auto others = r->Query(
      "SELECT 'triggers', count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT g.tgisinternal AND " +
          std::string(kUserSchemas) +
          " UNION ALL SELECT 'row security policies', count(*) FROM pg_policy "
          "UNION ALL SELECT 'functions', count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE " +
          std::string(kUserSchemas),
      "other objects");
  if (!others.ok()) return others.status();
  for (const TextRow& row : *others) {
    if (Cell(row, 1) != "0")
      r->Note(Cell(row, 0), Cell(row, 1) +
                                " not recreated (synth recreates tables, types, "
                                "keys, constraints, indexes, partitions and views)");
  }
  return Status::Ok();
}

// The physical-order correlation of every analyzed column (a partitioned table's: of the tree).
Status PostgresCorrelation(Reader* r) {
  auto rows = r->Query(
      "SELECT c.oid, s.attname, max(s.correlation) FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname "
      "JOIN pg_class c ON c.relname = s.tablename AND c.relnamespace = n.oid WHERE s.correlation IS NOT NULL AND " +
          std::string(kUserSchemas) + " GROUP BY 1, 2",
      "correlation");
  if (!rows.ok()) return rows.status();
  for (const TextRow& row : *rows) {
    TableProfile* t = r->TableOf(row);
    if (t == nullptr) continue;
    for (ColumnProfile& c : t->columns) {
      if (c.name == Cell(row, 1)) c.correlation = std::atof(Cell(row, 2).c_str());
    }
  }
  return Status::Ok();
}

Status ReadPostgres(Reader* r) {
  STRATA_RETURN_IF_ERROR(PostgresTables(r));
  STRATA_RETURN_IF_ERROR(PostgresColumns(r));
  STRATA_RETURN_IF_ERROR(PostgresCorrelation(r));
  STRATA_RETURN_IF_ERROR(PostgresConstraints(r));
  STRATA_RETURN_IF_ERROR(PostgresIndexes(r));
  STRATA_RETURN_IF_ERROR(PostgresPartitions(r));
  STRATA_RETURN_IF_ERROR(PostgresTypes(r));
  return PostgresViewsAndOthers(r);
}

// --- SQLite --------------------------------------------------------------------------------------

// SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1), with dates, booleans, uuids and
// JSON told apart by their declared names.
ValueKind SqliteKind(const std::string& declared) {
  const std::string t = Lower(declared);
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("bool")) return ValueKind::kBool;
  if (has("uuid")) return ValueKind::kUuid;
  if (has("json")) return ValueKind::kJson;
  if (has("timestamptz")) return ValueKind::kTimestampTz;
  if (has("datetime") || has("timestamp") || has("time")) return ValueKind::kTimestamp;
  if (has("date")) return ValueKind::kDate;
  if (has("int")) return ValueKind::kInteger;
  if (has("char") || has("clob") || has("text")) return ValueKind::kText;
  if (has("blob") || t.empty()) return ValueKind::kBytes;
  if (has("real") || has("floa") || has("doub")) return ValueKind::kFloat;
  return ValueKind::kDecimal;  // NUMERIC affinity
}

Status SqliteTables(Reader* r) {
  auto rows = r->Query(
      "SELECT m.name, m.sql, p.name, p.type, p.\"notnull\", coalesce(p.dflt_value, ''), p.pk, p.hidden "
      "FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p "
      "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
      "tables");
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::vector<std::pair<int, std::string>>> pk;
  for (const TextRow& row : *rows) {
    const std::string name = Cell(row, 0);
    if (r->by_oid.count(name) == 0) {
      r->by_oid[name] = r->profile->tables.size();
      TableProfile t;
      t.name = name;
      t.create_sql = Cell(row, 1);
      r->profile->tables.push_back(std::move(t));
    }
    TableProfile& t = r->profile->tables[r->by_oid[name]];
    ColumnProfile c;
    c.name = Cell(row, 2);
    c.type = Cell(row, 3);
    c.kind = SqliteKind(c.type);
    c.nullable = Cell(row, 4) == "0" && Cell(row, 6) == "0";
    c.default_sql = Cell(row, 5);
    TypeModifiers(c.type, &c);
    if (Cell(row, 7) == "2" || Cell(row, 7) == "3") c.generated_sql = "(generated)";
    if (Cell(row, 6) != "0") pk[name].push_back({std::atoi(Cell(row, 6).c_str()), c.name});
    t.columns.push_back(std::move(c));
  }
  for (auto& [name, columns] : pk) {
    std::sort(columns.begin(), columns.end());
    ConstraintProfile k{"", 'p', {}, ""};
    for (const auto& column : columns) k.columns.push_back(column.second);
    r->profile->tables[r->by_oid[name]].constraints.push_back(std::move(k));
  }
  return Status::Ok();
}

Status SqliteKeysAndIndexes(Reader* r) {
  auto keys = r->Query(
      "SELECT m.name, f.id, f.\"table\", f.\"from\", coalesce(f.\"to\", '') FROM sqlite_schema m "
      "JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
      "foreign keys");
  if (!keys.ok()) return keys.status();
  std::string last;
  for (const TextRow& row : *keys) {
    auto it = r->by_oid.find(Cell(row, 0));
    if (it == r->by_oid.end()) continue;
    TableProfile& t = r->profile->tables[it->second];
    const std::string id = Cell(row, 0) + "/" + Cell(row, 1);
    if (id != last) {
      ForeignKeyProfile k;
      k.name = "fk_" + t.name + "_" + Cell(row, 1);
      k.parent = Cell(row, 2);
      t.foreign_keys.push_back(std::move(k));
      last = id;
    }
    ForeignKeyProfile& k = t.foreign_keys.back();
    k.columns.push_back(Cell(row, 3));
    k.parent_columns.push_back(Cell(row, 4));  // empty: the parent's primary key, resolved below
  }
  auto indexes = r->Query(
      "SELECT m.name, l.name, coalesce(x.sql, ''), l.\"unique\", l.origin, l.partial, "
      "(SELECT group_concat(coalesce(i.name, ''), char(31)) FROM pragma_index_info(l.name) i) "
      "FROM sqlite_schema m JOIN pragma_index_list(m.name) l LEFT JOIN sqlite_schema x ON x.name = l.name "
      "AND x.type = 'index' WHERE m.type = 'table' ORDER BY m.name, l.name",
      "indexes");
  if (!indexes.ok()) return indexes.status();
  for (const TextRow& row : *indexes) {
    auto it = r->by_oid.find(Cell(row, 0));
    if (it == r->by_oid.end()) continue;
    TableProfile& t = r->profile->tables[it->second];
    const std::vector<std::string> columns = Split(row[6]);
    if (Cell(row, 4) == "u") {
      t.constraints.push_back({Cell(row, 1), 'u', columns, ""});
    } else if (Cell(row, 4) == "c") {
      IndexProfile x;
      x.name = Cell(row, 1);
      x.definition = Cell(row, 2);
      x.unique = Cell(row, 3) == "1";
      x.partial = Cell(row, 5) == "1";
      x.columns = columns;
      for (const std::string& c : columns) x.expression = x.expression || c.empty();
      t.indexes.push_back(std::move(x));
    }
  }
  return Status::Ok();
}

Status SqliteStatisticsAndViews(Reader* r) {
  auto has_stat = r->Query("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'", "statistics");
  if (!has_stat.ok()) return has_stat.status();
  if (!has_stat->empty() && Cell((*has_stat)[0], 0) != "0") {
    auto stats = r->Query("SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl", "statistics");
    if (!stats.ok()) return stats.status();
    for (const TextRow& row : *stats) {
      auto it = r->by_oid.find(Cell(row, 0));
      if (it == r->by_oid.end()) continue;
      StatisticsState& s = r->profile->tables[it->second].statistics;
      s.analyzed = true;
      s.analyzed_rows = std::atof(Cell(row, 1).c_str());
    }
  }
  auto views = r->Query("SELECT name, sql FROM sqlite_schema WHERE type = 'view' ORDER BY rowid", "views");
  if (!views.ok()) return views.status();
  for (const TextRow& row : *views) r->profile->views.push_back({"", Cell(row, 0), Cell(row, 1)});
  auto triggers = r->Query("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'", "triggers");
  if (!triggers.ok()) return triggers.status();
  if (!triggers->empty() && Cell((*triggers)[0], 0) != "0") {
    r->Note("triggers", Cell((*triggers)[0], 0) + " not recreated");
  }
  return Status::Ok();
}

Status ReadSqlite(Reader* r) {
  STRATA_RETURN_IF_ERROR(SqliteTables(r));
  STRATA_RETURN_IF_ERROR(SqliteKeysAndIndexes(r));
  STRATA_RETURN_IF_ERROR(SqliteStatisticsAndViews(r));
  // REFERENCES parent without columns names the parent's primary key.
  for (TableProfile& t : r->profile->tables) {
    for (ForeignKeyProfile& k : t.foreign_keys) {
      const TableProfile* parent = r->profile->Table(k.parent);
      const std::vector<std::string> pk = parent ? parent->PrimaryKey() : std::vector<std::string>{};
      for (size_t i = 0; i < k.parent_columns.size(); ++i) {
        if (k.parent_columns[i].empty() && i < pk.size()) k.parent_columns[i] = pk[i];
        // SQLite keeps the key's columns as written: REFERENCES admins (ID) names the column id.
        for (const ColumnProfile& c : parent ? parent->columns : std::vector<ColumnProfile>{}) {
          if (Lower(c.name) == Lower(k.parent_columns[i])) k.parent_columns[i] = c.name;
        }
      }
    }
    // A key whose parent columns name nothing (REFERENCES t without a primary key) cannot be kept.
    std::erase_if(t.foreign_keys, [&](const ForeignKeyProfile& k) {
      const TableProfile* parent = r->profile->Table(k.parent);
      const bool whole = parent != nullptr && std::all_of(k.parent_columns.begin(), k.parent_columns.end(),
                                                          [&](const std::string& c) { return parent->Column(c); });
      if (!whole)
        r->Note(t.name + "." + k.name, "a foreign key to " + k.parent + " whose columns it does not have: left out");
      return !whole;
    });
  }
  return Status::Ok();
}

}  // namespace

Status ReadCatalog(Source* source, std::chrono::milliseconds statement_timeout, Profile* profile) {
  Reader r{source, statement_timeout, profile, {}};
  profile->dialect = source->dialect() == Dialect::kPostgres ? "postgres" : "sqlite";
  return source->dialect() == Dialect::kPostgres ? ReadPostgres(&r) : ReadSqlite(&r);
}

}  // namespace strata::synth
