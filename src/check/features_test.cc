// The feature pass on a real SQLite file: where the tenant lives (directly, through declared and
// implied keys), and the features of tenants that are typical in size and unusual in their values.
#include "check/features.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "check/tenant_schema.h"
#include "check/tenants.h"
#include "source/sqlite_source.h"

namespace strata::check {
namespace {

namespace fs = std::filesystem;

// 40 shops (the tenant: shop_id) with 3 customers and 6 orders each, every order with 2 lines;
// then one shop is made unusual in each way below, none in its size.
const char* kSchema = R"(
  create table shops (id integer primary key, name text not null);
  create table customers (id integer primary key, shop_id bigint not null references shops (id), email text);
  create table orders (id integer primary key, shop_id bigint not null, customer_id bigint,
                       status text not null, total numeric(12,2) not null, placed date not null);
  create table lines (id integer primary key, order_id bigint not null references orders (id), sku text not null,
                      qty integer not null);
  create table notes (id integer primary key, line_id bigint not null, body text);
  create index orders_shop on orders (shop_id);
  with recursive n(k) as (select 1 union all select k + 1 from n where k < 40)
  insert into shops select k, 'shop ' || k from n;
  with recursive n(k) as (select 0 union all select k + 1 from n where k < 119)
  insert into customers select k + 1, k / 3 + 1, 'c' || k || '@example.com' from n;
  with recursive n(k) as (select 0 union all select k + 1 from n where k < 239)
  insert into orders select k + 1, k / 6 + 1, (k / 6) * 3 + k % 3 + 1, case k % 2 when 0 then 'paid' else 'sent' end,
                            10 + k % 7, date('2024-01-01', '+' || (k % 300) || ' days') from n;
  with recursive n(k) as (select 0 union all select k + 1 from n where k < 479)
  insert into lines select k + 1, k / 2 + 1, 'sku' || (k % 2), 1 + k % 3 from n;
  insert into notes select id, id, 'ok' from lines;
  -- shop 7: a guest order (customer_id NULL)
  update orders set customer_id = null where id = 7 * 6 - 1;
  -- shop 9: a status nobody else has
  update orders set status = 'disputed' where id = 9 * 6;
  -- shop 11: a negative total (a chargeback)
  update orders set total = -25 where id = 11 * 6;
  -- shop 13: one order with many lines (taken from its other orders: its size is unchanged)
  update lines set order_id = 13 * 6 where order_id between 13 * 6 - 5 and 13 * 6 - 1;
  -- shop 15: an order whose customer does not exist
  update orders set customer_id = 9999 where id = 15 * 6;
  -- shop 17: an order dated 1901
  update orders set placed = '1901-05-05' where id = 17 * 6;
)";

class FeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("strata_features_test_" + std::to_string(::getpid()) + "_" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    fs::remove(path_);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, kSchema, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_close(db);
    auto s = OpenSqliteSource(path_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    source_ = std::move(*s);
  }
  void TearDown() override {
    source_.reset();
    fs::remove(path_);
  }

  static ParsedSql Report() {
    return ParseSql(
               "SELECT c.email, o.status, o.total, o.placed, sum(l.qty), count(n.body) FROM orders o "
               "LEFT JOIN customers c ON c.id = o.customer_id JOIN lines l ON l.order_id = o.id "
               "LEFT JOIN notes n ON n.line_id = l.id WHERE o.shop_id = :shop_id "
               "GROUP BY c.email, o.status, o.total, o.placed",
               "report.sql")
        .value();
  }

  std::vector<std::string> Tenants() {
    std::vector<std::string> out;
    for (int k = 1; k <= 40; ++k) out.push_back(std::to_string(k));
    return out;
  }

  std::string path_;
  std::unique_ptr<Source> source_;
};

const TenantCarrier* Find(const std::vector<TenantCarrier>& v, const std::string& name) {
  for (const TenantCarrier& c : v) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const Feature* Held(const std::vector<Feature>& features, const std::string& id) {
  for (const Feature& f : features) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

TEST_F(FeaturesTest, FindsWhereTheTenantLivesThroughDeclaredAndImpliedKeys) {
  auto carriers = MapTenantCarriers(source_.get(), Report(), {"shop_id"});
  ASSERT_TRUE(carriers.ok()) << carriers.status().message();
  const TenantCarrier* orders = Find(*carriers, "orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_TRUE(orders->path.empty());
  EXPECT_EQ(orders->tenant_column, "shop_id");
  const TenantCarrier* lines = Find(*carriers, "lines");  // declared key to orders
  ASSERT_NE(lines, nullptr);
  ASSERT_EQ(lines->path.size(), 1u);
  EXPECT_EQ(lines->path[0].column, "order_id");
  const TenantCarrier* notes = Find(*carriers, "notes");  // line_id -> lines (implied by the name) -> orders
  ASSERT_NE(notes, nullptr);
  ASSERT_EQ(notes->path.size(), 2u);
  EXPECT_EQ(notes->path[0].column, "line_id");
  EXPECT_EQ(Find(*carriers, "shops"), nullptr);  // not read by the report
  const auto customer = std::find_if(orders->columns.begin(), orders->columns.end(),
                                     [](const ColumnInfo& c) { return c.name == "customer_id"; });
  ASSERT_NE(customer, orders->columns.end());
  EXPECT_TRUE(customer->join_key);
  EXPECT_EQ(customer->parent_name, "customers");  // implied: customer_id -> customers.id
  EXPECT_FALSE(customer->declared);
}

TEST_F(FeaturesTest, EachUnusualTenantHoldsARareFeatureAndTheTypicalOnesNone) {
  auto carriers = MapTenantCarriers(source_.get(), Report(), {"shop_id"});
  ASSERT_TRUE(carriers.ok());
  FeaturePass pass = RunFeaturePass(source_.get(), *carriers, FeaturePassOptions{}).value();
  EXPECT_TRUE(pass.notes.empty()) << pass.notes.front();
  EXPECT_GT(pass.queries, 0);
  EXPECT_EQ(pass.rows.at("orders").at("7"), 6);
  EXPECT_EQ(pass.rows.at("lines").at("13"), 12);
  const std::vector<Feature> features = DeriveFeatures(pass, Tenants());
  struct Expect {
    const char* id;
    const char* tenant;
    const char* words;
  } expected[] = {
      {"null:orders.customer_id", "7", "1 row of orders with customer_id NULL; 39 of 40 tenants with orders have none"},
      {"value:orders.status=disputed", "9", "row of orders with status = 'disputed'"},
      {"negative:orders.total", "11", "row of orders with total below zero"},
      {"fanout:lines.order_id", "13", "up to 12 rows of lines per order_id (typical tenant: at most 2)"},
      {"orphan:orders.customer_id", "15", "row of orders whose customer_id has no row in customers"},
      {"min:orders.placed", "17", "earliest orders.placed 1901-05-05"},
  };
  for (const Expect& e : expected) {
    const Feature* f = Held(features, e.id);
    ASSERT_NE(f, nullptr) << e.id;
    EXPECT_TRUE(f->rare) << e.id;
    ASSERT_EQ(f->holders, std::vector<std::string>{e.tenant}) << e.id;
    EXPECT_NE(f->why.at(e.tenant).find(e.words), std::string::npos) << f->why.at(e.tenant);
  }
  // Statuses every other shop has are not rare; NULL emails nobody has are no feature at all.
  const Feature* paid = Held(features, "value:orders.status=paid");
  ASSERT_NE(paid, nullptr);
  EXPECT_FALSE(paid->rare);
  EXPECT_EQ(Held(features, "null:customers.email"), nullptr);
}

TEST_F(FeaturesTest, TheCoverPicksEveryUnusualTenantWithinTheCapAndTheSweepTakesTheRest) {
  auto carriers = MapTenantCarriers(source_.get(), Report(), {"shop_id"});
  ASSERT_TRUE(carriers.ok());
  FeaturePass pass = RunFeaturePass(source_.get(), *carriers, FeaturePassOptions{}).value();
  const std::vector<Feature> features = DeriveFeatures(pass, Tenants());
  TenantList list;
  list.dimensions = {"orders"};
  for (const std::string& t : Tenants()) {
    ParamValue v;
    v.type = ParamType::kBigint;
    v.text = t;
    v.integer = std::stoll(t);
    list.values.push_back(v);
    list.sizes.push_back({6});
  }
  PickOptions options;
  options.features = &features;
  options.max_tenants = 8;
  const std::vector<PickedTenant> picked = PickTenants(list, options);
  EXPECT_LE(picked.size(), 8u);
  for (const char* unusual : {"7", "9", "11", "13", "15", "17"}) {
    EXPECT_TRUE(
        std::any_of(picked.begin(), picked.end(), [&](const PickedTenant& p) { return p.value.text == unusual; }))
        << "tenant " << unusual << " was not picked";
  }
  // With room for three, the cover still takes three of them, and the sweep starts with the others.
  options.max_tenants = 3;
  const std::vector<PickedTenant> few = PickTenants(list, options);
  ASSERT_EQ(few.size(), 3u);
  const std::vector<SweepTenant> order = SweepOrder(list, features, few);
  EXPECT_EQ(order.size(), 37u);
  size_t unusual_first = 0;
  while (unusual_first < order.size() && !order[unusual_first].why.empty()) ++unusual_first;
  EXPECT_GE(unusual_first, 3u);
  for (size_t k = unusual_first; k < order.size(); ++k) EXPECT_TRUE(order[k].why.empty());
}

// What a review found: "a.id = :account" must not make every table's id its tenant column, and a
// SQLite key written "REFERENCES orders" (no column) names the primary key, not another unique one.
TEST(TenantSchemaTest, TheTenantColumnIsNotAnotherTablesIdAndAKeyWithoutColumnIsThePrimaryKey) {
  const std::string path =
      (fs::temp_directory_path() / ("strata_schema_test_" + std::to_string(::getpid()) + ".db")).string();
  fs::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "create table accounts (id integer primary key, name text);"
                         "create table members (id integer primary key, account bigint not null, email text);"
                         "create table orders (id integer primary key, code text unique, account bigint not null);"
                         "create table payments (id integer primary key, order_ref integer references orders,"
                         "                       amount numeric);"
                         "create view \"OrderView\" as select id, account from orders;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto source = OpenSqliteSource(path);
  ASSERT_TRUE(source.ok());
  const ParsedSql sql = ParseSql(
                            "SELECT m.email, sum(p.amount) FROM members m JOIN accounts a ON a.id = m.account "
                            "JOIN orders o ON o.account = a.id LEFT JOIN payments p ON p.order_ref = o.id "
                            "JOIN \"OrderView\" v ON v.id = o.id WHERE a.id = :account GROUP BY m.email",
                            "r.sql")
                            .value();
  auto carriers = MapTenantCarriers(source->get(), sql, TenantColumns(sql, "account"));
  ASSERT_TRUE(carriers.ok()) << carriers.status().message();
  const TenantCarrier* members = Find(*carriers, "members");
  ASSERT_NE(members, nullptr);
  EXPECT_EQ(members->tenant_column, "account");
  const TenantCarrier* payments = Find(*carriers, "payments");
  ASSERT_NE(payments, nullptr);
  ASSERT_EQ(payments->path.size(), 1u);
  EXPECT_EQ(payments->path[0].parent_column, "id");
  const TenantCarrier* accounts = Find(*carriers, "accounts");  // "a.id = :account": the tenant's own table
  ASSERT_NE(accounts, nullptr);
  EXPECT_EQ(accounts->tenant_column, "id");
  const TenantCarrier* view = Find(*carriers, "orderview");  // a quoted, mixed-case view
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->tenant_column, "account");
  source->reset();
  fs::remove(path);
}

TEST(JoinKeysTest, ComparedColumnsAndUsingLists) {
  const auto keys = JoinKeyNames("select * from a join b on a.x_id = b.ID join c using (k1, k2) where a.v <> c.w");
  for (const char* k : {"x_id", "id", "k1", "k2", "v", "w"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  }
}

}  // namespace
}  // namespace strata::check
