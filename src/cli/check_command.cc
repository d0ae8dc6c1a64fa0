// strata check: the regression gate. Loads the base and the candidate, picks the reports, runs
// check::RunCheck and writes the verdict where asked (terminal, --json, --html, --junit,
// --markdown).
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "check/check.h"
#include "check/render.h"
#include "check/versions.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "sink/output.h"

namespace strata::cli {

namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  auto out = FileOutput::Open(path);
  if (!out.ok()) return out.status();
  STRATA_RETURN_IF_ERROR((*out)->Write(text));
  return (*out)->Commit();
}

std::vector<std::string> SplitCommas(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const std::string& r : raw) {
    std::stringstream in(r);
    std::string item;
    while (std::getline(in, item, ',')) {
      if (!item.empty()) out.push_back(item);
    }
  }
  return out;
}

// The options of a check: the project's [check] settings, then the flags over them.
Result<check::CheckOptions> CheckOptionsFromArgs(const CheckArgs& args, const Project& project) {
  check::CheckOptions options;
  options.settings = project.check;
  if (args.repetitions) options.settings.repetitions = *args.repetitions;
  if (args.slower_ratio) options.settings.slower_ratio = *args.slower_ratio;
  if (args.min_slower_ms) options.settings.min_slower_ms = *args.min_slower_ms;
  if (args.max_tenants) options.settings.max_tenants = *args.max_tenants;
  if (options.settings.repetitions < 1 || options.settings.repetitions > 1000) {
    return Status::Usage("--repetitions must be between 1 and 1000");
  }
  if (options.settings.slower_ratio <= 1) return Status::Usage("--slower-ratio must be more than 1");
  if (options.settings.max_tenants < 1) return Status::Usage("--max-tenants must be at least 1");
  options.tenants = SplitCommas(args.tenants);
  auto given = ParseParamArgs(args.params);
  if (!given.ok()) return given.status();
  options.params = std::move(*given);
  if (args.execution == "simple") {
    options.execution = Execution::kSimple;
  } else if (args.execution == "prepared") {
    options.execution = Execution::kPrepared;
  } else if (!args.execution.empty()) {
    return Status::Usage("--execution takes simple or prepared");
  }
  if (args.statistics == "fresh" || (args.analyze_first && args.statistics.empty())) {
    options.statistics = check::StatisticsMode::kFresh;
  } else if (args.statistics == "both") {
    options.statistics = check::StatisticsMode::kBoth;
  } else if (!args.statistics.empty() && args.statistics != "current") {
    return Status::Usage("--statistics takes current, fresh or both");
  }
  if (args.analyze_first && !args.statistics.empty() && args.statistics != "fresh") {
    return Status::Usage("--analyze-first is --statistics fresh: give one of them");
  }
  if (!args.sweep_budget.empty()) {
    auto d = args.sweep_budget == "0" ? std::optional<std::chrono::milliseconds>(0) : ParseDuration(args.sweep_budget);
    if (!d) return Status::Usage("--sweep-budget " + args.sweep_budget + ": expected a duration like 30s, 5min, or 0");
    options.settings.sweep_budget = *d;
  }
  options.statement_timeout = project.statement_timeout;
  if (!args.timeout.empty()) {
    auto d = ParseDuration(args.timeout);
    if (!d) return Status::Usage("--timeout " + args.timeout + ": expected a duration like 30s, 10min, 2h");
    options.statement_timeout = *d;
  }
  return options;
}

}  // namespace

int RunCheckCommand(const CheckArgs& args) {
  const std::string folder = args.project.empty() ? "." : args.project;
  auto candidate = LoadProject(folder);
  if (!candidate.ok()) return Fail(candidate.status());
  std::unique_ptr<check::BaseProject> base;
  if (!args.base.empty()) {
    auto b = check::LoadBase(args.base, folder);
    if (!b.ok()) return Fail(b.status());
    base = std::move(*b);
  } else if (args.base_report.empty()) {
    return Fail(Status::Usage(
        "give --base (a git ref such as origin/main, or the old project's folder), or --base-report to compare "
        "two reports of this project"));
  }
  const Project& base_project = base ? base->project : *candidate;

  std::vector<std::string> skipped;
  auto pairs = check::ChooseReports(base_project, *candidate, args.reports, args.base_report, &skipped);
  if (!pairs.ok()) return Fail(pairs.status());
  for (const std::string& s : skipped) std::fprintf(stderr, "strata: skipped %s\n", s.c_str());

  auto options = CheckOptionsFromArgs(args, *candidate);
  if (!options.ok()) return Fail(options.status());
  const bool progress = !args.quiet && isatty(STDERR_FILENO);
  if (progress) {
    options->progress = [](const std::string& line) { std::fprintf(stderr, "\r\033[K%s", line.c_str()); };
  }

  auto db = ChooseDatabase(args.database, &*candidate);
  auto source = OpenSource(db.url);
  if (!source.ok()) {
    return Fail(db.origin.empty() ? source.status() : source.status().WithContext("database from " + db.origin));
  }
  check::CheckResult result;
  if (pairs->empty()) {
    result.database = (*source)->description();
    result.dialect = (*source)->dialect();
    std::fprintf(stderr, "strata: no report changed between the base and the candidate: nothing to check\n");
  } else {
    Source* running = source->get();
    SignalWatcher signals([running] { running->Cancel(); });
    auto r = check::RunCheck(source->get(), *candidate, *pairs, *options);
    if (progress) std::fprintf(stderr, "\r\033[K");
    if (r.ok() && signals.fired()) {  // a cancel that landed in the last step (a plan) is still a cancel
      std::fprintf(stderr, "strata: interrupted; no verdict\n");
      return kExitInterrupted;
    }
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kCancelled || signals.fired()) {
        std::fprintf(stderr, "strata: interrupted; no verdict\n");
        return kExitInterrupted;
      }
      return Fail(r.status());
    }
    result = std::move(*r);
  }
  result.base_label = base ? base->label : folder + " (report " + args.base_report + ")";
  result.candidate_label = folder;

  if (!args.quiet || pairs->empty()) std::fputs(check::RenderText(result).c_str(), stdout);
  std::fflush(stdout);
  struct Doc {
    const std::string& path;
    std::string (*render)(const check::CheckResult&);
  } docs[] = {{args.json, check::RenderJson},
              {args.html, check::RenderHtml},
              {args.junit, check::RenderJunit},
              {args.markdown, check::RenderMarkdown}};
  for (const Doc& d : docs) {
    if (d.path.empty()) continue;
    Status s = WriteFile(d.path, d.render(result));
    if (!s.ok()) return Fail(s);
  }
  return result.pass ? kExitOk : kExitFailure;
}

}  // namespace strata::cli
