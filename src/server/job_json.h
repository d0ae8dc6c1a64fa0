// The JSON of an export as the API answers it (docs/api.md, "Follow an export").
#pragma once

#include <nlohmann/json.hpp>

#include "jobs/job_store.h"
#include "report/project.h"

namespace strata::server {

// "2026-11-25T10:00:00.120Z"; null for 0.
nlohmann::ordered_json TimeJson(int64_t ms);

// The file name a person gets: "<report>_<tenant>.<format>".
std::string DownloadName(const jobs::Job& job);

// history: the tenant's earlier runs of the report (for expected_rows and the ETA); now: the clock.
nlohmann::ordered_json JobJson(const jobs::Job& job, const jobs::RunHistory& history, int64_t now);

}  // namespace strata::server
