// The strata command line: one subcommand per verb, thin over the library. A Status becomes an exit
// code and a message in one place: cli_support.cc (ExitCode, Fail).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::cli {

// Exit codes (documented in docs/guide.md, "Exit codes").
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;   // I/O or an internal error
constexpr int kExitUsage = 2;     // bad flags, parameters, or project configuration
constexpr int kExitDatabase = 3;  // the database refused, failed, timed out or was unreachable
constexpr int kExitInterrupted = 130;

int Main(int argc, char** argv);

// The subcommands, each in its own file; Main (commands.cc) parses the flags into these.
struct ReportsArgs {
  std::string project = ".";
  bool json = false;
};
int RunReports(const ReportsArgs& args);

struct ExportArgs {
  std::string project;
  std::string report;
  std::string database;
  std::string sql_file;
  std::vector<std::string> params;
  std::string output;
  std::string format;
  std::string timeout;
  std::string pg_fetch = "single-row";
  std::string pg_format = "binary";
  int compression = 1;
  uint64_t sheet_rows = 1048575;
  bool bom = false;
  bool no_formula_guard = false;
  bool quiet = false;
};
int RunExport(const ExportArgs& args);

struct GenerateArgs {
  std::string project;
  std::string database;
  double scale = 1;
  int tenants = 0;  // typical admins; 0: from the scale
  uint64_t seed = 42;
  bool no_analyze = false;
  bool replace = false;  // replace tables (or a SQLite file) that strata generate did not make
  bool quiet = false;
};
int RunGenerate(const GenerateArgs& args);

struct CheckArgs {
  std::string project;
  std::string base;         // a git ref or a folder
  std::string base_report;  // compare with this report of the base (or of the project itself)
  std::vector<std::string> reports;
  std::string database;
  std::vector<std::string> tenants;
  std::vector<std::string> params;
  std::optional<int> repetitions;
  std::optional<double> slower_ratio;
  std::optional<double> min_slower_ms;
  std::optional<int> max_tenants;
  std::string execution;
  std::string timeout;
  bool analyze_first = false;
  std::string statistics;    // current | fresh | both
  std::string sweep_budget;  // a duration, or 0
  std::string json, html, junit, markdown;
  bool quiet = false;
};
// Exit: 0 pass, 1 fail (a regression or different results), 2 usage/config, 3 database.
int RunCheckCommand(const CheckArgs& args);

struct ServeArgs {
  std::string project = ".";
  std::string listen = "127.0.0.1:8080";
  std::string database;  // the reports' database (as for export)
  std::string jobs;      // the job store; default sqlite:<project>/strata-jobs.db
  std::string files;     // default: [serve] files, relative to the project folder
  int workers = 2;
  int max_queries = 0;  // 0: as many as --workers
  int tenant_limit = 1;
  int min_queries = 1;       // the adaptive limit's floor
  bool fixed_limit = false;  // keep --max-queries whatever the database's latency
  int attempts = 3;
  std::string lease = "30s";
  std::string retry_backoff = "2s";
  std::string keep;  // default: [serve] keep
  bool quiet = false;
};
// Serves until SIGINT/SIGTERM; exit 0 after a clean stop, 2 for bad flags or config, 3 when the job
// store or the database cannot be opened.
int RunServe(const ServeArgs& args);

struct KeyArgs {
  std::string tenant;
  bool service = false;
  std::string project;  // optional: check the tenant's type and name the file to paste into
  bool append = false;  // add the lines to the project's strata.toml (REQUIRES: project)
};
int RunKeyNew(const KeyArgs& args);

struct ProfileArgs {
  std::string database;
  std::string project;
  std::string tenant_column;  // default: the project's [tenant] param
  std::vector<std::string> keep_values;
  std::string timeout;  // per query; default 10min
  std::string output;
  bool quiet = false;
};
// Exit: 0 written, 2 usage, 3 database.
int RunProfileCommand(const ProfileArgs& args);

struct SynthArgs {
  std::string profile;
  std::string database;
  double scale = 1;
  uint64_t seed = 42;
  bool replace = false;
  std::string report;   // the fidelity report (JSON)
  std::string project;  // compare the reports' plans with the profile's
  bool quiet = false;
};
int RunSynthCommand(const SynthArgs& args);

struct WatchArgs {
  std::string project = ".";
  std::string jobs;  // the job store; default sqlite:<project>/strata-jobs.db, as for serve
  bool json = false;
  // strata watch release REPORT --tenant T
  std::string report;
  std::string tenant;
};
// Prints the watch's ledger (exit 0), or releases a fallback (exit 0 released, 1 nothing to release).
int RunWatch(const WatchArgs& args);
int RunWatchRelease(const WatchArgs& args);

struct DemoArgs {
  std::string project = "examples/admin-reports";
  double scale = 1;
};
int RunDemo(const DemoArgs& args);

}  // namespace strata::cli
