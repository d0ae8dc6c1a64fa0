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
  // Whether Overwrite works: false for a stream (standard output), which cannot go back.
  virtual bool can_overwrite() const { return false; }
  // Replaces bytes already written, from offset on. REQUIRES: can_overwrite() and
  // offset + bytes.size() <= bytes_written().
  virtual Status Overwrite(uint64_t /*offset*/, std::string_view /*bytes*/) {
    return Status::Internal("this output cannot overwrite what it wrote");
  }
};

class FileOutput : public Output {
 public:
  // Opens path's temporary file (or standard output for "-"). Fails with kIo naming the path.
  static Result<std::unique_ptr<FileOutput>> Open(const std::string& path);
  ~FileOutput() override;  // discards the temporary file unless committed

  Status Write(std::string_view bytes) override;
  uint64_t bytes_written() const override { return written_ + used_; }
  bool can_overwrite() const override { return !temp_.empty(); }
  Status Overwrite(uint64_t offset, std::string_view bytes) override;
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

// An Output that keeps the bytes in memory: for tests. With seekable false it behaves as a stream.
class StringOutput : public Output {
 public:
  explicit StringOutput(bool seekable = true) : seekable_(seekable) {}
  Status Write(std::string_view bytes) override {
    data_.append(bytes);
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return data_.size(); }
  bool can_overwrite() const override { return seekable_; }
  Status Overwrite(uint64_t offset, std::string_view bytes) override {
    if (!seekable_ || offset + bytes.size() > data_.size()) return Output::Overwrite(offset, bytes);
    data_.replace(offset, bytes.size(), bytes);
    return Status::Ok();
  }
  const std::string& data() const { return data_; }

 private:
  bool seekable_;
  std::string data_;
};

}  // namespace strata
