// Fuzzes the body of POST /api/v1/exports (server/export_request.h): any bytes must give either a
// request or a 4xx that names what was wrong, never a crash; and a tenant key's request can only
// ever be for that key's tenant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "report/project.h"
#include "server/export_request.h"

namespace {

const strata::Project& TestProject() {
  static const strata::Project* project = [] {
    auto* p = new strata::Project();
    p->tenant_param = "tenant_id";
    strata::ReportSpec r;
    r.name = "orders";
    r.title = "Orders";
    auto sql = strata::ParseSql("SELECT :tenant_id, :since, :limit, :flag, :at", "orders.sql");
    if (!sql.ok()) std::abort();
    r.sql = *sql;
    r.params = {{"tenant_id", strata::ParamType::kBigint, std::nullopt},
                {"since", strata::ParamType::kDate, "2024-01-01"},
                {"limit", strata::ParamType::kInt, "10"},
                {"flag", strata::ParamType::kBool, "false"},
                {"at", strata::ParamType::kTimestamptz, "2024-01-01 00:00:00"}};
    p->reports.push_back(r);
    return p;
  }();
  return *project;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  strata::server::Caller tenant;
  tenant.tenant = "7";
  strata::server::Caller service;
  service.service = true;
  for (const auto& caller : {tenant, service}) {
    auto parsed = strata::server::ParseExportRequest(TestProject(), caller, body, 3);
    if (!parsed.ok) {
      if (parsed.error.status < 400 || parsed.error.status > 499 || parsed.error.message.empty()) std::abort();
      continue;
    }
    if (!caller.service && parsed.request.tenant != "7") std::abort();
    if (parsed.request.params.size() != 5 || parsed.request.dedupe_key.size() != 64) std::abort();
  }
  return 0;
}
