// Binding: turns the values people give (`--param name=value`, an API request's fields) into the
// typed values a report's query is run with, in the order of its placeholders.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "report/param.h"
#include "report/project.h"
#include "report/sql_params.h"

namespace strata {

// Parses "name=value" or "name:type=value" as given to --param.
struct ParamArg {
  std::string name;
  std::optional<ParamType> type;
  std::string value;
};
Result<ParamArg> ParseParamArg(std::string_view arg);

// The values to bind for a report, in the order of report.sql.names: given values parsed by their
// declared type, defaults for the rest. Errors (exit 2) name the parameter, the type and the value:
// an unknown name, a value that does not parse, a required parameter without a value.
Result<std::vector<ParamValue>> BindReportParams(const ReportSpec& report, const std::vector<ParamArg>& given);

// For ad hoc SQL (no project): every placeholder must be given; its type is the one written
// (name:type=value) or inferred from the value.
Result<std::vector<ParamValue>> BindAdHocParams(const ParsedSql& sql, const std::vector<ParamArg>& given);

}  // namespace strata
