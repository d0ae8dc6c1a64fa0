#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

#include "cli/cli_support.h"

namespace strata::cli {

namespace {

// strata reports
CLI::App* AddReports(CLI::App& app, ReportsArgs* a) {
  CLI::App* reports_cmd = app.add_subcommand("reports", "List a project's reports and their parameters");
  reports_cmd->add_option("--project", a->project, "The project folder (holding strata.toml)");
  reports_cmd->add_flag("--json", a->json, "Print JSON instead of text");
  return reports_cmd;
}

// strata export
CLI::App* AddExport(CLI::App& app, ExportArgs* a) {
  CLI::App* export_cmd = app.add_subcommand("export", "Export a report (or ad hoc SQL) to .xlsx or .csv");
  export_cmd->add_option("report", a->report, "The report's name in strata.toml");
  export_cmd->add_option("--project", a->project, "The project folder (default: the current folder)");
  export_cmd->add_option("--database", a->database,
                         "sqlite:path.db, postgresql://user@host/db or a conninfo; overrides strata.toml and "
                         "STRATA_DATABASE_URL");
  export_cmd->add_option("--sql", a->sql_file, "Ad hoc: a file with one SQL query (- for standard input)");
  export_cmd->add_option("-p,--param", a->params, "name=value, or name:type=value for ad hoc SQL")
      ->allow_extra_args(false);
  export_cmd->add_option("-o,--output", a->output,
                         "The file to write (- for standard output); default <report>_<tenant>.xlsx here");
  export_cmd->add_option("--format", a->format, "xlsx or csv (default: from the file's extension)");
  export_cmd->add_option("--timeout", a->timeout, "Statement timeout, e.g. 30s, 10min (0: none)");
  export_cmd->add_option("--compression", a->compression, "xlsx deflate level: 0 fastest .. 3 smallest (default 1)");
  export_cmd->add_flag("--bom", a->bom, "csv: start with a UTF-8 byte-order mark (for Excel)");
  export_cmd->add_flag("--no-formula-guard", a->no_formula_guard,
                       "csv: keep text beginning with = + - @ as it is (default: prefix it with ')");
  export_cmd->add_flag("-q,--quiet", a->quiet, "No progress line and no summary");
  export_cmd->add_option("--pg-fetch", a->pg_fetch, "PostgreSQL row streaming: single-row (default) or cursor");
  export_cmd->add_option("--pg-format", a->pg_format,
                         "PostgreSQL result format in single-row mode: binary (default, when every column's type "
                         "has a decoder) or text");
  export_cmd
      ->add_option("--sheet-rows", a->sheet_rows,
                   "xlsx: data rows per sheet before the next one (default and "
                   "maximum 1048575)")
      ->group("");  // for tests of the sheet spill
  return export_cmd;
}

// strata check
CLI::App* AddCheck(CLI::App& app, CheckArgs* a) {
  CLI::App* check_cmd = app.add_subcommand(
      "check", "The regression gate: run the base and candidate versions of reports on the tenants that matter");
  check_cmd->add_option("reports", a->reports, "Reports to check (default: every report that changed)");
  check_cmd->add_option("--project", a->project, "The candidate's project folder (default: the current folder)");
  check_cmd->add_option("--base", a->base, "The base: a git ref of the project's repository (origin/main) or a folder");
  check_cmd->add_option("--base-report", a->base_report,
                        "Compare the named reports with this report of the base (or of the project itself)");
  check_cmd->add_option("--database", a->database, "The database to run on (default: the project's)");
  check_cmd->add_option("--tenants", a->tenants, "Tenants to check as well: 42,43");
  check_cmd->add_option("-p,--param", a->params, "name=value for a parameter other than the tenant");
  check_cmd->add_option("--repetitions", a->repetitions, "Timed runs of each version per tenant ([check] repetitions)");
  check_cmd->add_option("--slower-ratio", a->slower_ratio, "Fail when this many times slower ([check] slower_ratio)");
  check_cmd->add_option("--min-slower-ms", a->min_slower_ms,
                        "... and at least this much slower ([check] min_slower_ms)");
  check_cmd->add_option("--max-tenants", a->max_tenants, "At most this many tenants per report ([check] max_tenants)");
  check_cmd->add_option("--execution", a->execution, "simple or prepared, for both versions (default: each report's)");
  check_cmd->add_option("--timeout", a->timeout, "Statement timeout of a run (default: the project's)");
  check_cmd->add_flag("--analyze-first", a->analyze_first, "The same as --statistics fresh");
  check_cmd->add_option("--statistics", a->statistics,
                        "current (default), fresh (ANALYZE first) or both (re-time slower tenants after ANALYZE); "
                        "fresh and both write statistics to the database");
  check_cmd->add_option(
      "--sweep-budget", a->sweep_budget,
      "Time for comparing the rows of the tenants not picked, per report (default 30s): 90s, 5min, 0 for none "
      "([check] sweep_budget)");
  check_cmd->add_option("--json", a->json, "Write the verdict JSON (strata-check/1) here");
  check_cmd->add_option("--html", a->html, "Write a self-contained HTML report here");
  check_cmd->add_option("--junit", a->junit, "Write JUnit XML here");
  check_cmd->add_option("--markdown", a->markdown, "Write the verdict as Markdown for a pull request comment here");
  check_cmd->add_flag("-q,--quiet", a->quiet, "No progress and no table (the exit code and files only)");
  return check_cmd;
}

// strata generate
CLI::App* AddGenerate(CLI::App& app, GenerateArgs* a) {
  CLI::App* generate_cmd =
      app.add_subcommand("generate", "Create the example project's schema and skewed, production-like data");
  generate_cmd->add_option("--project", a->project, "The project folder (its database is the target)");
  generate_cmd->add_option("--database", a->database, "sqlite:path.db or a PostgreSQL URL (replaces its tables)");
  generate_cmd->add_option("--scale", a->scale, "1: the demo (about 2 million rows); 0.01 small; 10+ large");
  generate_cmd->add_option("--tenants", a->tenants,
                           "Typical admins, besides one of each unusual kind (default 200 x scale, at least 12)");
  generate_cmd->add_option("--seed", a->seed, "The same seed gives the same data (default 42)");
  generate_cmd->add_flag("--no-analyze", a->no_analyze, "Leave the planner statistics stale (no ANALYZE)");
  generate_cmd->add_flag(
      "--replace", a->replace,
      "Replace tables named like the example's (or a SQLite file) that strata generate did not make");
  generate_cmd->add_flag("-q,--quiet", a->quiet, "No progress and no summary");
  return generate_cmd;
}

// strata profile
CLI::App* AddProfile(CLI::App& app, ProfileArgs* a) {
  CLI::App* profile_cmd =
      app.add_subcommand("profile", "Write a privacy-safe statistical profile of a database (read-only)");
  profile_cmd->add_option("--database", a->database, "The database to profile (default: the project's)");
  profile_cmd->add_option("--project", a->project,
                          "The project folder: its tenant parameter, its database, and its reports' plans");
  profile_cmd->add_option("--tenant-column", a->tenant_column,
                          "The column that holds the tenant (default: the project's [tenant] param)");
  profile_cmd->add_option("--keep-values", a->keep_values,
                          "table.column: keep this column's values although they are many (repeatable)");
  profile_cmd->add_option("--timeout", a->timeout, "Statement timeout of each query (default 10min)");
  profile_cmd->add_option("-o,--output", a->output, "The profile to write (JSON, strata-profile/1)");
  profile_cmd->add_flag("-q,--quiet", a->quiet, "No progress and no summary");
  return profile_cmd;
}

// strata synth
CLI::App* AddSynth(CLI::App& app, SynthArgs* a) {
  CLI::App* synth_cmd =
      app.add_subcommand("synth", "Build a database of a profile's schema and shape (SQLite or PostgreSQL)");
  synth_cmd->add_option("--profile", a->profile, "The profile written by strata profile");
  synth_cmd->add_option("--database", a->database, "sqlite:path.db or a PostgreSQL URL to build into");
  synth_cmd->add_option("--scale", a->scale,
                        "Rows of the typical tenants (1: as profiled); kept tenants keep their rows");
  synth_cmd->add_option("--seed", a->seed, "The same seed gives the same rows (default 42)");
  synth_cmd->add_flag("--replace", a->replace, "Replace the profile's tables (or a SQLite file) that exist");
  synth_cmd->add_option("--report", a->report, "Write the fidelity report (JSON) here");
  synth_cmd->add_option("--project", a->project,
                        "Compare the project's reports' plans with the profile's (profiled with --project)");
  synth_cmd->add_flag("-q,--quiet", a->quiet, "No progress and no summary");
  return synth_cmd;
}

// strata serve
CLI::App* AddServe(CLI::App& app, ServeArgs* a) {
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run exports as background jobs behind an HTTP API and a web page");
  serve_cmd->add_option("--project", a->project, "The project folder (default: the current folder)");
  serve_cmd->add_option("--listen", a->listen, "host:port to listen on (default 127.0.0.1:8080; port 0: any free)");
  serve_cmd->add_option("--database", a->database,
                        "The reports' database; overrides strata.toml and STRATA_DATABASE_URL");
  serve_cmd->add_option("--jobs", a->jobs,
                        "The job store: sqlite:FILE (default sqlite:<project>/strata-jobs.db) or a PostgreSQL URL "
                        "that several processes share");
  serve_cmd->add_option("--files", a->files, "Where finished files go (default: [serve] files of strata.toml)");
  serve_cmd->add_option("--workers", a->workers, "Exports this process runs at once (default 2)");
  serve_cmd->add_option("--max-queries", a->max_queries,
                        "Exports running at once across every process sharing the job store: the cap on "
                        "database queries (default: --workers)");
  serve_cmd->add_option("--min-queries", a->min_queries,
                        "The least --max-queries is lowered to while the database is slow (default 1)");
  serve_cmd->add_flag("--fixed-limit", a->fixed_limit,
                      "Keep --max-queries fixed: do not lower it when the database's queries take longer than "
                      "usual");
  serve_cmd->add_option("--tenant-limit", a->tenant_limit, "Exports running at once per tenant (default 1)");
  serve_cmd->add_option("--attempts", a->attempts, "Attempts per export before it fails (default 3)");
  serve_cmd->add_option("--lease", a->lease,
                        "How long a worker's claim on a job lasts without a heartbeat (default 30s)");
  serve_cmd->add_option("--retry-backoff", a->retry_backoff,
                        "Delay before the first retry; doubled each time (default 2s)");
  serve_cmd->add_option("--keep", a->keep, "Delete finished files after this long (default: [serve] keep, 24h)");
  serve_cmd->add_flag("-q,--quiet", a->quiet, "Log nothing but errors");
  return serve_cmd;
}

// strata key new (the chosen command is `new`, under `key`)
CLI::App* AddKeyNew(CLI::App& app, KeyArgs* a) {
  CLI::App* key_cmd = app.add_subcommand("key", "Make API keys for strata serve");
  key_cmd->require_subcommand(1);
  CLI::App* key_new = key_cmd->add_subcommand("new", "Print a fresh random key and the [[serve.keys]] lines to paste");
  auto* key_tenant = key_new->add_option("--tenant", a->tenant, "The tenant this key acts for");
  key_new->add_flag("--service", a->service, "A service key: names the tenant in each request")->excludes(key_tenant);
  key_new->add_option("--project", a->project, "Check the tenant against this project's tenant parameter");
  key_new->add_flag("--append", a->append,
                    "Add the [[serve.keys]] lines to the project's strata.toml (with --project)");
  return key_new;
}

// strata watch, and strata watch release (the chosen one of the two is returned through release)
CLI::App* AddWatch(CLI::App& app, WatchArgs* a, CLI::App** release) {
  CLI::App* watch_cmd = app.add_subcommand("watch",
                                           "Show the watch's ledger: report versions that regressed for "
                                           "some tenants, and their fallbacks");
  auto common = [a](CLI::App* cmd) {
    cmd->add_option("--project", a->project, "The project folder (default: the current folder)");
    cmd->add_option("--jobs", a->jobs, "The job store strata serve uses (default sqlite:<project>/strata-jobs.db)");
  };
  common(watch_cmd);
  watch_cmd->add_flag("--json", a->json, "Print the ledger as GET /api/v1/watch answers it");
  *release = watch_cmd->add_subcommand("release", "Undo a fallback: the tenant runs the current version again");
  common(*release);
  (*release)->add_option("report", a->report, "The report")->required();
  (*release)->add_option("--tenant", a->tenant, "The tenant")->required();
  return watch_cmd;
}

// strata demo
CLI::App* AddDemo(CLI::App& app, DemoArgs* a) {
  CLI::App* demo_cmd =
      app.add_subcommand("demo", "Generate the example if needed, show its tenants, export the heaviest");
  demo_cmd->add_option("--project", a->project, "The project folder (default examples/admin-reports)");
  demo_cmd->add_option("--scale", a->scale, "The scale to generate at when there is no database yet (default 1)");
  return demo_cmd;
}

// Every command's arguments, filled in by the parser.
struct AllArgs {
  ReportsArgs reports;
  ExportArgs exporting;
  CheckArgs check;
  GenerateArgs generate;
  ProfileArgs profile;
  SynthArgs synth;
  ServeArgs serve;
  KeyArgs key;
  WatchArgs watch;
  DemoArgs demo;
};

// A command the parser may choose, and what runs it.
struct Command {
  CLI::App* chosen;
  std::function<int()> run;
};

// The parser's own message for a mistyped command is about positional arguments: name the commands.
Status CheckCommandName(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return Status::Ok();
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == argv[1]) return Status::Ok();
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return Status::Usage("unknown command '" + std::string(argv[1]) + "' (commands: " + names + "; see strata --help)");
}

// Parses the command line; an exit code when the process is done (help, version, a parse error).
std::optional<int> Parse(CLI::App& app, int argc, char** argv) {
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
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"Strata: fast, safe \"Download to Excel\" reports for multi-tenant applications"};
  app.set_version_flag("--version", "strata " STRATA_VERSION);
  app.require_subcommand(1);
  AllArgs a;
  CLI::App* watch_release = nullptr;
  const Command commands[] = {
      {AddReports(app, &a.reports), [&] { return RunReports(a.reports); }},
      {AddExport(app, &a.exporting), [&] { return RunExport(a.exporting); }},
      {AddCheck(app, &a.check), [&] { return RunCheckCommand(a.check); }},
      {AddGenerate(app, &a.generate), [&] { return RunGenerate(a.generate); }},
      {AddProfile(app, &a.profile), [&] { return RunProfileCommand(a.profile); }},
      {AddSynth(app, &a.synth), [&] { return RunSynthCommand(a.synth); }},
      {AddServe(app, &a.serve), [&] { return RunServe(a.serve); }},
      {AddKeyNew(app, &a.key), [&] { return RunKeyNew(a.key); }},
      {AddWatch(app, &a.watch, &watch_release),
       [&] { return *watch_release ? RunWatchRelease(a.watch) : RunWatch(a.watch); }},
      {AddDemo(app, &a.demo), [&] { return RunDemo(a.demo); }},
  };
  if (Status s = CheckCommandName(app, argc, argv); !s.ok()) return Fail(s);
  if (std::optional<int> done = Parse(app, argc, argv)) return *done;
  for (const Command& c : commands) {
    if (*c.chosen) return c.run();
  }
  return kExitUsage;
}

}  // namespace strata::cli
