// The profile as JSON (docs/profile-format.md), and back.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "synth/profile.h"

namespace strata::synth {

using nlohmann::json;

namespace {

constexpr const char* kKindNames[] = {"integer",     "decimal", "float", "text",  "bool", "date",  "timestamp",
                                      "timestamptz", "uuid",    "json",  "array", "enum", "bytes", "other"};

// A whole number that fits T; anything else (text, 1e300, 2.5) is refused, never cast.
template <typename T>
T Integer(const json& v) {
  if (v.is_number_integer()) {
    const int64_t n =
        v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? -1 : v.get<int64_t>();
    if (n >= std::numeric_limits<T>::min() && n <= std::numeric_limits<T>::max() &&
        !(v.is_number_unsigned() && n < 0)) {
      return static_cast<T>(n);
    }
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == std::floor(d) && d >= static_cast<double>(std::numeric_limits<T>::min()) &&
        d <= static_cast<double>(std::numeric_limits<T>::max()) / 2) {
      return static_cast<T>(d);
    }
  }
  throw std::out_of_range("a whole number within range was expected, not " + v.dump());
}

template <typename T>
T Get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return Integer<T>(*it);
  } else {
    return it->get<T>();
  }
}

std::map<std::string, int64_t> Counts(const json& j, const char* key) {
  std::map<std::string, int64_t> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  for (const auto& [name, value] : it->items()) out[name] = Integer<int64_t>(value);
  return out;
}

json Pairs(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  json out = json::array();
  for (const auto& [a, b] : pairs) out.push_back({a, b});
  return out;
}

std::vector<std::pair<int64_t, int64_t>> PairsFrom(const json& j) {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (!j.is_array()) return out;
  for (const json& p : j) out.emplace_back(Integer<int64_t>(p.at(0)), Integer<int64_t>(p.at(1)));
  return out;
}

json ColumnJson(const ColumnProfile& c) {
  json j = {{"name", c.name},         {"type", c.type},   {"kind", ValueKindName(c.kind)},
            {"nullable", c.nullable}, {"nulls", c.nulls}, {"distinct", c.distinct}};
  if (!c.base_type.empty()) j["base_type"] = c.base_type;
  if (!c.default_sql.empty()) j["default"] = c.default_sql;
  if (!c.generated_sql.empty()) j["generated"] = c.generated_sql;
  if (!c.identity.empty()) j["identity"] = c.identity;
  if (c.negatives > 0) j["negatives"] = c.negatives;
  if (c.zeros > 0) j["zeros"] = c.zeros;
  if (c.max_length >= 0) j["max_length"] = c.max_length;
  if (c.scale >= 0) j["scale"] = c.scale;
  if (!c.kept.empty()) {
    j["kept"] = c.kept;
    json values = json::array();
    for (const ValueCount& v : c.values) values.push_back({{"value", v.value}, {"rows", v.rows}});
    j["values"] = std::move(values);
  }
  if (!c.quantiles.empty()) j["quantiles"] = c.quantiles;
  if (!c.lengths.empty()) j["lengths"] = c.lengths;
  if (c.has_typical_range) j["typical_range"] = {c.typical_min, c.typical_max};
  if (c.near_unique) j["near_unique"] = true;
  if (c.correlation != 0) j["correlation"] = c.correlation;
  return j;
}

ColumnProfile ColumnFrom(const json& j) {
  ColumnProfile c;
  c.name = j.at("name").get<std::string>();
  c.type = j.at("type").get<std::string>();
  c.kind = ValueKindFromName(j.at("kind").get<std::string>());
  c.nullable = Get(j, "nullable", true);
  c.nulls = Get<int64_t>(j, "nulls", 0);
  c.distinct = Get<int64_t>(j, "distinct", -1);
  c.negatives = Get<int64_t>(j, "negatives", 0);
  c.zeros = Get<int64_t>(j, "zeros", 0);
  c.base_type = Get<std::string>(j, "base_type", "");
  c.default_sql = Get<std::string>(j, "default", "");
  c.generated_sql = Get<std::string>(j, "generated", "");
  c.identity = Get<std::string>(j, "identity", "");
  c.max_length = Get(j, "max_length", -1);
  c.scale = Get(j, "scale", -1);
  c.kept = Get<std::string>(j, "kept", "");
  if (j.contains("values")) {
    for (const json& v : j["values"])
      c.values.push_back({v.at("value").get<std::string>(), Integer<int64_t>(v.at("rows"))});
  }
  c.quantiles = Get<std::vector<double>>(j, "quantiles", {});
  c.lengths = Get<std::vector<double>>(j, "lengths", {});
  const std::vector<double> range = Get<std::vector<double>>(j, "typical_range", {});
  if (range.size() == 2) c.has_typical_range = true, c.typical_min = range[0], c.typical_max = range[1];
  c.near_unique = Get(j, "near_unique", false);
  c.correlation = Get(j, "correlation", 0.0);
  return c;
}

json ForeignKeyJson(const ForeignKeyProfile& k) {
  json j = {{"name", k.name},         {"columns", k.columns},
            {"parent", k.parent},     {"parent_columns", k.parent_columns},
            {"declared", k.declared}, {"fanout", Pairs(k.fanout)}};
  if (!k.parent_schema.empty()) j["parent_schema"] = k.parent_schema;
  if (!k.definition.empty()) j["definition"] = k.definition;
  if (k.orphans > 0) j["orphans"] = k.orphans;
  return j;
}

ForeignKeyProfile ForeignKeyFrom(const json& j) {
  ForeignKeyProfile k;
  k.name = j.at("name").get<std::string>();
  k.columns = j.at("columns").get<std::vector<std::string>>();
  k.parent = j.at("parent").get<std::string>();
  k.parent_schema = Get<std::string>(j, "parent_schema", "");
  k.parent_columns = j.at("parent_columns").get<std::vector<std::string>>();
  k.definition = Get<std::string>(j, "definition", "");
  k.declared = Get(j, "declared", true);
  k.fanout = PairsFrom(j.value("fanout", json::array()));
  k.orphans = Get<int64_t>(j, "orphans", 0);
  return k;
}

json TableJson(const TableProfile& t) {
  json j = {{"schema", t.schema}, {"name", t.name}, {"rows", t.rows}};
  if (!t.create_sql.empty()) j["create_sql"] = t.create_sql;
  json columns = json::array();
  for (const ColumnProfile& c : t.columns) columns.push_back(ColumnJson(c));
  j["columns"] = std::move(columns);
  j["primary_key"] = t.PrimaryKey();
  json constraints = json::array();
  for (const ConstraintProfile& c : t.constraints) {
    constraints.push_back(
        {{"name", c.name}, {"type", std::string(1, c.type)}, {"columns", c.columns}, {"definition", c.definition}});
  }
  j["constraints"] = std::move(constraints);
  json keys = json::array();
  for (const ForeignKeyProfile& k : t.foreign_keys) keys.push_back(ForeignKeyJson(k));
  j["foreign_keys"] = std::move(keys);
  json indexes = json::array();
  for (const IndexProfile& i : t.indexes) {
    indexes.push_back({{"name", i.name},
                       {"definition", i.definition},
                       {"unique", i.unique},
                       {"expression", i.expression},
                       {"partial", i.partial},
                       {"columns", i.columns}});
  }
  j["indexes"] = std::move(indexes);
  if (!t.partition_key.empty()) {
    j["partition_key"] = t.partition_key;
    json parts = json::array();
    for (const PartitionProfile& p : t.partitions)
      parts.push_back({{"schema", p.schema}, {"name", p.name}, {"bound", p.bound}});
    j["partitions"] = std::move(parts);
  }
  if (!t.tenant.column.empty()) j["tenant"] = {{"column", t.tenant.column}};
  if (!t.tenant.via.empty()) j["tenant"] = {{"via", t.tenant.via}};
  j["statistics"] = {{"analyzed", t.statistics.analyzed},
                     {"analyzed_rows", t.statistics.analyzed_rows},
                     {"modified_since_analyze", t.statistics.modified_since_analyze},
                     {"last_analyze", t.statistics.last_analyze}};
  if (!t.rows_per_tenant.empty()) j["rows_per_tenant"] = t.rows_per_tenant;
  return j;
}

TableProfile TableFrom(const json& j) {
  TableProfile t;
  t.schema = Get<std::string>(j, "schema", "");
  t.name = j.at("name").get<std::string>();
  t.rows = Integer<int64_t>(j.at("rows"));
  t.create_sql = Get<std::string>(j, "create_sql", "");
  for (const json& c : j.at("columns")) t.columns.push_back(ColumnFrom(c));
  for (const json& c : j.value("constraints", json::array())) {
    ConstraintProfile k;
    k.name = c.at("name").get<std::string>();
    const std::string type = c.at("type").get<std::string>();
    k.type = type.empty() ? 'c' : type[0];
    k.columns = Get<std::vector<std::string>>(c, "columns", {});
    k.definition = Get<std::string>(c, "definition", "");
    t.constraints.push_back(std::move(k));
  }
  for (const json& k : j.value("foreign_keys", json::array())) t.foreign_keys.push_back(ForeignKeyFrom(k));
  for (const json& i : j.value("indexes", json::array())) {
    IndexProfile x;
    x.name = i.at("name").get<std::string>();
    x.definition = i.at("definition").get<std::string>();
    x.unique = Get(i, "unique", false);
    x.expression = Get(i, "expression", false);
    x.partial = Get(i, "partial", false);
    x.columns = Get<std::vector<std::string>>(i, "columns", {});
    t.indexes.push_back(std::move(x));
  }
  t.partition_key = Get<std::string>(j, "partition_key", "");
  for (const json& p : j.value("partitions", json::array())) {
    t.partitions.push_back(
        {Get<std::string>(p, "schema", ""), p.at("name").get<std::string>(), p.at("bound").get<std::string>()});
  }
  if (j.contains("tenant")) {
    t.tenant.column = Get<std::string>(j["tenant"], "column", "");
    t.tenant.via = Get<std::string>(j["tenant"], "via", "");
  }
  if (j.contains("statistics")) {
    const json& s = j["statistics"];
    t.statistics.analyzed = Get(s, "analyzed", false);
    t.statistics.analyzed_rows = Get(s, "analyzed_rows", -1.0);
    t.statistics.modified_since_analyze = Get<int64_t>(s, "modified_since_analyze", -1);
    t.statistics.last_analyze = Get<std::string>(s, "last_analyze", "");
  }
  t.rows_per_tenant = Get<std::vector<double>>(j, "rows_per_tenant", {});
  return t;
}

json TenantJson(const KeptTenant& k) {
  json ranges = json::object();
  for (const auto& [column, r] : k.range) ranges[column] = {r.first, r.second};
  json fanout = json::object();
  for (const auto& [key, pairs] : k.fanout) fanout[key] = Pairs(pairs);
  return {{"tenant", k.tenant}, {"why", k.why},    {"rows", k.rows},  {"estimated_rows", k.estimated_rows},
          {"counts", k.counts}, {"range", ranges}, {"fanout", fanout}};
}

KeptTenant TenantFrom(const json& j) {
  KeptTenant k;
  k.tenant = j.at("tenant").get<std::string>();
  k.why = Get<std::vector<std::string>>(j, "why", {});
  k.rows = Counts(j, "rows");
  k.estimated_rows = Get<std::map<std::string, double>>(j, "estimated_rows", {});
  k.counts = Counts(j, "counts");
  const json ranges = j.value("range", json::object());
  for (const auto& [column, r] : ranges.items()) k.range[column] = {r.at(0).get<double>(), r.at(1).get<double>()};
  const json fanout = j.value("fanout", json::object());
  for (const auto& [key, pairs] : fanout.items()) k.fanout[key] = PairsFrom(pairs);
  return k;
}

// Compact, but one line per top-level field and per element of a top-level list (a table, a kept
// tenant): small enough for a 100-table schema, and still easy to read, grep and diff.
std::string Lines(const json& j) {
  std::string out = "{\n\"format\": " + j.at("format").dump();
  for (const auto& [key, value] : j.items()) {
    if (key == "format") continue;
    out += ",\n" + json(key).dump() + ": ";
    if (!value.is_array() || value.empty() || !value[0].is_object()) {
      out += value.dump();
      continue;
    }
    out += "[";
    for (size_t k = 0; k < value.size(); ++k) out += (k ? ",\n  " : "\n  ") + value[k].dump();
    out += "\n]";
  }
  return out + "\n}\n";
}

}  // namespace

const char* ValueKindName(ValueKind kind) {
  return kKindNames[static_cast<int>(kind)];
}

ValueKind ValueKindFromName(const std::string& name) {
  for (int k = 0; k < static_cast<int>(std::size(kKindNames)); ++k) {
    if (name == kKindNames[k]) return static_cast<ValueKind>(k);
  }
  return ValueKind::kOther;
}

const ColumnProfile* TableProfile::Column(const std::string& column) const {
  for (const ColumnProfile& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

std::vector<std::string> TableProfile::PrimaryKey() const {
  for (const ConstraintProfile& c : constraints) {
    if (c.type == 'p') return c.columns;
  }
  return {};
}

const TableProfile* Profile::Table(const std::string& name) const {
  for (const TableProfile& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string ProfileToJson(const Profile& p) {
  json j = {{"format", kProfileFormat},
            {"source",
             {{"dialect", p.dialect},
              {"database", p.database},
              {"profiled_at", p.profiled_at},
              {"seconds", p.seconds},
              {"queries", p.queries}}},
            {"quantile_points", std::vector<double>(std::begin(kQuantilePoints), std::end(kQuantilePoints))}};
  j["tenant"] = {{"column", p.tenant.column},       {"table", p.tenant.table}, {"key", p.tenant.key},
                 {"integer", p.tenant.integer},     {"count", p.tenant.count}, {"median", p.tenant.median},
                 {"ranges", Pairs(p.tenant.ranges)}};
  json enums = json::array();
  for (const EnumProfile& e : p.enums) enums.push_back({{"schema", e.schema}, {"name", e.name}, {"labels", e.labels}});
  j["enums"] = std::move(enums);
  json domains = json::array();
  for (const DomainProfile& d : p.domains) {
    domains.push_back({{"schema", d.schema},
                       {"name", d.name},
                       {"base_type", d.base_type},
                       {"constraints", d.constraints},
                       {"not_null", d.not_null}});
  }
  j["domains"] = std::move(domains);
  json tables = json::array();
  for (const TableProfile& t : p.tables) tables.push_back(TableJson(t));
  j["tables"] = std::move(tables);
  json views = json::array();
  for (const ViewProfile& v : p.views)
    views.push_back({{"schema", v.schema}, {"name", v.name}, {"definition", v.definition}});
  j["views"] = std::move(views);
  json tenants = json::array();
  for (const KeptTenant& k : p.tenants) tenants.push_back(TenantJson(k));
  j["tenants"] = std::move(tenants);
  json unsupported = json::array();
  for (const Unsupported& u : p.unsupported) unsupported.push_back({{"object", u.object}, {"what", u.what}});
  j["unsupported"] = std::move(unsupported);
  json plans = json::array();
  for (const PlanShape& s : p.plans) {
    json nodes = json::array();
    for (const auto& [type, rows] : s.nodes) nodes.push_back({type, rows});
    plans.push_back({{"report", s.report}, {"tenant", s.tenant}, {"fingerprint", s.fingerprint}, {"nodes", nodes}});
  }
  j["plans"] = std::move(plans);
  return Lines(j);
}

namespace {

Profile ProfileFrom(const json& j) {
  Profile p;
  const json& source = j.at("source");
  p.dialect = source.at("dialect").get<std::string>();
  p.database = Get<std::string>(source, "database", "");
  p.profiled_at = Get<std::string>(source, "profiled_at", "");
  p.seconds = Get(source, "seconds", 0.0);
  p.queries = Get(source, "queries", 0);
  const json& tenant = j.at("tenant");
  p.tenant.column = tenant.at("column").get<std::string>();
  p.tenant.table = Get<std::string>(tenant, "table", "");
  p.tenant.key = Get<std::string>(tenant, "key", "");
  p.tenant.integer = Get(tenant, "integer", true);
  p.tenant.count = Get<int64_t>(tenant, "count", 0);
  p.tenant.median = Get<std::string>(tenant, "median", "");
  p.tenant.ranges = PairsFrom(tenant.value("ranges", json::array()));
  for (const json& e : j.value("enums", json::array())) {
    p.enums.push_back({Get<std::string>(e, "schema", ""), e.at("name").get<std::string>(),
                       e.at("labels").get<std::vector<std::string>>()});
  }
  for (const json& d : j.value("domains", json::array())) {
    p.domains.push_back({Get<std::string>(d, "schema", ""), d.at("name").get<std::string>(),
                         d.at("base_type").get<std::string>(), Get<std::vector<std::string>>(d, "constraints", {}),
                         Get(d, "not_null", false)});
  }
  for (const json& t : j.at("tables")) p.tables.push_back(TableFrom(t));
  for (const json& v : j.value("views", json::array())) {
    p.views.push_back(
        {Get<std::string>(v, "schema", ""), v.at("name").get<std::string>(), v.at("definition").get<std::string>()});
  }
  for (const json& k : j.value("tenants", json::array())) p.tenants.push_back(TenantFrom(k));
  for (const json& s : j.value("plans", json::array())) {
    PlanShape shape{s.at("report").get<std::string>(),
                    s.at("tenant").get<std::string>(),
                    Get<std::string>(s, "fingerprint", ""),
                    {}};
    for (const json& n : s.value("nodes", json::array()))
      shape.nodes.push_back({n.at(0).get<std::string>(), n.at(1).get<double>()});
    p.plans.push_back(std::move(shape));
  }
  for (const json& u : j.value("unsupported", json::array())) {
    p.unsupported.push_back({u.at("object").get<std::string>(), u.at("what").get<std::string>()});
  }
  return p;
}

// What the JSON's types cannot say: counts are not negative, keys name as many parent columns as
// columns, tenant ranges run forward and hold a number of tenants a database could.
Status Validate(const Profile& p, const std::string& origin) {
  int64_t tenants = 0;
  for (const auto& [first, last] : p.tenant.ranges) {
    if (first > last || last - first > 100'000'000 || (tenants += last - first + 1) > 100'000'000) {
      return Status::Usage(origin + ": tenant.ranges: [" + std::to_string(first) + ", " + std::to_string(last) +
                           "] is not a range of at most 100,000,000 tenants");
    }
  }
  for (const TableProfile& t : p.tables) {
    if (t.rows < 0) return Status::Usage(origin + ": table " + t.name + ": rows is negative");
    for (const ForeignKeyProfile& k : t.foreign_keys) {
      if (k.columns.empty() || k.columns.size() != k.parent_columns.size()) {
        return Status::Usage(origin + ": table " + t.name + ": foreign key " + k.name +
                             " does not name as many parent columns as columns");
      }
    }
  }
  for (const KeptTenant& k : p.tenants) {
    for (const auto& [table, rows] : k.rows) {
      if (rows < 0) return Status::Usage(origin + ": tenant " + k.tenant + ": rows of " + table + " is negative");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Profile> ProfileFromJson(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Usage(origin + ": not a JSON document");
  const auto found = j.find("format");
  const std::string format = found != j.end() && found->is_string() ? found->get<std::string>() : "";
  if (format != kProfileFormat) {
    return Status::Usage(origin + ": \"format\" is \"" + format + "\", not \"" + kProfileFormat +
                         "\" (a profile written by strata profile)");
  }
  try {
    Profile p = ProfileFrom(j);
    if (p.dialect != "postgres" && p.dialect != "sqlite") {
      return Status::Usage(origin + ": source.dialect is \"" + p.dialect + "\", not postgres or sqlite");
    }
    STRATA_RETURN_IF_ERROR(Validate(p, origin));
    return p;
  } catch (const std::out_of_range& e) {
    return Status::Usage(origin + ": not a complete strata-profile/1: " + e.what());
  } catch (const json::exception& e) {
    // nlohmann's messages name the field: "[json.exception.out_of_range.403] key 'name' not found".
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
    return Status::Usage(origin + ": not a complete strata-profile/1: " + what);
  }
}

}  // namespace strata::synth
