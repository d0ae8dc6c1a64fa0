// Fuzzes cell text escaping with arbitrary bytes: the result must always be text Excel accepts —
// valid UTF-8, no character XML 1.0 forbids, no bare markup, within 32,767 UTF-16 units.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/text.h"
#include "sink/xml_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  strata::ByteBuffer out(16);
  strata::TextRepairs repairs;
  strata::AppendXmlCellText(text, &out, &repairs);
  const std::string_view xml = out.view();
  if (strata::RepairUtf8(xml) != xml) std::abort();
  size_t units = 0;
  for (size_t i = 0; i < xml.size();) {
    const size_t n = strata::Utf8SequenceLength(xml.substr(i));
    const uint32_t cp = strata::Utf8Decode(xml.substr(i), n);
    if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xFFFE || cp == 0xFFFF || cp == '<' || cp == '>') std::abort();
    if (cp == '&' && xml.substr(i, 5) != "&amp;" && xml.substr(i, 4) != "&lt;" && xml.substr(i, 4) != "&gt;" &&
        xml.substr(i, 5) != "&#13;") {
      std::abort();
    }
    units += cp >= 0x10000 ? 2 : 1;
    i += n;
  }
  // Escapes make the XML longer than the text Excel shows; bound it by the worst case of 7 bytes
  // of XML per shown character.
  if (units > 7 * strata::kExcelMaxCellChars) std::abort();
  return 0;
}
