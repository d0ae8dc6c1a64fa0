#include "sink/sink.h"

#include "sink/csv_writer.h"
#include "sink/xlsx_writer.h"

namespace strata {

std::unique_ptr<Sink> MakeSink(const SinkOptions& options, Output* out) {
  if (options.format == Format::kCsv) return std::make_unique<CsvWriter>(options.csv, out);
  return std::make_unique<XlsxWriter>(options.xlsx, out);
}

}  // namespace strata
