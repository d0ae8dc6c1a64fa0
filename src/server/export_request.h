// ParseExportRequest: turns the body of POST /api/v1/exports into a job request, or into the 4xx
// answer that says which field was wrong. The tenant parameter of a tenant key comes from the key
// and cannot be changed; a service key must name it. Values are parsed by the parameter's
// declared type, defaults filled in, and the dedupe key computed from the result, so that
// {"from": "2024-01-01"} and {} (when that is the default) are the same request.
#pragma once

#include <string>
#include <string_view>

#include "jobs/job_store.h"
#include "report/project.h"
#include "server/auth.h"

namespace strata::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string field;  // "report", "params.from", ...; empty when no one field is at fault
};

struct ParsedExportRequest {
  bool ok = false;
  ApiError error;            // when !ok
  jobs::JobRequest request;  // when ok
};

ParsedExportRequest ParseExportRequest(const Project& project, const Caller& caller, std::string_view body,
                                       int max_attempts);

}  // namespace strata::server
