// Fuzzes the placeholder lexer with arbitrary SQL: it must never crash, and when it accepts the
// text, every placeholder it found must map back to itself through the rewrite.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "report/sql_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string sql(reinterpret_cast<const char*>(data), size);
  auto parsed = strata::ParseSql(sql, "fuzz.sql");
  if (!parsed.ok()) return 0;
  if (sql.compare(0, parsed->text.size(), parsed->text) != 0) std::abort();  // the statement is a prefix
  for (strata::Placeholders style : {strata::Placeholders::kDollar, strata::Placeholders::kQuestion}) {
    const std::string sent = strata::RewriteSql(*parsed, style);
    size_t shift = 0;
    for (const strata::ParamUse& use : parsed->uses) {
      if (parsed->text.compare(use.offset, use.length, ":" + use.name) != 0) std::abort();
      const size_t at = use.offset - shift;  // where the placeholder is in the text sent
      if (strata::OriginalOffset(*parsed, style, at) != use.offset) std::abort();
      const size_t written = sent.find_first_not_of("0123456789", at + 1) - at;
      shift += use.length - written;
    }
  }
  return 0;
}
