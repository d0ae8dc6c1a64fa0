// strata watch: the watch's ledger as strata serve keeps it in the job store, and `release`.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/text.h"
#include "jobs/job_store.h"
#include "report/param.h"
#include "watch/watch.h"

namespace strata::cli {

namespace {

struct Opened {
  Project project;
  std::unique_ptr<watch::WatchStore> store;
};

Result<Opened> Open(const WatchArgs& args) {
  auto project = LoadProject(args.project);
  if (!project.ok()) return project.status();
  const std::string url =
      args.jobs.empty() ? "sqlite:" + (std::filesystem::path(project->folder) / "strata-jobs.db").string() : args.jobs;
  if (url.rfind("sqlite:", 0) == 0 && !std::filesystem::exists(url.substr(7))) {
    return Status::Usage("no job store at " + url.substr(7) +
                         ": strata serve makes it; give --jobs when serve was given one");
  }
  auto store = watch::WatchStore::Open(url, /*create=*/true);
  if (!store.ok()) return store.status();
  return Opened{std::move(*project), std::move(*store)};
}

std::string RatioText(double ratio) {
  if (ratio == watch::kFailed) return "failing";
  char text[32];
  std::snprintf(text, sizeof text, "%.1fx", ratio);
  return text;
}

void PrintLedger(const std::vector<watch::Entry>& entries) {
  if (entries.empty()) {
    std::printf("The watch has acted on nothing: no report version regressed for any tenant.\n");
    return;
  }
  std::printf("%-24s %-14s %-10s %-13s %-13s %8s %5s  %s\n", "REPORT", "TENANT", "STATE", "CURRENT", "GOOD", "RATIO",
              "RUNS", "SINCE (UTC)");
  for (const watch::Entry& e : entries) {
    const std::string state = e.state == "fallback" && e.verified ? "fallback*" : e.state;
    std::printf("%-24s %-14s %-10s %-13s %-13s %8s %5d  %s\n", e.report.c_str(), e.tenant.c_str(), state.c_str(),
                e.current_version.c_str(), e.good_version.c_str(), RatioText(e.ratio).c_str(), e.runs,
                UtcTimestamp(e.since).c_str());
    std::printf("    %s\n", e.reason.c_str());
  }
  std::printf("(fallback*: verified faster. Undo one: strata watch release REPORT --tenant T)\n");
}

}  // namespace

int RunWatch(const WatchArgs& args) {
  auto opened = Open(args);
  if (!opened.ok()) return Fail(opened.status());
  auto entries = opened->store->Entries();
  if (!entries.ok()) return Fail(entries.status());
  if (args.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const watch::Entry& e : *entries) list.push_back(watch::EntryJson(e, opened->project));
    std::cout << nlohmann::ordered_json{{"entries", list}}.dump(2, ' ', false,
                                                                nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  PrintLedger(*entries);
  return kExitOk;
}

int RunWatchRelease(const WatchArgs& args) {
  auto opened = Open(args);
  if (!opened.ok()) return Fail(opened.status());
  if (opened->project.FindReport(args.report) == nullptr) {
    return Fail(Status::Usage("no report '" + args.report + "' in " + opened->project.config_path));
  }
  std::string tenant = args.tenant;
  if (const ParamSpec* spec = opened->project.TenantSpec()) {
    auto parsed = ParseParamValue(spec->type, tenant);
    if (!parsed.ok()) return Fail(Status::Usage("--tenant " + tenant + ": " + parsed.status().message()));
    tenant = parsed->text;
  }
  auto released = watch::ReleaseEntry(*opened->store, args.report, tenant, jobs::NowMillis());
  if (!released.ok()) return Fail(released.status());
  if (!*released) {
    std::fprintf(stderr, "strata: nothing to release: %s has no fallback or alert for tenant %s\n", args.report.c_str(),
                 tenant.c_str());
    return kExitFailure;
  }
  std::printf("released: %s for tenant %s runs the current version %s again\n", args.report.c_str(), tenant.c_str(),
              (*released)->current_version.c_str());
  return kExitOk;
}

}  // namespace strata::cli
