#include "server/export_request.h"

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "report/binding.h"
#include "sink/format.h"

namespace strata::server {

namespace {

using Json = nlohmann::json;

ParsedExportRequest Error(int status, std::string field, std::string message) {
  ParsedExportRequest p;
  p.error = ApiError{status, field.empty() ? message : field + ": " + message, std::move(field)};
  return p;
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

}  // namespace

ParsedExportRequest ParseExportRequest(const Project& project, const Caller& caller, std::string_view body,
                                       int max_attempts) {
  // nlohmann's parser throws on some input even when asked not to (a number out of range).
  Json doc;
  try {
    doc = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return Error(400, "", "the body is not JSON: error at byte " + std::to_string(e.byte));
  } catch (const Json::out_of_range&) {
    return Error(400, "", "the body holds a number too large to read: send such a value as a string");
  } catch (const Json::exception& e) {
    return Error(400, "", "the body is not usable JSON: " + LibraryMessage(e.what()));
  }
  if (!doc.is_object()) return Error(400, "", std::string("the body must be a JSON object, not ") + KindOf(doc));
  for (const auto& [key, value] : doc.items()) {
    if (key != "report" && key != "params" && key != "format") {
      return Error(400, key, "unknown field (fields: report, params, format)");
    }
  }
  const auto report_at = doc.find("report");
  if (report_at == doc.end()) return Error(400, "report", "required: the name of a report");
  if (!report_at->is_string()) return Error(400, "report", std::string("expected a string, got ") + KindOf(*report_at));
  const std::string name = report_at->get<std::string>();
  const ReportSpec* report = project.FindReport(name);
  if (report == nullptr || !report->serve) {
    std::string names;
    for (const ReportSpec& r : project.reports) {
      if (r.serve) names += (names.empty() ? "" : ", ") + r.name;
    }
    return Error(400, "report", "no report " + QuoteForMessage(name) + " (reports: " + names + ")");
  }

  std::string format = "xlsx";
  if (const auto f = doc.find("format"); f != doc.end()) {
    if (!f->is_string() || !FormatFromName(f->get<std::string>()).ok()) {
      return Error(400, "format", "expected \"xlsx\" or \"csv\", got " + QuoteForMessage(f->dump()));
    }
    format = f->get<std::string>();
  }

  // Each given value: a known parameter, a scalar, parsed by its declared type.
  std::vector<ParamArg> given;
  bool tenant_given = false;
  if (const auto p = doc.find("params"); p != doc.end()) {
    if (!p->is_object()) return Error(400, "params", std::string("expected an object, got ") + KindOf(*p));
    for (const auto& [param, value] : p->items()) {
      const std::string field = "params." + param;
      const ParamSpec* spec = report->FindParam(param);
      if (spec == nullptr) {
        std::string names;
        for (const ParamSpec& s : report->params) names += (names.empty() ? "" : ", ") + s.name;
        return Error(400, field, "the report " + report->name + " has no such parameter (parameters: " + names + ")");
      }
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_number() || value.is_boolean()) {
        text = value.dump();
      } else {
        return Error(400, field,
                     std::string("expected a ") + std::string(ParamTypeName(spec->type)) + ", got " + KindOf(value));
      }
      auto parsed = ParseParamValue(spec->type, text);
      if (!parsed.ok()) return Error(400, field, parsed.status().message());
      if (param == project.tenant_param) {
        tenant_given = true;
        if (!caller.service && parsed->text != caller.tenant) {
          return Error(403, field, "this key acts for tenant " + caller.tenant + " only");
        }
      }
      given.push_back(ParamArg{param, std::nullopt, parsed->text});
    }
  }
  if (!tenant_given) {
    if (caller.service) {
      return Error(400, "params." + project.tenant_param, "required: a service key must name the tenant");
    }
    given.push_back(ParamArg{project.tenant_param, std::nullopt, caller.tenant});
  }
  for (const ParamSpec& spec : report->params) {
    if (spec.default_value) continue;
    bool found = false;
    for (const ParamArg& g : given) found = found || g.name == spec.name;
    if (!found) {
      return Error(400, "params." + spec.name,
                   "required: this " + std::string(ParamTypeName(spec.type)) + " parameter has no default");
    }
  }
  auto values = BindReportParams(*report, given);
  if (!values.ok()) return Error(400, "params", values.status().message());

  ParsedExportRequest out;
  out.ok = true;
  jobs::JobRequest& r = out.request;
  r.report = report->name;
  r.format = format;
  r.max_attempts = max_attempts;
  // The request as a JSON array: unlike text joined by separators, no two requests spell the same.
  Json key = Json::array({report->name, format});
  for (size_t k = 0; k < report->sql.names.size() && k < values->size(); ++k) {
    const std::string& param = report->sql.names[k];
    const std::string& text = (*values)[k].text;
    if (param == project.tenant_param) r.tenant = text;
    r.params.emplace_back(param, text);
    key.push_back(Json::array({param, text}));
  }
  r.dedupe_key = Sha256Hex(key.dump());
  return out;
}

}  // namespace strata::server
