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

}  // namespace

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
      auto db = ChooseDatabase(args.database, &*project);
      url = db.url;
      url_origin = db.origin;
      timeout = project->statement_timeout;
    } else {
      auto db = ChooseDatabase(args.database, nullptr);
      url = db.url;
      url_origin = db.origin;
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
    auto db = ChooseDatabase(args.database, &*project);
    url = db.url;
    url_origin = db.origin;
    timeout = report->statement_timeout.value_or(project->statement_timeout);
    sheet_name = report->name;
    std::string tenant;
    for (size_t k = 0; k < report->sql.names.size(); ++k) {
      if (report->sql.names[k] == project->tenant_param) tenant = query.params[k].text;
    }
    default_output = report->name + (tenant.empty() ? "" : "_" + tenant);
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
  if (args.pg_format != "binary" && args.pg_format != "text") {
    return Fail(Status::Usage("--pg-format takes binary or text"));
  }
  options.execute.pg_binary = args.pg_format == "binary";

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

}  // namespace strata::cli
