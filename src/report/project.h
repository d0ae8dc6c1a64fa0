// A report project: a folder with strata.toml and the .sql files it names (../shared/INTERFACES.md
// fixes the format).
//
// LoadProject reads and validates everything up front: every key is known (a typo is an error that
// names the key, file and line), every report's SQL lexes, every placeholder in it is declared,
// every declared parameter is used, every default parses as its type, and every report uses the
// tenant parameter. After a successful load, exporting a report can only fail on its values or in
// the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "report/param.h"
#include "report/sql_params.h"

namespace strata {

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kText;
  std::optional<std::string> default_value;  // as written; parsed when bound
};

enum class Execution { kSimple, kPrepared };

struct ReportSpec {
  std::string name;
  std::string title;     // for people; the name when not given
  std::string sql_path;  // as written in strata.toml, relative to the project folder
  ParsedSql sql;
  std::vector<ParamSpec> params;  // in declaration order
  Execution execution = Execution::kSimple;
  std::optional<ParsedSql> tenants;  // this report's own tenant list, if any
  // This report's own statement timeout ([reports.X] statement_timeout); the project's when absent.
  std::optional<std::chrono::milliseconds> statement_timeout;
  // [reports.X] serve = false: `strata serve` does not offer it (a candidate kept only for
  // `strata check --base-report`, a report for internal use); export and check still run it.
  bool serve = true;

  const ParamSpec* FindParam(std::string_view param) const;
};

struct CheckSettings {
  int repetitions = 5;
  double slower_ratio = 1.5;
  double min_slower_ms = 20;
  int max_tenants = 24;
  // The correctness sweep's time budget per report (docs/check.md); 0 turns the sweep off.
  std::chrono::milliseconds sweep_budget{std::chrono::seconds(30)};
};

struct ApiKeySpec {
  std::string sha256;                 // lower-case hex of SHA-256 of the key
  std::optional<std::string> tenant;  // the tenant value this key acts for, as text
  bool service = false;               // may name any tenant
};

// [serve.watch] (docs/watch.md): what the watch does on a confirmed regression.
struct WatchSettings {
  enum class Mode { kFallback, kAlert, kOff };
  Mode mode = Mode::kFallback;  // fall back to the last good version; only alert; do not judge
  double min_ratio = 1.5;       // the current version must be this much slower (median database time)
  double min_slower_ms = 50;    // and slower by this much
  std::string webhook;          // an http:// URL that receives each entry as JSON when it changes
  std::chrono::milliseconds cooldown = std::chrono::hours(6);  // after a revert, before judging again
};

struct ServeSettings {
  std::string files = "exports";
  std::chrono::milliseconds keep = std::chrono::hours(24);
  std::vector<ApiKeySpec> keys;
  WatchSettings watch;
};

struct Project {
  std::string folder;       // as given
  std::string config_path;  // folder/strata.toml
  // The database URL as written (a relative SQLite path is relative to the folder: the CLI resolves
  // it); empty when the project names none (then --database or STRATA_DATABASE_URL must).
  std::string database_url;
  std::string database_url_at;  // "path/strata.toml:2:7", where it was written, for messages
  std::chrono::milliseconds statement_timeout = std::chrono::minutes(10);
  std::string tenant_param;
  std::optional<ParsedSql> tenant_list;
  std::vector<ReportSpec> reports;  // in file order
  CheckSettings check;
  ServeSettings serve;

  const ReportSpec* FindReport(std::string_view name) const;
  // The tenant parameter's declaration (its type), from the first report; null when no report.
  const ParamSpec* TenantSpec() const;
};

Result<Project> LoadProject(const std::string& folder);

}  // namespace strata
