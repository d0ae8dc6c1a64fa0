#include "watch/version.h"

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace strata::watch {

using Json = nlohmann::ordered_json;

namespace {

const char* ExecutionName(Execution e) {
  return e == Execution::kPrepared ? "prepared" : "simple";
}

std::string ParamsJson(const ReportSpec& report) {
  Json params = Json::array();
  for (const ParamSpec& p : report.params) {
    params.push_back(Json{{"name", p.name},
                          {"type", std::string(ParamTypeName(p.type))},
                          {"default", p.default_value ? Json(*p.default_value) : Json(nullptr)}});
  }
  // Names and defaults come from strata.toml (UTF-8 by TOML's rules); replace, never throw.
  return params.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::vector<ParamSpec>> ParamsFrom(const StoredVersion& v) {
  const Json params = Json::parse(v.params, nullptr, /*allow_exceptions=*/false);
  const std::string where = "the stored version " + v.id + " of " + v.report;
  if (!params.is_array()) return Status::Config(where + ": its parameters are not a JSON array");
  std::vector<ParamSpec> specs;
  for (const Json& p : params) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("type") ||
        !p["type"].is_string()) {
      return Status::Config(where + ": a parameter without a name or type");
    }
    ParamSpec spec;
    spec.name = p["name"].get<std::string>();
    const auto type = ParamTypeFromName(p["type"].get<std::string>());
    if (!type) return Status::Config(where + ": parameter " + spec.name + " has an unknown type");
    spec.type = *type;
    if (p.contains("default") && p["default"].is_string()) spec.default_value = p["default"].get<std::string>();
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

StoredVersion VersionOf(const ReportSpec& report) {
  StoredVersion v;
  v.report = report.name;
  v.sql = report.sql.text;
  v.params = ParamsJson(report);
  v.execution = ExecutionName(report.execution);
  // The three, each after its length: no two different versions give the same bytes (the SQL file
  // may hold any bytes).
  std::string identity;
  for (const std::string* part : {&v.sql, &v.params, &v.execution}) {
    identity += std::to_string(part->size()) + ":" + *part + ";";
  }
  v.id = Sha256Hex(identity).substr(0, 12);
  return v;
}

Result<ReportSpec> SpecOf(const StoredVersion& version, const ReportSpec& current) {
  ReportSpec spec = current;
  auto sql = ParseSql(version.sql, "version " + version.id + " of " + version.report);
  if (!sql.ok()) return Status::Config(sql.status().message());
  spec.sql = std::move(*sql);
  auto params = ParamsFrom(version);
  if (!params.ok()) return params.status();
  spec.params = std::move(*params);
  spec.execution = version.execution == "prepared" ? Execution::kPrepared : Execution::kSimple;
  return spec;
}

}  // namespace strata::watch
