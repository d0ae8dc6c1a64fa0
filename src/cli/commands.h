// The strata command line: one subcommand per verb, thin over the library. This is the only place
// that turns a Status into an exit code and a message.
#pragma once

namespace strata::cli {

// Exit codes (documented in docs/cli.md).
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;   // I/O or an internal error
constexpr int kExitUsage = 2;     // bad flags, parameters, or project configuration
constexpr int kExitDatabase = 3;  // the database refused, failed, timed out or was unreachable
constexpr int kExitInterrupted = 130;

int Main(int argc, char** argv);

}  // namespace strata::cli
