// Status: the error value that crosses every module boundary in Strata.
//
// A Status is either ok or carries a Code and a message. The message names *where* the problem is
// (file:line:column for config and SQL, the table or tenant for a query, the byte offset of a broken
// stream) so that the CLI can print it as one line. The CLI maps codes to exit codes in one place
// (cli/cli_support.cc); library code never exits.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace strata {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kUsage,      // the caller asked for something malformed (a flag, a parameter value)
    kConfig,     // the project (strata.toml or its SQL files) is wrong
    kDatabase,   // the database refused, failed or went away
    kTimeout,    // the statement timeout stopped the query (a database error to the CLI: exit 3)
    kIo,         // reading or writing a file failed
    kCancelled,  // the work was cancelled (Ctrl-C, a cancel request)
    kInternal,   // a bug in Strata
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Usage(std::string m) { return Status(Code::kUsage, std::move(m)); }
  static Status Config(std::string m) { return Status(Code::kConfig, std::move(m)); }
  static Status Database(std::string m) { return Status(Code::kDatabase, std::move(m)); }
  // A database failure that may pass when tried again later: the connection was refused or lost,
  // the server is shutting down or out of connections, a serialization failure or a deadlock, a
  // busy SQLite file. A broken query (syntax, a missing table, a privilege) is Database().
  static Status TransientDatabase(std::string m) {
    Status s(Code::kDatabase, std::move(m));
    s.transient_ = true;
    return s;
  }
  static Status Timeout(std::string m) { return Status(Code::kTimeout, std::move(m)); }
  static Status Io(std::string m) { return Status(Code::kIo, std::move(m)); }
  static Status Cancelled(std::string m) { return Status(Code::kCancelled, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Whether trying the same thing again may succeed (see TransientDatabase).
  bool transient() const { return transient_; }

  // Returns a copy whose message is "prefix: message" (adds where the error happened).
  Status WithContext(const std::string& prefix) const {
    if (ok()) return *this;
    Status s(code_, prefix + ": " + message_);
    s.transient_ = transient_;
    return s;
  }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
  bool transient_ = false;
};

// Result<T>: a T or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace strata

#define STRATA_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::strata::Status strata_status_ = (expr);        \
    if (!strata_status_.ok()) return strata_status_; \
  } while (0)
