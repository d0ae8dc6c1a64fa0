// Report versions (../shared/INTERFACES.md, "The watch"): what makes two runs of a report the same
// report. A version is the report's SQL text, its declared parameters (name, type, default, in
// order) and its execution mode; its id is the first 12 hex digits of the SHA-256 of those, so the
// same files give the same id on every machine and after every restart, and any change to them
// gives a new one. The watch keeps every version it has run (watch_store.h), so that after a
// deploy the previous one is still there to compare with and to fall back to.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "report/project.h"

namespace strata::watch {

struct StoredVersion {
  std::string report;
  std::string id;          // 12 lower-case hex digits
  std::string sql;         // the statement as written (ParsedSql::text)
  std::string params;      // JSON: [{"name": ..., "type": ..., "default": ... or null}, ...]
  std::string execution;   // "simple" or "prepared"
  int64_t first_seen = 0;  // ms since the epoch; 0 before it is stored
};

StoredVersion VersionOf(const ReportSpec& report);

// The report as the version has it: `current` (its name, title, timeouts) with the version's SQL,
// parameters and execution. Fails with kConfig when the stored text no longer parses (a store
// edited by hand).
Result<ReportSpec> SpecOf(const StoredVersion& version, const ReportSpec& current);

}  // namespace strata::watch
