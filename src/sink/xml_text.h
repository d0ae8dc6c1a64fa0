// Cell text made safe for SpreadsheetML: the one place that decides what a text cell becomes.
//
// - & < > are escaped; CR is written as &#13; (XML parsers turn a raw CR into LF);
// - a literal "_xHHHH_" gets its '_' escaped as _x005F_, since Excel decodes _xHHHH_ in strings;
// - characters XML 1.0 forbids (C0 controls but tab and LF, U+FFFE, U+FFFF) are dropped;
// - invalid UTF-8 is replaced by U+FFFD;
// - text past Excel's 32,767 characters (UTF-16 code units, as Excel counts) is cut.
// Every change is counted in TextRepairs so the export can warn about it.
#pragma once

#include <cstdint>
#include <string_view>

#include "sink/byte_buffer.h"

namespace strata {

constexpr size_t kExcelMaxCellChars = 32767;

struct TextRepairs {
  uint64_t dropped_characters = 0;  // forbidden in XML
  uint64_t invalid_utf8 = 0;        // sequences replaced by U+FFFD
  uint64_t truncated_cells = 0;     // cut at kExcelMaxCellChars
};

// Appends text as the content of <t>. Returns true when the cell was cut.
bool AppendXmlCellText(std::string_view text, ByteBuffer* out, TextRepairs* repairs);

// Appends text escaped for an XML attribute or element (names, titles): & < > " ' escaped, invalid
// UTF-8 replaced, forbidden characters dropped.
void AppendXmlEscaped(std::string_view text, ByteBuffer* out);

// True when <t> needs xml:space="preserve" (leading or trailing white space).
inline bool NeedsSpacePreserve(std::string_view text) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  return !text.empty() && (ws(text.front()) || ws(text.back()));
}

}  // namespace strata
