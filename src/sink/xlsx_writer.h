// XlsxWriter: the streaming .xlsx sink.
//
// Layout: one worksheet per 1,048,575 data rows (Excel's limit less the header); each sheet has a
// bold, frozen header row with an autofilter, column widths taken from the first rows, and the
// <dimension> of the cells it uses (written when the sheet ends, see ZipWriter's late head). Strings
// are inline (no shared-string table, so memory does not grow with rows); cells carry no "r"
// attribute (they are consecutive, which the spec allows) and a NULL is an empty <c/>.
//
// Cell rules (exactness first):
//   int64       a number up to 15 digits, else text: Excel keeps 15 significant digits and would
//               show 1234567890123456 as 1234567890123450
//   double      a number; NaN and infinities as text
//   numeric     a number when it has at most 15 significant digits, else its exact text
//   date        an Excel date (yyyy-mm-dd) from 1900-01-01 to 9999-12-31, else ISO text
//   timestamp   an Excel date-time (yyyy-mm-dd hh:mm:ss), same range; timestamptz in UTC
//   bool        TRUE/FALSE;  bytes: "\x" and hex;  text: see xml_text.h
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sink/byte_buffer.h"
#include "sink/sink.h"
#include "sink/xlsx_parts.h"
#include "sink/xml_text.h"
#include "sink/zip_writer.h"

namespace strata {

// Excel's serial day number for a date (days since 1970-01-01), in the 1900 date system; nullopt
// before 1900-01-01 or after 9999-12-31.
std::optional<int64_t> ExcelDateSerial(int64_t days);
// The same for a timestamp, with the time of day as the fraction.
std::optional<double> ExcelTimestampSerial(int64_t micros);
// True when the decimal text converts to a double and back without losing a digit.
bool NumericFitsDouble(std::string_view text, double* value);

class XlsxWriter : public Sink {
 public:
  XlsxWriter(const XlsxOptions& options, Output* out);

  Status Begin(const std::vector<Column>& columns) override;
  Status Write(const Batch& batch) override;
  Status Finish() override;
  std::vector<std::string> warnings() const override;
  uint64_t rows() const override { return total_rows_; }

 private:
  void ComputeWidths(const Batch* sample);
  Status StartSheet();
  Status EndSheet();
  void AppendRow(const Batch& batch, size_t row);
  void AppendInlineText(std::string_view text, int style);
  Status FlushBuffer();

  XlsxOptions options_;
  ZipWriter zip_;
  ByteBuffer buf_;
  std::vector<Column> columns_;
  std::vector<double> widths_;
  std::vector<XlsxSheetInfo> sheets_;
  bool sheet_open_ = false;
  uint64_t rows_in_sheet_ = 0;
  uint64_t total_rows_ = 0;
  TextRepairs repairs_;
  uint64_t first_truncated_row_ = 0;  // 1-based data row of the first cut cell
  std::string first_truncated_column_;
  uint64_t numbers_as_text_ = 0;  // integers past 2^53, long numerics, NaN
  uint64_t dates_as_text_ = 0;    // outside Excel's calendar
};

}  // namespace strata
