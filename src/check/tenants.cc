#include "check/tenants.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "check/timing.h"

namespace strata::check {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

std::string Number(double v) {
  char buf[32];
  if ((v == std::trunc(v) || std::fabs(v) >= 100) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

constexpr double kOutlierZ = 3.5;

// A reason to pick a tenant: (priority, tenant index or -1 for a named tenant not in the list, why).
struct Pick {
  int priority;
  long index;
  std::string text;
  std::string why;
};

// Priorities up to this one (named, flagged by the statistics, empty or none, largest) come before
// the value features; the rest of the size strata after them.
constexpr int kLastBeforeFeatures = 3;
constexpr size_t kReasonsPerTenant = 3;

// The greedy set cover of the rare features that the tenants already picked do not hold. The
// already picked holders of a feature get its words among their reasons.
std::vector<Pick> CoverFeatures(const TenantList& list, const std::vector<Feature>& features,
                                std::vector<PickedTenant>& picked, int max_tenants) {
  std::map<std::string, long> index;
  for (size_t k = 0; k < list.values.size(); ++k) index[list.values[k].text] = static_cast<long>(k);
  std::vector<const Feature*> open;
  for (const Feature& f : features) {
    if (!f.rare) continue;
    auto holder = std::find_if(picked.begin(), picked.end(),
                               [&](const PickedTenant& p) { return f.why.count(p.value.text) != 0; });
    if (holder == picked.end()) {
      open.push_back(&f);
    } else if (holder->why.size() < kReasonsPerTenant) {
      holder->why.push_back(f.why.at(holder->value.text));
    }
  }
  std::vector<Pick> out;
  int room = max_tenants - static_cast<int>(picked.size());
  while (!open.empty() && room > 0) {
    // Per candidate tenant: features it would cover, and the fewest holders among them.
    std::map<std::string, std::pair<int, size_t>> score;
    for (const Feature* f : open) {
      for (const std::string& t : f->holders) {
        if (index.count(t) == 0) continue;
        auto& s = score[t];
        s.first += 1;
        s.second = s.second == 0 ? f->holders.size() : std::min(s.second, f->holders.size());
      }
    }
    if (score.empty()) break;
    auto size_of = [&](const std::string& t) {
      double n = 0;
      for (double d : list.sizes[static_cast<size_t>(index.at(t))]) n += d;
      return n;
    };
    std::string best;
    for (const auto& [t, s] : score) {
      if (best.empty()) {
        best = t;
        continue;
      }
      const auto& b = score.at(best);
      if (s.first != b.first     ? s.first > b.first
          : s.second != b.second ? s.second < b.second
                                 : size_of(t) < size_of(best)) {
        best = t;
      }
    }
    std::vector<std::string> reasons;
    for (auto it = open.begin(); it != open.end();) {
      if ((*it)->why.count(best) != 0) {
        reasons.push_back((*it)->why.at(best));
        it = open.erase(it);
      } else {
        ++it;
      }
    }
    const size_t shown = std::min(reasons.size(), kReasonsPerTenant);
    for (size_t k = 0; k < shown; ++k) {
      std::string why = reasons[k];
      if (k + 1 == shown && reasons.size() > shown) {
        why += " (and " + std::to_string(reasons.size() - shown) + " more value features)";
      }
      out.push_back({kLastBeforeFeatures, index.at(best), best, why});
    }
    --room;
  }
  return out;
}

}  // namespace

namespace {

// A name as written, unquoted and lower-cased: "Orders" -> orders, public.x -> x (the last part).
std::string Bare(const std::string& name) {
  if (name.size() >= 2 && name.back() == '"') {
    const size_t open = name.rfind('"', name.size() - 2);
    return Lower(name.substr(open + 1, name.size() - open - 2));
  }
  const size_t dot = name.rfind('.');
  return Lower(dot == std::string::npos ? name : name.substr(dot + 1));
}

// alias -> table (both bare) for "FROM orders o", "JOIN public.items AS i", "FROM \"Orders\" o".
std::map<std::string, std::string> Aliases(const std::string& text) {
  static const std::regex from(
      "\\b(?:[Ff][Rr][Oo][Mm]|[Jj][Oo][Ii][Nn])\\s+((?:\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*)(?:\\.(?:\"[^\"]+\"|[A-Za-z_]"
      "[A-Za-z0-9_]*))?)(?:\\s+(?:[Aa][Ss]\\s+)?([A-Za-z_][A-Za-z0-9_]*))?");
  static const std::set<std::string> keywords = {"where",  "join",   "left",      "right",   "inner",  "outer",
                                                 "full",   "cross",  "on",        "using",   "group",  "order",
                                                 "limit",  "union",  "natural",   "lateral", "having", "window",
                                                 "offset", "except", "intersect", "for",     "fetch"};
  std::map<std::string, std::string> out;
  std::smatch m;
  // Each search restarts after the table's name, so "FROM t JOIN u x" finds the JOIN that the first
  // match took for t's alias.
  for (auto at = text.cbegin(); std::regex_search(at, text.cend(), m, from); at = m[1].second) {
    const std::string table = Bare(m[1].str());
    out[table] = table;
    const std::string alias = Lower(m[2].str());
    if (!alias.empty() && keywords.count(alias) == 0) out[alias] = table;
  }
  return out;
}

}  // namespace

std::vector<std::string> TenantColumns(const ParsedSql& sql, const std::string& tenant_param) {
  std::vector<std::string> out{Lower(tenant_param)};
  const std::string name = "(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*)";
  const std::string p = ":" + tenant_param + "\\b";
  const std::regex before("(?:" + name + "\\.)?" + name + "\\s*=\\s*" + p);
  const std::regex after(p + "\\s*=\\s*(?:" + name + "\\.)?" + name);
  const std::map<std::string, std::string> aliases = Aliases(sql.text);
  for (const std::regex& re : {before, after}) {
    for (auto it = std::sregex_iterator(sql.text.begin(), sql.text.end(), re); it != std::sregex_iterator(); ++it) {
      std::string column = Bare((*it)[2].str());
      auto table = aliases.find(Bare((*it)[1].str()));
      if ((*it)[1].matched && table != aliases.end()) column = table->second + "." + column;
      if (std::find(out.begin(), out.end(), column) == out.end()) out.push_back(column);
    }
  }
  return out;
}

Result<TenantList> LoadTenantList(Source* source, const ParsedSql& list, const std::string& origin, ParamType type) {
  if (!list.names.empty()) {
    return Status::Config(origin + ": a tenant list takes no parameters, but it uses :" + list.names.front());
  }
  auto parsed = ParseSql(list.text, origin);
  if (!parsed.ok()) return parsed.status();
  Query query{origin, "", std::move(*parsed), {}};
  auto cursor = source->Execute(query, ExecuteOptions{});
  if (!cursor.ok()) return cursor.status();
  TenantList out;
  out.from = origin;
  std::set<std::string> seen;
  const auto& columns = (*cursor)->columns();
  for (size_t c = 1; c < columns.size(); ++c) out.dimensions.push_back(columns[c].name);
  Batch batch;
  for (;;) {
    STRATA_RETURN_IF_ERROR((*cursor)->Next(&batch));
    if (batch.empty()) break;
    for (size_t r = 0; r < batch.rows(); ++r) {
      const Value& v = batch.at(r, 0);
      if (v.type == Type::kNull) continue;
      const std::string text = CellText(batch, v);
      auto value = ParseParamValue(type, text);
      if (!value.ok()) {
        return Status::Config(origin + ": row " + std::to_string(out.values.size() + 1) + ": the tenant '" + text +
                              "' is not a " + std::string(ParamTypeName(type)) + ": " + value.status().message());
      }
      if (!seen.insert(value->text).second) continue;  // a list may name a tenant twice: check it once
      std::vector<double> sizes;
      for (size_t c = 1; c < columns.size(); ++c) {
        const Value& s = batch.at(r, c);
        double d = 0;
        if (s.type == Type::kInt64)
          d = static_cast<double>(s.i);
        else if (s.type == Type::kDouble)
          d = s.d;
        else if (s.type == Type::kNumeric || s.type == Type::kText)
          d = std::atof(std::string(batch.Text(s)).c_str());
        else if (s.type != Type::kNull) {
          return Status::Config(origin + ": column " + std::to_string(c + 1) + " (" + columns[c].name +
                                ") must be a number: the size of the tenant in one dimension");
        }
        sizes.push_back(d);
      }
      out.values.push_back(std::move(*value));
      out.sizes.push_back(std::move(sizes));
    }
  }
  return out;
}

Result<TenantList> TenantListFromCounts(const TableCounts& counts, const std::vector<TenantTable>& tables,
                                        ParamType type) {
  TenantList out;
  std::set<std::string> seen;
  std::vector<std::string> texts;
  for (const TenantTable& t : tables) {
    out.dimensions.push_back(t.name);
    auto it = counts.find(t.name);
    if (it == counts.end()) continue;
    for (const auto& [tenant, n] : it->second) {
      if (seen.insert(tenant).second) texts.push_back(tenant);
    }
  }
  for (const std::string& text : texts) {
    auto value = ParseParamValue(type, text);
    if (!value.ok()) continue;  // a value the parameter cannot take cannot be checked
    std::vector<double> sizes;
    for (const TenantTable& t : tables) {
      auto it = counts.find(t.name);
      double n = 0;
      if (it != counts.end()) {
        auto c = it->second.find(text);
        if (c != it->second.end()) n = static_cast<double>(c->second);
      }
      sizes.push_back(n);
    }
    out.values.push_back(std::move(*value));
    out.sizes.push_back(std::move(sizes));
  }
  std::string names;
  for (const TenantTable& t : tables) names += (names.empty() ? "" : ", ") + t.name;
  out.from = "rows per tenant in " + names;
  return out;
}

// The size strata: empty, none, largest, smallest, median, p99, p90, and the outliers of each
// dimension and of each ratio of two dimensions, with their priorities.
void AddSizeStrata(const TenantList& list, std::vector<Pick>* picks) {
  const size_t n = list.values.size();
  const size_t dims = list.dimensions.size();
  auto add = [&](int priority, size_t k, std::string why) {
    picks->push_back({priority, static_cast<long>(k), list.values[k].text, std::move(why)});
  };
  // Tenants empty in every dimension.
  for (size_t k = 0; k < n && dims > 0; ++k) {
    if (std::all_of(list.sizes[k].begin(), list.sizes[k].end(), [](double s) { return s == 0; })) {
      add(2, k, "empty (0 in every dimension)");
      break;
    }
  }
  for (size_t d = 0; d < dims; ++d) {
    const std::string& dim = list.dimensions[d];
    std::vector<size_t> order(n);
    for (size_t k = 0; k < n; ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return list.sizes[a][d] < list.sizes[b][d]; });
    if (n == 0) break;
    // A tenant with none in this dimension but some in another (members but no orders).
    for (size_t k : order) {
      if (list.sizes[k][d] != 0) break;
      if (std::any_of(list.sizes[k].begin(), list.sizes[k].end(), [](double s) { return s != 0; })) {
        add(2, k, "no " + dim + " (but not empty)");
        break;
      }
    }
    add(3, order.back(), "largest by " + dim + " (" + Number(list.sizes[order.back()][d]) + ")");
    for (size_t k : order) {
      if (list.sizes[k][d] > 0) {
        add(4, k, "smallest by " + dim + " (" + Number(list.sizes[k][d]) + ")");
        break;
      }
    }
    auto quantile = [&](double q) { return order[std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n)))]; };
    add(6, quantile(0.5), "median by " + dim + " (" + Number(list.sizes[quantile(0.5)][d]) + ")");
    add(7, quantile(0.99), "p99 by " + dim + " (" + Number(list.sizes[quantile(0.99)][d]) + ")");
    add(8, quantile(0.9), "p90 by " + dim + " (" + Number(list.sizes[quantile(0.9)][d]) + ")");
    // The outlier of the dimension itself, on a log scale (sizes are heavy-tailed): the most
    // extreme tenant beyond the largest's own reason, so the tail does not crowd out the rest.
    std::vector<double> logs;
    for (size_t k = 0; k < n; ++k) logs.push_back(std::log1p(list.sizes[k][d]));
    const std::vector<double> z = RobustZ(logs);
    size_t most = n;
    for (size_t k = 0; k < n; ++k) {
      if (k != order.back() && std::fabs(z[k]) > kOutlierZ && (most == n || std::fabs(z[k]) > std::fabs(z[most])))
        most = k;
    }
    if (most < n) add(5, most, "outlier by " + dim + " (" + Number(list.sizes[most][d]) + ")");
  }
  // Outliers of a ratio: the tenants whose shape differs (many orders per member, many payments
  // per order), the most extreme in each direction for each pair of dimensions.
  for (size_t a = 0; a < dims; ++a) {
    for (size_t b = 0; b < dims; ++b) {
      if (a == b) continue;
      std::vector<size_t> who;
      std::vector<double> ratio;
      for (size_t k = 0; k < n; ++k) {
        if (list.sizes[k][a] > 0 && list.sizes[k][b] > 0) {
          who.push_back(k);
          ratio.push_back(std::log(list.sizes[k][b] / list.sizes[k][a]));
        }
      }
      if (who.size() < 5) continue;
      const std::vector<double> z = RobustZ(ratio);
      std::vector<double> plain;
      for (double r : ratio) plain.push_back(std::exp(r));
      const double typical = Median(plain);
      const auto top = std::max_element(z.begin(), z.end()) - z.begin();
      if (z[static_cast<size_t>(top)] > kOutlierZ) {
        const size_t k = who[static_cast<size_t>(top)];
        add(5, k,
            "outlier: " + Number(plain[static_cast<size_t>(top)]) + " " + list.dimensions[b] + " per " +
                list.dimensions[a] + " (typical " + Number(typical) + ")");
      }
    }
  }
}

std::vector<PickedTenant> PickTenants(const TenantList& list, const PickOptions& options) {
  std::vector<Pick> picks;
  const size_t n = list.values.size();
  auto index_of = [&](const std::string& text) -> long {
    for (size_t k = 0; k < n; ++k) {
      if (list.values[k].text == text) return static_cast<long>(k);
    }
    return -1;
  };
  for (const ParamValue& v : options.named) picks.push_back({0, index_of(v.text), v.text, "named with --tenants"});
  for (const auto& [text, reason] : options.flagged) picks.push_back({1, index_of(text), text, reason});

  AddSizeStrata(list, &picks);
  std::stable_sort(picks.begin(), picks.end(), [](const Pick& x, const Pick& y) { return x.priority < y.priority; });
  std::vector<PickedTenant> out;
  auto take = [&](const Pick& p) {
    auto same = std::find_if(out.begin(), out.end(), [&](const PickedTenant& t) { return t.value.text == p.text; });
    if (same != out.end()) {
      if (std::find(same->why.begin(), same->why.end(), p.why) == same->why.end()) same->why.push_back(p.why);
      return;
    }
    if (static_cast<int>(out.size()) >= options.max_tenants && p.priority > 1) return;
    PickedTenant t;
    if (p.index >= 0) {
      t.value = list.values[static_cast<size_t>(p.index)];
      t.sizes = list.sizes[static_cast<size_t>(p.index)];
    } else {
      for (const ParamValue& v : options.named) {
        if (v.text == p.text) t.value = v;
      }
    }
    if (p.index < 0 && t.value.text.empty()) t.value.text = p.text;
    t.why.push_back(p.why);
    out.push_back(std::move(t));
  };
  size_t next = 0;
  for (; next < picks.size() && picks[next].priority <= kLastBeforeFeatures; ++next) take(picks[next]);
  if (options.features != nullptr) {
    for (Pick& p : CoverFeatures(list, *options.features, out, options.max_tenants)) take(p);
  }
  for (; next < picks.size(); ++next) take(picks[next]);
  return out;
}

std::vector<SweepTenant> SweepOrder(const TenantList& list, const std::vector<Feature>& features,
                                    const std::vector<PickedTenant>& picked) {
  std::set<std::string> taken;
  for (const PickedTenant& p : picked) taken.insert(p.value.text);
  // Rarest feature first: per tenant, the fewest holders among the rare features it holds.
  std::map<std::string, std::pair<size_t, std::string>> rarest;
  for (const Feature& f : features) {
    if (!f.rare) continue;
    for (const std::string& t : f.holders) {
      auto it = rarest.find(t);
      if (it == rarest.end() || f.holders.size() < it->second.first) rarest[t] = {f.holders.size(), f.why.at(t)};
    }
  }
  struct Entry {
    size_t index;
    size_t holders;
    double size;
  };
  std::vector<Entry> entries;
  for (size_t k = 0; k < list.values.size(); ++k) {
    if (taken.count(list.values[k].text) != 0) continue;
    auto r = rarest.find(list.values[k].text);
    double size = 0;
    for (double d : list.sizes[k]) size += d;
    entries.push_back({k, r == rarest.end() ? SIZE_MAX : r->second.first, size});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.holders != b.holders ? a.holders < b.holders : a.size < b.size;
  });
  std::vector<SweepTenant> out;
  for (const Entry& e : entries) {
    auto r = rarest.find(list.values[e.index].text);
    out.push_back({e.index, r == rarest.end() ? "" : r->second.second});
  }
  return out;
}

}  // namespace strata::check
