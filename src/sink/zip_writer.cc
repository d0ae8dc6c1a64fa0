#include "sink/zip_writer.h"

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

Status ZipWriter::Put(std::string_view bytes) {
  return out_->Write(bytes);
}

Status ZipWriter::BeginEntry(const std::string& name) {
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
  return Status::Ok();
}

Status ZipWriter::Write(std::string_view data) {
  Entry& e = entries_.back();
  e.crc = Crc32(e.crc, data);
  e.uncompressed += data.size();
  return deflater_.Compress(data, false, [this](std::string_view c) { return Put(c); });
}

Status ZipWriter::EndEntry() {
  STRATA_RETURN_IF_ERROR(deflater_.Compress({}, true, [this](std::string_view c) { return Put(c); }));
  Entry& e = entries_.back();
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
