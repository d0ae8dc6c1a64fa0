// strata profile and strata synth: a production database's profile, and a database built from one.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/text.h"
#include "source/source.h"
#include "synth/bulk_writer.h"
#include "synth/fidelity.h"
#include "synth/pipelined_writer.h"
#include "synth/profiler.h"
#include "synth/synthesizer.h"

namespace strata::cli {

namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  const std::string temp = path + ".partial";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::Io("cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) return Status::Io("cannot rename " + temp + " to " + path);
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Usage("cannot read the profile " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The tenant column: --tenant-column, else the project's tenant parameter.
Result<std::string> TenantColumn(const std::string& flag, const std::string& project_dir) {
  if (!flag.empty()) return flag;
  if (project_dir.empty())
    return Status::Usage("say which column holds the tenant: --tenant-column NAME or --project DIR");
  auto project = LoadProject(project_dir);
  if (!project.ok()) return project.status();
  return project->tenant_param;
}

Result<std::chrono::milliseconds> Timeout(const std::string& text) {
  if (text.empty()) return std::chrono::milliseconds(std::chrono::minutes(10));
  auto d = ParseDuration(text);
  if (!d) return Status::Usage("--timeout: '" + text + "' is not a duration (250ms, 30s, 10min)");
  return *d;
}

// Profiles the synthetic database (its kept tenants: the profile's) and compares the two.
Result<synth::Fidelity> MeasureFidelity(const std::string& url, const synth::Profile& profile, const Project* project) {
  auto source = OpenSource(url);
  if (!source.ok()) return source.status();
  Source* measuring = source->get();
  SignalWatcher signals([measuring] { measuring->Cancel(); });  // Ctrl-C stops the measuring
  synth::ProfileOptions options;
  options.tenant_column = profile.tenant.column;
  options.statement_timeout = std::chrono::minutes(10);
  for (const synth::KeptTenant& k : profile.tenants) options.keep_tenants.push_back(k.tenant);
  options.max_kept_tenants = static_cast<int>(profile.tenants.size()) + 1;
  options.heaviest_per_table = 0;
  options.holders_per_feature = 0;
  auto actual = synth::RunProfile(source->get(), options);
  if (!actual.ok()) return actual.status().WithContext("measuring the synthetic database");
  if (project != nullptr) {
    std::vector<std::string> tenants;
    for (const synth::PlanShape& s : profile.plans) {
      if (std::find(tenants.begin(), tenants.end(), s.tenant) == tenants.end()) tenants.push_back(s.tenant);
    }
    std::vector<std::string> skipped;
    auto plans = synth::ExplainReports(source->get(), *project, tenants, options.statement_timeout, &skipped);
    if (!plans.ok()) return plans.status();
    actual->plans = std::move(*plans);
  }
  return synth::CompareProfiles(profile, *actual);
}

// The project's reports' plans for the kept tenants and the median one.
Status AddPlans(Source* source, const Project& project, std::chrono::milliseconds timeout, synth::Profile* profile) {
  std::vector<std::string> tenants;
  for (const synth::KeptTenant& k : profile->tenants) tenants.push_back(k.tenant);
  if (!profile->tenant.median.empty()) tenants.push_back(profile->tenant.median);
  std::vector<std::string> skipped;
  auto plans = synth::ExplainReports(source, project, tenants, timeout, &skipped);
  if (!plans.ok()) return plans.status();
  profile->plans = std::move(*plans);
  for (const std::string& s : skipped) profile->unsupported.push_back({"plans", s});
  return Status::Ok();
}

void PrintNotes(const std::vector<synth::Unsupported>& notes, const char* heading) {
  if (notes.empty()) return;
  std::fprintf(stderr, "%s\n", heading);
  for (const synth::Unsupported& u : notes) std::fprintf(stderr, "  %s: %s\n", u.object.c_str(), u.what.c_str());
}

}  // namespace

int RunProfileCommand(const ProfileArgs& args) {
  if (args.output.empty()) return Fail(Status::Usage("say where to write the profile: -o profile.json"));
  auto column = TenantColumn(args.tenant_column, args.project);
  if (!column.ok()) return Fail(column.status());
  std::unique_ptr<Project> project;
  if (!args.project.empty()) {
    auto loaded = LoadProject(args.project);
    if (!loaded.ok()) return Fail(loaded.status());
    project = std::make_unique<Project>(std::move(*loaded));
  }
  auto timeout = args.timeout.empty() && project != nullptr
                     ? Result<std::chrono::milliseconds>(project->statement_timeout)
                     : Timeout(args.timeout);
  if (!timeout.ok()) return Fail(timeout.status());
  const DatabaseChoice db = ChooseDatabase(args.database, project.get());
  if (db.url.empty()) return Fail(Status::Usage("say which database to profile: --database URL"));
  auto source = OpenSource(db.url);
  if (!source.ok()) return Fail(source.status().WithContext("database from " + db.origin));

  synth::ProfileOptions options;
  options.tenant_column = *column;
  options.keep_values = args.keep_values;
  options.statement_timeout = *timeout;
  const bool tty = !args.quiet && isatty(STDERR_FILENO);
  options.on_start = [&args, &db, limit = *timeout](int tables, int queries) {
    if (args.quiet) return;
    std::fprintf(stderr, "strata: profiling %d tables of %s: about %d read-only queries, each under a %s timeout\n",
                 tables, RedactUrl(db.url).c_str(), queries, FormatDuration(limit).c_str());
  };
  options.on_progress = [tty](const std::string& step, int queries) {
    if (tty) std::fprintf(stderr, "\r\033[K  profiling (%d queries): %s", queries, step.c_str());
  };
  Source* running = source->get();
  SignalWatcher signals([running] { running->Cancel(); });
  auto profile = synth::RunProfile(running, options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!profile.ok()) return Fail(profile.status());
  if (project != nullptr) {
    if (Status st = AddPlans(running, *project, *timeout, &*profile); !st.ok()) return Fail(st);
  }
  const std::string json = synth::ProfileToJson(*profile);
  if (Status st = WriteFile(args.output, json); !st.ok()) return Fail(st);
  if (!args.quiet) {
    uint64_t rows = 0;
    for (const synth::TableProfile& t : profile->tables) rows += static_cast<uint64_t>(t.rows);
    std::fprintf(stderr,
                 "strata: profiled %zu tables (%s), %s tenants (%zu kept with their own figures) of %s in %.1f s "
                 "with %d read-only queries; wrote %s (%s bytes)\n",
                 profile->tables.size(), Rows(rows).c_str(),
                 GroupThousands(static_cast<uint64_t>(profile->tenant.count)).c_str(), profile->tenants.size(),
                 RedactUrl(db.url).c_str(), profile->seconds, profile->queries, args.output.c_str(),
                 GroupThousands(json.size()).c_str());
    PrintNotes(profile->unsupported, "strata: what synth will not reproduce:");
  }
  return kExitOk;
}

namespace {

// Builds the database. Ctrl-C cancels the load (nothing is published); the writer is never cancelled
// once it is gone.
Result<synth::SynthResult> Build(const SynthArgs& args, const synth::Profile& profile) {
  std::vector<std::string> names;
  for (const synth::TableProfile& t : profile.tables) names.push_back(t.name);
  std::atomic<bool> cancel{false};
  std::mutex mu;
  synth::BulkWriter* running = nullptr;  // guarded by mu
  // The watcher comes first: it must block the signals before the loading thread starts.
  SignalWatcher signals([&cancel, &mu, &running] {
    cancel = true;
    std::lock_guard<std::mutex> lock(mu);
    if (running != nullptr) running->Cancel();
  });
  auto opened =
      synth::OpenBulkWriter(args.database, names, args.replace ? synth::Replace::kAlways : synth::Replace::kNever);
  if (!opened.ok()) return opened.status();
  // Rows are made on this thread and loaded on another.
  std::unique_ptr<synth::BulkWriter> writer = synth::PipelineWriter(std::move(*opened));
  struct Forget {  // destroyed before the writer
    std::mutex& mu;
    synth::BulkWriter*& running;
    ~Forget() {
      std::lock_guard<std::mutex> lock(mu);
      running = nullptr;
    }
  } forget{mu, running};
  {
    std::lock_guard<std::mutex> lock(mu);
    running = writer.get();
  }
  synth::SynthOptions options;
  options.scale = args.scale;
  options.seed = args.seed;
  options.replace = args.replace;
  const bool tty = !args.quiet && isatty(STDERR_FILENO);
  options.on_progress = [tty](const std::string& table, uint64_t rows) {
    if (tty) std::fprintf(stderr, "\r\033[K  synthesizing %s: %s", table.c_str(), Rows(rows).c_str());
  };
  options.cancel = &cancel;
  auto result = synth::Synthesize(writer.get(), profile, options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  // A statement the signal interrupted fails with the database's own words ("interrupted"): it is
  // still the user's Ctrl-C, not a database error.
  if (!result.ok() && cancel.load()) return Status::Cancelled("interrupted");
  return result;
}

void PrintBuild(const SynthArgs& args, const synth::SynthResult& result) {
  std::fprintf(stderr,
               "strata: synthesized %s (scale %g, seed %llu) into %s in %.1f s: %.0f rows/s loading (%.1f s), "
               "keys and indexes %.1f s, ANALYZE %.1f s\n",
               Rows(result.rows).c_str(), args.scale, static_cast<unsigned long long>(args.seed),
               RedactUrl(args.database).c_str(), result.seconds,
               static_cast<double>(result.rows) / std::max(result.load_seconds, 1e-9), result.load_seconds,
               result.keys_seconds, result.analyze_seconds);
  for (const synth::SynthTable& t : result.tables) {
    std::fprintf(stderr, "  %-24s %12s%s\n", t.table.c_str(), GroupThousands(t.rows).c_str(),
                 t.late_rows ? (" (" + GroupThousands(t.late_rows) + " after ANALYZE)").c_str() : "");
  }
  PrintNotes(result.notes, "strata: not reproduced:");
  for (const std::string& w : result.warnings) std::fprintf(stderr, "strata: warning: %s\n", w.c_str());
}

}  // namespace

int RunSynthCommand(const SynthArgs& args) {
  if (args.profile.empty()) return Fail(Status::Usage("say which profile to build from: --profile profile.json"));
  if (args.database.empty()) return Fail(Status::Usage("say where to build: --database URL"));
  if (!(args.scale > 0) || args.scale > 1000) return Fail(Status::Usage("--scale must be above 0 and at most 1000"));
  auto text = ReadFile(args.profile);
  if (!text.ok()) return Fail(text.status());
  auto profile = synth::ProfileFromJson(*text, args.profile);
  if (!profile.ok()) return Fail(profile.status());
  std::unique_ptr<Project> project;
  if (!args.project.empty()) {
    auto loaded = LoadProject(args.project);
    if (!loaded.ok()) return Fail(loaded.status());
    project = std::make_unique<Project>(std::move(*loaded));
  }
  auto result = Build(args, *profile);
  if (!result.ok()) return FailLoad(result.status());
  if (!args.quiet) PrintBuild(args, *result);
  if (args.report.empty() && project == nullptr) return kExitOk;
  auto fidelity = MeasureFidelity(args.database, *profile, project.get());
  if (!fidelity.ok()) return Fail(fidelity.status());
  if (!args.report.empty()) {
    if (Status st = WriteFile(args.report, synth::FidelityToJson(*fidelity)); !st.ok()) return Fail(st);
  }
  if (!args.quiet) std::fprintf(stderr, "strata: %s", synth::FidelitySummary(*fidelity).c_str());
  return kExitOk;
}

}  // namespace strata::cli
