#include "check/tenants.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace strata::check {
namespace {

ParamValue Tenant(int id) {
  ParamValue v;
  v.type = ParamType::kBigint;
  v.text = std::to_string(id);
  v.integer = id;
  return v;
}

// 100 ordinary tenants (members k, orders 3k), one empty, one with members but no orders, one whose
// orders per member are 50x the others', and one very large.
TenantList Example() {
  TenantList list;
  list.dimensions = {"members", "orders"};
  for (int k = 1; k <= 100; ++k) {
    list.values.push_back(Tenant(k));
    list.sizes.push_back({static_cast<double>(10 + k), static_cast<double>(3 * (10 + k))});
  }
  list.values.push_back(Tenant(500));
  list.sizes.push_back({0, 0});
  list.values.push_back(Tenant(501));
  list.sizes.push_back({40, 0});
  list.values.push_back(Tenant(502));
  list.sizes.push_back({40, 6000});
  list.values.push_back(Tenant(503));
  list.sizes.push_back({90000, 270000});
  return list;
}

const PickedTenant* Find(const std::vector<PickedTenant>& picks, const std::string& tenant) {
  for (const PickedTenant& p : picks) {
    if (p.value.text == tenant) return &p;
  }
  return nullptr;
}

bool Says(const PickedTenant* p, const std::string& what) {
  return p != nullptr && std::any_of(p->why.begin(), p->why.end(),
                                     [&](const std::string& w) { return w.find(what) != std::string::npos; });
}

TEST(TenantsTest, PicksTheStrataAndTheUnusual) {
  auto picks = PickTenants(Example(), PickOptions{});
  EXPECT_TRUE(Says(Find(picks, "500"), "empty"));
  EXPECT_TRUE(Says(Find(picks, "501"), "no orders"));
  EXPECT_TRUE(Says(Find(picks, "502"), "orders per members"));
  EXPECT_TRUE(Says(Find(picks, "503"), "largest by members"));
  EXPECT_TRUE(Says(Find(picks, "503"), "largest by orders"));
  EXPECT_TRUE(Says(Find(picks, "1"), "smallest by members"));
  bool median = false;
  for (const PickedTenant& p : picks) median = median || Says(&p, "median by orders");
  EXPECT_TRUE(median);
  // Each tenant once, with all its reasons.
  for (size_t a = 0; a < picks.size(); ++a) {
    for (size_t b = a + 1; b < picks.size(); ++b) EXPECT_NE(picks[a].value.text, picks[b].value.text);
  }
}

TEST(TenantsTest, CapKeepsNamedFlaggedAndExtremesFirst) {
  PickOptions options;
  options.max_tenants = 4;
  options.named = {Tenant(7)};
  options.flagged = {{"9", "grown since the last ANALYZE of orders"}};
  auto picks = PickTenants(Example(), options);
  ASSERT_EQ(picks.size(), 4u);
  EXPECT_EQ(picks[0].value.text, "7");
  EXPECT_EQ(picks[1].value.text, "9");
  EXPECT_TRUE(Says(&picks[1], "grown since"));
  EXPECT_TRUE(Says(Find(picks, "500"), "empty"));
}

TEST(TenantsTest, NamedTenantNotInTheListIsStillChecked) {
  PickOptions options;
  options.named = {Tenant(9999)};
  auto picks = PickTenants(Example(), options);
  ASSERT_NE(Find(picks, "9999"), nullptr);
  EXPECT_TRUE(Find(picks, "9999")->sizes.empty());
}

TEST(TenantsTest, TenantColumnsFromComparisons) {
  // A qualifier that names a table or an alias keeps the column to that table; an unknown one does not.
  auto sql = ParseSql(
      "SELECT * FROM t JOIN public.\"Accounts\" AS a ON a.id = t.acc WHERE t.owner_id = :tenant AND :tenant = "
      "u.tenant_ref AND a.id = :tenant",
      "q.sql");
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(TenantColumns(*sql, "tenant"),
            (std::vector<std::string>{"tenant", "t.owner_id", "accounts.id", "tenant_ref"}));
}

}  // namespace
}  // namespace strata::check
