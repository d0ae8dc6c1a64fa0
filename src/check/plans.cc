#include "check/plans.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace strata::check {

namespace {

using nlohmann::json;

std::string Hex12(const std::string& s) {
  // FNV-1a 64: stable across builds and platforms (std::hash is not), so fingerprints can be compared
  // between runs and machines.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 12);
}

std::string Str(const json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double Num(const json& node, const char* key, double otherwise) {
  auto it = node.find(key);
  return it != node.end() && it->is_number() ? it->get<double>() : otherwise;
}

const char* const kConditions[] = {"Index Cond",   "Hash Cond", "Merge Cond", "Join Filter",
                                   "Recheck Cond", "Filter",    "Group Key",  "Sort Key"};

std::string Condition(const json& node) {
  for (const char* key : kConditions) {
    auto it = node.find(key);
    if (it == node.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
      std::string out;
      for (const json& k : *it) out += (out.empty() ? "" : ", ") + (k.is_string() ? k.get<std::string>() : k.dump());
      return out;
    }
  }
  return "";
}

std::string Fixed(double v, int digits) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct Walker {
  PlanInfo* out;
  std::string shape;
  bool analyzed = false;
  const std::regex parameter{"\\$[0-9]+"};

  void Visit(const json& node, int depth) {
    const std::string type = Str(node, "Node Type");
    const std::string join = Str(node, "Join Type");
    const std::string strategy = Str(node, "Strategy");
    const std::string relation = Str(node, "Relation Name");
    const std::string alias = Str(node, "Alias");
    const std::string index = Str(node, "Index Name");
    const std::string cte = Str(node, "CTE Name");
    shape += "(" + type + "|" + join + "|" + strategy + "|" + relation + "|" + index + "|" + cte;
    if (!relation.empty() &&
        std::find(out->relations.begin(), out->relations.end(), relation) == out->relations.end()) {
      out->relations.push_back(relation);
    }
    std::string line(static_cast<size_t>(depth) * 2, ' ');
    line += depth > 0 ? "-> " : "";
    line += (join.empty() ? "" : join + " ") + type;
    if (!strategy.empty() && strategy != "Plain") line += " (" + strategy + ")";
    if (!relation.empty()) line += " on " + relation + (alias.empty() || alias == relation ? "" : " " + alias);
    if (!cte.empty()) line += " on " + cte;
    if (!index.empty()) line += " using " + index;
    const double est = Num(node, "Plan Rows", -1);
    const double actual = Num(node, "Actual Rows", -1);
    const double loops = Num(node, "Actual Loops", -1);
    line += "  rows=" + Fixed(est, 0);
    if (actual >= 0) {
      line += " actual=" + Fixed(actual, 0) + (loops > 1 ? " loops=" + Fixed(loops, 0) : "");
      const double ms = Num(node, "Actual Total Time", -1);
      if (ms >= 0) line += " time=" + Fixed(ms, 3) + "ms";
    }
    out->text += line + "\n";
    const std::string condition = Condition(node);
    if (!condition.empty()) {
      out->text += std::string(static_cast<size_t>(depth) * 2 + (depth > 0 ? 3 : 0), ' ') + "  " + condition + "\n";
      if (std::regex_search(condition, parameter)) out->generic = true;
    }
    if (actual >= 0 && loops > 0 && est >= 0) {
      const double e = std::max(est, 1.0), a = std::max(actual, 1.0);
      const double q = std::max(e / a, a / e);
      if (q >= kMisestimateQ) out->misestimates.push_back({type, relation, condition, est, actual, q});
    }
    auto plans = node.find("Plans");
    if (plans != node.end() && plans->is_array()) {
      for (const json& child : *plans) Visit(child, depth + 1);
    }
    shape += ")";
  }
};

}  // namespace

Result<PlanInfo> ParsePostgresPlan(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array() || doc.empty() || !doc[0].is_object() || !doc[0].contains("Plan")) {
    return Status::Internal("EXPLAIN (FORMAT JSON) returned something that is not a plan: " + text.substr(0, 200));
  }
  PlanInfo info;
  Walker walker{&info, "", false};
  walker.Visit(doc[0]["Plan"], 0);
  info.fingerprint = Hex12(walker.shape);
  const json& root = doc[0]["Plan"];
  if (root.contains("Plan Rows") && root["Plan Rows"].is_number())
    info.estimated_rows = root["Plan Rows"].get<double>();
  std::stable_sort(info.misestimates.begin(), info.misestimates.end(),
                   [](const Misestimate& a, const Misestimate& b) { return a.q_error > b.q_error; });
  if (info.misestimates.size() > 10) info.misestimates.resize(10);
  return info;
}

PlanInfo ParseSqlitePlan(const std::string& eqp) {
  // Rows are "id<TAB>parent<TAB>detail"; the depth of a row is its parent's depth + 1.
  PlanInfo info;
  std::map<std::string, int> depth_of{{"0", -1}};
  std::string shape;
  std::istringstream in(eqp);
  std::string line;
  const std::regex table("^(?:SCAN|SEARCH) (?:TABLE )?([A-Za-z_][A-Za-z0-9_]*)");
  while (std::getline(in, line)) {
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    const std::string id = line.substr(0, t1), parent = line.substr(t1 + 1, t2 - t1 - 1), detail = line.substr(t2 + 1);
    const int depth = (depth_of.count(parent) ? depth_of[parent] : -1) + 1;
    depth_of[id] = depth;
    info.text += std::string(static_cast<size_t>(depth) * 2, ' ') + detail + "\n";
    shape += std::to_string(depth) + ":" + detail + ";";
    std::smatch m;
    if (std::regex_search(detail, m, table)) {
      const std::string name = m[1].str();
      if (std::find(info.relations.begin(), info.relations.end(), name) == info.relations.end()) {
        info.relations.push_back(name);
      }
    }
  }
  info.fingerprint = Hex12(shape);
  return info;
}

}  // namespace strata::check
