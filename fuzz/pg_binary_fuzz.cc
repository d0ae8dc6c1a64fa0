// Fuzzes the decoders of PostgreSQL's binary format: the first byte picks a type, the rest is the
// value as the server would send it. Any bytes give a cell (text describing what was wrong when
// they do not fit the type), never a crash or a read past the value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/batch.h"
#include "source/pg_binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const uint32_t kOids[] = {16,  17,  19,   20,   21,   23,   25,   26,   114,  700,
                                   701, 705, 1042, 1043, 1082, 1114, 1184, 1700, 2950, 3802};
  if (size == 0) return 0;
  const uint32_t oid = kOids[data[0] % (sizeof kOids / sizeof kOids[0])];
  if (!strata::pg::HasBinaryDecoder(oid)) std::abort();
  // A copy of exactly the value's bytes: the sanitizer catches any read past them.
  const std::string value(reinterpret_cast<const char*>(data + 1), size - 1);
  strata::Batch batch(1);
  std::string scratch;
  strata::pg::AddBinaryValue(&batch, oid, value, &scratch);
  if (batch.rows() != 1) std::abort();
  return 0;
}
