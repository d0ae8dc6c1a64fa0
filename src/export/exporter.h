// Export: runs a report query on a Source and streams its rows through a Sink (DESIGN.md, "export").
//
// Two threads: the calling thread formats and compresses; a second one reads rows from the
// database, so the database never waits on the compressor and the compressor never waits on the
// network. They exchange a fixed number of Batches, so memory is bounded whatever the row count.
// Cancellation: Source::Cancel() from any thread stops the query; RunExport then returns
// kCancelled. A failing sink (disk full) cancels the query too. The Output is left for the caller
// to commit or discard: RunExport never publishes a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sink/output.h"
#include "sink/sink.h"
#include "source/source.h"

namespace strata::exporting {

struct Progress {
  uint64_t rows = 0;
  uint64_t bytes = 0;  // written to the Output so far
  std::chrono::steady_clock::duration elapsed{};
};

struct ExportOptions {
  ExecuteOptions execute;
  size_t batches_in_flight = 4;
  // Called on the calling thread after each batch is written. May be empty.
  std::function<void(const Progress&)> on_progress;
};

struct ExportResult {
  std::vector<Column> columns;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  // The time spent waiting for the database: running the query and reading its rows (the reader
  // thread's time in Execute and Next, not the time it waited for the sink). The watch's measure.
  double db_seconds = 0;
  std::vector<std::string> warnings;  // from the sink
};

// REQUIRES: sink writes to out; nothing else uses source meanwhile (but Cancel()).
Result<ExportResult> RunExport(Source& source, const Query& query, Sink& sink, const Output& out,
                               const ExportOptions& options);

}  // namespace strata::exporting
