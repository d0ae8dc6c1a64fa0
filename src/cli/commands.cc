#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>

#include "cli/cli_support.h"

namespace strata::cli {

int Main(int argc, char** argv) {
  CLI::App app{"Strata: fast, safe \"Download to Excel\" reports for multi-tenant applications"};
  app.set_version_flag("--version", "strata " STRATA_VERSION);
  app.require_subcommand(1);

  ReportsArgs reports;
  CLI::App* reports_cmd = app.add_subcommand("reports", "List a project's reports and their parameters");
  reports_cmd->add_option("--project", reports.project, "The project folder (holding strata.toml)");
  reports_cmd->add_flag("--json", reports.json, "Print JSON instead of text");

  ExportArgs ex;
  CLI::App* export_cmd = app.add_subcommand("export", "Export a report (or ad hoc SQL) to .xlsx or .csv");
  export_cmd->add_option("report", ex.report, "The report's name in strata.toml");
  export_cmd->add_option("--project", ex.project, "The project folder (default: the current folder)");
  export_cmd->add_option("--database", ex.database,
                         "sqlite:path.db, postgresql://user@host/db or a conninfo; overrides strata.toml and "
                         "STRATA_DATABASE_URL");
  export_cmd->add_option("--sql", ex.sql_file, "Ad hoc: a file with one SQL query (- for standard input)");
  export_cmd->add_option("-p,--param", ex.params, "name=value, or name:type=value for ad hoc SQL")
      ->allow_extra_args(false);
  export_cmd->add_option("-o,--output", ex.output,
                         "The file to write (- for standard output); default <report>_<tenant>.xlsx here");
  export_cmd->add_option("--format", ex.format, "xlsx or csv (default: from the file's extension)");
  export_cmd->add_option("--timeout", ex.timeout, "Statement timeout, e.g. 30s, 10min (0: none)");
  export_cmd->add_option("--compression", ex.compression, "xlsx deflate level: 0 fastest .. 3 smallest (default 1)");
  export_cmd->add_flag("--bom", ex.bom, "csv: start with a UTF-8 byte-order mark (for Excel)");
  export_cmd->add_flag("--no-formula-guard", ex.no_formula_guard,
                       "csv: keep text beginning with = + - @ as it is (default: prefix it with ')");
  export_cmd->add_flag("-q,--quiet", ex.quiet, "No progress line and no summary");
  export_cmd->add_option("--pg-fetch", ex.pg_fetch, "PostgreSQL row streaming: single-row (default) or cursor");
  export_cmd->add_option("--pg-format", ex.pg_format,
                         "PostgreSQL result format in single-row mode: binary (default, when every column's type "
                         "has a decoder) or text");
  export_cmd
      ->add_option("--sheet-rows", ex.sheet_rows,
                   "xlsx: data rows per sheet before the next one (default and "
                   "maximum 1048575)")
      ->group("");  // for tests of the sheet spill

  GenerateArgs gen;
  CLI::App* generate_cmd =
      app.add_subcommand("generate", "Create the example project's schema and skewed, production-like data");
  generate_cmd->add_option("--project", gen.project, "The project folder (its database is the target)");
  generate_cmd->add_option("--database", gen.database, "sqlite:path.db or a PostgreSQL URL (replaces its tables)");
  generate_cmd->add_option("--scale", gen.scale, "1: the demo (about 2 million rows); 0.01 small; 10+ large");
  generate_cmd->add_option("--tenants", gen.tenants,
                           "Typical admins, besides one of each unusual kind (default 200 x scale, at least 12)");
  generate_cmd->add_option("--seed", gen.seed, "The same seed gives the same data (default 42)");
  generate_cmd->add_flag("--no-analyze", gen.no_analyze, "Leave the planner statistics stale (no ANALYZE)");
  generate_cmd->add_flag(
      "--replace", gen.replace,
      "Replace tables named like the example's (or a SQLite file) that strata generate did not make");
  generate_cmd->add_flag("-q,--quiet", gen.quiet, "No progress and no summary");

  CheckArgs chk;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "The regression gate: run the base and candidate versions of reports on the tenants that matter");
  check_cmd->add_option("reports", chk.reports, "Reports to check (default: every report that changed)");
  check_cmd->add_option("--project", chk.project, "The candidate's project folder (default: the current folder)");
  check_cmd->add_option("--base", chk.base,
                        "The base: a git ref of the project's repository (origin/main) or a folder");
  check_cmd->add_option("--base-report", chk.base_report,
                        "Compare the named reports with this report of the base (or of the project itself)");
  check_cmd->add_option("--database", chk.database, "The database to run on (default: the project's)");
  check_cmd->add_option("--tenants", chk.tenants, "Tenants to check as well: 42,43");
  check_cmd->add_option("-p,--param", chk.params, "name=value for a parameter other than the tenant");
  check_cmd->add_option("--repetitions", chk.repetitions,
                        "Timed runs of each version per tenant ([check] repetitions)");
  check_cmd->add_option("--slower-ratio", chk.slower_ratio, "Fail when this many times slower ([check] slower_ratio)");
  check_cmd->add_option("--min-slower-ms", chk.min_slower_ms,
                        "... and at least this much slower ([check] min_slower_ms)");
  check_cmd->add_option("--max-tenants", chk.max_tenants, "At most this many tenants per report ([check] max_tenants)");
  check_cmd->add_option("--execution", chk.execution, "simple or prepared, for both versions (default: each report's)");
  check_cmd->add_option("--timeout", chk.timeout, "Statement timeout of a run (default: the project's)");
  check_cmd->add_flag("--analyze-first", chk.analyze_first, "The same as --statistics fresh");
  check_cmd->add_option("--statistics", chk.statistics,
                        "current (default), fresh (ANALYZE first) or both (re-time slower tenants after ANALYZE); "
                        "fresh and both write statistics to the database");
  check_cmd->add_option(
      "--sweep-budget", chk.sweep_budget,
      "Time for comparing the rows of the tenants not picked, per report (default 30s): 90s, 5min, 0 for none "
      "([check] sweep_budget)");
  check_cmd->add_option("--json", chk.json, "Write the verdict JSON (strata-check/1) here");
  check_cmd->add_option("--html", chk.html, "Write a self-contained HTML report here");
  check_cmd->add_option("--junit", chk.junit, "Write JUnit XML here");
  check_cmd->add_flag("-q,--quiet", chk.quiet, "No progress and no table (the exit code and files only)");

  DemoArgs demo;
  CLI::App* demo_cmd =
      app.add_subcommand("demo", "Generate the example if needed, show its tenants, export the heaviest");
  demo_cmd->add_option("--project", demo.project, "The project folder (default examples/admin-reports)");
  demo_cmd->add_option("--scale", demo.scale, "The scale to generate at when there is no database yet (default 1)");

  ProfileArgs prof;
  CLI::App* profile_cmd =
      app.add_subcommand("profile", "Write a privacy-safe statistical profile of a database (read-only)");
  profile_cmd->add_option("--database", prof.database, "The database to profile (default: the project's)");
  profile_cmd->add_option("--project", prof.project,
                          "The project folder: its tenant parameter, its database, and its reports' plans");
  profile_cmd->add_option("--tenant-column", prof.tenant_column,
                          "The column that holds the tenant (default: the project's [tenant] param)");
  profile_cmd->add_option("--keep-values", prof.keep_values,
                          "table.column: keep this column's values although they are many (repeatable)");
  profile_cmd->add_option("--timeout", prof.timeout, "Statement timeout of each query (default 10min)");
  profile_cmd->add_option("-o,--output", prof.output, "The profile to write (JSON, strata-profile/1)");
  profile_cmd->add_flag("-q,--quiet", prof.quiet, "No progress and no summary");

  SynthArgs syn;
  CLI::App* synth_cmd =
      app.add_subcommand("synth", "Build a database of a profile's schema and shape (SQLite or PostgreSQL)");
  synth_cmd->add_option("--profile", syn.profile, "The profile written by strata profile");
  synth_cmd->add_option("--database", syn.database, "sqlite:path.db or a PostgreSQL URL to build into");
  synth_cmd->add_option("--scale", syn.scale,
                        "Rows of the typical tenants (1: as profiled); kept tenants keep their rows");
  synth_cmd->add_option("--seed", syn.seed, "The same seed gives the same rows (default 42)");
  synth_cmd->add_flag("--replace", syn.replace, "Replace the profile's tables (or a SQLite file) that exist");
  synth_cmd->add_option("--report", syn.report, "Write the fidelity report (JSON) here");
  synth_cmd->add_option("--project", syn.project,
                        "Compare the project's reports' plans with the profile's (profiled with --project)");
  synth_cmd->add_flag("-q,--quiet", syn.quiet, "No progress and no summary");

  ServeArgs sv;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run exports as background jobs behind an HTTP API and a web page");
  serve_cmd->add_option("--project", sv.project, "The project folder (default: the current folder)");
  serve_cmd->add_option("--listen", sv.listen, "host:port to listen on (default 127.0.0.1:8080; port 0: any free)");
  serve_cmd->add_option("--database", sv.database,
                        "The reports' database; overrides strata.toml and STRATA_DATABASE_URL");
  serve_cmd->add_option("--jobs", sv.jobs,
                        "The job store: sqlite:FILE (default sqlite:<project>/strata-jobs.db) or a PostgreSQL URL "
                        "that several processes share");
  serve_cmd->add_option("--files", sv.files, "Where finished files go (default: [serve] files of strata.toml)");
  serve_cmd->add_option("--workers", sv.workers, "Exports this process runs at once (default 2)");
  serve_cmd->add_option("--max-queries", sv.max_queries,
                        "Exports running at once across every process sharing the job store: the cap on "
                        "database queries (default: --workers)");
  serve_cmd->add_option("--tenant-limit", sv.tenant_limit, "Exports running at once per tenant (default 1)");
  serve_cmd->add_option("--attempts", sv.attempts, "Attempts per export before it fails (default 3)");
  serve_cmd->add_option("--lease", sv.lease,
                        "How long a worker's claim on a job lasts without a heartbeat (default 30s)");
  serve_cmd->add_option("--retry-backoff", sv.retry_backoff,
                        "Delay before the first retry; doubled each time (default 2s)");
  serve_cmd->add_option("--keep", sv.keep, "Delete finished files after this long (default: [serve] keep, 24h)");
  serve_cmd->add_flag("-q,--quiet", sv.quiet, "Log nothing but errors");

  CLI::App* key_cmd = app.add_subcommand("key", "Make API keys for strata serve");
  key_cmd->require_subcommand(1);
  KeyArgs key;
  CLI::App* key_new = key_cmd->add_subcommand("new", "Print a fresh random key and the [[serve.keys]] lines to paste");
  auto* key_tenant = key_new->add_option("--tenant", key.tenant, "The tenant this key acts for");
  key_new->add_flag("--service", key.service, "A service key: names the tenant in each request")->excludes(key_tenant);
  key_new->add_option("--project", key.project, "Check the tenant against this project's tenant parameter");
  key_new->add_flag("--append", key.append,
                    "Add the [[serve.keys]] lines to the project's strata.toml (with --project)");

  const std::string commands[] = {"reports", "export", "check", "generate", "profile", "synth", "serve", "key", "demo"};
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(std::begin(commands), std::end(commands), argv[1]) == std::end(commands)) {
    return Fail(Status::Usage(
        "unknown command '" + std::string(argv[1]) +
        "' (commands: reports, export, check, generate, profile, synth, serve, key, demo; see strata --help)"));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(Status::Usage(std::string(e.what()) + " (see strata --help)"));
  }
  if (*reports_cmd) return RunReports(reports);
  if (*export_cmd) return RunExport(ex);
  if (*check_cmd) return RunCheckCommand(chk);
  if (*generate_cmd) return RunGenerate(gen);
  if (*profile_cmd) return RunProfileCommand(prof);
  if (*synth_cmd) return RunSynthCommand(syn);
  if (*serve_cmd) return RunServe(sv);
  if (*key_new) return RunKeyNew(key);
  if (*demo_cmd) return RunDemo(demo);
  return kExitUsage;
}

}  // namespace strata::cli
