#include "cli/cli_support.h"

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "common/text.h"
#include "source/source.h"

namespace strata::cli {

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return kExitOk;
    case Status::Code::kUsage:
    case Status::Code::kConfig: return kExitUsage;
    case Status::Code::kDatabase:
    case Status::Code::kTimeout: return kExitDatabase;
    case Status::Code::kCancelled: return kExitInterrupted;
    default: return kExitFailure;
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "strata: error: %s\n", s.message().c_str());
  return ExitCode(s);
}

int FailLoad(const Status& s) {
  if (s.code() != Status::Code::kCancelled) return Fail(s);
  std::fprintf(stderr, "strata: interrupted; the database was not changed\n");
  return kExitInterrupted;
}

SignalWatcher::SignalWatcher(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  sigaddset(&set_, kWake);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this] {
    while (!stop_) {
      int signal = 0;
      if (sigwait(&set_, &signal) == 0 && signal != kWake) {
        fired_ = true;
        on_signal_();
      }
    }
  });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  pthread_kill(thread_.native_handle(), kWake);  // ends its wait at once
  thread_.join();
  sigset_t unblock = set_;
  sigdelset(&unblock, kWake);  // stays blocked: a late wake-up must not end the process
  pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
}

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

DatabaseChoice ChooseDatabase(const std::string& flag, const Project* project) {
  if (!flag.empty()) return {flag, "--database"};
  if (const char* env = std::getenv("STRATA_DATABASE_URL"); env != nullptr && *env != '\0') {
    return {env, "STRATA_DATABASE_URL"};
  }
  if (project != nullptr && !project->database_url.empty()) {
    return {ResolveSqliteUrl(project->database_url, project->folder), project->database_url_at};
  }
  return {};
}

}  // namespace strata::cli
