// strata generate: the example project's schema and skewed data, into SQLite or PostgreSQL.
#include <unistd.h>

#include <cstdio>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/text.h"
#include "source/source.h"
#include "synth/bulk_writer.h"
#include "synth/example_data.h"
#include "synth/example_schema.h"

namespace strata::cli {

int RunGenerate(const GenerateArgs& args) {
  Result<Project> project = Status::Usage("no project");
  if (!args.project.empty()) {
    project = LoadProject(args.project);
    if (!project.ok()) return Fail(project.status());
  }
  if (!(args.scale > 0) || args.scale > 1000) return Fail(Status::Usage("--scale must be above 0 and at most 1000"));
  if (args.tenants < 0 || args.tenants > 1000000) return Fail(Status::Usage("--tenants must be 1 to 1,000,000"));
  // Only --database or the project: a database named by the environment for reading reports is
  // not one to replace tables in by accident.
  DatabaseChoice db{args.database, "--database"};
  if (db.url.empty() && project.ok() && !project->database_url.empty()) {
    db = {ResolveSqliteUrl(project->database_url, project->folder), project->database_url_at};
  }
  if (db.url.empty()) return Fail(Status::Usage("say where to generate: --database URL or --project DIR"));
  auto writer = synth::OpenBulkWriter(db.url, synth::ExampleTables(),
                                      args.replace ? synth::Replace::kAlways : synth::Replace::kOnlyGenerated);
  if (!writer.ok()) return Fail(writer.status().WithContext("database from " + db.origin));

  synth::GenerateOptions options;
  options.scale = args.scale;
  options.tenants = args.tenants;
  options.seed = args.seed;
  options.analyze = !args.no_analyze;
  const bool tty = !args.quiet && isatty(STDERR_FILENO);
  options.on_progress = [tty](const std::string& table, uint64_t rows) {
    if (tty) std::fprintf(stderr, "\r\033[K  generating %s: %s", table.c_str(), Rows(rows).c_str());
  };
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  synth::BulkWriter* running = writer->get();
  SignalWatcher signals([&cancel, running] {  // stops the load; nothing is published
    cancel = true;
    running->Cancel();
  });
  auto result = synth::GenerateExample(**writer, options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!result.ok()) return FailLoad(result.status());
  if (!args.quiet) {
    const double rows = static_cast<double>(result->rows);
    std::fprintf(stderr,
                 "strata: generated %s (scale %g, seed %llu) into %s in %.1f s, keys, indexes%s included: %s rows/s "
                 "end to end, %s rows/s loading\n",
                 Rows(result->rows).c_str(), args.scale, static_cast<unsigned long long>(args.seed),
                 RedactUrl(db.url).c_str(), result->seconds, options.analyze ? " and ANALYZE" : "",
                 GroupThousands(static_cast<uint64_t>(rows / result->seconds)).c_str(),
                 GroupThousands(static_cast<uint64_t>(rows / result->load_seconds)).c_str());
    for (const synth::TableCount& t : result->tables) {
      std::fprintf(stderr, "  %-12s %12s\n", t.table.c_str(), GroupThousands(t.rows).c_str());
    }
  }
  return kExitOk;
}

}  // namespace strata::cli
