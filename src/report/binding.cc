#include "report/binding.h"

#include <algorithm>

namespace strata {

Result<ParamArg> ParseParamArg(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::Usage("--param " + std::string(arg) + ": expected name=value (or name:type=value)");
  }
  ParamArg out;
  std::string_view name = arg.substr(0, eq);
  out.value = std::string(arg.substr(eq + 1));
  const size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    std::string_view type = name.substr(colon + 1);
    auto t = ParamTypeFromName(type);
    if (!t) {
      return Status::Usage("--param " + std::string(arg) + ": unknown type '" + std::string(type) +
                           "' (types: " + ParamTypeNames() + ")");
    }
    out.type = *t;
    name = name.substr(0, colon);
  }
  out.name = std::string(name);
  return out;
}

namespace {
Status BadValue(const std::string& name, ParamType type, const std::string& value, const Status& why) {
  return Status::Usage("parameter " + name + " (" + std::string(ParamTypeName(type)) + "): '" + value +
                       "' is not valid: " + why.message());
}
}  // namespace

Result<std::vector<ParamValue>> BindReportParams(const ReportSpec& report, const std::vector<ParamArg>& given) {
  for (const ParamArg& arg : given) {
    if (report.FindParam(arg.name) == nullptr) {
      std::string declared;
      for (const ParamSpec& p : report.params) declared += (declared.empty() ? "" : ", ") + p.name;
      return Status::Usage("unknown parameter '" + arg.name + "' for report '" + report.name +
                           "' (its parameters: " + declared + ")");
    }
  }
  std::vector<ParamValue> values;
  for (const std::string& name : report.sql.names) {
    const ParamSpec& spec = *report.FindParam(name);
    const ParamArg* arg = nullptr;
    for (const ParamArg& a : given) {
      if (a.name == name) arg = &a;  // the last one wins, as with most CLIs
    }
    if (arg != nullptr && arg->type && *arg->type != spec.type) {
      return Status::Usage("parameter " + name + " is declared as " + std::string(ParamTypeName(spec.type)) + ", not " +
                           std::string(ParamTypeName(*arg->type)));
    }
    if (arg == nullptr && !spec.default_value) {
      return Status::Usage("report '" + report.name + "' needs --param " + name + "=<" +
                           std::string(ParamTypeName(spec.type)) + ">");
    }
    const std::string& text = arg != nullptr ? arg->value : *spec.default_value;
    auto v = ParseParamValue(spec.type, text);
    if (!v.ok()) return BadValue(name, spec.type, text, v.status());
    values.push_back(std::move(*v));
  }
  return values;
}

Result<std::vector<ParamValue>> BindAdHocParams(const ParsedSql& sql, const std::vector<ParamArg>& given) {
  for (const ParamArg& arg : given) {
    if (std::find(sql.names.begin(), sql.names.end(), arg.name) == sql.names.end()) {
      return Status::Usage("parameter '" + arg.name + "' is not used by the SQL (it uses: " +
                           (sql.names.empty() ? std::string("none") : [&] {
                             std::string s;
                             for (const auto& n : sql.names) s += (s.empty() ? ":" : ", :") + n;
                             return s;
                           }()) + ")");
    }
  }
  std::vector<ParamValue> values;
  for (const std::string& name : sql.names) {
    const ParamArg* arg = nullptr;
    for (const ParamArg& a : given) {
      if (a.name == name) arg = &a;
    }
    if (arg == nullptr) {
      const ParamUse& use =
          *std::find_if(sql.uses.begin(), sql.uses.end(), [&](const ParamUse& u) { return u.name == name; });
      return Status::Usage("the SQL uses :" + name + " (line " + std::to_string(use.line) + " column " +
                           std::to_string(use.column) + ") but no --param " + name + "=... was given");
    }
    const ParamType type = arg->type ? *arg->type : InferParamType(arg->value);
    auto v = ParseParamValue(type, arg->value);
    if (!v.ok()) return BadValue(name, type, arg->value, v.status());
    values.push_back(std::move(*v));
  }
  return values;
}

}  // namespace strata
