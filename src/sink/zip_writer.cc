#include "sink/zip_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace strata {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kDescriptorSig = 0x08074b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint16_t kFlagDescriptor = 0x0008;
constexpr uint16_t kMethodDeflate = 8;
constexpr uint16_t kVersion20 = 20;  // deflate
constexpr uint16_t kVersion45 = 45;  // ZIP64
constexpr uint64_t kMax32 = 0xFFFFFFFFu;

class Bytes {
 public:
  void U16(uint16_t v) {
    s_ += static_cast<char>(v & 0xFF);
    s_ += static_cast<char>(v >> 8);
  }
  void U32(uint32_t v) {
    for (int k = 0; k < 4; ++k) s_ += static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  void U64(uint64_t v) {
    for (int k = 0; k < 8; ++k) s_ += static_cast<char>((v >> (8 * k)) & 0xFF);
  }
  void Str(std::string_view s) { s_.append(s); }
  const std::string& str() const { return s_; }
  size_t size() const { return s_.size(); }

 private:
  std::string s_;
};

}  // namespace

ZipWriter::ZipWriter(Output* out, const ZipOptions& options) : out_(out), options_(options), deflater_(options.level) {
  std::time_t t = options.timestamp != 0 ? options.timestamp : std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_year < 80) tm = std::tm{0, 0, 0, 1, 0, 80, 0, 0, 0, 0, nullptr};  // DOS dates start in 1980
  dos_time_ = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  dos_date_ = static_cast<uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

ZipWriter::~ZipWriter() {
  if (spool_ != nullptr) std::fclose(spool_);
}

Status ZipWriter::Put(std::string_view bytes) {
  if (spool_ == nullptr) return out_->Write(bytes);
  if (std::fwrite(bytes.data(), 1, bytes.size(), spool_) != bytes.size()) {
    return Status::Io(std::string("cannot write the temporary file that holds a sheet: ") + std::strerror(errno));
  }
  return Status::Ok();
}

namespace {

// A stored deflate block (RFC 1951 3.2.4) that is not the last: BFINAL 0, BTYPE 00, then LEN and
// its one's complement.
std::string StoredBlockHeader(size_t size) {
  const auto len = static_cast<uint16_t>(size);
  const auto nlen = static_cast<uint16_t>(~len);
  return {'\0', static_cast<char>(len & 0xFF), static_cast<char>(len >> 8), static_cast<char>(nlen & 0xFF),
          static_cast<char>(nlen >> 8)};
}

// An unnamed temporary file in $TMPDIR (else /tmp): it is gone when closed, or when the process dies.
Status OpenSpool(std::FILE** spool) {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && env[0] != '\0' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {  // a file system without O_TMPFILE
    std::string name = dir + "/.strata-sheet-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd >= 0) *spool = ::fdopen(fd, "w+b");
  if (fd < 0 || *spool == nullptr) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    return Status::Io("cannot make a temporary file in " + dir + " to hold a sheet written to a stream (" +
                      std::strerror(error) + "); set TMPDIR to a folder with room");
  }
  return Status::Ok();
}

}  // namespace

Status ZipWriter::ReserveLateHead(size_t size) {
  if (size > 0xFFFF) return Status::Internal("zip: a late head is larger than one stored block");
  late_head_size_ = size;
  if (!out_->can_overwrite()) return OpenSpool(&spool_);
  STRATA_RETURN_IF_ERROR(out_->Write(StoredBlockHeader(size)));
  late_head_offset_ = out_->bytes_written();
  return out_->Write(std::string(size, ' '));
}

// Puts the head in its place: over the reserved bytes, or before the spooled rest.
Status ZipWriter::PlaceLateHead(std::string_view head) {
  if (head.size() != late_head_size_) return Status::Internal("zip: the late head's size changed");
  if (spool_ == nullptr) return out_->Overwrite(late_head_offset_, head);
  std::FILE* spool = spool_;
  spool_ = nullptr;
  Status s = out_->Write(StoredBlockHeader(head.size()));
  if (s.ok()) s = out_->Write(head);
  std::vector<char> chunk(256 * 1024);
  if (s.ok() && (std::fflush(spool) != 0 || std::fseek(spool, 0, SEEK_SET) != 0)) {
    s = Status::Io(std::string("cannot read back the temporary file that holds a sheet: ") + std::strerror(errno));
  }
  while (s.ok()) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), spool);
    if (n > 0) s = out_->Write(std::string_view(chunk.data(), n));
    if (n < chunk.size()) {
      if (std::ferror(spool)) s = Status::Io("cannot read back the temporary file that holds a sheet");
      break;
    }
  }
  std::fclose(spool);
  return s;
}

Status ZipWriter::BeginEntry(const std::string& name, size_t late_head_size) {
  if (open_) return Status::Internal("zip: an entry is already open");
  Entry e;
  e.name = name;
  e.offset = out_->bytes_written();
  Bytes h;
  h.U32(kLocalHeaderSig);
  h.U16(options_.force_zip64 ? kVersion45 : kVersion20);
  h.U16(kFlagDescriptor);
  h.U16(kMethodDeflate);
  h.U16(dos_time_);
  h.U16(dos_date_);
  h.U32(0);  // crc, sizes: in the data descriptor
  h.U32(0);
  h.U32(0);
  h.U16(static_cast<uint16_t>(name.size()));
  h.U16(0);
  h.Str(name);
  STRATA_RETURN_IF_ERROR(Put(h.str()));
  entries_.push_back(std::move(e));
  deflater_.Reset();
  open_ = true;
  data_start_ = out_->bytes_written();
  late_head_size_ = 0;
  return late_head_size > 0 ? ReserveLateHead(late_head_size) : Status::Ok();
}

Status ZipWriter::Write(std::string_view data) {
  Entry& e = entries_.back();
  e.crc = Crc32(e.crc, data);
  e.uncompressed += data.size();
  return deflater_.Compress(data, false, [this](std::string_view c) { return Put(c); });
}

Status ZipWriter::EndEntry(std::string_view late_head) {
  STRATA_RETURN_IF_ERROR(deflater_.Compress({}, true, [this](std::string_view c) { return Put(c); }));
  Entry& e = entries_.back();
  if (late_head_size_ > 0 || !late_head.empty()) {
    STRATA_RETURN_IF_ERROR(PlaceLateHead(late_head));
    // The CRC of head + rest, from the rest's CRC that was kept as the rest arrived.
    static_assert(sizeof(z_off_t) >= 8, "crc32_combine takes the rest's length as z_off_t");
    e.crc = static_cast<uint32_t>(crc32_combine(Crc32(0, late_head), e.crc, static_cast<z_off_t>(e.uncompressed)));
    e.uncompressed += late_head.size();
  }
  e.compressed = out_->bytes_written() - data_start_;
  open_ = false;
  Bytes d;
  d.U32(kDescriptorSig);
  d.U32(e.crc);
  if (options_.force_zip64 || e.compressed >= kMax32 || e.uncompressed >= kMax32) {
    d.U64(e.compressed);
    d.U64(e.uncompressed);
  } else {
    d.U32(static_cast<uint32_t>(e.compressed));
    d.U32(static_cast<uint32_t>(e.uncompressed));
  }
  return Put(d.str());
}

Status ZipWriter::AddEntry(const std::string& name, std::string_view data) {
  STRATA_RETURN_IF_ERROR(BeginEntry(name));
  STRATA_RETURN_IF_ERROR(Write(data));
  return EndEntry();
}

Status ZipWriter::Finish() {
  if (open_) return Status::Internal("zip: an entry is still open");
  const uint64_t cd_offset = out_->bytes_written();
  Bytes cd;
  for (const Entry& e : entries_) {
    const bool big_u = options_.force_zip64 || e.uncompressed >= kMax32;
    const bool big_c = options_.force_zip64 || e.compressed >= kMax32;
    const bool big_o = options_.force_zip64 || e.offset >= kMax32;
    Bytes extra;
    if (big_u || big_c || big_o) {
      // The ZIP64 extra field holds, in this order, only the values whose 32-bit field is 0xFFFFFFFF.
      extra.U16(0x0001);
      extra.U16(static_cast<uint16_t>(8 * (big_u + big_c + big_o)));
      if (big_u) extra.U64(e.uncompressed);
      if (big_c) extra.U64(e.compressed);
      if (big_o) extra.U64(e.offset);
    }
    const bool zip64 = extra.size() > 0;
    cd.U32(kCentralSig);
    cd.U16(static_cast<uint16_t>((3 << 8) | (zip64 ? kVersion45 : kVersion20)));  // made by: Unix
    cd.U16(zip64 ? kVersion45 : kVersion20);
    cd.U16(kFlagDescriptor);
    cd.U16(kMethodDeflate);
    cd.U16(dos_time_);
    cd.U16(dos_date_);
    cd.U32(e.crc);
    cd.U32(big_c ? static_cast<uint32_t>(kMax32) : static_cast<uint32_t>(e.compressed));
    cd.U32(big_u ? static_cast<uint32_t>(kMax32) : static_cast<uint32_t>(e.uncompressed));
    cd.U16(static_cast<uint16_t>(e.name.size()));
    cd.U16(static_cast<uint16_t>(extra.size()));
    cd.U16(0);               // comment
    cd.U16(0);               // disk
    cd.U16(0);               // internal attributes
    cd.U32(0100644u << 16);  // external attributes: a regular file, rw-r--r--
    cd.U32(big_o ? static_cast<uint32_t>(kMax32) : static_cast<uint32_t>(e.offset));
    cd.Str(e.name);
    cd.Str(extra.str());
  }
  STRATA_RETURN_IF_ERROR(Put(cd.str()));
  const uint64_t cd_size = cd.size();
  const uint64_t count = entries_.size();
  Bytes end;
  const bool zip64_end = options_.force_zip64 || count >= 0xFFFF || cd_offset >= kMax32 || cd_size >= kMax32;
  if (zip64_end) {
    const uint64_t end64_offset = cd_offset + cd_size;
    end.U32(kZip64EndSig);
    end.U64(44);  // size of the rest of this record
    end.U16(kVersion45);
    end.U16(kVersion45);
    end.U32(0);
    end.U32(0);
    end.U64(count);
    end.U64(count);
    end.U64(cd_size);
    end.U64(cd_offset);
    end.U32(kZip64LocatorSig);
    end.U32(0);
    end.U64(end64_offset);
    end.U32(1);
  }
  end.U32(kEndSig);
  end.U16(0);
  end.U16(0);
  end.U16(static_cast<uint16_t>(zip64_end ? 0xFFFF : count));
  end.U16(static_cast<uint16_t>(zip64_end ? 0xFFFF : count));
  end.U32(zip64_end ? static_cast<uint32_t>(kMax32) : static_cast<uint32_t>(cd_size));
  end.U32(zip64_end ? static_cast<uint32_t>(kMax32) : static_cast<uint32_t>(cd_offset));
  end.U16(0);
  return Put(end.str());
}

}  // namespace strata
