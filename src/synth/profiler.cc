#include "synth/profiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include "check/features.h"
#include "check/statistics.h"
#include "check/tenant_schema.h"
#include "common/text.h"
#include "synth/catalog.h"

namespace strata::synth {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

std::string Cell(const TextRow& row, size_t k) {
  return k < row.size() ? row[k].value_or("") : "";
}

bool IsNumberLike(ValueKind k) {
  return k == ValueKind::kInteger || k == ValueKind::kDecimal || k == ValueKind::kFloat || k == ValueKind::kDate ||
         k == ValueKind::kTimestamp || k == ValueKind::kTimestampTz;
}

// Children per parent: exact below 16, from 16 on grouped into powers of two (the group's smallest).
int64_t FanoutGroup(int64_t n) {
  if (n < 16) return n;
  int64_t g = 16;
  while (g * 2 <= n) g *= 2;
  return g;
}

using Histogram = std::map<int64_t, int64_t>;  // children -> parents

std::vector<std::pair<int64_t, int64_t>> Pairs(const Histogram& h) {
  return {h.begin(), h.end()};
}

// The value at each of kQuantilePoints of sorted (ascending) values.
std::vector<double> QuantilesOf(std::vector<double> v) {
  std::vector<double> out;
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  for (double p : kQuantilePoints) {
    const size_t k = static_cast<size_t>(
        std::min<double>(static_cast<double>(v.size() - 1), std::floor(p * static_cast<double>(v.size() - 1) + 0.5)));
    out.push_back(v[k]);
  }
  return out;
}

class Profiler {
 public:
  Profiler(Source* source, const ProfileOptions& options) : source_(source), o_(options) {}

  Result<Profile> Run() {
    const auto start = std::chrono::steady_clock::now();
    p_.database = source_->description();
    p_.profiled_at = NowIso();
    STRATA_RETURN_IF_ERROR(ReadCatalog(source_, o_.statement_timeout, &p_));
    STRATA_RETURN_IF_ERROR(FindTenant());
    if (o_.on_start) o_.on_start(static_cast<int>(p_.tables.size()), EstimatedQueries());
    for (TableProfile& t : p_.tables) STRATA_RETURN_IF_ERROR(ProfileTable(&t));
    LinkThroughKeys();
    STRATA_RETURN_IF_ERROR(CountTenantRows());
    for (TableProfile& t : p_.tables) {
      for (ForeignKeyProfile& k : t.foreign_keys) STRATA_RETURN_IF_ERROR(ProfileFanout(t, &k));
    }
    STRATA_RETURN_IF_ERROR(RunFeatures());
    STRATA_RETURN_IF_ERROR(KeepTenants());
    RowsPerTenant();
    TypicalRanges();
    p_.tenant.median = MedianTenant();
    p_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::move(p_);
  }

 private:
  static std::string NowIso() {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  bool Postgres() const { return source_->dialect() == Dialect::kPostgres; }
  std::string Name(const TableProfile& t) const { return QualifiedName(t.schema, t.name); }

  Result<std::vector<TextRow>> Query(const std::string& sql, const std::string& step) {
    if (o_.on_progress) o_.on_progress(step, p_.queries);
    ++p_.queries;
    return QueryText(source_, sql, {}, "profile: " + step, o_.statement_timeout);
  }
  // A shape query that failed: the figure is given up and named, unless the run was cancelled.
  Status GiveUp(const std::string& object, const std::string& figure, const Status& why) {
    if (why.code() == Status::Code::kCancelled) return why;
    p_.unsupported.push_back({object, figure + " not profiled: " + why.message()});
    return Status::Ok();
  }

  // The queries the steps will run, before running them: per table one count, one order (SQLite) and
  // one rows-per-tenant query; per number, date or text column a quantile query (and a values query
  // for some); per foreign key one; and the feature pass, about two per table.
  int EstimatedQueries() const {
    int n = 0;
    for (const TableProfile& t : p_.tables) {
      n += Postgres() ? 4 : 5;
      for (const ColumnProfile& c : t.columns) n += IsNumberLike(c.kind) || c.kind == ValueKind::kText ? 1 : 0;
      n += static_cast<int>(t.foreign_keys.size());
    }
    return n;
  }

  // --- the tenant --------------------------------------------------------------------------------

  TableProfile* TableNamed(const std::string& name) {
    for (TableProfile& t : p_.tables) {
      if (Lower(t.name) == Lower(name)) return &t;
    }
    return nullptr;
  }
  static const ForeignKeyProfile* KeyOf(const TableProfile& t, const std::string& column) {
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (k.columns.size() == 1 && k.columns[0] == column) return &k;
    }
    return nullptr;
  }
  // "order_id" -> a table orders / order with a one-column primary key "id".
  TableProfile* ImpliedParent(const std::string& column) {
    const std::string c = Lower(column);
    if (c.size() <= 3 || c.compare(c.size() - 3, 3, "_id") != 0) return nullptr;
    const std::string base = c.substr(0, c.size() - 3);
    std::vector<std::string> names = {base + "s", base + "es", base};
    if (base.back() == 'y') names.push_back(base.substr(0, base.size() - 1) + "ies");
    for (const std::string& n : names) {
      TableProfile* t = TableNamed(n);
      if (t != nullptr && t->PrimaryKey() == std::vector<std::string>{"id"}) return t;
    }
    return nullptr;
  }
  void AddImpliedKeys() {
    for (TableProfile& t : p_.tables) {
      for (const ColumnProfile& c : t.columns) {
        bool covered = false;
        for (const ForeignKeyProfile& k : t.foreign_keys) {
          covered = covered || std::find(k.columns.begin(), k.columns.end(), c.name) != k.columns.end();
        }
        TableProfile* parent = covered ? nullptr : ImpliedParent(c.name);
        if (parent == nullptr || c.kind != ValueKind::kInteger) continue;
        ForeignKeyProfile k;
        k.name = "implied_" + t.name + "_" + c.name;
        k.columns = {c.name};
        k.parent = parent->name;
        k.parent_schema = parent->schema;
        k.parent_columns = {"id"};
        k.declared = false;
        t.foreign_keys.push_back(std::move(k));
      }
    }
  }
  Status FindTenant() {
    AddImpliedKeys();
    p_.tenant.column = o_.tenant_column;
    for (TableProfile& t : p_.tables) {
      for (const ColumnProfile& c : t.columns) {
        if (Lower(c.name) != Lower(o_.tenant_column)) continue;
        t.tenant.column = c.name;
        p_.tenant.integer = c.kind == ValueKind::kInteger;
        const ForeignKeyProfile* k = KeyOf(t, c.name);
        if (k != nullptr && p_.tenant.table.empty()) {
          p_.tenant.table = k->parent;
          p_.tenant.key = k->parent_columns[0];
        }
      }
    }
    if (p_.tenant.column.empty() || std::none_of(p_.tables.begin(), p_.tables.end(),
                                                 [](const TableProfile& t) { return !t.tenant.column.empty(); })) {
      return Status::Usage("no table has a column named " + o_.tenant_column +
                           " (the tenant column: --tenant-column, or the project's [tenant] param)");
    }
    if (TableProfile* tenants = TableNamed(p_.tenant.table)) tenants->tenant.column = p_.tenant.key;
    return Status::Ok();
  }
  // A table without the tenant column reaches it through a foreign key to a table that does.
  void LinkThroughKeys() {
    for (bool changed = true; changed;) {
      changed = false;
      for (TableProfile& t : p_.tables) {
        if (!t.tenant.column.empty() || !t.tenant.via.empty()) continue;
        // Of the keys that lead to the tenant, the one to the parent with the most rows: the finest
        // grain (an order item belongs to its order more than to its product).
        const ForeignKeyProfile* best = nullptr;
        int64_t best_rows = -1;
        for (const ForeignKeyProfile& k : t.foreign_keys) {
          const TableProfile* parent = TableNamed(k.parent);
          if (parent == nullptr || parent == &t) continue;
          if (parent->tenant.column.empty() && parent->tenant.via.empty()) continue;
          if (parent->rows > best_rows) best = &k, best_rows = parent->rows;
        }
        if (best != nullptr) {
          t.tenant.via = best->name;
          changed = true;
        }
      }
    }
  }
  // The joins from table alias x to its tenant, and the tenant's expression.
  std::pair<std::string, std::string> TenantJoin(const TableProfile& t, const std::string& x) {
    std::string joins;
    const TableProfile* at = &t;
    std::string alias = x;
    for (int hop = 0; at->tenant.column.empty() && hop < 8; ++hop) {
      const ForeignKeyProfile* k = nullptr;
      for (const ForeignKeyProfile& f : at->foreign_keys) k = f.name == at->tenant.via ? &f : k;
      const TableProfile* parent = k ? TableNamed(k->parent) : nullptr;
      if (parent == nullptr) return {"", "NULL"};
      const std::string next = x + "_" + std::to_string(hop);
      joins += " JOIN " + Name(*parent) + " " + next + " ON ";
      for (size_t i = 0; i < k->columns.size(); ++i) {
        joins +=
            (i ? " AND " : "") + next + "." + Quote(k->parent_columns[i]) + " = " + alias + "." + Quote(k->columns[i]);
      }
      at = parent;
      alias = next;
    }
    return {joins, "CAST(" + alias + "." + Quote(at->tenant.column) + " AS TEXT)"};
  }

  // --- columns -----------------------------------------------------------------------------------

  Status ProfileTable(TableProfile* t) {
    STRATA_RETURN_IF_ERROR(CountColumns(t));
    if (!Postgres()) STRATA_RETURN_IF_ERROR(SqliteCorrelation(t));
    for (ColumnProfile& c : t->columns) {
      if (!c.generated_sql.empty()) continue;
      if (IsNumberLike(c.kind)) STRATA_RETURN_IF_ERROR(Quantiles(*t, &c, NumberExpr(c), &c.quantiles, "quantiles"));
      if (c.kind == ValueKind::kText || c.kind == ValueKind::kJson) {
        STRATA_RETURN_IF_ERROR(Quantiles(*t, &c, LengthExpr(c), &c.lengths, "lengths"));
      }
      if (KeepsValues(*t, c)) STRATA_RETURN_IF_ERROR(Values(*t, &c));
    }
    return Status::Ok();
  }
  bool Distinctable(const ColumnProfile& c) const {
    return c.kind != ValueKind::kOther && !(Postgres() && c.kind == ValueKind::kJson && c.type == "json");
  }
  Status CountColumns(TableProfile* t) {
    std::string sql = "SELECT count(*)";
    for (const ColumnProfile& c : t->columns) {
      const std::string col = Quote(c.name);
      sql += ", count(" + col + "), " + (Distinctable(c) ? "count(DISTINCT " + col + ")" : std::string("-1"));
      const bool number = c.kind == ValueKind::kInteger || c.kind == ValueKind::kDecimal || c.kind == ValueKind::kFloat;
      sql += number ? ", sum(CASE WHEN " + col + " < 0 THEN 1 ELSE 0 END), sum(CASE WHEN " + col +
                          " = 0 THEN 1 ELSE 0 END)"
                    : std::string(", 0, 0");
    }
    auto rows = Query(sql + " FROM " + Name(*t), t->name + ": rows, NULLs and distinct values");
    if (!rows.ok()) return rows.status();  // the row count is not optional
    const TextRow& r = rows->at(0);
    t->rows = std::atoll(Cell(r, 0).c_str());
    for (size_t k = 0; k < t->columns.size(); ++k) {
      t->columns[k].nulls = t->rows - std::atoll(Cell(r, 1 + 4 * k).c_str());
      t->columns[k].distinct = std::atoll(Cell(r, 2 + 4 * k).c_str());
      t->columns[k].negatives = std::atoll(Cell(r, 3 + 4 * k).c_str());
      t->columns[k].zeros = std::atoll(Cell(r, 4 + 4 * k).c_str());
    }
    return Status::Ok();
  }
  // SQLite keeps no correlation: how closely each number or date column follows the rows' physical
  // order (the rowid), as Pearson's coefficient from sums, one query per table.
  Status SqliteCorrelation(TableProfile* t) {
    std::vector<ColumnProfile*> columns;
    std::string sql = "SELECT count(*)";
    for (ColumnProfile& c : t->columns) {
      if (!IsNumberLike(c.kind) || !c.generated_sql.empty() || t->rows - c.nulls < 2) continue;
      const std::string v = "(" + NumberExpr(c) + ")", r = "CAST(rowid AS REAL)";
      const std::string on = "CASE WHEN " + Quote(c.name) + " IS NOT NULL THEN ";
      sql += ", count(" + v + "), sum(" + on + r + " END), sum(" + v + "), sum(" + on + r + " * " + r + " END), sum(" +
             v + " * " + v + "), sum(" + r + " * " + v + ")";
      columns.push_back(&c);
    }
    if (columns.empty()) return Status::Ok();
    auto rows = Query(sql + " FROM " + Name(*t), t->name + ": order of the rows");
    if (!rows.ok() || rows->empty()) return Status::Ok();  // a table without rowid: no order to keep
    const TextRow& r = rows->front();
    for (size_t k = 0; k < columns.size(); ++k) {
      auto at = [&](size_t i) { return std::atof(Cell(r, 1 + 6 * k + i).c_str()); };
      const double n = at(0), sr = at(1), sv = at(2), srr = at(3), svv = at(4), srv = at(5);
      const double den = std::sqrt(std::max(0.0, n * srr - sr * sr)) * std::sqrt(std::max(0.0, n * svv - sv * sv));
      if (n >= 2 && den > 0) columns[k]->correlation = (n * srv - sr * sv) / den;
    }
    return Status::Ok();
  }
  std::string NumberExpr(const ColumnProfile& c) const {
    const std::string col = Quote(c.name);
    if (Postgres()) {
      if (c.kind == ValueKind::kDate) return "(" + col + " - DATE '1970-01-01')::float8";
      if (c.kind == ValueKind::kTimestamp || c.kind == ValueKind::kTimestampTz)
        return "extract(epoch FROM " + col + ")::float8";
      return col + "::float8";
    }
    if (c.kind == ValueKind::kDate) return "julianday(" + col + ") - 2440587.5";
    if (c.kind == ValueKind::kTimestamp || c.kind == ValueKind::kTimestampTz) {
      return "(julianday(" + col + ") - 2440587.5) * 86400.0";
    }
    return "CAST(" + col + " AS REAL)";
  }
  std::string LengthExpr(const ColumnProfile& c) const {
    return Postgres() ? "char_length(" + Quote(c.name) + "::text)" : "length(" + Quote(c.name) + ")";
  }
  // The values at kQuantilePoints, from 100 ntile buckets (each bucket's smallest, the last's largest).
  Status Quantiles(const TableProfile& t, ColumnProfile* c, const std::string& expr, std::vector<double>* out,
                   const std::string& what) {
    if (t.rows - c->nulls <= 0) return Status::Ok();
    const std::string sql =
        "SELECT q, min(v), max(v) FROM (SELECT v, ntile(100) OVER (ORDER BY v) AS q FROM "
        "(SELECT " +
        expr + " AS v FROM " + Name(t) + " WHERE " + Quote(c->name) +
        " IS NOT NULL) s WHERE v IS NOT NULL) w GROUP BY q ORDER BY q";
    auto rows = Query(sql, t.name + ": " + what + " of " + c->name);
    if (!rows.ok()) return GiveUp(t.name + "." + c->name, what, rows.status());
    // 'infinity' dates have no place on a number line: the buckets that hold them are left out.
    rows->erase(std::remove_if(rows->begin(), rows->end(),
                               [](const TextRow& r) {
                                 return !std::isfinite(std::atof(Cell(r, 1).c_str())) ||
                                        !std::isfinite(std::atof(Cell(r, 2).c_str()));
                               }),
                rows->end());
    if (rows->empty()) return Status::Ok();
    const size_t buckets = rows->size();
    for (double p : kQuantilePoints) {
      if (p >= 1) {
        out->push_back(std::atof(Cell(rows->back(), 2).c_str()));
        continue;
      }
      const size_t b = std::min(buckets - 1, static_cast<size_t>(p * static_cast<double>(buckets)));
      out->push_back(std::atof(Cell((*rows)[b], 1).c_str()));
    }
    return Status::Ok();
  }
  bool IsKeyColumn(const TableProfile& t, const ColumnProfile& c) const {
    for (const ConstraintProfile& k : t.constraints) {
      if ((k.type == 'p' || k.type == 'u') && k.columns.size() == 1 && k.columns[0] == c.name) return true;
    }
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (std::find(k.columns.begin(), k.columns.end(), c.name) != k.columns.end()) return true;
    }
    return c.name == t.tenant.column;
  }
  bool Named(const TableProfile& t, const ColumnProfile& c) const {
    for (const std::string& n : o_.keep_values) {
      if (Lower(n) == Lower(t.name + "." + c.name) || Lower(n) == Lower(t.schema + "." + t.name + "." + c.name))
        return true;
    }
    return false;
  }
  // Privacy: the values of a column leave the database only when they are few and repeated
  // (statuses, methods, countries), or when the user named the column.
  bool KeepsValues(const TableProfile& t, ColumnProfile& c) {
    if (Named(t, c)) {
      c.kept = "--keep-values";
      return true;
    }
    if (IsKeyColumn(t, c) || c.distinct <= 0) return false;
    const int64_t present = t.rows - c.nulls;
    const bool few = c.distinct <= o_.max_category_values && present >= o_.min_value_repeats * c.distinct;
    const bool category = c.kind == ValueKind::kBool || c.kind == ValueKind::kEnum || c.kind == ValueKind::kText ||
                          c.kind == ValueKind::kInteger;
    if (!few || !category) return false;
    c.kept = "few values";
    return true;
  }
  Status Values(const TableProfile& t, ColumnProfile* c) {
    const std::string col = Quote(c->name);
    auto rows = Query("SELECT CAST(" + col + " AS TEXT), count(*) FROM " + Name(t) + " WHERE " + col +
                          " IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10001",
                      t.name + ": values of " + c->name);
    if (!rows.ok()) {
      c->kept.clear();
      return GiveUp(t.name + "." + c->name, "values", rows.status());
    }
    if (rows->size() > 10000) {
      rows->pop_back();
      p_.unsupported.push_back({t.name + "." + c->name, "only its 10,000 most common values are kept"});
    }
    for (const TextRow& r : *rows) c->values.push_back({Cell(r, 0), std::atoll(Cell(r, 1).c_str())});
    return Status::Ok();
  }

  // --- tenants -----------------------------------------------------------------------------------

  Status CountTenantRows() {
    std::set<std::string> all;
    for (TableProfile& t : p_.tables) {
      if (t.tenant.column.empty() && t.tenant.via.empty()) continue;
      auto [joins, tenant] = TenantJoin(t, "x");
      auto rows = Query("SELECT " + tenant + ", count(*) FROM " + Name(t) + " x" + joins + " GROUP BY 1",
                        t.name + ": rows per tenant");
      if (!rows.ok()) {
        STRATA_RETURN_IF_ERROR(GiveUp(t.name, "rows per tenant", rows.status()));
        continue;
      }
      for (const TextRow& r : *rows) {
        if (!r[0]) continue;
        tenant_rows_[t.name][*r[0]] = std::atoll(Cell(r, 1).c_str());
        // The tenants are the tenant table's keys; without that table, every value found.
        if (t.name == p_.tenant.table || TableNamed(p_.tenant.table) == nullptr) all.insert(*r[0]);
      }
    }
    tenants_.assign(all.begin(), all.end());
    if (p_.tenant.integer) {
      std::vector<int64_t> ids;
      for (const std::string& v : tenants_) ids.push_back(std::atoll(v.c_str()));
      std::sort(ids.begin(), ids.end());
      for (int64_t id : ids) {
        if (!p_.tenant.ranges.empty() && p_.tenant.ranges.back().second + 1 == id) {
          p_.tenant.ranges.back().second = id;
        } else {
          p_.tenant.ranges.push_back({id, id});
        }
      }
    }
    p_.tenant.count = static_cast<int64_t>(tenants_.size());
    return Status::Ok();
  }
  // The tenant with the median rows over every table: a typical one.
  std::string MedianTenant() const {
    std::vector<std::pair<int64_t, std::string>> totals;
    for (const std::string& t : tenants_) {
      int64_t total = 0;
      for (const auto& [table, rows] : tenant_rows_) {
        auto n = rows.find(t);
        total += n == rows.end() ? 0 : n->second;
      }
      totals.push_back({total, t});
    }
    if (totals.empty()) return "";
    std::sort(totals.begin(), totals.end());
    return totals[totals.size() / 2].second;
  }
  // Rows per tenant of the tenants that are not kept (the kept ones have their own).
  void RowsPerTenant() {
    for (TableProfile& t : p_.tables) {
      auto it = tenant_rows_.find(t.name);
      if (it == tenant_rows_.end()) continue;
      std::vector<double> sizes;
      for (const std::string& v : tenants_) {
        if (kept_.count(v) != 0) continue;
        auto n = it->second.find(v);
        sizes.push_back(n == it->second.end() ? 0.0 : static_cast<double>(n->second));
      }
      t.rows_per_tenant = QuantilesOf(std::move(sizes));
      if (t.rows_per_tenant.empty()) t.rows_per_tenant.assign(kQuantileCount, 0.0);
    }
  }

  // Children per parent row, per tenant of the parent (zero included: a LEFT JOIN).
  Status ProfileFanout(const TableProfile& child, ForeignKeyProfile* k) {
    const TableProfile* parent = TableNamed(k->parent);
    if (parent == nullptr || k->columns.empty() || k->columns.size() != k->parent_columns.size()) return Status::Ok();
    const bool carries = !parent->tenant.column.empty() || !parent->tenant.via.empty();
    auto [joins, tenant] = carries ? TenantJoin(*parent, "x") : std::pair<std::string, std::string>{"", "''"};
    std::string on, keys;
    for (size_t i = 0; i < k->columns.size(); ++i) {
      on += (i ? " AND " : "") + std::string("c.") + Quote(k->columns[i]) + " = x." + Quote(k->parent_columns[i]);
      keys += ", x." + Quote(k->parent_columns[i]);
    }
    const std::string sql = "SELECT t, n, count(*) FROM (SELECT " + tenant + " AS t, count(c." + Quote(k->columns[0]) +
                            ") AS n FROM " + Name(*parent) + " x" + joins + " LEFT JOIN " + Name(child) + " c ON " +
                            on + " GROUP BY " + (carries ? tenant + keys : keys.substr(2)) + ") s GROUP BY t, n";
    auto rows = Query(sql, child.name + ": children per " + parent->name + " (" + k->name + ")");
    if (!rows.ok()) return GiveUp(child.name + "." + k->name, "children per parent", rows.status());
    Histogram global;
    std::map<std::string, Histogram>& per_tenant = fanout_[child.name + "." + k->name];
    fanout_where_[child.name + "." + k->name] = Lower(child.name) + "." + k->columns[0];
    for (const TextRow& r : *rows) {
      const int64_t n = std::atoll(Cell(r, 1).c_str());
      const int64_t parents = std::atoll(Cell(r, 2).c_str());
      global[FanoutGroup(n)] += parents;
      if (carries && r[0]) per_tenant[*r[0]][FanoutGroup(n)] += parents;
    }
    k->fanout = Pairs(global);
    return Status::Ok();
  }

  // --- value features and the tenants kept -------------------------------------------------------

  Status RunFeatures() {
    ParsedSql words;
    std::set<std::string> seen;
    for (const TableProfile& t : p_.tables) {
      seen.insert(Lower(t.name));
      for (const ColumnProfile& c : t.columns) seen.insert(Lower(c.name));
    }
    words.words.assign(seen.begin(), seen.end());
    if (o_.on_progress) o_.on_progress("value features of every tenant", p_.queries);
    auto carriers = check::MapTenantCarriers(source_, words, {Lower(o_.tenant_column)});
    if (!carriers.ok()) return GiveUp("value features", "per-tenant features", carriers.status());
    // The keys whose duplicates matter: foreign keys, and columns almost unique without a key.
    for (check::TenantCarrier& carrier : *carriers) {
      TableProfile* t = TableNamed(carrier.name);
      for (check::ColumnInfo& c : carrier.columns) {
        ColumnProfile* column = t ? const_cast<ColumnProfile*>(t->Column(c.name)) : nullptr;
        if (column != nullptr && !c.unique && NearUnique(*t, *column)) column->near_unique = true;
        c.join_key = t != nullptr && (!c.parent_table.empty() || (column != nullptr && column->near_unique));
      }
    }
    check::FeaturePassOptions options;
    options.statement_timeout = o_.statement_timeout;
    options.max_category_values = o_.max_category_values;
    auto pass = check::RunFeaturePass(source_, *carriers, options);
    if (!pass.ok()) return pass.status();
    p_.queries += pass->queries;
    for (const std::string& note : pass->notes) p_.unsupported.push_back({"value features", note});
    features_ = check::DeriveFeatures(*pass, tenants_);
    figures_ = std::move(pass->figures);
    return Status::Ok();
  }
  static bool NearUnique(const TableProfile& t, const ColumnProfile& c) {
    const bool keyish = c.kind == ValueKind::kInteger || c.kind == ValueKind::kText || c.kind == ValueKind::kUuid;
    const int64_t present = t.rows - c.nulls;
    return keyish && present >= 20 && static_cast<double>(c.distinct) >= 0.9 * static_cast<double>(present) &&
           c.distinct < present;
  }
  // A feature's column, when the id names one ("null:orders.member_id", "value:orders.status=x").
  const ColumnProfile* FeatureColumn(const std::string& id) {
    const size_t colon = id.find(':');
    const size_t dot = id.find('.', colon);
    if (colon == std::string::npos || dot == std::string::npos) return nullptr;
    const size_t eq = id.find('=', dot);
    const TableProfile* t = TableNamed(id.substr(colon + 1, dot - colon - 1));
    return t ? t->Column(id.substr(dot + 1, eq == std::string::npos ? std::string::npos : eq - dot - 1)) : nullptr;
  }
  // Privacy: a value feature names its value; it is kept only when the column's values are.
  bool Shareable(const std::string& id) {
    if (id.rfind("value:", 0) != 0) return true;
    const ColumnProfile* c = FeatureColumn(id);
    return c != nullptr && !c->kept.empty();
  }
  void Keep(const std::string& tenant, const std::string& why) {
    auto it = kept_.find(tenant);
    if (it == kept_.end()) {
      if (static_cast<int>(kept_.size()) >= o_.max_kept_tenants) return;
      order_.push_back(tenant);
      it = kept_.emplace(tenant, KeptTenant{}).first;
      it->second.tenant = tenant;
    }
    if (std::find(it->second.why.begin(), it->second.why.end(), why) == it->second.why.end())
      it->second.why.push_back(why);
  }
  void KeepHeaviest() {
    for (const auto& [table, rows] : tenant_rows_) {
      if (table == p_.tenant.table) continue;
      std::vector<std::pair<int64_t, std::string>> by_rows;
      for (const auto& [tenant, n] : rows) by_rows.push_back({n, tenant});
      std::sort(by_rows.rbegin(), by_rows.rend());
      for (int k = 0; k < o_.heaviest_per_table && k < static_cast<int>(by_rows.size()); ++k) {
        Keep(by_rows[k].second, "heaviest in " + table + " (" + GroupThousands(by_rows[k].first) + " rows)");
      }
    }
  }
  void KeepRare() {
    for (const check::Feature& f : features_) {
      if (!f.rare || !Shareable(f.id)) continue;
      for (int k = 0; k < o_.holders_per_feature && k < static_cast<int>(f.holders.size()); ++k) {
        Keep(f.holders[k], f.why.at(f.holders[k]));
      }
    }
  }
  // PostgreSQL: tenants with ten times the rows the planner's statistics expect (grown since the last
  // ANALYZE), and every kept tenant's estimate.
  Status KeepGrown() {
    if (!Postgres()) return Status::Ok();
    std::vector<std::string> names;
    std::vector<check::TenantTable> direct;
    for (const TableProfile& t : p_.tables) {
      if (t.tenant.column.empty()) continue;
      names.push_back(t.name);
      direct.push_back({Name(t), Lower(t.name), t.tenant.column});
    }
    auto stats = check::ReadTableStats(source_, names, direct);
    if (!stats.ok()) return GiveUp("statistics", "the planner's estimates per tenant", stats.status());
    ++p_.queries;
    for (const auto& [tenant, why] : check::GrownTenants(*stats, tenant_rows_)) Keep(tenant, why);
    stats_ = std::move(*stats);
    return Status::Ok();
  }
  void FillKept(KeptTenant* k) {
    for (const auto& [table, rows] : tenant_rows_) {
      auto n = rows.find(k->tenant);
      k->rows[table] = n == rows.end() ? 0 : n->second;
    }
    for (const check::TableStats& s : stats_) {
      const double e = check::EstimateTenantRows(s, k->tenant);
      if (e >= 0) k->estimated_rows[s.name] = std::round(e);
    }
    for (const check::FeatureFigure& f : figures_) {
      auto v = f.value.find(k->tenant);
      if (v == f.value.end() || !Shareable(f.id) || held_.count({k->tenant, Where(f.id)}) == 0) continue;
      const bool extreme = f.id.rfind("min:", 0) == 0 || f.id.rfind("max:", 0) == 0;
      if (extreme) {
        const double x = InColumnUnits(f.id, v->second);
        auto& range = k->range.try_emplace(f.id.substr(4), x, x).first->second;
        if (f.id[1] == 'i') {
          range.first = x;
        } else {
          range.second = x;
        }
      } else if ((f.kind == check::FeatureKind::kCount || f.id.rfind("fanout:", 0) == 0) && v->second > 0) {
        k->counts[f.id] = static_cast<int64_t>(v->second);
      }
    }
    for (const auto& [key, per_tenant] : fanout_) {
      auto h = per_tenant.find(k->tenant);
      if (h != per_tenant.end() && held_.count({k->tenant, fanout_where_[key]}) != 0) k->fanout[key] = Pairs(h->second);
    }
  }
  // "null:orders.member_id" -> "orders.member_id"; "value:orders.status=x" -> "orders.status".
  static std::string Where(const std::string& id) {
    const size_t colon = id.find(':');
    const size_t eq = id.find('=', colon);
    return id.substr(colon + 1, eq == std::string::npos ? std::string::npos : eq - colon - 1);
  }
  // The columns in which each tenant is unusual: it holds a rare feature there, or is an outlier.
  // A kept tenant's own figures are kept for those columns only (the rest of its values are drawn as
  // a typical tenant's): this is what keeps a profile of a large schema small.
  void MarkHeld() {
    for (const check::Feature& f : features_) {
      const bool extreme = f.id.rfind("min:", 0) == 0 || f.id.rfind("max:", 0) == 0 || f.id.rfind("fanout:", 0) == 0 ||
                           f.id.rfind("null_share:", 0) == 0;
      if (!f.rare && !extreme) continue;
      for (const std::string& holder : f.holders) held_.insert({holder, Where(f.id)});
    }
  }
  // The feature pass reads dates and timestamps as days; the profile's timestamps are seconds.
  double InColumnUnits(const std::string& id, double v) {
    const ColumnProfile* c = FeatureColumn(id);
    const bool seconds = c != nullptr && (c->kind == ValueKind::kTimestamp || c->kind == ValueKind::kTimestampTz);
    return seconds ? v * 86400.0 : v;
  }
  // Per number or date column, the smallest and largest value among the tenants that are not kept.
  void TypicalRanges() {
    std::map<std::string, std::pair<double, double>> ranges;
    for (const check::FeatureFigure& f : figures_) {
      const bool low = f.id.rfind("min:", 0) == 0, high = f.id.rfind("max:", 0) == 0;
      if (!low && !high) continue;
      for (const auto& [tenant, value] : f.value) {
        if (kept_.count(tenant) != 0) continue;
        const double x = InColumnUnits(f.id, value);
        auto& r = ranges.try_emplace(f.id.substr(4), x, x).first->second;
        r.first = low ? std::min(r.first, x) : r.first;
        r.second = high ? std::max(r.second, x) : r.second;
      }
    }
    for (const auto& [where, r] : ranges) {
      auto* c = const_cast<ColumnProfile*>(FeatureColumn("min:" + where));
      if (c == nullptr) continue;
      c->has_typical_range = true;
      c->typical_min = r.first;
      c->typical_max = r.second;
    }
  }
  Status KeepTenants() {
    MarkHeld();
    for (const std::string& t : o_.keep_tenants) Keep(t, "named");
    KeepHeaviest();
    KeepRare();
    STRATA_RETURN_IF_ERROR(KeepGrown());
    for (const std::string& tenant : order_) {
      KeptTenant& k = kept_.at(tenant);
      FillKept(&k);
      p_.tenants.push_back(std::move(k));
    }
    return Status::Ok();
  }

  Source* source_;
  const ProfileOptions& o_;
  Profile p_;
  std::vector<std::string> tenants_;                                   // every tenant, as text
  std::map<std::string, std::map<std::string, int64_t>> tenant_rows_;  // table -> tenant -> rows
  std::map<std::string, std::map<std::string, Histogram>> fanout_;     // table.key -> tenant -> histogram
  std::map<std::string, std::string> fanout_where_;                    // table.key -> "table.column"
  std::set<std::pair<std::string, std::string>> held_;                 // (tenant, "table.column")
  std::vector<check::Feature> features_;
  std::vector<check::FeatureFigure> figures_;
  std::vector<check::TableStats> stats_;
  std::map<std::string, KeptTenant> kept_;
  std::vector<std::string> order_;
};

}  // namespace

Result<Profile> RunProfile(Source* source, const ProfileOptions& options) {
  if (options.tenant_column.empty()) return Status::Usage("say which column holds the tenant (--tenant-column)");
  return Profiler(source, options).Run();
}

}  // namespace strata::synth
