// The small, fixed parts of an .xlsx package (ECMA-376 Part 1 and Part 2, the Open Packaging
// Conventions): content types, relationships, workbook, styles, document properties. The sheets
// themselves are streamed by XlsxWriter.
#pragma once

#include <ctime>
#include <string>
#include <vector>

namespace strata {

// Style indexes into cellXfs of XlsxStylesXml().
constexpr int kStyleHeader = 1;     // bold
constexpr int kStyleDate = 2;       // yyyy-mm-dd
constexpr int kStyleTimestamp = 3;  // yyyy-mm-dd hh:mm:ss

struct XlsxSheetInfo {
  std::string name;        // as shown on the tab
  std::string filter_ref;  // "$A$1:$J$1001", the autofilter's range
};

std::string XlsxContentTypesXml(size_t sheets);
std::string XlsxRootRelsXml();
std::string XlsxWorkbookXml(const std::vector<XlsxSheetInfo>& sheets);
std::string XlsxWorkbookRelsXml(size_t sheets);
std::string XlsxStylesXml();
std::string XlsxCoreXml(std::time_t created);
std::string XlsxAppXml();

// "A", "B", ..., "Z", "AA", ...: the letters of a 0-based column index.
std::string ColumnLetters(size_t column);

// A sheet name Excel accepts: at most 31 characters, none of []:*?/\ , not empty, not starting or
// ending with an apostrophe. suffix (" (2)") is kept whole.
std::string SafeSheetName(const std::string& name, const std::string& suffix);

}  // namespace strata
