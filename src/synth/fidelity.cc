#include "synth/fidelity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace strata::synth {

namespace {

double QError(int64_t a, int64_t b) {
  const double x = std::max<double>(1, static_cast<double>(a)), y = std::max<double>(1, static_cast<double>(b));
  return std::max(x / y, y / x);
}

// The largest gap between two distributions of children per parent.
double KolmogorovSmirnov(const std::vector<std::pair<int64_t, int64_t>>& a,
                         const std::vector<std::pair<int64_t, int64_t>>& b) {
  std::map<int64_t, std::pair<double, double>> points;
  double ta = 0, tb = 0;
  for (const auto& [n, c] : a) points[n].first += static_cast<double>(c), ta += static_cast<double>(c);
  for (const auto& [n, c] : b) points[n].second += static_cast<double>(c), tb += static_cast<double>(c);
  if (ta <= 0 || tb <= 0) return ta == tb ? 0 : 1;
  double ca = 0, cb = 0, d = 0;
  for (const auto& [n, c] : points) {
    ca += c.first / ta;
    cb += c.second / tb;
    d = std::max(d, std::fabs(ca - cb));
  }
  return d;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Each report's plan for a tenant there and here: the same shape, and per node how far the
// planner's estimates are apart (q-error; 1 when both are equal).
void ComparePlans(const Profile& expected, const Profile& actual, Fidelity* f) {
  if (expected.dialect != actual.dialect) return;  // two databases' planners: nothing to compare
  std::vector<double> all;
  for (const PlanShape& there : expected.plans) {
    for (const PlanShape& here : actual.plans) {
      if (here.report != there.report || here.tenant != there.tenant) continue;
      Fidelity::Plan plan{there.report, there.tenant, here.fingerprint == there.fingerprint, 1};
      std::vector<double> qs;
      for (size_t k = 0; plan.same_shape && k < there.nodes.size() && k < here.nodes.size(); ++k) {
        qs.push_back(QError(static_cast<int64_t>(there.nodes[k].second), static_cast<int64_t>(here.nodes[k].second)));
      }
      plan.median_q_error = Median(qs);
      all.insert(all.end(), qs.begin(), qs.end());
      f->same_plans += plan.same_shape;
      f->plans.push_back(plan);
    }
  }
  f->median_node_q = Median(all);
}

}  // namespace

Fidelity CompareProfiles(const Profile& expected, const Profile& actual) {
  Fidelity f;
  for (const TableProfile& t : expected.tables) {
    const TableProfile* s = actual.Table(t.name);
    const int64_t synthetic = s ? s->rows : 0;
    f.tables.push_back({t.name, t.rows, synthetic});
    if (t.rows > 0) {
      f.max_table_error =
          std::max(f.max_table_error, std::fabs(static_cast<double>(synthetic - t.rows)) / static_cast<double>(t.rows));
    }
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (s == nullptr) continue;
      for (const ForeignKeyProfile& sk : s->foreign_keys) {
        // By what the key is (names differ between databases: SQLite's keys have none).
        if (sk.columns != k.columns || sk.parent != k.parent) continue;
        f.foreign_keys.push_back({t.name + "." + k.name, KolmogorovSmirnov(k.fanout, sk.fanout)});
        f.max_ks = std::max(f.max_ks, f.foreign_keys.back().ks);
      }
    }
    for (const ColumnProfile& c : t.columns) {
      const ColumnProfile* sc = s ? s->Column(c.name) : nullptr;
      if (sc == nullptr || c.nulls == 0 || t.rows == 0) continue;
      f.nulls.push_back({t.name + "." + c.name, static_cast<double>(c.nulls) / static_cast<double>(t.rows),
                         s->rows > 0 ? static_cast<double>(sc->nulls) / static_cast<double>(s->rows) : 0});
    }
  }
  std::map<std::string, const KeptTenant*> synthetic;
  for (const KeptTenant& k : actual.tenants) synthetic[k.tenant] = &k;
  std::vector<double> qs;
  for (const KeptTenant& k : expected.tenants) {
    auto s = synthetic.find(k.tenant);
    for (const auto& [table, rows] : k.rows) {
      int64_t got = 0;
      if (s != synthetic.end()) {
        auto r = s->second->rows.find(table);
        got = r == s->second->rows.end() ? 0 : r->second;
      }
      f.tenants.push_back({k.tenant, table, rows, got, QError(rows, got)});
      qs.push_back(f.tenants.back().q_error);
    }
  }
  if (!qs.empty()) {
    std::sort(qs.begin(), qs.end());
    f.median_tenant_q = qs[qs.size() / 2];
    f.max_tenant_q = qs.back();
  }
  ComparePlans(expected, actual, &f);
  return f;
}

std::string FidelityToJson(const Fidelity& f) {
  using nlohmann::json;
  json j = {{"format", "strata-fidelity/1"},
            {"summary",
             {{"max_table_error", f.max_table_error},
              {"median_tenant_q_error", f.median_tenant_q},
              {"max_tenant_q_error", f.max_tenant_q},
              {"max_ks", f.max_ks}}}};
  json tables = json::array(), tenants = json::array(), keys = json::array(), nulls = json::array();
  for (const auto& t : f.tables)
    tables.push_back({{"table", t.table}, {"profiled_rows", t.profiled}, {"synthetic_rows", t.synthetic}});
  for (const auto& t : f.tenants) {
    tenants.push_back({{"tenant", t.tenant},
                       {"table", t.table},
                       {"profiled_rows", t.profiled},
                       {"synthetic_rows", t.synthetic},
                       {"q_error", t.q_error}});
  }
  for (const auto& k : f.foreign_keys) keys.push_back({{"foreign_key", k.foreign_key}, {"ks", k.ks}});
  for (const auto& n : f.nulls)
    nulls.push_back({{"column", n.column}, {"profiled", n.profiled}, {"synthetic", n.synthetic}});
  j["tables"] = std::move(tables);
  j["tenants"] = std::move(tenants);
  j["foreign_keys"] = std::move(keys);
  j["nulls"] = std::move(nulls);
  json plans = json::array();
  for (const auto& p : f.plans) {
    plans.push_back({{"report", p.report},
                     {"tenant", p.tenant},
                     {"same_shape", p.same_shape},
                     {"median_q_error", p.median_q_error}});
  }
  j["plans"] = std::move(plans);
  j["summary"]["plans_same_shape"] = f.same_plans;
  j["summary"]["plans"] = f.plans.size();
  j["summary"]["median_node_q_error"] = f.median_node_q;
  return j.dump(1) + "\n";
}

std::string FidelitySummary(const Fidelity& f) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "fidelity: rows per table within %.1f%%; kept tenants' rows per table: median q-error %.2f, "
                "largest %.2f; children per parent: largest KS distance %.3f\n",
                100 * f.max_table_error, f.median_tenant_q, f.max_tenant_q, f.max_ks);
  std::string out = buf;
  if (!f.plans.empty()) {
    std::snprintf(buf, sizeof buf,
                  "fidelity: reports' plans: %d of %zu of the same shape as profiled; median q-error of the "
                  "planner's estimates per node %.2f\n",
                  f.same_plans, f.plans.size(), f.median_node_q);
    out += buf;
  }
  return out;
}

}  // namespace strata::synth
