// Sink: a writer that takes typed batches and streams bytes to an Output (DESIGN.md, "sink").
//
// A sink never holds the whole result: memory stays bounded however many rows pass. The calls come
// in the order Begin, Write*, Finish, all from one thread. After an error, the sink is dead and the
// Output must be discarded. Cells a format cannot hold exactly are written the safe way (see each
// writer) and counted in warnings().
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/value.h"
#include "sink/format.h"
#include "sink/output.h"

namespace strata {

struct XlsxOptions {
  std::string sheet_name = "Sheet1";      // cut to Excel's 31 characters; spill sheets add " (2)"...
  int compression = 1;                    // deflate level 0 (fastest) .. 3 (smallest)
  uint64_t max_rows_per_sheet = 1048575;  // data rows; Excel's 1,048,576 rows include the header
  size_t width_sample_rows = 1000;        // rows looked at to size the columns
  std::time_t timestamp = 0;              // the files' modification time in the ZIP; 0: now
};

struct CsvOptions {
  bool bom = false;           // start with a UTF-8 byte-order mark, for Excel
  bool formula_guard = true;  // prefix text cells beginning with = + - @ tab or CR with '
};

struct SinkOptions {
  Format format = Format::kXlsx;
  XlsxOptions xlsx;
  CsvOptions csv;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // REQUIRES: called once, first. columns is not empty.
  virtual Status Begin(const std::vector<Column>& columns) = 0;
  // REQUIRES: batch.columns() == columns.size().
  virtual Status Write(const Batch& batch) = 0;
  // Completes the file (the ZIP's directory, the last buffer) on the Output.
  virtual Status Finish() = 0;
  // What was changed to fit the format ("3 text cells were cut at 32,767 characters ...").
  virtual std::vector<std::string> warnings() const = 0;
  virtual uint64_t rows() const = 0;
};

// REQUIRES: out outlives the sink.
std::unique_ptr<Sink> MakeSink(const SinkOptions& options, Output* out);

}  // namespace strata
