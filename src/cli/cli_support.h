// What the subcommands share: the one mapping from Status to exit code and message, signal
// handling, and parsing of --param arguments.
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "report/binding.h"
#include "report/project.h"

namespace strata::cli {

// The exit code for a Status (see commands.h).
int ExitCode(const Status& s);
// Prints "strata: error: <message>" and returns the exit code.
int Fail(const Status& s);
// For a load into a database (generate, synth): an interruption says the database was not changed
// (exit 130); anything else is Fail.
int FailLoad(const Status& s);

// Blocks SIGINT, SIGTERM and SIGHUP in every thread and runs on_signal on its own thread when one
// arrives, so that cancelling reaches the database query instead of killing the process mid-write.
// REQUIRES: constructed before any other thread starts.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_signal);
  ~SignalWatcher();
  bool fired() const { return fired_; }

 private:
  static constexpr int kWake = SIGUSR2;  // sent by the destructor to end the wait
  std::function<void()> on_signal_;
  sigset_t set_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

// Parses every --param; a parameter given twice is an error.
Result<std::vector<ParamArg>> ParseParamArgs(const std::vector<std::string>& raw);

// "1 row", "2,345 rows".
std::string Rows(uint64_t n);

// The database to use and where its URL came from (for messages): --database, then the
// environment's STRATA_DATABASE_URL, then the project's [database] url (a relative SQLite path
// there is relative to the project folder). project may be null.
struct DatabaseChoice {
  std::string url;
  std::string origin;  // "--database", "STRATA_DATABASE_URL", "path/strata.toml:2:7", or empty
};
DatabaseChoice ChooseDatabase(const std::string& flag, const Project* project);

}  // namespace strata::cli
