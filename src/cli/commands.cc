#include "cli/commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/duration.h"
#include "common/text.h"
#include "export/exporter.h"
#include "export/progress.h"
#include "report/binding.h"
#include "report/project.h"
#include "sink/output.h"
#include "sink/sink.h"
#include "source/source.h"

namespace strata::cli {

namespace {

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return kExitOk;
    case Status::Code::kUsage:
    case Status::Code::kConfig: return kExitUsage;
    case Status::Code::kDatabase: return kExitDatabase;
    case Status::Code::kCancelled: return kExitInterrupted;
    default: return kExitFailure;
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "strata: error: %s\n", s.message().c_str());
  return ExitCode(s);
}

// Blocks SIGINT, SIGTERM and SIGHUP in every thread and runs on_signal on its own thread when one
// arrives, so that cancelling reaches the database query instead of killing the process mid-write.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      const timespec tick{0, 100'000'000};
      while (!stop_) {
        if (sigtimedwait(&set_, nullptr, &tick) > 0) {
          fired_ = true;
          on_signal_();
        }
      }
    });
  }
  ~SignalWatcher() {
    stop_ = true;
    thread_.join();
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }
  bool fired() const { return fired_; }

 private:
  std::function<void()> on_signal_;
  sigset_t set_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

Result<std::vector<ParamArg>> ParseParamArgs(const std::vector<std::string>& raw) {
  std::vector<ParamArg> out;
  for (const std::string& r : raw) {
    auto a = ParseParamArg(r);
    if (!a.ok()) return a.status();
    for (const ParamArg& seen : out) {
      // Two values for one parameter (two tenants, say) is a mistake, not a choice to guess at.
      if (seen.name == a->name) return Status::Usage("--param " + a->name + " is given twice");
    }
    out.push_back(std::move(*a));
  }
  return out;
}

std::string Rows(uint64_t n) {
  return GroupThousands(n) + (n == 1 ? " row" : " rows");
}

// --- strata reports ----------------------------------------------------------------------------

struct ReportsArgs {
  std::string project = ".";
  bool json = false;
};

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
  int compression = 1;
  uint64_t sheet_rows = 1048575;
  bool bom = false;
  bool no_formula_guard = false;
  bool quiet = false;
};

Result<std::string> ReadSqlFile(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Usage("cannot read SQL file '" + path + "'");
    text << in.rdbuf();
  }
  return text.str();
}

int RunExport(const ExportArgs& args) {
  // What to run: a report of a project, or ad hoc SQL.
  Query query;
  std::string url;
  std::string url_origin;  // where the URL came from, for messages
  std::chrono::milliseconds timeout = std::chrono::minutes(10);
  std::string default_output;
  std::string sheet_name = "Sheet1";
  auto given = ParseParamArgs(args.params);
  if (!given.ok()) return Fail(given.status());

  if (!args.sql_file.empty()) {
    if (!args.report.empty()) return Fail(Status::Usage("give either a report name or --sql, not both"));
    auto text = ReadSqlFile(args.sql_file);
    if (!text.ok()) return Fail(text.status());
    auto sql = ParseSql(*text, args.sql_file == "-" ? "<stdin>" : args.sql_file);
    if (!sql.ok()) return Fail(Status::Usage(sql.status().message()));
    auto values = BindAdHocParams(*sql, *given);
    if (!values.ok()) return Fail(values.status());
    query.origin = args.sql_file == "-" ? "query" : args.sql_file;
    query.file = args.sql_file == "-" ? "<stdin>" : args.sql_file;
    query.sql = std::move(*sql);
    query.params = std::move(*values);
    sheet_name = std::filesystem::path(args.sql_file).stem().string();
    if (!args.project.empty()) {
      auto project = LoadProject(args.project);
      if (!project.ok()) return Fail(project.status());
      url = ResolveSqliteUrl(project->database_url, project->folder);
      url_origin = project->database_url_at;
      timeout = project->statement_timeout;
    }
  } else {
    if (args.report.empty()) {
      return Fail(Status::Usage("name a report (strata reports --project DIR lists them) or give --sql FILE"));
    }
    auto project = LoadProject(args.project.empty() ? "." : args.project);
    if (!project.ok()) return Fail(project.status());
    const ReportSpec* report = project->FindReport(args.report);
    if (report == nullptr) {
      std::string names;
      for (const ReportSpec& r : project->reports) names += (names.empty() ? "" : ", ") + r.name;
      return Fail(
          Status::Usage("no report '" + args.report + "' in " + project->config_path + " (reports: " + names + ")"));
    }
    auto values = BindReportParams(*report, *given);
    if (!values.ok()) return Fail(values.status());
    query.origin = "report " + report->name;
    query.file = (std::filesystem::path(project->folder) / report->sql_path).string();
    query.sql = report->sql;
    query.params = std::move(*values);
    url = ResolveSqliteUrl(project->database_url, project->folder);
    url_origin = project->database_url_at;
    timeout = project->statement_timeout;
    sheet_name = report->name;
    std::string tenant;
    for (size_t k = 0; k < report->sql.names.size(); ++k) {
      if (report->sql.names[k] == project->tenant_param) tenant = query.params[k].text;
    }
    default_output = report->name + (tenant.empty() ? "" : "_" + tenant);
  }

  // The database: --database, then STRATA_DATABASE_URL, then the project's.
  if (const char* env = std::getenv("STRATA_DATABASE_URL"); env != nullptr && *env != '\0') {
    url = env;
    url_origin = "STRATA_DATABASE_URL";
  }
  if (!args.database.empty()) {
    url = args.database;
    url_origin = "--database";
  }
  if (!args.timeout.empty()) {
    if (args.timeout == "0") {
      timeout = std::chrono::milliseconds(0);
    } else {
      auto d = ParseDuration(args.timeout);
      if (!d) return Fail(Status::Usage("--timeout " + args.timeout + ": expected a duration like 30s, 10min, 2h"));
      timeout = *d;
    }
  }

  // Where to and in which format.
  SinkOptions sink_options;
  std::string output = args.output;
  std::error_code ec;
  if (!output.empty() && output != "-" && std::filesystem::is_directory(output, ec)) {
    return Fail(Status::Usage("-o " + output + " is a directory: give a file name"));
  }
  if (!args.format.empty()) {
    std::string lower = args.format;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto f = FormatFromName(lower);
    if (!f.ok()) return Fail(f.status());
    sink_options.format = *f;
    auto by_name = FormatFromPath(output);
    if (!output.empty() && output != "-" && by_name.ok() && *by_name != *f) {
      return Fail(Status::Usage("--format " + args.format + " disagrees with the file name " + output));
    }
  } else if (!output.empty() && output != "-") {
    auto f = FormatFromPath(output);
    if (!f.ok()) return Fail(f.status());
    sink_options.format = *f;
  } else if (output == "-") {
    return Fail(Status::Usage("-o - writes to standard output: say which format with --format csv or --format xlsx"));
  }
  if (output.empty()) {
    if (default_output.empty()) return Fail(Status::Usage("say where to write: -o FILE (or -o - for standard output)"));
    output = default_output + (sink_options.format == Format::kCsv ? ".csv" : ".xlsx");
  }
  if (args.compression < 0 || args.compression > 3) {
    return Fail(Status::Usage("--compression takes 0 (fastest) to 3 (smallest)"));
  }
  sink_options.xlsx.compression = args.compression;
  sink_options.xlsx.sheet_name = sheet_name;
  sink_options.xlsx.max_rows_per_sheet = args.sheet_rows;
  sink_options.csv.bom = args.bom;
  sink_options.csv.formula_guard = !args.no_formula_guard;

  exporting::ExportOptions options;
  options.execute.statement_timeout = timeout;
  if (args.pg_fetch == "single-row") {
    options.execute.pg_fetch = PgFetch::kSingleRow;
  } else if (args.pg_fetch == "cursor") {
    options.execute.pg_fetch = PgFetch::kCursor;
  } else {
    return Fail(Status::Usage("--pg-fetch takes cursor or single-row"));
  }

  auto source = OpenSource(url);
  if (!source.ok()) {
    return Fail(url_origin.empty() ? source.status() : source.status().WithContext("database from " + url_origin));
  }
  auto out = FileOutput::Open(output);
  if (!out.ok()) return Fail(out.status());
  auto sink = MakeSink(sink_options, out->get());

  exporting::ProgressLine progress(stderr, !args.quiet && isatty(STDERR_FILENO) && output != "-");
  options.on_progress = [&](const exporting::Progress& p) { progress.Update(p); };
  Source* running = source->get();
  // The watcher lives until the file is published or discarded: a signal at any moment before
  // that discards it, and none can kill the process with a temporary file left behind.
  SignalWatcher signals([running] { running->Cancel(); });
  Result<exporting::ExportResult> result = exporting::RunExport(**source, query, *sink, **out, options);
  progress.Clear();
  if (result.ok() && signals.fired()) result = Status::Cancelled("interrupted");
  Status committed = result.ok() ? (*out)->Commit() : result.status();
  if (!committed.ok()) {
    (*out)->Discard();
    if (committed.code() == Status::Code::kCancelled) {
      std::fprintf(stderr, "strata: interrupted; no file was written\n");
      return kExitInterrupted;
    }
    return Fail(committed);
  }
  for (const std::string& w : result->warnings) std::fprintf(stderr, "strata: warning: %s\n", w.c_str());
  if (!args.quiet) {
    std::fprintf(stderr, "strata: wrote %s to %s (%s) in %.2f s\n", Rows(result->rows).c_str(),
                 output == "-" ? "standard output" : output.c_str(), exporting::FormatBytes(result->bytes).c_str(),
                 result->seconds);
  }
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"Strata: fast, safe \"Download to Excel\" reports for multi-tenant applications"};
  app.set_version_flag("--version", "strata 0.1.0");
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
  export_cmd
      ->add_option("--sheet-rows", ex.sheet_rows,
                   "xlsx: data rows per sheet before the next one (default and "
                   "maximum 1048575)")
      ->group("");  // for tests of the sheet spill

  if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "reports" && std::string(argv[1]) != "export") {
    return Fail(
        Status::Usage("unknown command '" + std::string(argv[1]) + "' (commands: reports, export; see strata --help)"));
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
  return kExitUsage;
}

}  // namespace strata::cli
