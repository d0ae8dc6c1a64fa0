#include "sink/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace strata {

namespace {
constexpr size_t kBufferSize = 1u << 20;
}

FileOutput::FileOutput(std::string path, std::string temp, int fd)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), buffer_(new char[kBufferSize]) {}

Result<std::unique_ptr<FileOutput>> FileOutput::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<FileOutput>(new FileOutput(path, "", STDOUT_FILENO));
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  if (fs::is_directory(target, ec)) return Status::Io("cannot write '" + path + "': it is a directory");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) return Status::Io("cannot write '" + path + "': no directory '" + dir.string() + "'");
  // The temporary name is hidden, beside the target (so rename stays on one file system), unique.
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX.partial")).string();
  std::string pattern = temp;
  const int fd = mkstemps(pattern.data(), 8);
  if (fd < 0) return Status::Io("cannot create a file in '" + dir.string() + "': " + std::strerror(errno));
  // mkstemps makes the file private; give it the mode a plain new file would get.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  return std::unique_ptr<FileOutput>(new FileOutput(path, pattern, fd));
}

FileOutput::~FileOutput() {
  Discard();
}

Status FileOutput::WriteAll(const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Io("cannot write '" + path_ + "' at byte " + std::to_string(written_ + done) + ": " +
                        std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  written_ += size;
  return Status::Ok();
}

Status FileOutput::Flush() {
  Status s = WriteAll(buffer_.get(), used_);
  used_ = 0;
  return s;
}

Status FileOutput::Write(std::string_view bytes) {
  if (used_ + bytes.size() > kBufferSize) {
    STRATA_RETURN_IF_ERROR(Flush());
    if (bytes.size() >= kBufferSize) return WriteAll(bytes.data(), bytes.size());  // bypass the buffer
  }
  std::memcpy(buffer_.get() + used_, bytes.data(), bytes.size());
  used_ += bytes.size();
  return Status::Ok();
}

Status FileOutput::Overwrite(uint64_t offset, std::string_view bytes) {
  if (temp_.empty() || offset + bytes.size() > bytes_written()) return Output::Overwrite(offset, bytes);
  while (!bytes.empty() && offset < written_) {  // the part already on disk
    const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), written_ - offset));
    const ssize_t done = ::pwrite(fd_, bytes.data(), n, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) {
      return Status::Io("cannot write '" + path_ + "' at byte " + std::to_string(offset) + ": " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(done));
    offset += static_cast<uint64_t>(done);
  }
  if (!bytes.empty()) std::memcpy(buffer_.get() + (offset - written_), bytes.data(), bytes.size());  // still buffered
  return Status::Ok();
}

Status FileOutput::Commit() {
  if (committed_) return Status::Ok();
  STRATA_RETURN_IF_ERROR(Flush());
  if (temp_.empty()) {
    committed_ = true;
    return Status::Ok();
  }
  if (::fsync(fd_) != 0) return Status::Io("cannot sync '" + path_ + "': " + std::strerror(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Status::Io("cannot close '" + path_ + "': " + std::strerror(errno));
  }
  fd_ = -1;
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    return Status::Io("cannot rename the finished file to '" + path_ + "': " + std::strerror(errno));
  }
  committed_ = true;
  return Status::Ok();
}

void FileOutput::Discard() {
  if (temp_.empty()) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_) ::unlink(temp_.c_str());
  temp_.clear();
}

}  // namespace strata
