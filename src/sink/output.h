// Output: where a sink's bytes go. FileOutput writes to a temporary name beside the target and
// renames it into place on Commit(): an error, a cancel or a crash leaves no partial file under the
// target name (STYLE.md rule 8). Writing to "-" streams to standard output instead.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace strata {

class Output {
 public:
  virtual ~Output() = default;
  virtual Status Write(std::string_view bytes) = 0;
  virtual uint64_t bytes_written() const = 0;
};

class FileOutput : public Output {
 public:
  // Opens path's temporary file (or standard output for "-"). Fails with kIo naming the path.
  static Result<std::unique_ptr<FileOutput>> Open(const std::string& path);
  ~FileOutput() override;  // discards the temporary file unless committed

  Status Write(std::string_view bytes) override;
  uint64_t bytes_written() const override { return written_ + used_; }
  // Flushes, syncs and renames the temporary file to the target. Idempotent on success.
  Status Commit();
  // Removes the temporary file. Safe to call more than once.
  void Discard();
  const std::string& path() const { return path_; }

 private:
  FileOutput(std::string path, std::string temp, int fd);
  Status Flush();
  Status WriteAll(const char* data, size_t size);

  std::string path_;
  std::string temp_;  // empty for standard output
  int fd_;
  bool committed_ = false;
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
  uint64_t written_ = 0;
};

// An Output that keeps the bytes in memory: for tests.
class StringOutput : public Output {
 public:
  Status Write(std::string_view bytes) override {
    data_.append(bytes);
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return data_.size(); }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

}  // namespace strata
