// ZipWriter: a streaming ZIP archive writer (PKWARE APPNOTE 6.3) for the .xlsx container.
//
// Entries are written one after another, each deflated as its bytes arrive, with sizes and CRC in
// a data descriptor after the data, so nothing is seeked and nothing is held. ZIP64 records are
// added exactly where a size or offset passes 4 GiB (or the entry count 65,535): the descriptor of
// such an entry carries 8-byte sizes, the central directory a ZIP64 extra field, and the archive a
// ZIP64 end record. Readers locate entries through the central directory, as Excel does.
//
// The local header of an entry never has a ZIP64 extra field, because its size is unknown when it
// is written, and a ZIP64 extra on every entry makes every file a ZIP64 file for the sake of the
// rare one past 4 GiB. The cost: APPNOTE 4.3.9.2 ties 8-byte descriptor sizes to that local extra,
// so a reader that walks local headers without the central directory may misread an entry past
// 4 GiB. Readers of .xlsx use the central directory (tests/e2e/test_zip64.py reads one back).
//
// An entry may have a late head: its first bytes are given only when it ends (a sheet's
// <dimension> is known after its last row). The head is kept as a stored (uncompressed) deflate
// block in front of the deflated rest; a file output overwrites it in place, and for a stream the
// deflated rest waits in an unnamed temporary file in $TMPDIR (else /tmp) until the head is known.
// Either way memory stays flat (unless that folder is in memory: tmpfs).
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sink/deflate.h"
#include "sink/output.h"

namespace strata {

struct ZipOptions {
  int level = 1;              // deflate level, see Deflater
  std::time_t timestamp = 0;  // entries' modification time; 0: now
  bool force_zip64 = false;   // write every ZIP64 record even for small archives (for tests)
};

class ZipWriter {
 public:
  // REQUIRES: out outlives the writer.
  ZipWriter(Output* out, const ZipOptions& options);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // REQUIRES: no entry is open. name is ASCII. late_head_size: the size of the late head (at most
  // 65,535 bytes), 0 for none.
  Status BeginEntry(const std::string& name, size_t late_head_size = 0);
  // REQUIRES: an entry is open. The data follows the late head, if any.
  Status Write(std::string_view data);
  // late_head: the entry's first bytes, exactly as many as BeginEntry said.
  Status EndEntry(std::string_view late_head = {});
  // BeginEntry + Write + EndEntry.
  Status AddEntry(const std::string& name, std::string_view data);
  // Writes the central directory. REQUIRES: no entry is open.
  Status Finish();

  uint64_t compressed_bytes() const { return out_->bytes_written(); }

 private:
  struct Entry {
    std::string name;
    uint64_t offset = 0;
    uint64_t compressed = 0;
    uint64_t uncompressed = 0;
    uint32_t crc = 0;
  };
  Status Put(std::string_view bytes);
  Status ReserveLateHead(size_t size);
  Status PlaceLateHead(std::string_view head);

  Output* out_;
  ZipOptions options_;
  Deflater deflater_;
  uint16_t dos_time_ = 0;
  uint16_t dos_date_ = 0;
  std::vector<Entry> entries_;
  bool open_ = false;
  uint64_t data_start_ = 0;
  size_t late_head_size_ = 0;
  uint64_t late_head_offset_ = 0;  // where its bytes are in the output, when it can overwrite
  std::FILE* spool_ = nullptr;     // the deflated rest of an entry with a late head, for a stream
};

}  // namespace strata
