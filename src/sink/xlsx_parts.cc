#include "sink/xlsx_parts.h"

#include "common/text.h"
#include "sink/byte_buffer.h"
#include "sink/xml_text.h"

namespace strata {

namespace {
constexpr const char* kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr const char* kMainNs = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr const char* kRelNs = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

std::string Escaped(const std::string& s) {
  ByteBuffer b;
  AppendXmlEscaped(s, &b);
  return std::string(b.view());
}
}  // namespace

std::string XlsxContentTypesXml(size_t sheets) {
  std::string x = kXmlDecl;
  x += "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
       "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
       "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
       "<Override PartName=\"/xl/workbook.xml\" "
       "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
       "<Override PartName=\"/xl/styles.xml\" "
       "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
       "<Override PartName=\"/docProps/core.xml\" "
       "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
       "<Override PartName=\"/docProps/app.xml\" "
       "ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>";
  for (size_t k = 1; k <= sheets; ++k) {
    x += "<Override PartName=\"/xl/worksheets/sheet" + std::to_string(k) +
         ".xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>";
  }
  return x + "</Types>";
}

std::string XlsxRootRelsXml() {
  std::string x = kXmlDecl;
  x += "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
       "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
       "officeDocument\" Target=\"xl/workbook.xml\"/>"
       "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
       "core-properties\" Target=\"docProps/core.xml\"/>"
       "<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
       "extended-properties\" Target=\"docProps/app.xml\"/>"
       "</Relationships>";
  return x;
}

std::string XlsxWorkbookXml(const std::vector<XlsxSheetInfo>& sheets) {
  std::string x = kXmlDecl;
  x += std::string("<workbook xmlns=\"") + kMainNs + "\" xmlns:r=\"" + kRelNs + "\">";
  x += "<bookViews><workbookView/></bookViews><sheets>";
  for (size_t k = 0; k < sheets.size(); ++k) {
    x += "<sheet name=\"" + Escaped(sheets[k].name) + "\" sheetId=\"" + std::to_string(k + 1) + "\" r:id=\"rId" +
         std::to_string(k + 1) + "\"/>";
  }
  x += "</sheets><definedNames>";
  // Excel keeps each sheet's autofilter range in this hidden name; without it the filter still
  // shows, but Excel repairs the file on some versions.
  for (size_t k = 0; k < sheets.size(); ++k) {
    std::string quoted;
    for (char c : sheets[k].name) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    x += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"" + std::to_string(k) + "\" hidden=\"1\">'" +
         Escaped(quoted) + "'!" + sheets[k].filter_ref + "</definedName>";
  }
  return x + "</definedNames></workbook>";
}

std::string XlsxWorkbookRelsXml(size_t sheets) {
  std::string x = kXmlDecl;
  x += "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
  for (size_t k = 1; k <= sheets; ++k) {
    x += "<Relationship Id=\"rId" + std::to_string(k) +
         "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
         "Target=\"worksheets/sheet" +
         std::to_string(k) + ".xml\"/>";
  }
  x += "<Relationship Id=\"rId" + std::to_string(sheets + 1) +
       "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" "
       "Target=\"styles.xml\"/>";
  return x + "</Relationships>";
}

std::string XlsxStylesXml() {
  std::string x = kXmlDecl;
  x += std::string("<styleSheet xmlns=\"") + kMainNs + "\">";
  x += "<numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/>"
       "<numFmt numFmtId=\"165\" formatCode=\"yyyy\\-mm\\-dd\\ hh:mm:ss\"/></numFmts>"
       "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>"
       "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>"
       "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
       "<fill><patternFill patternType=\"gray125\"/></fill></fills>"
       "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
       "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
       "<cellXfs count=\"4\">"
       "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
       "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>"
       "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
       "<xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>"
       "</cellXfs>"
       "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
       "</styleSheet>";
  return x;
}

std::string XlsxCoreXml(std::time_t created) {
  std::tm tm{};
  gmtime_r(&created, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string x = kXmlDecl;
  x += "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
       "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
       "<dc:creator>Strata</dc:creator>"
       "<dcterms:created xsi:type=\"dcterms:W3CDTF\">";
  x += when;
  x += "</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">";
  x += when;
  return x + "</dcterms:modified></cp:coreProperties>";
}

std::string XlsxAppXml() {
  std::string x = kXmlDecl;
  x += "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">"
       "<Application>Strata</Application></Properties>";
  return x;
}

std::string ColumnLetters(size_t column) {
  std::string out;
  size_t n = column + 1;
  while (n > 0) {
    out.insert(out.begin(), static_cast<char>('A' + (n - 1) % 26));
    n = (n - 1) / 26;
  }
  return out;
}

std::string SafeSheetName(const std::string& name, const std::string& suffix) {
  std::string clean;
  for (char c : RepairUtf8(name)) {
    if (c == '[' || c == ']' || c == ':' || c == '*' || c == '?' || c == '/' || c == '\\') {
      clean += '_';
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      clean += c;
    }
  }
  while (!clean.empty() && clean.front() == '\'') clean.erase(clean.begin());
  if (clean.empty()) clean = "Sheet";
  // Cut to 31 UTF-16 units less the suffix, on a character boundary.
  const size_t budget = 31 - suffix.size();
  size_t units = 0, bytes = 0;
  while (bytes < clean.size()) {
    const size_t len = Utf8SequenceLength(std::string_view(clean).substr(bytes));
    const size_t u = len == 4 ? 2 : 1;
    if (units + u > budget) break;
    units += u;
    bytes += len;
  }
  clean.resize(bytes);
  while (!clean.empty() && clean.back() == '\'') clean.pop_back();
  return clean + suffix;
}

}  // namespace strata
