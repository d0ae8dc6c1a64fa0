// The fidelity report of strata synth: how close the synthetic database came to its profile.
//
// The synthetic database is profiled the same way (profiler.h, with the profile's kept tenants kept
// again) and the two profiles compared: rows per table, the kept tenants' rows per table (q-error:
// max(a/b, b/a), 1 is exact), children per parent of every foreign key (Kolmogorov-Smirnov distance
// of the two distributions, 0 is identical), and NULL fractions per column.
#pragma once

#include <string>
#include <vector>

#include "synth/profile.h"

namespace strata::synth {

struct Fidelity {
  struct TableRows {
    std::string table;
    int64_t profiled = 0, synthetic = 0;
  };
  struct TenantRows {
    std::string tenant, table;
    int64_t profiled = 0, synthetic = 0;
    double q_error = 1;
  };
  struct Fanout {
    std::string foreign_key;  // "order_items.order_items_order_id_fkey"
    double ks = 0;
  };
  struct Nulls {
    std::string column;  // "orders.member_id"
    double profiled = 0, synthetic = 0;
  };
  struct Plan {
    std::string report, tenant;
    bool same_shape = false;
    double median_q_error = 1;  // per node, estimated rows here against there (same shape only)
  };
  std::vector<TableRows> tables;
  std::vector<Plan> plans;
  int same_plans = 0;
  double median_node_q = 1;  // over every node of every plan of the same shape
  std::vector<TenantRows> tenants;
  std::vector<Fanout> foreign_keys;
  std::vector<Nulls> nulls;
  double max_table_error = 0;  // largest |synthetic - profiled| / profiled over the tables
  double median_tenant_q = 1, max_tenant_q = 1;
  double max_ks = 0;
};

// expected: the profile synth built from; actual: a profile of the synthetic database.
Fidelity CompareProfiles(const Profile& expected, const Profile& actual);
std::string FidelityToJson(const Fidelity& fidelity);
// A few lines for people.
std::string FidelitySummary(const Fidelity& fidelity);

}  // namespace strata::synth
