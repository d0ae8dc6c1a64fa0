// strata export: one report (or ad hoc SQL) to .xlsx or .csv, through the export pipeline.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_support.h"
#include "cli/commands.h"
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

// What an export runs, resolved from a report of a project or from ad hoc SQL.
struct ExportPlan {
  Query query;
  DatabaseChoice db;
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::string default_output;  // "<report>_<tenant>" without extension; empty for ad hoc SQL
  std::string sheet_name = "Sheet1";
};

Result<ExportPlan> PlanAdHoc(const ExportArgs& args, const std::vector<ParamArg>& given) {
  if (!args.report.empty()) return Status::Usage("give either a report name or --sql, not both");
  auto text = ReadSqlFile(args.sql_file);
  if (!text.ok()) return text.status();
  const bool stdin_sql = args.sql_file == "-";
  auto sql = ParseSql(*text, stdin_sql ? "<stdin>" : args.sql_file);
  if (!sql.ok()) return Status::Usage(sql.status().message());
  auto values = BindAdHocParams(*sql, given);
  if (!values.ok()) return values.status();
  ExportPlan plan;
  plan.query = Query{stdin_sql ? "query" : args.sql_file, stdin_sql ? "<stdin>" : args.sql_file, std::move(*sql),
                     std::move(*values)};
  plan.sheet_name = std::filesystem::path(args.sql_file).stem().string();
  if (args.project.empty()) {
    plan.db = ChooseDatabase(args.database, nullptr);
    return plan;
  }
  auto project = LoadProject(args.project);  // only for its database and timeout
  if (!project.ok()) return project.status();
  plan.db = ChooseDatabase(args.database, &*project);
  plan.timeout = project->statement_timeout;
  return plan;
}

Result<ExportPlan> PlanReport(const ExportArgs& args, const std::vector<ParamArg>& given) {
  if (args.report.empty()) {
    return Status::Usage("name a report (strata reports --project DIR lists them) or give --sql FILE");
  }
  auto project = LoadProject(args.project.empty() ? "." : args.project);
  if (!project.ok()) return project.status();
  const ReportSpec* report = project->FindReport(args.report);
  if (report == nullptr) {
    std::string names;
    for (const ReportSpec& r : project->reports) names += (names.empty() ? "" : ", ") + r.name;
    return Status::Usage("no report '" + args.report + "' in " + project->config_path + " (reports: " + names + ")");
  }
  auto values = BindReportParams(*report, given);
  if (!values.ok()) return values.status();
  ExportPlan plan;
  plan.query = ReportQuery(*project, *report, std::move(*values));
  plan.db = ChooseDatabase(args.database, &*project);
  plan.timeout = report->statement_timeout.value_or(project->statement_timeout);
  plan.sheet_name = report->name;
  std::string tenant;
  for (size_t k = 0; k < report->sql.names.size(); ++k) {
    if (report->sql.names[k] == project->tenant_param) tenant = plan.query.params[k].text;
  }
  plan.default_output = report->name + (tenant.empty() ? "" : "_" + tenant);
  return plan;
}

// --timeout overrides the plan's: "0" for none, else a duration.
Status ApplyTimeoutFlag(const std::string& flag, std::chrono::milliseconds* timeout) {
  if (flag.empty()) return Status::Ok();
  if (flag == "0") {
    *timeout = std::chrono::milliseconds(0);
    return Status::Ok();
  }
  auto d = ParseDuration(flag);
  if (!d) return Status::Usage("--timeout " + flag + ": expected a duration like 30s, 10min, 2h");
  *timeout = *d;
  return Status::Ok();
}

// The format: --format, else the file's extension; they must agree when both are given.
Result<Format> ChooseFormat(const ExportArgs& args, const std::string& output) {
  const bool named_file = !output.empty() && output != "-";
  if (!args.format.empty()) {
    std::string lower = args.format;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto f = FormatFromName(lower);
    if (!f.ok()) return f.status();
    auto by_name = FormatFromPath(output);
    if (named_file && by_name.ok() && *by_name != *f) {
      return Status::Usage("--format " + args.format + " disagrees with the file name " + output);
    }
    return *f;
  }
  if (named_file) return FormatFromPath(output);
  if (output == "-") {
    return Status::Usage("-o - writes to standard output: say which format with --format csv or --format xlsx");
  }
  return Format::kXlsx;
}

// Where to write (-o, else the report's default name) and how.
Result<SinkOptions> ChooseOutput(const ExportArgs& args, const ExportPlan& plan, std::string* output) {
  *output = args.output;
  std::error_code ec;
  if (!output->empty() && *output != "-" && std::filesystem::is_directory(*output, ec)) {
    return Status::Usage("-o " + *output + " is a directory: give a file name");
  }
  auto format = ChooseFormat(args, *output);
  if (!format.ok()) return format.status();
  if (output->empty()) {
    if (plan.default_output.empty()) return Status::Usage("say where to write: -o FILE (or -o - for standard output)");
    *output = plan.default_output + "." + FormatName(*format);
  }
  if (args.compression < 0 || args.compression > 3) {
    return Status::Usage("--compression takes 0 (fastest) to 3 (smallest)");
  }
  SinkOptions options;
  options.format = *format;
  options.xlsx.compression = args.compression;
  options.xlsx.sheet_name = plan.sheet_name;
  options.xlsx.max_rows_per_sheet = args.sheet_rows;
  options.csv.bom = args.bom;
  options.csv.formula_guard = !args.no_formula_guard;
  return options;
}

Result<ExecuteOptions> ChooseExecution(const ExportArgs& args, std::chrono::milliseconds timeout) {
  ExecuteOptions options;
  options.statement_timeout = timeout;
  if (args.pg_fetch == "single-row") {
    options.pg_fetch = PgFetch::kSingleRow;
  } else if (args.pg_fetch == "cursor") {
    options.pg_fetch = PgFetch::kCursor;
  } else {
    return Status::Usage("--pg-fetch takes cursor or single-row");
  }
  if (args.pg_format != "binary" && args.pg_format != "text") return Status::Usage("--pg-format takes binary or text");
  options.pg_binary = args.pg_format == "binary";
  return options;
}

// Runs the export into output's temporary file and publishes it; a signal cancels the query and
// discards the file.
int ExportAndPublish(const ExportPlan& plan, const std::string& output, const SinkOptions& sink_options,
                     exporting::ExportOptions options, bool quiet) {
  auto source = OpenSource(plan.db.url);
  if (!source.ok()) {
    return Fail(plan.db.origin.empty() ? source.status()
                                       : source.status().WithContext("database from " + plan.db.origin));
  }
  auto out = FileOutput::Open(output);
  if (!out.ok()) return Fail(out.status());
  auto sink = MakeSink(sink_options, out->get());
  exporting::ProgressLine progress(stderr, !quiet && isatty(STDERR_FILENO) && output != "-");
  options.on_progress = [&](const exporting::Progress& p) { progress.Update(p); };
  Source* running = source->get();
  // The watcher lives until the file is published or discarded: a signal at any moment before
  // that discards it, and none can kill the process with a temporary file left behind.
  SignalWatcher signals([running] { running->Cancel(); });
  Result<exporting::ExportResult> result = exporting::RunExport(**source, plan.query, *sink, **out, options);
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
  if (!quiet) {
    std::fprintf(stderr, "strata: wrote %s to %s (%s) in %.2f s\n", Rows(result->rows).c_str(),
                 output == "-" ? "standard output" : output.c_str(), exporting::FormatBytes(result->bytes).c_str(),
                 result->seconds);
  }
  return kExitOk;
}

}  // namespace

int RunExport(const ExportArgs& args) {
  auto given = ParseParamArgs(args.params);
  if (!given.ok()) return Fail(given.status());
  auto plan = args.sql_file.empty() ? PlanReport(args, *given) : PlanAdHoc(args, *given);
  if (!plan.ok()) return Fail(plan.status());
  if (Status s = ApplyTimeoutFlag(args.timeout, &plan->timeout); !s.ok()) return Fail(s);
  std::string output;
  auto sink_options = ChooseOutput(args, *plan, &output);
  if (!sink_options.ok()) return Fail(sink_options.status());
  auto execute = ChooseExecution(args, plan->timeout);
  if (!execute.ok()) return Fail(execute.status());
  exporting::ExportOptions options;
  options.execute = *execute;
  return ExportAndPublish(*plan, output, *sink_options, std::move(options), args.quiet);
}

}  // namespace strata::cli
