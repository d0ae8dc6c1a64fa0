#include "server/export_request.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/text.h"
#include "report/binding.h"
#include "sink/format.h"

namespace strata::server {

namespace {

using Json = nlohmann::json;

// A step's 4xx answer, or nothing when the step went through.
using Failure = std::optional<ApiError>;

ApiError Fault(int status, std::string field, std::string message) {
  return ApiError{status, field.empty() ? message : field + ": " + message, std::move(field)};
}

const char* KindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    default: return "a number";
  }
}

// The JSON library's message without its "[json.exception.kind.N] " prefix.
std::string LibraryMessage(const std::string& what) {
  const size_t end = what.rfind("] ");
  return what.compare(0, 1, "[") == 0 && end != std::string::npos ? what.substr(end + 2) : what;
}

// nlohmann's parser throws on some input even when asked not to (a number out of range).
Failure ParseBody(std::string_view body, Json* doc) {
  try {
    *doc = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return Fault(400, "", "the body is not JSON: error at byte " + std::to_string(e.byte));
  } catch (const Json::out_of_range&) {
    return Fault(400, "", "the body holds a number too large to read: send such a value as a string");
  } catch (const Json::exception& e) {
    return Fault(400, "", "the body is not usable JSON: " + LibraryMessage(e.what()));
  }
  if (!doc->is_object()) return Fault(400, "", std::string("the body must be a JSON object, not ") + KindOf(*doc));
  for (const auto& [key, value] : doc->items()) {
    if (key != "report" && key != "params" && key != "format") {
      return Fault(400, key, "unknown field (fields: report, params, format)");
    }
  }
  return std::nullopt;
}

// The named report, when the project serves it; otherwise the answer lists the ones it serves.
Failure FindServedReport(const Project& project, const Json& doc, const ReportSpec** report) {
  const auto at = doc.find("report");
  if (at == doc.end()) return Fault(400, "report", "required: the name of a report");
  if (!at->is_string()) return Fault(400, "report", std::string("expected a string, got ") + KindOf(*at));
  const std::string name = at->get<std::string>();
  *report = project.FindReport(name);
  if (*report != nullptr && (*report)->serve) return std::nullopt;
  std::string names;
  for (const ReportSpec& r : project.reports) {
    if (r.serve) names += (names.empty() ? "" : ", ") + r.name;
  }
  return Fault(400, "report", "no report " + QuoteForMessage(name) + " (reports: " + names + ")");
}

Failure ReadFormat(const Json& doc, std::string* format) {
  *format = "xlsx";
  const auto f = doc.find("format");
  if (f == doc.end()) return std::nullopt;
  if (!f->is_string() || !FormatFromName(f->get<std::string>()).ok()) {
    return Fault(400, "format", "expected \"xlsx\" or \"csv\", got " + QuoteForMessage(f->dump()));
  }
  *format = f->get<std::string>();
  return std::nullopt;
}

// One given value: a known parameter, a scalar, parsed by its declared type. A tenant key may
// name only its own tenant.
Failure ReadParam(const Project& project, const Caller& caller, const ReportSpec& report, const std::string& param,
                  const Json& value, std::vector<ParamArg>* given) {
  const std::string field = "params." + param;
  const ParamSpec* spec = report.FindParam(param);
  if (spec == nullptr) {
    std::string names;
    for (const ParamSpec& s : report.params) names += (names.empty() ? "" : ", ") + s.name;
    return Fault(400, field, "the report " + report.name + " has no such parameter (parameters: " + names + ")");
  }
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number() || value.is_boolean()) {
    text = value.dump();
  } else {
    return Fault(400, field,
                 std::string("expected a ") + std::string(ParamTypeName(spec->type)) + ", got " + KindOf(value));
  }
  auto parsed = ParseParamValue(spec->type, text);
  if (!parsed.ok()) return Fault(400, field, parsed.status().message());
  if (param == project.tenant_param && !caller.service && parsed->text != caller.tenant) {
    return Fault(403, field, "this key acts for tenant " + caller.tenant + " only");
  }
  given->push_back(ParamArg{param, std::nullopt, parsed->text});
  return std::nullopt;
}

bool IsGiven(const std::vector<ParamArg>& given, const std::string& name) {
  for (const ParamArg& g : given) {
    if (g.name == name) return true;
  }
  return false;
}

// Every given value, then the tenant (a tenant key's own; a service key must name it), then a
// check that each parameter without a default has a value.
Failure ReadParams(const Project& project, const Caller& caller, const ReportSpec& report, const Json& doc,
                   std::vector<ParamArg>* given) {
  if (const auto p = doc.find("params"); p != doc.end()) {
    if (!p->is_object()) return Fault(400, "params", std::string("expected an object, got ") + KindOf(*p));
    for (const auto& [param, value] : p->items()) {
      if (Failure f = ReadParam(project, caller, report, param, value, given)) return f;
    }
  }
  if (!IsGiven(*given, project.tenant_param)) {
    if (caller.service) {
      return Fault(400, "params." + project.tenant_param, "required: a service key must name the tenant");
    }
    given->push_back(ParamArg{project.tenant_param, std::nullopt, caller.tenant});
  }
  for (const ParamSpec& spec : report.params) {
    if (!spec.default_value && !IsGiven(*given, spec.name)) {
      return Fault(400, "params." + spec.name,
                   "required: this " + std::string(ParamTypeName(spec.type)) + " parameter has no default");
    }
  }
  return std::nullopt;
}

// The job, with its dedupe key: the request as a JSON array, because unlike text joined by
// separators no two requests spell the same.
jobs::JobRequest MakeJobRequest(const Project& project, const ReportSpec& report, const std::string& format,
                                const std::vector<ParamValue>& values, int max_attempts) {
  jobs::JobRequest r;
  r.report = report.name;
  r.format = format;
  r.max_attempts = max_attempts;
  Json key = Json::array({report.name, format});
  for (size_t k = 0; k < report.sql.names.size() && k < values.size(); ++k) {
    const std::string& param = report.sql.names[k];
    const std::string& text = values[k].text;
    if (param == project.tenant_param) r.tenant = text;
    r.params.emplace_back(param, text);
    key.push_back(Json::array({param, text}));
  }
  r.dedupe_key = Sha256Hex(key.dump());
  return r;
}

ParsedExportRequest Failed(ApiError error) {
  ParsedExportRequest p;
  p.error = std::move(error);
  return p;
}

}  // namespace

ParsedExportRequest ParseExportRequest(const Project& project, const Caller& caller, std::string_view body,
                                       int max_attempts) {
  Json doc;
  const ReportSpec* report = nullptr;
  std::string format;
  std::vector<ParamArg> given;
  if (Failure f = ParseBody(body, &doc)) return Failed(*f);
  if (Failure f = FindServedReport(project, doc, &report)) return Failed(*f);
  if (Failure f = ReadFormat(doc, &format)) return Failed(*f);
  if (Failure f = ReadParams(project, caller, *report, doc, &given)) return Failed(*f);
  auto values = BindReportParams(*report, given);
  if (!values.ok()) return Failed(Fault(400, "params", values.status().message()));
  ParsedExportRequest out;
  out.ok = true;
  out.request = MakeJobRequest(project, *report, format, *values, max_attempts);
  return out;
}

}  // namespace strata::server
