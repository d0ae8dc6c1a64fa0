// CsvWriter: RFC 4180 CSV in UTF-8 with CRLF line ends, optionally after a byte-order mark (which
// makes Excel read the file as UTF-8).
//
// Fields holding a comma, a quote, CR or LF are quoted, quotes doubled. Invalid UTF-8 is replaced by
// U+FFFD. The formula-injection guard (on by default) prefixes a text cell that begins with
// = + - @ tab or CR with an apostrophe, so a spreadsheet shows it instead of evaluating it; numbers
// are never touched. Values: NULL is an empty field, empty text is "" (as PostgreSQL's COPY does); dates, timestamps as
// ISO 8601 (timestamptz with "+00", in UTC); bool as true/false; bytes as \x and hex; numerics exact.
#pragma once

#include "sink/byte_buffer.h"
#include "sink/sink.h"

namespace strata {

class CsvWriter : public Sink {
 public:
  CsvWriter(const CsvOptions& options, Output* out);

  Status Begin(const std::vector<Column>& columns) override;
  Status Write(const Batch& batch) override;
  Status Finish() override;
  std::vector<std::string> warnings() const override;
  uint64_t rows() const override { return rows_; }

 private:
  void AppendText(std::string_view text, bool guard);
  Status Flush();

  CsvOptions options_;
  Output* out_;
  ByteBuffer buf_;
  size_t columns_ = 0;
  uint64_t rows_ = 0;
  uint64_t invalid_utf8_ = 0;
  uint64_t guarded_ = 0;
};

}  // namespace strata
