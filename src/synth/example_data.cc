#include "synth/example_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <string_view>

#include "common/text.h"
#include "common/value.h"
#include "synth/example_schema.h"
#include "synth/random.h"

namespace strata::synth {

namespace {

// ---- The shape of the data: one table ----------------------------------------------------------
//
// "typical" admins get their members from a heavy tail (members = top / rank^1.3, so a few are
// enormous and most are small) and, correlated with size, more orders per member (1 to 10). Every
// other kind exists once at every scale: each is unusual in one dimension a report touches.
struct TenantKind {
  std::string_view name;
  std::string_view why;
  int members = 0;                // fixed size; -1: from the heavy tail (see like_typical_at)
  double orders_per_member = -1;  // mean; -1: grows with the admin's size
  double items_per_order = 2.5;   // mean, at least 1
  double payments_per_order = 1;  // mean installments of a paid order, at least 1
  double refund_rate = 0.04;      // share of payments refunded
  int refunds_per_refund = 1;     // refunds of one refunded payment, up to
  double null_rate = 0.05;        // share of optional values left NULL
  bool long_text = false;         // names of thousands of characters, mixed scripts
  bool far_dates = false;         // orders in 1901-1950 and 2090-2099
  bool time_zones = false;        // buyers from UTC-11 to UTC+14, orders around midnight
  // Unusual in values and typical in size: sized as the typical admin ranked at this share of
  // them (0.5: the median), so that no row count per table tells it apart. 0: `members` is used.
  // Their unusual values are common within them (40%), so that any report period holds some.
  double like_typical_at = 0;
  double guest_rate = 0;        // orders with no member (member_id NULL): guest checkouts
  double rare_status_rate = 0;  // orders in status 'disputed', which no other admin has
  double chargeback_rate = 0;   // paid orders whose payment is negative
  double zero_rate = 0;         // order lines of quantity 0, and lines of price 0
  int shared_refs = 0;          // orders share this many external references (0: one each)
  double null_method_rate = 0;  // payments with no method
  double over_refund_rate = 0;  // payments refunded once, for more than was paid
};

constexpr TenantKind kTypical = {
    .name = "typical", .why = "most admins: sizes from a heavy tail, orders per member grow with size", .members = -1};

constexpr TenantKind kTenantKinds[] = {
    {"empty", "no members and no orders", 0, 0, 1, 1, 0, 1, 0, false, false, false},
    {"no_orders", "members who never ordered", 40, 0, 1, 1, 0, 1, 0.05, false, false, false},
    {"installments", "every order paid in 10 to 40 installments (many payments per order)", 60, 4, 2.5, 24, 0.04, 1,
     0.05, false, false, false},
    {"refunds", "most payments refunded, several times each", 60, 4, 2.5, 1, 0.85, 3, 0.05, false, false, false},
    {"bulk_items", "orders of about 80 lines each", 30, 3, 80, 1, 0.04, 1, 0.05, false, false, false},
    {"few_members_many_orders", "4 members with about 10,000 orders between them", 4, 2500, 2.5, 1, 0.04, 1, 0.05,
     false, false, false},
    {"nulls", "optional columns mostly NULL", 80, 3, 2.5, 1, 0.3, 1, 0.9, false, false, false},
    {"long_text", "names of thousands of characters in Korean, Japanese and emoji", 40, 3, 2.5, 1, 0.04, 1, 0.05, true,
     false, false},
    {"far_dates", "orders dated 1901-1950 and 2090-2099", 50, 4, 2.5, 1, 0.04, 1, 0.05, false, true, false},
    {"time_zones", "buyers in time zones from UTC-11 to UTC+14, ordering around midnight", 60, 4, 2.5, 1, 0.04, 1, 0.05,
     false, false, true},
    // Typical in size, unusual in values: only what their data holds tells them apart.
    {.name = "guest_orders",
     .why = "40% of orders placed as a guest: orders.member_id NULL",
     .like_typical_at = 0.35,
     .guest_rate = 0.4},
    {.name = "rare_status",
     .why = "40% of orders in status 'disputed', which no other admin has",
     .like_typical_at = 0.35,
     .rare_status_rate = 0.4},
    {.name = "chargebacks",
     .why = "40% of paid orders charged back: their payment is negative",
     .like_typical_at = 0.35,
     .chargeback_rate = 0.4},
    {.name = "zeros",
     .why = "order lines of quantity 0 or price 0, so some payments are 0",
     .like_typical_at = 0.35,
     .zero_rate = 0.25},
    // Sized, not ranked: duplicates make a self-join quadratic, which shows only past a few hundred
    // orders, and the median admin of 2,000 has a few dozen. 100 members is among the larger
    // typical admins at every scale and far from the largest.
    {.name = "duplicate_refs",
     .why = "orders imported from another system with one placeholder as their external reference",
     .members = 100,
     .orders_per_member = 20,
     .shared_refs = 1},
    {.name = "null_methods",
     .why = "40% of payments without a method: payments.method NULL",
     .like_typical_at = 0.35,
     .null_method_rate = 0.4},
    {.name = "over_refunds",
     .why = "40% of payments refunded once for more than was paid",
     .like_typical_at = 0.35,
     .over_refund_rate = 0.4},
};

constexpr double kTailExponent = 1.3;
constexpr int kTypicalAdminsAtScale1 = 200;
constexpr int kTopMembersAtScale1 = 20000;

enum What : uint64_t {
  kAdmin = 1,
  kMember,
  kProduct,
  kOrderCount,
  kOrder,
  kItems,
  kPayments,
  kRefunds,
  kShuffle,
  kOverRefund
};

// ---- Word pools ---------------------------------------------------------------------------------

constexpr std::string_view kFirst[] = {"minjun", "seoyeon", "hiroshi", "yuki",   "wei",  "li",    "amelie", "jose",
                                       "zoe",    "noah",    "aarav",   "fatima", "olga", "bjork", "chloe",  "liam"};
constexpr std::string_view kLast[] = {"kim",    "lee",    "park",   "sato",  "suzuki", "wang",   "zhang",   "martin",
                                      "garcia", "obrien", "muller", "rossi", "singh",  "hassan", "ivanova", "smith"};
constexpr std::string_view kDisplay[] = {"김민준",
                                         "이서연",
                                         "박지호",
                                         "佐藤 花子",
                                         "鈴木 一郎",
                                         "王伟",
                                         "Amélie Dubois",
                                         "José Álvarez",
                                         "Zoë Müller",
                                         "Noah Smith, Jr.",
                                         "Chloé \"Coco\" Martin",
                                         "Björk Guðmundsdóttir",
                                         "O'Brien 🚀",
                                         "Fatima Hassan",
                                         "Ольга Иванова",
                                         "Aarav Singh 🎉",
                                         "Pasted\tfrom a form\nwith a line break \\ and a backslash"};
constexpr std::string_view kCountries[] = {"KR", "JP", "US", "DE", "FR", "BR", "IN", "GB", "CA", "ES", "IT", "SE"};
constexpr std::string_view kProducts[] = {
    "Café au lait beans", "Green tea (matcha)", "Notebook A5", "USB-C cable", "Desk lamp", "Water bottle",
    "Hoodie, size M",     "Sticker pack 🎨",     "김치 500g",   "抹茶ラテ",    "Yoga mat",  "Wireless mouse"};
constexpr std::string_view kLongPieces[] = {
    "아주 긴 이름의 회원님 ", "とても長い名前のお客様 ", "🚀🎉✨ ", "Zoë Ålesund-Ødegård ", "名前が長い ", "긴글 "};
constexpr std::string_view kStatuses[] = {"delivered", "delivered", "delivered", "delivered", "delivered",
                                          "delivered", "delivered", "delivered", "shipped",   "shipped",
                                          "paid",      "pending",   "cancelled"};
constexpr std::string_view kMethods[] = {"card", "card", "card", "paypal", "bank_transfer", "gift_card"};
constexpr std::string_view kReasons[] = {"damaged in transit", "wrong size", "changed my mind",
                                         "late delivery — customer upset", "duplicate charge; refunded"};
constexpr std::string_view kPlans[] = {"free", "starter", "pro", "enterprise"};
constexpr int kZoneOffsets[] = {-660, -600, -480, -300, -180, 0, 60, 120, 330, 540, 570, 780, 840};

const int64_t kDay2015 = DaysFromCivil(2015, 1, 1);
const int64_t kDay2023 = DaysFromCivil(2023, 1, 1);
const int64_t kDay2025_07 = DaysFromCivil(2025, 7, 1);
const int64_t kDay1901 = DaysFromCivil(1901, 1, 1);
const int64_t kDay1951 = DaysFromCivil(1951, 1, 1);
const int64_t kDay2090 = DaysFromCivil(2090, 1, 1);
const int64_t kDay2100 = DaysFromCivil(2100, 1, 1);

// ---- The plan: every admin's kind and sizes, and where its ids start ----------------------------

struct Admin {
  int64_t id = 0;
  const TenantKind* kind = nullptr;
  int64_t members = 0, products = 0, orders = 0;
  double orders_per_member = 0;
  int64_t first_member = 0, first_product = 0, first_order = 0;  // ids
  int home_offset = 0;                                           // minutes east of UTC where most of its buyers are
};

// Orders per member grow with the admin's size (members, against the largest admin's `top`).
double OrdersPerMember(int64_t members, double top) {
  const double size = std::log(static_cast<double>(members) + 1) / std::log(top + 1);
  return 1 + 9 * size * size;  // large admins: more members and more orders each
}

int TypicalAdmins(const GenerateOptions& o) {
  return o.tenants > 0 ? o.tenants : std::max(12, static_cast<int>(std::lround(kTypicalAdminsAtScale1 * o.scale)));
}

std::vector<Admin> Plan(const GenerateOptions& o) {
  const int typical = TypicalAdmins(o);
  const double top = std::max(100.0, kTopMembersAtScale1 * o.scale);
  const auto members_at_rank = [top](int rank) {
    return std::max<int64_t>(1, std::lround(top / std::pow(rank, kTailExponent)));
  };
  std::vector<Admin> admins;
  for (int rank = 1; rank <= typical; ++rank) {
    Admin a;
    a.kind = &kTypical;
    a.members = members_at_rank(rank);
    a.orders_per_member = OrdersPerMember(a.members, top);
    admins.push_back(a);
  }
  for (const TenantKind& k : kTenantKinds) {
    Admin a;
    a.kind = &k;
    a.members = k.members;
    a.orders_per_member = k.orders_per_member;
    if (k.like_typical_at > 0) {
      a.members = members_at_rank(std::max(1, static_cast<int>(std::lround(k.like_typical_at * typical))));
      a.orders_per_member = OrdersPerMember(a.members, top);
    }
    admins.push_back(a);
  }
  // Ids in a seeded shuffle: the heaviest admin is not admin 1.
  Rng shuffle(o.seed, kShuffle, 0);
  for (size_t k = admins.size() - 1; k > 0; --k) std::swap(admins[k], admins[shuffle.Next() % (k + 1)]);
  int64_t member = 1, product = 1, order = 1;
  for (size_t k = 0; k < admins.size(); ++k) {
    Admin& a = admins[k];
    a.id = static_cast<int64_t>(k + 1);
    Rng r(o.seed, kAdmin, static_cast<uint64_t>(a.id));
    a.products = a.members == 0 ? 0 : std::min<int64_t>(3000, 5 + a.members / 10);
    a.orders = std::lround(static_cast<double>(a.members) * a.orders_per_member * (0.8 + 0.4 * r.Unit()));
    a.home_offset = a.kind->time_zones ? 0 : r.Pick(kZoneOffsets);
    a.first_member = member;
    a.first_product = product;
    a.first_order = order;
    member += a.members;
    product += a.products;
    order += a.orders;
  }
  return admins;
}

// ---- Rows derived from their keys ---------------------------------------------------------------

struct Order {
  int64_t id, member_id;  // member_id 0: a guest checkout (NULL)
  int64_t ref;            // the external reference: "ORD-<ref>", or "IMPORT-<-ref>" when shared
  int64_t ordered_at;     // UTC micros
  int offset;             // the buyer's zone, minutes east of UTC
  std::string_view status;
};

Order DeriveOrder(const GenerateOptions& o, const Admin& a, int64_t id) {
  Rng r(o.seed, kOrder, static_cast<uint64_t>(id));
  Order out;
  out.id = id;
  const double u = r.Unit();  // a few members place most orders
  out.member_id =
      a.first_member + std::min<int64_t>(a.members - 1, static_cast<int64_t>(u * u * static_cast<double>(a.members)));
  int64_t day;
  if (a.kind->far_dates) {
    day = r.Chance(0.5) ? r.Range(kDay1901, kDay1951 - 1) : r.Range(kDay2090, kDay2100 - 1);
  } else {
    day = r.Range(kDay2023, kDay2025_07 - 1);
  }
  int64_t second = r.Range(0, 86399);
  out.offset = a.home_offset;
  if (a.kind->time_zones) {
    out.offset = r.Pick(kZoneOffsets);
    // Around local midnight: the UTC day and the buyer's day differ.
    second = ((86400 - out.offset * 60 + r.Range(-1800, 1800)) % 86400 + 86400) % 86400;
  }
  out.ordered_at = (day * 86400 + second) * kMicrosPerSecond;
  out.status = r.Pick(kStatuses);
  out.ref = id;
  // The unusual values are drawn after the typical ones, which stay as they were.
  const TenantKind& k = *a.kind;
  if (k.rare_status_rate > 0 && r.Chance(k.rare_status_rate)) out.status = "disputed";
  if (k.guest_rate > 0 && r.Chance(k.guest_rate)) out.member_id = 0;
  if (k.shared_refs > 0) out.ref = -r.Range(1, k.shared_refs);
  return out;
}

struct Item {
  int64_t product_id, quantity, unit_cents;
};

int64_t ProductPrice(const GenerateOptions& o, int64_t product_id) {
  return Rng(o.seed, kProduct, static_cast<uint64_t>(product_id)).Range(100, 50000);
}

void DeriveItems(const GenerateOptions& o, const Admin& a, const Order& order, std::vector<Item>* items) {
  items->clear();
  Rng r(o.seed, kItems, static_cast<uint64_t>(order.id));
  const int64_t n = r.CountWithMean(a.kind->items_per_order);
  for (int64_t k = 0; k < n; ++k) {
    Item it;
    it.product_id = a.first_product + r.Range(0, a.products - 1);
    it.quantity = a.kind->items_per_order > 10 ? r.Range(1, 50) : r.Range(1, 5);
    it.unit_cents = ProductPrice(o, it.product_id) * r.Range(90, 100) / 100;  // discounts
    if (a.kind->zero_rate > 0) {
      if (r.Chance(a.kind->zero_rate)) it.quantity = 0;
      if (r.Chance(a.kind->zero_rate)) it.unit_cents = 0;
    }
    items->push_back(it);
  }
}

struct Payment {
  int64_t paid_at, cents;
  std::string_view method;  // empty: NULL
};

// An order's payments: none unless it was paid; installments sum exactly to the total.
void DerivePayments(const GenerateOptions& o, const Admin& a, const Order& order, const std::vector<Item>& items,
                    std::vector<Payment>* payments) {
  payments->clear();
  if (order.status == "pending" || order.status == "cancelled") return;
  int64_t total = 0;
  for (const Item& it : items) total += it.quantity * it.unit_cents;
  Rng r(o.seed, kPayments, static_cast<uint64_t>(order.id));
  int64_t n = a.kind->payments_per_order > 1 ? r.Range(10, 40) : 1;
  n = std::min<int64_t>(n, std::max<int64_t>(total, 1));
  int64_t left = total;
  for (int64_t k = 0; k < n; ++k) {
    Payment p;
    p.cents = k + 1 == n ? left : total / n;
    left -= p.cents;
    p.paid_at = order.ordered_at + (k * 30 * 86400 + r.Range(60, 3600)) * kMicrosPerSecond;
    p.method = r.Pick(kMethods);
    if (a.kind->null_method_rate > 0 && r.Chance(a.kind->null_method_rate)) p.method = {};
    payments->push_back(p);
  }
  if (a.kind->chargeback_rate > 0 && r.Chance(a.kind->chargeback_rate)) {
    for (Payment& p : *payments) p.cents = -p.cents;
  }
}

// Text of about `chars` characters from the long pieces (mixed scripts and emoji).
std::string Repeat(Rng& r, size_t chars) {
  std::string s;
  size_t n = 0;
  while (n < chars) {
    const std::string_view piece = r.Pick(kLongPieces);
    s += piece;
    n += Utf8Length(piece);
  }
  return s;
}

// ---- Writing ------------------------------------------------------------------------------------

class Generator {
 public:
  Generator(BulkWriter& w, const GenerateOptions& o) : w_(w), o_(o), admins_(Plan(o)) {}

  Status Run(GenerateResult* result) {
    for (const std::string& sql : SchemaBeforeLoad(w_.dialect())) STRATA_RETURN_IF_ERROR(w_.Execute(sql));
    const auto start = std::chrono::steady_clock::now();
    STRATA_RETURN_IF_ERROR(Table("admins", &Generator::Admins));
    STRATA_RETURN_IF_ERROR(Table("members", &Generator::Members));
    STRATA_RETURN_IF_ERROR(Table("products", &Generator::Products));
    STRATA_RETURN_IF_ERROR(Table("orders", &Generator::Orders));
    STRATA_RETURN_IF_ERROR(Table("order_items", &Generator::OrderItems));
    STRATA_RETURN_IF_ERROR(Table("payments", &Generator::Payments));
    STRATA_RETURN_IF_ERROR(Table("refunds", &Generator::Refunds));
    result->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const std::string& sql : SchemaAfterLoad(w_.dialect())) {
      STRATA_RETURN_IF_ERROR(CheckCancel());
      STRATA_RETURN_IF_ERROR(w_.Execute(sql));
    }
    STRATA_RETURN_IF_ERROR(CheckCancel());
    // SQLite's statistics are committed with the data. PostgreSQL's ANALYZE runs after the COMMIT
    // (GenerateExample): the inserts are counted as modifications when the transaction commits, so
    // an ANALYZE inside it would leave every table looking stale to `strata check`.
    if (o_.analyze && w_.dialect() != Dialect::kPostgres) STRATA_RETURN_IF_ERROR(w_.Execute("ANALYZE"));
    STRATA_RETURN_IF_ERROR(CheckCancel());
    result->tables = counts_;
    for (const TableCount& t : counts_) result->rows += t.rows;
    return Status::Ok();
  }

 private:
  using Fill = Status (Generator::*)();

  Status Table(const std::string& name, Fill fill) {
    STRATA_RETURN_IF_ERROR(w_.BeginTable(name, ColumnsOf(name)));
    counts_.push_back({name, 0});
    STRATA_RETURN_IF_ERROR((this->*fill)());
    if (o_.on_progress) o_.on_progress(name, counts_.back().rows);
    return w_.EndTable();
  }
  Status CheckCancel() const {
    return o_.cancel != nullptr && *o_.cancel ? Status::Cancelled("generation cancelled") : Status::Ok();
  }
  Status Row() {
    if (++counts_.back().rows % 65536 == 0) {
      STRATA_RETURN_IF_ERROR(CheckCancel());
      if (o_.on_progress) o_.on_progress(counts_.back().table, counts_.back().rows);
    }
    return w_.EndRow();
  }

  Status Admins() {
    for (const Admin& a : admins_) {
      Rng r(o_.seed, kAdmin, static_cast<uint64_t>(a.id) + (1ull << 40));
      w_.Int(a.id);
      w_.Text("Shop " + std::to_string(a.id) + " " + std::string(r.Pick(kLast)));
      w_.Text(r.Pick(kPlans));
      w_.Text(a.kind->name);
      w_.Timestamp((r.Range(kDay2015, kDay2023) * 86400 + r.Range(0, 86399)) * kMicrosPerSecond);
      STRATA_RETURN_IF_ERROR(Row());
    }
    return Status::Ok();
  }

  Status Members() {
    for (const Admin& a : admins_) {
      for (int64_t k = 0; k < a.members; ++k) {
        const int64_t id = a.first_member + k;
        Rng r(o_.seed, kMember, static_cast<uint64_t>(id));
        const double nulls = a.kind->null_rate;
        w_.Int(id);
        w_.Int(a.id);
        w_.Text(std::string(r.Pick(kFirst)) + "." + std::string(r.Pick(kLast)) + "." + std::to_string(k) + "@shop" +
                std::to_string(a.id) + ".example");
        if (r.Chance(nulls)) {
          w_.Null();
        } else if (a.kind->long_text) {
          // One in twenty is longer than an Excel cell holds (32,767 characters).
          w_.Text(Repeat(r, static_cast<size_t>(r.Chance(0.05) ? 40000 : r.Range(1000, 6000))));
        } else {
          w_.Text(r.Pick(kDisplay));
        }
        if (r.Chance(nulls)) {
          w_.Null();
        } else {
          w_.Text(r.Pick(kCountries));
        }
        w_.Date(a.kind->far_dates ? r.Range(kDay1901, kDay1951 - 1) : r.Range(kDay2015, kDay2025_07 - 1));
        w_.Bool(r.Chance(0.9));
        STRATA_RETURN_IF_ERROR(Row());
      }
    }
    return Status::Ok();
  }

  Status Products() {
    for (const Admin& a : admins_) {
      for (int64_t k = 0; k < a.products; ++k) {
        const int64_t id = a.first_product + k;
        Rng r(o_.seed, kProduct, static_cast<uint64_t>(id) + (1ull << 40));
        w_.Int(id);
        w_.Int(a.id);
        w_.Text("SKU-" + std::to_string(a.id) + "-" + std::to_string(k + 1));
        w_.Text(a.kind->long_text ? Repeat(r, static_cast<size_t>(r.Range(500, 3000)))
                                  : std::string(r.Pick(kProducts)));
        w_.Cents(ProductPrice(o_, id));
        STRATA_RETURN_IF_ERROR(Row());
      }
    }
    return Status::Ok();
  }

  Status Orders() {
    for (const Admin& a : admins_) {
      for (int64_t id = a.first_order; id < a.first_order + a.orders; ++id) {
        const Order order = DeriveOrder(o_, a, id);
        w_.Int(id);
        w_.Int(a.id);
        if (order.member_id == 0) {
          w_.Null();
        } else {
          w_.Int(order.member_id);
        }
        w_.Timestamp(order.ordered_at);
        w_.TimestampTz(order.ordered_at, order.offset);
        w_.Text(order.status);
        w_.Text(order.ref > 0 ? "ORD-" + std::to_string(order.ref) : "IMPORT-" + std::to_string(-order.ref));
        STRATA_RETURN_IF_ERROR(Row());
      }
    }
    return Status::Ok();
  }

  Status OrderItems() {
    int64_t item_id = 1;
    for (const Admin& a : admins_) {
      for (int64_t id = a.first_order; id < a.first_order + a.orders; ++id) {
        DeriveItems(o_, a, DeriveOrder(o_, a, id), &items_);
        for (const Item& it : items_) {
          w_.Int(item_id++);
          w_.Int(id);
          w_.Int(it.product_id);
          w_.Int(it.quantity);
          w_.Cents(it.unit_cents);
          STRATA_RETURN_IF_ERROR(Row());
        }
      }
    }
    return Status::Ok();
  }

  // Walks every payment in id order (the refunds table needs their ids and amounts too).
  template <typename F>
  Status ForEachPayment(F f) {
    int64_t payment_id = 1;
    for (const Admin& a : admins_) {
      for (int64_t id = a.first_order; id < a.first_order + a.orders; ++id) {
        const Order order = DeriveOrder(o_, a, id);
        DeriveItems(o_, a, order, &items_);
        DerivePayments(o_, a, order, items_, &payments_);
        for (const Payment& p : payments_) STRATA_RETURN_IF_ERROR(f(a, id, payment_id++, p));
      }
    }
    return Status::Ok();
  }

  Status Payments() {
    return ForEachPayment([this](const Admin&, int64_t order_id, int64_t payment_id, const Payment& p) {
      w_.Int(payment_id);
      w_.Int(order_id);
      w_.Timestamp(p.paid_at);
      w_.Cents(p.cents);
      if (p.method.empty()) {
        w_.Null();
      } else {
        w_.Text(p.method);
      }
      return Row();
    });
  }

  Status Refunds() {
    int64_t refund_id = 1;
    return ForEachPayment([&](const Admin& a, int64_t, int64_t payment_id, const Payment& p) -> Status {
      Rng over(o_.seed, kOverRefund, static_cast<uint64_t>(payment_id));
      if (a.kind->over_refund_rate > 0 && p.cents > 0 && over.Chance(a.kind->over_refund_rate)) {
        w_.Int(refund_id++);  // one refund of 110% to 200% of the payment
        w_.Int(payment_id);
        w_.Timestamp(p.paid_at + over.Range(1, 60) * 86400 * kMicrosPerSecond);
        w_.Cents(p.cents * over.Range(110, 200) / 100);
        w_.Text(over.Pick(kReasons));
        return Row();
      }
      Rng r(o_.seed, kRefunds, static_cast<uint64_t>(payment_id));
      if (!r.Chance(a.kind->refund_rate) || p.cents <= 0) return Status::Ok();
      const int64_t n = r.Range(1, a.kind->refunds_per_refund);
      int64_t left = p.cents;
      for (int64_t k = 0; k < n && left > 0; ++k) {
        const int64_t cents = std::max<int64_t>(1, left * r.Range(10, 100) / 100 / (n - k));
        left -= cents;
        w_.Int(refund_id++);
        w_.Int(payment_id);
        w_.Timestamp(p.paid_at + r.Range(1, 60) * 86400 * kMicrosPerSecond);
        w_.Cents(cents);
        if (r.Chance(std::max(0.3, a.kind->null_rate))) {
          w_.Null();
        } else {
          w_.Text(r.Pick(kReasons));
        }
        STRATA_RETURN_IF_ERROR(Row());
      }
      return Status::Ok();
    });
  }

  BulkWriter& w_;
  const GenerateOptions& o_;
  std::vector<Admin> admins_;
  std::vector<TableCount> counts_;
  std::vector<Item> items_;
  std::vector<Payment> payments_;
};

}  // namespace

Result<GenerateResult> GenerateExample(BulkWriter& writer, const GenerateOptions& options) {
  if (!(options.scale > 0) || options.scale > 1000) return Status::Usage("--scale must be above 0 and at most 1000");
  if (options.tenants < 0 || options.tenants > 1000000) return Status::Usage("--tenants must be 1 to 1,000,000");
  const auto start = std::chrono::steady_clock::now();
  GenerateResult result;
  Generator g(writer, options);
  Status s = g.Run(&result);
  if (!s.ok() && options.cancel != nullptr && *options.cancel) return Status::Cancelled("generation cancelled");
  STRATA_RETURN_IF_ERROR(s);
  STRATA_RETURN_IF_ERROR(writer.Commit());
  if (options.analyze && writer.dialect() == Dialect::kPostgres) STRATA_RETURN_IF_ERROR(writer.Execute("ANALYZE"));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<TenantKindInfo> TenantKinds() {
  std::vector<TenantKindInfo> out = {{std::string(kTypical.name), std::string(kTypical.why)}};
  for (const TenantKind& k : kTenantKinds) out.push_back({std::string(k.name), std::string(k.why)});
  return out;
}

}  // namespace strata::synth
