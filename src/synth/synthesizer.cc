#include "synth/synthesizer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <unordered_set>

#include "synth/catalog.h"
#include "synth/ddl.h"
#include "synth/random.h"
#include "synth/value_gen.h"

namespace strata::synth {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kNoRow = -1;

uint64_t HashOf(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The value at rank u (0..1) of a profiled quantile list.
double AtRank(const std::vector<double>& q, double u) {
  if (q.size() != static_cast<size_t>(kQuantileCount)) return 0;
  for (int k = 1; k < kQuantileCount; ++k) {
    if (u <= kQuantilePoints[k]) {
      const double span = kQuantilePoints[k] - kQuantilePoints[k - 1];
      return q[k - 1] + (span > 0 ? (u - kQuantilePoints[k - 1]) / span : 0) * (q[k] - q[k - 1]);
    }
  }
  return q.back();
}

// A draw of children per parent from (children, parents) pairs; grouped counts are spread over
// their power-of-two group.
int64_t DrawFanout(const std::vector<std::pair<int64_t, int64_t>>& pairs, Rng& r) {
  int64_t total = 0;
  for (const auto& p : pairs) total += p.second;
  if (total <= 0) return 1;
  int64_t pick = static_cast<int64_t>(r.Next() % static_cast<uint64_t>(total));
  for (const auto& [children, parents] : pairs) {
    if (pick < parents) return children < 16 ? children : children + r.Range(0, children - 1);
    pick -= parents;
  }
  return pairs.back().first;
}

// Children per parent for n parents: a kept tenant's histogram is its parents' exact counts (dealt
// out in a random order); any other tenant's is a distribution to draw from.
std::vector<int64_t> FanoutsFor(const std::vector<std::pair<int64_t, int64_t>>& pairs, size_t n, bool exact,
                                uint64_t seed, uint64_t what, const std::vector<int64_t>& parent_rows) {
  std::vector<int64_t> out;
  out.reserve(n);
  if (exact) {
    Rng r(seed, what, 0);
    for (const auto& [children, parents] : pairs) {
      for (int64_t k = 0; k < parents && out.size() < n; ++k) {
        out.push_back(children < 16 ? children : children + r.Range(0, children - 1));
      }
    }
    for (size_t k = out.size(); k > 1; --k) std::swap(out[k - 1], out[r.Next() % k]);
  }
  for (size_t k = out.size(); k < n; ++k) {
    Rng r(seed, what, static_cast<uint64_t>(parent_rows[k]));
    out.push_back(DrawFanout(pairs, r));
  }
  return out;
}

// Children to parents: each parent i gets about n * w_i / sum(w) children (largest remainders get
// the rest), and the result is shuffled. Uniform when every weight is zero.
std::vector<int64_t> Allocate(int64_t n, const std::vector<int64_t>& weights, Rng& r) {
  std::vector<int64_t> out;
  if (n <= 0 || weights.empty()) return out;
  out.reserve(static_cast<size_t>(n));
  double total = 0;
  for (int64_t w : weights) total += static_cast<double>(w);
  if (total <= 0) {
    for (int64_t k = 0; k < n; ++k) out.push_back(static_cast<int64_t>(r.Next() % weights.size()));
    return out;
  }
  std::vector<std::pair<double, size_t>> remainders;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double e = static_cast<double>(n) * static_cast<double>(weights[i]) / total;
    const auto whole = static_cast<int64_t>(std::floor(e));
    for (int64_t k = 0; k < whole; ++k) out.push_back(static_cast<int64_t>(i));
    if (e - static_cast<double>(whole) > 0) remainders.push_back({e - static_cast<double>(whole), i});
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; static_cast<int64_t>(out.size()) < n && k < remainders.size(); ++k) {
    out.push_back(static_cast<int64_t>(remainders[k].second));
  }
  while (static_cast<int64_t>(out.size()) < n) out.push_back(static_cast<int64_t>(r.Next() % weights.size()));
  for (size_t k = out.size(); k > 1; --k) std::swap(out[k - 1], out[r.Next() % k]);
  return out;
}

// A UUID (version 4 form) made from a seed and a number.
std::string UuidOf(uint64_t seed, uint64_t n) {
  const uint64_t a = Mix(seed ^ n), b = Mix(a);
  char s[40];
  std::snprintf(s, sizeof s, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a >> 16 & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return s;
}

// The values of a column other tables' keys refer to.
struct KeyStore {
  bool integer = true;
  std::vector<int64_t> ints;
  std::vector<std::string> texts;
  std::vector<uint8_t> null;
};

// A table's rows, decided before any is written: each row's tenant, rank within the tenant, parent
// rows, and whether it is loaded after ANALYZE.
struct TableRows {
  int64_t count = 0;
  std::vector<int32_t> tenant;                  // per row; -1: no tenant
  std::vector<int32_t> slot;                    // rank within the tenant
  std::vector<uint8_t> late;                    // 1: after ANALYZE; 2: not made (a repeated key, no parent)
  std::vector<uint8_t> orphan;                  // a NOT NULL key found no parent for the row: not made
  std::vector<std::vector<int64_t>> parent;     // per foreign key: the parent row, or kNoRow (NULL)
  std::vector<std::vector<int64_t>> by_tenant;  // tenant -> rows, in table order
  std::map<std::string, KeyStore> keys;
};

class Synth {
 public:
  Synth(BulkWriter* w, const Profile& p, const SynthOptions& o) : w_(w), p_(p), o_(o), target_(w->dialect()) {}

  Result<SynthResult> Run() {
    const auto start = Clock::now();
    auto ddl = SchemaFor(p_, target_);
    if (!ddl.ok()) return ddl.status();
    result_.notes = ddl->notes;
    STRATA_RETURN_IF_ERROR(CreateSchema(*ddl));
    MakeTenants();
    Order();
    rows_.resize(p_.tables.size());
    for (size_t t : order_) {
      if (Cancelled()) return Status::Cancelled("interrupted");
      BuildRows(t);
      STRATA_RETURN_IF_ERROR(WriteRows(t, /*late=*/false));
    }
    load_seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    const auto keys_start = Clock::now();
    STRATA_RETURN_IF_ERROR(AfterLoad(*ddl));
    const auto analyze_start = Clock::now();
    result_.keys_seconds = std::chrono::duration<double>(analyze_start - keys_start).count();
    STRATA_RETURN_IF_ERROR(Analyze());
    result_.analyze_seconds = std::chrono::duration<double>(Clock::now() - analyze_start).count();
    const auto late_start = Clock::now();
    for (size_t t : order_) STRATA_RETURN_IF_ERROR(WriteRows(t, /*late=*/true));
    load_seconds_ += std::chrono::duration<double>(Clock::now() - late_start).count();
    if (target_ == Dialect::kSqlite) STRATA_RETURN_IF_ERROR(w_->Execute("PRAGMA ignore_check_constraints = OFF"));
    STRATA_RETURN_IF_ERROR(w_->Commit());
    STRATA_RETURN_IF_ERROR(AnalyzeAgain());
    result_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result_.load_seconds = load_seconds_;
    for (size_t t : order_) result_.tables.push_back(counts_[t]);
    return std::move(result_);
  }

 private:
  // --- schema --------------------------------------------------------------------------------------

  Status CreateSchema(const SchemaStatements& ddl) {
    if (o_.replace && target_ == Dialect::kPostgres) {
      for (const std::string& s : ddl.drop) STRATA_RETURN_IF_ERROR(w_->Execute(s));
    }
    for (const std::string& s : ddl.before) STRATA_RETURN_IF_ERROR(w_->Execute(s).WithContext("creating the schema"));
    // Production's rows may break a CHECK in ways the synthetic values do not know: load them all.
    if (target_ == Dialect::kSqlite) STRATA_RETURN_IF_ERROR(w_->Execute("PRAGMA ignore_check_constraints = ON"));
    return Status::Ok();
  }
  // Each statement on its own: one that fails is a warning (a CHECK the synthetic values break is
  // added NOT VALID on PostgreSQL, so it still guards new rows).
  Status AfterLoad(const SchemaStatements& ddl) {
    repeats_before_ = &ddl.repeats_before;
    for (const std::string& s : ddl.after) {
      if (Cancelled()) return Status::Cancelled("interrupted");
      Status st = Try(s);
      if (!st.ok() && target_ == Dialect::kPostgres && s.find(" CHECK ") != std::string::npos) {
        if (Try(s + " NOT VALID").ok()) {
          result_.warnings.push_back("added NOT VALID (synthetic rows break it): " + s);
          continue;
        }
      }
      if (!st.ok()) result_.warnings.push_back(st.message());
    }
    return Status::Ok();
  }
  Status Try(const std::string& sql) {
    if (target_ == Dialect::kSqlite) {
      auto check = repeats_before_->find(sql);
      if (check != repeats_before_->end() && !MadeDistinct(check->second.table, check->second.columns)) {
        auto repeats = w_->QueryCount(check->second.count_sql);
        if (!repeats.ok()) return repeats.status();
        if (*repeats > 0) return Status::Database("not built: " + std::to_string(*repeats) + " keys repeat: " + sql);
      }
      return w_->Execute(sql);
    }
    STRATA_RETURN_IF_ERROR(w_->Execute("SAVEPOINT synth_step"));
    Status st = w_->Execute(sql);
    STRATA_RETURN_IF_ERROR(w_->Execute(st.ok() ? "RELEASE SAVEPOINT synth_step" : "ROLLBACK TO SAVEPOINT synth_step"));
    return st;
  }
  // ANALYZE where production had statistics; then, on PostgreSQL, autovacuum off where rows are still
  // to come, so that the statistics stay as stale as production's.
  Status Analyze() {
    for (size_t t = 0; t < p_.tables.size(); ++t) {
      const TableProfile& table = p_.tables[t];
      if (!table.statistics.analyzed) continue;  // production's planner had no statistics either
      STRATA_RETURN_IF_ERROR(w_->Execute("ANALYZE " + TargetName(table, target_)));
      const std::vector<uint8_t>& late = rows_[t].late;
      if (target_ != Dialect::kPostgres || std::find(late.begin(), late.end(), 1) == late.end()) continue;
      std::vector<std::string> leaves;
      for (const PartitionProfile& part : table.partitions) leaves.push_back(QualifiedName(part.schema, part.name));
      if (leaves.empty()) leaves.push_back(TargetName(table, target_));
      for (const std::string& leaf : leaves) {
        STRATA_RETURN_IF_ERROR(w_->Execute("ALTER TABLE " + leaf + " SET (autovacuum_enabled = false)"));
      }
    }
    return Status::Ok();
  }

  // Whether synth made the key distinct itself: one of its columns is a key it numbered.
  bool MadeDistinct(const std::string& table_name, const std::vector<std::string>& columns) const {
    const int t = TableIndex(table_name);
    if (t < 0) return false;
    const TableProfile& table = p_.tables[static_cast<size_t>(t)];
    for (const std::string& name : columns) {
      const ColumnProfile* c = table.Column(name);
      if (c != nullptr && RoleOf(table, *c).role == Role::kKey) return true;
    }
    return false;
  }
  // PostgreSQL counts the rows of a transaction as changed when it commits, after the ANALYZE inside
  // it: every table would look stale (and autovacuum would analyze it again). The tables that were
  // not to be stale are analyzed once more, now.
  Status AnalyzeAgain() {
    if (target_ != Dialect::kPostgres) return Status::Ok();
    for (size_t t = 0; t < p_.tables.size(); ++t) {
      const std::vector<uint8_t>& late = rows_[t].late;
      if (!p_.tables[t].statistics.analyzed || std::find(late.begin(), late.end(), 1) != late.end()) continue;
      // The database is published already: a failure here is a warning, not a failed build.
      if (Status st = w_->Execute("ANALYZE " + TargetName(p_.tables[t], target_)); !st.ok()) {
        result_.warnings.push_back("after the commit: " + st.message());
        break;
      }
    }
    return Status::Ok();
  }

  // --- tenants and order ---------------------------------------------------------------------------

  void MakeTenants() {
    std::map<std::string, int> kept;
    for (size_t k = 0; k < p_.tenants.size(); ++k) kept[p_.tenants[k].tenant] = static_cast<int>(k);
    if (p_.tenant.integer && !p_.tenant.ranges.empty()) {
      for (const auto& [first, last] : p_.tenant.ranges) {
        for (int64_t v = first; v <= last; ++v) tenants_.push_back(std::to_string(v));
      }
    } else {
      std::set<std::string> seen;
      for (const KeptTenant& k : p_.tenants) {
        if (seen.insert(k.tenant).second) tenants_.push_back(k.tenant);
      }
      const bool uuid = TenantKind() == ValueKind::kUuid;
      for (int64_t n = 1; static_cast<int64_t>(tenants_.size()) < p_.tenant.count; ++n) {
        const std::string v =
            uuid ? UuidOf(o_.seed ^ HashOf("tenant"), static_cast<uint64_t>(n)) : "tenant-" + std::to_string(n);
        if (seen.insert(v).second) tenants_.push_back(v);
      }
    }
    for (const std::string& v : tenants_) {
      auto it = kept.find(v);
      kept_.push_back(it == kept.end() ? -1 : it->second);
      size_rank_.push_back(Rng(o_.seed, HashOf("tenant size"), HashOf(v)).Unit());
    }
  }
  // The kind of the tenant's values: the tenant column's in the first table that has it.
  ValueKind TenantKind() const {
    for (const TableProfile& t : p_.tables) {
      if (const ColumnProfile* c = t.Column(t.tenant.column)) return c->kind;
    }
    return ValueKind::kText;
  }
  int TableIndex(const std::string& name) const {
    for (size_t k = 0; k < p_.tables.size(); ++k) {
      if (p_.tables[k].name == name) return static_cast<int>(k);
    }
    return -1;
  }
  // Parents first; a cycle is broken at the table with the fewest parents left, whose keys to those
  // parents are then NULL.
  void Order() {
    const size_t n = p_.tables.size();
    std::vector<bool> done(n, false);
    while (order_.size() < n) {
      size_t best = n, best_missing = SIZE_MAX;
      for (size_t t = 0; t < n; ++t) {
        if (done[t]) continue;
        size_t missing = 0;
        for (const ForeignKeyProfile& k : p_.tables[t].foreign_keys) {
          const int parent = TableIndex(k.parent);
          missing += parent >= 0 && static_cast<size_t>(parent) != t && !done[static_cast<size_t>(parent)];
        }
        if (missing < best_missing) best = t, best_missing = missing;
        if (missing == 0) break;
      }
      for (const ForeignKeyProfile& k : p_.tables[best].foreign_keys) {
        const int parent = TableIndex(k.parent);
        if (parent >= 0 && static_cast<size_t>(parent) != best && !done[static_cast<size_t>(parent)]) {
          deferred_.insert(p_.tables[best].name + "." + k.name);
          result_.notes.push_back(
              {p_.tables[best].name + "." + k.name, "part of a cycle of foreign keys: synthesized as NULL"});
        }
      }
      done[best] = true;
      order_.push_back(best);
    }
    counts_.resize(n);
  }

  // --- rows ----------------------------------------------------------------------------------------

  const KeptTenant* Kept(int32_t tenant) const {
    return tenant >= 0 && kept_[static_cast<size_t>(tenant)] >= 0
               ? &p_.tenants[static_cast<size_t>(kept_[static_cast<size_t>(tenant)])]
               : nullptr;
  }
  bool Carries(const TableProfile& t) const { return !t.tenant.column.empty() || !t.tenant.via.empty(); }
  // Rows per tenant of a table with the tenant column: a kept tenant's own; every other tenant a
  // draw at its size rank, scaled so that together they hold the table's other rows (times --scale).
  std::vector<int64_t> TenantCounts(const TableProfile& t) const {
    std::vector<int64_t> counts(tenants_.size(), 0);
    std::vector<double> drawn(tenants_.size(), 0);
    double residual = static_cast<double>(t.rows), sum = 0;
    for (size_t k = 0; k < tenants_.size(); ++k) {
      if (const KeptTenant* kept = Kept(static_cast<int32_t>(k))) {
        auto it = kept->rows.find(t.name);
        if (it != kept->rows.end()) {
          counts[k] = it->second;
          residual -= static_cast<double>(it->second);
          continue;
        }
      }
      sum += drawn[k] = AtRank(t.rows_per_tenant, size_rank_[k]);
    }
    const double factor = sum > 0 ? std::max(residual, 0.0) / sum * o_.scale : o_.scale;
    for (size_t k = 0; k < tenants_.size(); ++k) {
      if (drawn[k] <= 0) continue;
      Rng r(o_.seed, HashOf(t.name + "/count"), k);
      counts[k] = static_cast<int64_t>(std::floor(drawn[k] * factor + r.Unit()));  // rounded at random
    }
    return counts;
  }
  bool OwnFanout(const TableProfile& t, const ForeignKeyProfile& k, int32_t tenant) const {
    const KeptTenant* kept = Kept(tenant);
    return kept != nullptr && kept->fanout.count(t.name + "." + k.name) != 0;
  }
  // Children per parent: a kept tenant's own; for the others the residual (the key's distribution
  // without the kept tenants' parents), so that the kept tenants' tails are not spread over everyone.
  const std::vector<std::pair<int64_t, int64_t>>& FanoutOf(const TableProfile& t, const ForeignKeyProfile& k,
                                                           int32_t tenant) {
    const std::string key = t.name + "." + k.name;
    if (const KeptTenant* kept = Kept(tenant)) {
      auto it = kept->fanout.find(key);
      if (it != kept->fanout.end()) return it->second;
    }
    if (tenant < 0) return k.fanout;
    auto cached = residual_fanout_.find(key);
    if (cached != residual_fanout_.end()) return cached->second;
    std::map<int64_t, int64_t> residual(k.fanout.begin(), k.fanout.end());
    for (const KeptTenant& kept : p_.tenants) {
      auto it = kept.fanout.find(key);
      if (it == kept.fanout.end()) continue;
      for (const auto& [children, parents] : it->second) residual[children] -= parents;
    }
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (const auto& [children, parents] : residual) {
      if (parents > 0) pairs.push_back({children, parents});
    }
    if (pairs.empty()) pairs = k.fanout;
    return residual_fanout_[key] = std::move(pairs);
  }

  void BuildRows(size_t t) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    rows.parent.resize(table.foreign_keys.size());
    const int driver = DriverKey(table);
    if (table.name == p_.tenant.table) {
      for (size_t k = 0; k < tenants_.size(); ++k) rows.tenant.push_back(static_cast<int32_t>(k));
    } else if (driver >= 0) {
      RowsThroughParent(t, static_cast<size_t>(driver));
    } else if (!table.tenant.column.empty()) {
      const std::vector<int64_t> counts = TenantCounts(table);
      for (size_t k = 0; k < tenants_.size(); ++k) {
        rows.tenant.insert(rows.tenant.end(), static_cast<size_t>(counts[k]), static_cast<int32_t>(k));
      }
    } else {
      rows.tenant.assign(static_cast<size_t>(table.rows), -1);
    }
    rows.count = static_cast<int64_t>(rows.tenant.size());
    if (table.name != p_.tenant.table && !KeepsOrder(table, driver)) Shuffle(t, driver);
    Rank(t);
    for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
      if (static_cast<int>(k) != driver) AssignParents(t, k);
    }
    MarkLate(t);
    DropDuplicateKeys(t);
    StoreKeys(t);
  }
  // The foreign key through which a table without the tenant column reaches the tenant.
  int DriverKey(const TableProfile& table) const {
    if (table.tenant.via.empty() || deferred_.count(table.name + "." + table.tenant.via)) return -1;
    for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
      if (table.foreign_keys[k].name == table.tenant.via && TableIndex(table.foreign_keys[k].parent) >= 0) {
        return static_cast<int>(k);
      }
    }
    return -1;
  }
  // Per parent row, its children: a draw of the fan-out (a kept tenant: its own, totalling its rows).
  void RowsThroughParent(size_t t, size_t key) {
    const TableProfile& table = p_.tables[t];
    const ForeignKeyProfile& k = table.foreign_keys[key];
    const TableRows& parent = rows_[static_cast<size_t>(TableIndex(k.parent))];
    TableRows& rows = rows_[t];
    for (size_t tenant = 0; tenant < parent.by_tenant.size(); ++tenant) {
      const std::vector<int64_t>& parents = parent.by_tenant[tenant];
      const std::vector<int64_t> weights = FanoutsFor(FanoutOf(table, k, static_cast<int32_t>(tenant)), parents.size(),
                                                      OwnFanout(table, k, static_cast<int32_t>(tenant)), o_.seed,
                                                      HashOf(table.name + "." + k.name), parents);
      int64_t n = 0;
      for (int64_t w : weights) n += w;
      if (const KeptTenant* kept = Kept(static_cast<int32_t>(tenant))) {
        auto exact = kept->rows.find(table.name);
        if (exact != kept->rows.end()) n = exact->second;
      }
      Rng r(o_.seed, HashOf(table.name + "/allocate"), tenant);
      for (int64_t i : Allocate(n, weights, r)) {
        rows.tenant.push_back(static_cast<int32_t>(tenant));
        rows.parent[key].push_back(parents[static_cast<size_t>(i)]);
      }
    }
    // Rows whose parent has no tenant (a parent row outside every tenant) are not made.
  }
  // Production's rows of a table may lie in tenant order (loaded tenant by tenant, or clustered): its
  // tenant column, or the key to its parent, follows the physical order. Then so do the synthetic
  // rows, or the planner would cost an index scan on the tenant differently.
  bool KeepsOrder(const TableProfile& table, int driver) const {
    const std::string column =
        driver >= 0 ? table.foreign_keys[static_cast<size_t>(driver)].columns[0] : table.tenant.column;
    const ColumnProfile* c = table.Column(column);
    return c != nullptr && c->correlation >= 0.5;
  }
  void Shuffle(size_t t, int driver) {
    TableRows& rows = rows_[t];
    Rng r(o_.seed, HashOf(p_.tables[t].name + "/shuffle"), 0);
    for (size_t k = rows.tenant.size(); k > 1; --k) {
      const size_t j = r.Next() % k;
      std::swap(rows.tenant[k - 1], rows.tenant[j]);
      if (driver >= 0)
        std::swap(rows.parent[static_cast<size_t>(driver)][k - 1], rows.parent[static_cast<size_t>(driver)][j]);
    }
  }
  void Rank(size_t t) {
    TableRows& rows = rows_[t];
    rows.by_tenant.assign(tenants_.size(), {});
    rows.slot.resize(rows.tenant.size());
    for (size_t i = 0; i < rows.tenant.size(); ++i) {
      if (rows.tenant[i] < 0) continue;
      auto& list = rows.by_tenant[static_cast<size_t>(rows.tenant[i])];
      rows.slot[i] = static_cast<int32_t>(list.size());
      list.push_back(static_cast<int64_t>(i));
    }
  }
  // NULL share of a key's first column, for a tenant.
  // Whether a row's key is NULL: a kept tenant's own NULLs, the typical tenants' share for the rest.
  bool NullKey(const TableProfile& table, const TableRows& rows, const ColumnProfile* c, const std::string& id,
               uint64_t what, int64_t row) {
    if (c == nullptr || !c->nullable || c->nulls <= 0) return false;
    const int32_t tenant = rows.tenant[static_cast<size_t>(row)];
    const KeptTenant* kept = Kept(tenant);
    if (kept != nullptr && Covers(*kept, id.substr(5))) {
      auto n = kept->counts.find(id);
      const int64_t nulls = n == kept->counts.end() ? 0 : n->second;
      return rows.slot[static_cast<size_t>(row)] < nulls;
    }
    Rng r(o_.seed, what, static_cast<uint64_t>(row));
    return r.Chance(ResidualNullShare(table, *c, id));
  }
  // The NULL share of a column in the rows of the tenants that are not kept.
  double ResidualNullShare(const TableProfile& table, const ColumnProfile& c, const std::string& id) {
    auto cached = null_share_.find(id);
    if (cached != null_share_.end()) return cached->second;
    double residual_rows = static_cast<double>(table.rows), residual_nulls = static_cast<double>(c.nulls);
    for (const KeptTenant& kept : p_.tenants) {
      auto r = kept.rows.find(table.name);
      if (!Covers(kept, id.substr(5))) continue;
      if (r != kept.rows.end()) residual_rows -= static_cast<double>(r->second);
      auto n = kept.counts.find(id);
      if (n != kept.counts.end()) residual_nulls -= static_cast<double>(n->second);
    }
    return null_share_[id] = std::clamp(residual_nulls / std::max(residual_rows, 1.0), 0.0, 1.0);
  }
  // A foreign key that does not carry the tenant: the parent among the same tenant's parent rows (or
  // all of them), in proportion to a draw of the profiled fan-out; a self-reference points back.
  void AssignParents(size_t t, size_t key) {
    const TableProfile& table = p_.tables[t];
    const ForeignKeyProfile& k = table.foreign_keys[key];
    TableRows& rows = rows_[t];
    std::vector<int64_t>& out = rows.parent[key];
    out.assign(static_cast<size_t>(rows.count), kNoRow);
    const int parent_index = TableIndex(k.parent);
    if (parent_index < 0 || deferred_.count(table.name + "." + k.name)) return;
    const bool self = static_cast<size_t>(parent_index) == t;
    const TableRows& parent = rows_[static_cast<size_t>(parent_index)];
    const bool by_tenant = Carries(table) && Carries(p_.tables[static_cast<size_t>(parent_index)]);
    // Groups of child rows and their candidate parents.
    std::map<int32_t, std::vector<int64_t>> children;
    const ColumnProfile* key_column = table.Column(k.columns[0]);
    const std::string null_id = "null:" + Lower(table.name) + "." + k.columns[0];
    const uint64_t null_what = HashOf(table.name + "." + k.name + "/null");
    for (int64_t i = 0; i < rows.count; ++i) {
      if (NullKey(table, rows, key_column, null_id, null_what, i)) continue;
      children[by_tenant ? rows.tenant[static_cast<size_t>(i)] : -1].push_back(i);
    }
    for (auto& [tenant, group] : children) {
      if (self) {
        PointBack(table, k, tenant, group, &out);
        continue;
      }
      std::vector<int64_t> candidates;
      if (tenant >= 0) {
        candidates = parent.by_tenant[static_cast<size_t>(tenant)];
      } else {
        candidates.resize(static_cast<size_t>(parent.count));
        for (int64_t j = 0; j < parent.count; ++j) candidates[static_cast<size_t>(j)] = j;
      }
      if (candidates.empty()) {  // a tenant with children but no parent rows: NULL, or no row
        const ColumnProfile* c = table.Column(k.columns[0]);
        if (c != nullptr && !c->nullable) {
          rows.orphan.resize(static_cast<size_t>(rows.count), 0);
          for (int64_t i : group) rows.orphan[static_cast<size_t>(i)] = 1;
        }
        continue;
      }
      const std::vector<int64_t> weights =
          FanoutsFor(FanoutOf(table, k, tenant), candidates.size(), OwnFanout(table, k, tenant), o_.seed,
                     HashOf(table.name + "." + k.name), candidates);
      Rng r(o_.seed, HashOf(table.name + "." + k.name + "/allocate"), static_cast<uint64_t>(tenant + 1));
      const std::vector<int64_t> picks = Allocate(static_cast<int64_t>(group.size()), weights, r);
      for (size_t g = 0; g < group.size(); ++g)
        out[static_cast<size_t>(group[g])] = candidates[static_cast<size_t>(picks[g])];
    }
  }
  // A self-reference: an earlier row of the same tenant (of the table, when it carries none), at
  // random; the first row has none: NULL, or itself when the key may not be NULL.
  void PointBack(const TableProfile& table, const ForeignKeyProfile& k, int32_t tenant,
                 const std::vector<int64_t>& group, std::vector<int64_t>* out) const {
    const TableRows& rows = rows_[static_cast<size_t>(TableIndex(table.name))];
    const ColumnProfile* c = table.Column(k.columns[0]);
    static const std::vector<int64_t> kNone;
    const std::vector<int64_t>& same = tenant < 0 ? kNone : rows.by_tenant[static_cast<size_t>(tenant)];
    for (int64_t i : group) {
      const int64_t earlier = tenant < 0 ? i : rows.slot[static_cast<size_t>(i)];
      if (earlier == 0) {
        (*out)[static_cast<size_t>(i)] = c != nullptr && c->nullable ? kNoRow : i;
        continue;
      }
      Rng r(o_.seed, HashOf(table.name + "." + k.name), static_cast<uint64_t>(i));
      const uint64_t pick = r.Next() % static_cast<uint64_t>(earlier);
      (*out)[static_cast<size_t>(i)] = same.empty() ? static_cast<int64_t>(pick) : same[pick];
    }
  }
  // Rows production added since its last ANALYZE: a kept tenant's rows beyond the planner's estimate
  // (its last ones), a share of every other tenant's for the rest of the table's growth, and every
  // row whose parent came late. A row whose parent is not made is not made either.
  void MarkLate(size_t t) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    rows.late.assign(static_cast<size_t>(rows.count), 0);
    std::map<int32_t, int64_t> kept_late;  // tenant -> its last rows that come after ANALYZE
    const double p = LateShare(table, &kept_late);
    for (int64_t i = 0; i < rows.count; ++i) {
      const int32_t tenant = rows.tenant[static_cast<size_t>(i)];
      bool late;
      if (Kept(tenant) != nullptr) {
        auto it = kept_late.find(tenant);
        late = it != kept_late.end() &&
               rows.slot[static_cast<size_t>(i)] >=
                   static_cast<int64_t>(rows.by_tenant[static_cast<size_t>(tenant)].size()) - it->second;
      } else {
        late = Rng(o_.seed, HashOf(table.name + "/late"), static_cast<uint64_t>(i)).Chance(p);
      }
      rows.late[static_cast<size_t>(i)] = FollowParents(t, i, late);
    }
    int64_t orphans = 0;
    for (size_t i = 0; i < rows.orphan.size(); ++i) {
      if (rows.orphan[i]) rows.late[i] = 2, ++orphans;
    }
    if (orphans > 0) {
      result_.warnings.push_back(table.name + ": " + std::to_string(orphans) +
                                 " rows not made: their tenant has no row to refer to in a parent table");
    }
  }
  // The share of the typical tenants' rows that come after ANALYZE, once the kept tenants' growth
  // (their rows beyond the planner's estimate) is taken out of the table's.
  double LateShare(const TableProfile& table, std::map<int32_t, int64_t>* kept_late) const {
    const StatisticsState& s = table.statistics;
    // The growth since ANALYZE, no more than the rows PostgreSQL counted as changed since (its
    // reltuples is itself an estimate: a table analyzed just now may count a few rows off).
    double growth = s.analyzed && s.analyzed_rows >= 0 ? static_cast<double>(table.rows) - s.analyzed_rows : 0;
    if (s.modified_since_analyze >= 0) growth = std::min(growth, static_cast<double>(s.modified_since_analyze));
    double residual_rows = static_cast<double>(table.rows);
    for (size_t k = 0; k < tenants_.size(); ++k) {
      const KeptTenant* kept = Kept(static_cast<int32_t>(k));
      if (kept == nullptr) continue;
      auto actual = kept->rows.find(table.name);
      auto estimate = kept->estimated_rows.find(table.name);
      if (actual == kept->rows.end()) continue;
      residual_rows -= static_cast<double>(actual->second);
      if (estimate == kept->estimated_rows.end()) continue;
      const double extra = static_cast<double>(actual->second) - estimate->second;
      if (extra > 50 && static_cast<double>(actual->second) > 2 * estimate->second) {
        (*kept_late)[static_cast<int32_t>(k)] = static_cast<int64_t>(extra);
        growth -= extra;
      }
    }
    return std::clamp(growth / std::max(residual_rows, 1.0), 0.0, 1.0);
  }
  // A row is late when any of its parent rows is (a self-reference's parent is an earlier row, decided
  // already); a row whose parent is not made is marked an orphan.
  uint8_t FollowParents(size_t t, int64_t i, bool late) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
      const int parent = TableIndex(table.foreign_keys[k].parent);
      const int64_t j = rows.parent[k].empty() ? kNoRow : rows.parent[k][static_cast<size_t>(i)];
      if (parent < 0 || j == kNoRow || (static_cast<size_t>(parent) == t && j == i)) continue;
      const uint8_t parent_late = rows_[static_cast<size_t>(parent)].late[static_cast<size_t>(j)];
      if (parent_late == 2) {
        rows.orphan.resize(static_cast<size_t>(rows.count), 0);
        rows.orphan[static_cast<size_t>(i)] = 1;
      }
      late = late || parent_late != 0;
    }
    return late ? 1 : 0;
  }
  // A unique key made only of foreign-key columns (a link table, a one-to-one table) would repeat
  // when two rows drew the same parents: the second is not written.
  void DropDuplicateKeys(size_t t) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    for (const ConstraintProfile& c : table.constraints) {
      if (c.type != 'p' && c.type != 'u') continue;
      std::vector<int> from;  // per key column: the foreign key that fills it (-1: the tenant column)
      bool all = true;
      for (const std::string& col : c.columns) {
        int found = -2;
        for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
          if (Contains(table.foreign_keys[k].columns, col)) found = static_cast<int>(k);
        }
        if (found == -2 && col == table.tenant.column) found = -1;
        all = all && found != -2;
        from.push_back(found);
      }
      if (!all) continue;
      std::unordered_set<std::string> seen;
      int64_t dropped = 0;
      for (int64_t i = 0; i < rows.count; ++i) {
        std::string key;
        bool null = false;  // a key with a NULL part repeats nothing
        for (int f : from) {
          const int64_t v =
              f < 0 ? rows.tenant[static_cast<size_t>(i)] : rows.parent[static_cast<size_t>(f)][static_cast<size_t>(i)];
          null = null || v == kNoRow;
          key.append(reinterpret_cast<const char*>(&v), sizeof v);
        }
        if (!null && !seen.insert(key).second) rows.late[static_cast<size_t>(i)] = 2, ++dropped;
      }
      if (dropped > 0) {
        result_.warnings.push_back(table.name + ": " + std::to_string(dropped) +
                                   " rows not made: they repeated the key (" + c.columns.front() +
                                   (c.columns.size() > 1 ? ", ..." : "") + ")");
      }
    }
  }

  // --- keys ----------------------------------------------------------------------------------------

  // A generated key value for row i of a unique column: its number, or a text or uuid made from it.
  void KeyValue(const TableProfile& table, const ColumnProfile& c, int64_t i, KeyStore* store) const {
    if (c.kind == ValueKind::kInteger || c.kind == ValueKind::kDecimal || c.kind == ValueKind::kFloat) {
      store->ints.push_back(i + 1);
      return;
    }
    store->integer = false;
    if (c.kind == ValueKind::kUuid) {
      store->texts.push_back(UuidOf(o_.seed ^ HashOf(table.name), static_cast<uint64_t>(i)));
      return;
    }
    std::string text = table.name + "-" + std::to_string(i + 1);
    if (c.max_length > 0 && static_cast<int64_t>(text.size()) > c.max_length) {  // varchar(n), char(n)
      char b[24];
      text.assign(b, static_cast<size_t>(std::to_chars(b, b + 24, i + 1, 36).ptr - b));
      if (static_cast<int64_t>(text.size()) > c.max_length)
        text = text.substr(text.size() - static_cast<size_t>(c.max_length));
    }
    store->texts.push_back(std::move(text));
  }
  // A unique column may be NULL (unique keys allow any number of NULLs): in the profiled share.
  bool KeyIsNull(const TableProfile& table, const ColumnProfile& c, int64_t i) const {
    if (!c.nullable || c.nulls <= 0 || table.rows <= 0) return false;
    Rng r(o_.seed, HashOf(table.name + "." + c.name + "/null"), static_cast<uint64_t>(i));
    return r.Chance(static_cast<double>(c.nulls) / static_cast<double>(table.rows));
  }
  // The values of the parent's column a foreign key's part refers to; nullptr when synth did not keep
  // them (a column the parent does not have).
  const KeyStore* KeyOf(const ForeignKeyProfile& f, size_t part) const {
    const int parent = TableIndex(f.parent);
    if (parent < 0 || part >= f.parent_columns.size()) return nullptr;
    const auto& keys = rows_[static_cast<size_t>(parent)].keys;
    auto it = keys.find(f.parent_columns[part]);
    return it == keys.end() ? nullptr : &it->second;
  }
  static bool KeyNull(const KeyStore* k, int64_t j) {
    if (k == nullptr) return true;
    const size_t at = static_cast<size_t>(j);
    return at >= (k->integer ? k->ints.size() : k->texts.size()) || (at < k->null.size() && k->null[at] != 0);
  }
  // Which role a column plays in the row: a foreign key's column, the tenant, a generated key, a value.
  enum class Role { kForeign, kTenant, kKey, kValue, kSkip };
  struct ColumnRole {
    Role role = Role::kValue;
    int key = -1;  // kForeign: the foreign key; its column position in `part`
    size_t part = 0;
  };
  ColumnRole RoleOf(const TableProfile& table, const ColumnProfile& c) const {
    // Computed by the database, or of a type synth cannot make: left to the database (its default,
    // its expression, or NULL).
    if (!c.generated_sql.empty() || c.kind == ValueKind::kOther) return {Role::kSkip};
    if (table.name == p_.tenant.table && c.name == p_.tenant.key) return {Role::kTenant};
    for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
      const ForeignKeyProfile& f = table.foreign_keys[k];
      for (size_t i = 0; i < f.columns.size(); ++i) {
        if (f.columns[i] == c.name && TableIndex(f.parent) >= 0) return {Role::kForeign, static_cast<int>(k), i};
      }
    }
    if (c.name == table.tenant.column && table.tenant.via.empty()) return {Role::kTenant};
    const bool makeable = c.kind == ValueKind::kInteger || c.kind == ValueKind::kText || c.kind == ValueKind::kUuid;
    for (const ConstraintProfile& k : table.constraints) {
      if ((k.type == 'p' || k.type == 'u') && Contains(k.columns, c.name) && makeable) return {Role::kKey};
    }
    for (const IndexProfile& i : table.indexes) {  // a unique index is a key too
      if (i.unique && !i.partial && Contains(i.columns, c.name) && makeable) return {Role::kKey};
    }
    return {Role::kValue};
  }
  void StoreKeys(size_t t) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    std::set<std::string> referenced;
    for (const TableProfile& other : p_.tables) {
      for (const ForeignKeyProfile& k : other.foreign_keys) {
        if (k.parent == table.name) referenced.insert(k.parent_columns.begin(), k.parent_columns.end());
      }
    }
    for (const std::string& name : referenced) {
      const ColumnProfile* c = table.Column(name);
      if (c == nullptr) continue;
      KeyStore& store = rows.keys[name];
      const ColumnRole role = RoleOf(table, *c);
      for (int64_t i = 0; i < rows.count; ++i) {
        if (role.role == Role::kTenant) {
          const std::string& v = tenants_[static_cast<size_t>(rows.tenant[static_cast<size_t>(i)])];
          if (p_.tenant.integer)
            store.ints.push_back(std::atoll(v.c_str()));
          else
            store.integer = false, store.texts.push_back(v);
        } else if (role.role == Role::kForeign) {
          const ForeignKeyProfile& f = table.foreign_keys[static_cast<size_t>(role.key)];
          const int64_t j = rows.parent[static_cast<size_t>(role.key)][static_cast<size_t>(i)];
          const KeyStore* from = KeyOf(f, role.part);
          store.integer = from == nullptr || from->integer;
          store.null.resize(static_cast<size_t>(i) + 1, 0);
          if (j == kNoRow || KeyNull(from, j)) {  // a NULL key is NULL in its children's children too
            store.null[static_cast<size_t>(i)] = 1;
            if (store.integer)
              store.ints.push_back(0);
            else
              store.texts.emplace_back();
          } else if (from->integer) {
            store.ints.push_back(from->ints[static_cast<size_t>(j)]);
          } else {
            store.texts.push_back(from->texts[static_cast<size_t>(j)]);
          }
        } else {
          KeyValue(table, *c, i, &store);
          if (KeyIsNull(table, *c, i)) {
            store.null.resize(static_cast<size_t>(i) + 1, 0);
            store.null[static_cast<size_t>(i)] = 1;
          }
        }
      }
    }
  }

  // --- writing -------------------------------------------------------------------------------------

  bool Cancelled() const { return o_.cancel != nullptr && o_.cancel->load(); }

  Status WriteRows(size_t t, bool late) {
    const TableProfile& table = p_.tables[t];
    TableRows& rows = rows_[t];
    std::vector<std::string> names;
    std::vector<ColumnRole> roles;
    std::vector<std::unique_ptr<ColumnGen>> gens;
    std::vector<std::vector<std::unique_ptr<ColumnQuota>>> quotas;  // per column, per kept tenant
    for (const ColumnProfile& c : table.columns) {
      const ColumnRole role = RoleOf(table, c);
      if (role.role == Role::kSkip) continue;
      names.push_back(Quote(c.name));
      roles.push_back(role);
      gens.push_back(std::make_unique<ColumnGen>(p_, table, c, target_, o_.seed, false, rows.count));
      quotas.emplace_back(p_.tenants.size());
    }
    int64_t written = 0;
    bool begun = false;
    for (int64_t i = 0; i < rows.count; ++i) {
      if (rows.late[static_cast<size_t>(i)] != (late ? 1 : 0)) continue;
      if (!begun) {
        STRATA_RETURN_IF_ERROR(w_->BeginTable(TargetName(table, target_), names));
        begun = true;
      }
      const int32_t tenant = rows.tenant[static_cast<size_t>(i)];
      const KeptTenant* kept = Kept(tenant);
      for (size_t c = 0; c < roles.size(); ++c) {
        WriteCell(table, rows, i, roles[c], gens[c].get(), kept, tenant, &quotas[c]);
      }
      STRATA_RETURN_IF_ERROR(w_->EndRow().WithContext(table.name));
      if ((++written & 0xffff) == 0) {
        if (Cancelled()) return Status::Cancelled("interrupted");
        if (o_.on_progress) o_.on_progress(table.name, static_cast<uint64_t>(written));
      }
    }
    if (begun) STRATA_RETURN_IF_ERROR(w_->EndTable());
    counts_[t].table = table.name;
    counts_[t].rows += static_cast<uint64_t>(written);
    if (late) counts_[t].late_rows = static_cast<uint64_t>(written);
    result_.rows += static_cast<uint64_t>(written);
    return Cancelled() ? Status::Cancelled("interrupted") : Status::Ok();
  }
  void WriteCell(const TableProfile& table, const TableRows& rows, int64_t i, const ColumnRole& role, ColumnGen* gen,
                 const KeptTenant* kept, int32_t tenant, std::vector<std::unique_ptr<ColumnQuota>>* quotas) {
    switch (role.role) {
      case Role::kTenant: {
        const std::string& v = tenants_[static_cast<size_t>(tenant)];
        return p_.tenant.integer ? w_->Int(std::atoll(v.c_str())) : w_->Text(v);
      }
      case Role::kForeign: {
        const ForeignKeyProfile& f = table.foreign_keys[static_cast<size_t>(role.key)];
        const int64_t j = rows.parent[static_cast<size_t>(role.key)][static_cast<size_t>(i)];
        const KeyStore* from = KeyOf(f, role.part);
        if (j == kNoRow || KeyNull(from, j)) return w_->Null();
        return from->integer ? w_->Int(from->ints[static_cast<size_t>(j)])
                             : w_->Text(from->texts[static_cast<size_t>(j)]);
      }
      case Role::kKey: {
        if (KeyIsNull(table, gen->column(), i)) return w_->Null();
        KeyStore one;
        KeyValue(table, gen->column(), i, &one);
        return one.integer ? w_->Int(one.ints[0]) : w_->Text(one.texts[0]);
      }
      default: break;
    }
    const ColumnQuota* quota = nullptr;
    if (kept != nullptr) {
      auto& slot = (*quotas)[static_cast<size_t>(kept_[static_cast<size_t>(tenant)])];
      if (slot == nullptr) slot = std::make_unique<ColumnQuota>(gen->QuotaFor(*kept));
      quota = slot->covered ? slot.get() : nullptr;
    }
    const int64_t tenant_rows =
        tenant >= 0 ? static_cast<int64_t>(rows.by_tenant[static_cast<size_t>(tenant)].size()) : 0;
    gen->Write(w_, static_cast<uint64_t>(i), quota, tenant >= 0 ? rows.slot[static_cast<size_t>(i)] : i, tenant_rows);
  }

  BulkWriter* w_;
  const Profile& p_;
  const SynthOptions& o_;
  Dialect target_;
  SynthResult result_;
  double load_seconds_ = 0;
  const std::map<std::string, SchemaStatements::RepeatCheck>* repeats_before_ = nullptr;
  std::vector<std::string> tenants_;  // every tenant value, as text
  std::vector<int> kept_;             // per tenant: its index in p_.tenants, or -1
  std::vector<double> size_rank_;     // per tenant: its rank among tenant sizes
  std::vector<size_t> order_;
  std::set<std::string> deferred_;  // "table.key" broken out of a cycle
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> residual_fanout_;
  std::map<std::string, double> null_share_;  // "null:table.column" -> the typical tenants' share
  std::vector<TableRows> rows_;
  std::vector<SynthTable> counts_;
};

}  // namespace

Result<SynthResult> Synthesize(BulkWriter* writer, const Profile& profile, const SynthOptions& options) {
  if (!(options.scale >= 0)) return Status::Usage("--scale must be 0 or more");
  return Synth(writer, profile, options).Run();
}

}  // namespace strata::synth
