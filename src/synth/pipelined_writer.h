// PipelinedWriter: a BulkWriter that hands rows to another thread, so that making the rows (this
// thread) and loading them (SQLite's inserts, COPY's formatting) run on two cores, as an export's
// reading and writing do.
//
// Cells are recorded into batches of rows; a full batch goes through a bounded queue to a thread
// that replays it into the real writer. Everything else (Execute, QueryCount, BeginTable,
// EndTable, Commit) first waits until the queue is empty, then runs on the real writer. A failure
// of the loading thread is returned by the next call that can return one (EndRow, EndTable, ...),
// and every later call returns it too. Cancel() reaches the real writer at once.
#pragma once

#include <memory>

#include "synth/bulk_writer.h"

namespace strata::synth {

// REQUIRES: inner outlives nothing it is given to; the PipelinedWriter owns it.
std::unique_ptr<BulkWriter> PipelineWriter(std::unique_ptr<BulkWriter> inner);

}  // namespace strata::synth
