// PostgreSQL's binary result format, for the types Strata maps: a value as the server sends it with
// format code 1 becomes the same cell the text format would have given (AddValue in
// postgres_source.cc), without printing and parsing it again. The server's binary output is also
// cheaper than its text output (no number or timestamp printing), which is what makes an export
// faster than the database's own COPY ... csv.
//
// Only queries whose every column has a decoder here are read in binary; any other type (interval,
// arrays, ranges, enums, domains over them...) keeps the whole query in text, as before.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/batch.h"

namespace strata::pg {

// Whether a result column of this type OID can be read in binary.
bool HasBinaryDecoder(uint32_t oid);

// Appends a non-NULL value of type `oid` (REQUIRES: HasBinaryDecoder(oid)) in binary format as a
// cell of `type` (TypeOfOid's mapping). Values a spreadsheet cannot hold as their type (infinity,
// BC dates, years past 9999) become the text PostgreSQL prints for them. A value whose length does
// not fit its type (a server bug, or a type that changed) becomes text describing it.
void AddBinaryValue(Batch* batch, uint32_t oid, std::string_view bytes, std::string* scratch);

// The text PostgreSQL prints for a binary numeric (numeric_out), "NaN", "Infinity", "-Infinity".
// False when the bytes are not a numeric.
bool NumericText(std::string_view bytes, std::string* out);

}  // namespace strata::pg
