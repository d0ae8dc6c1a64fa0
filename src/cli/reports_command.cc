// strata reports: a project's reports, their parameters and types, as text or JSON.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "report/project.h"

namespace strata::cli {

int RunReports(const ReportsArgs& args) {
  auto project = LoadProject(args.project);
  if (!project.ok()) return Fail(project.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ReportSpec& r : project->reports) {
      nlohmann::json params = nlohmann::json::array();
      for (const ParamSpec& p : r.params) {
        nlohmann::json j = {{"name", p.name},
                            {"type", ParamTypeName(p.type)},
                            {"tenant", p.name == project->tenant_param},
                            {"required", !p.default_value}};
        if (p.default_value) j["default"] = *p.default_value;
        params.push_back(j);
      }
      out.push_back({{"name", r.name},
                     {"title", r.title},
                     {"sql", r.sql_path},
                     {"execution", r.execution == Execution::kPrepared ? "prepared" : "simple"},
                     {"params", params}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const ReportSpec& r : project->reports) {
    std::cout << r.name;
    if (r.title != r.name) std::cout << "  — " << r.title;
    std::cout << "\n";
    size_t width = 0;
    for (const ParamSpec& p : r.params) width = std::max(width, p.name.size());
    for (const ParamSpec& p : r.params) {
      std::string line =
          "    --param " + p.name + std::string(width - p.name.size(), ' ') + "  " + std::string(ParamTypeName(p.type));
      line += std::string(std::max<size_t>(13 - ParamTypeName(p.type).size(), 1), ' ');
      if (p.name == project->tenant_param) line += "tenant, ";
      line += p.default_value ? "default " + *p.default_value : std::string("required");
      std::cout << line << "\n";
    }
  }
  return kExitOk;
}

// --- strata export -----------------------------------------------------------------------------

}  // namespace strata::cli
