#include "sink/xlsx_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/text.h"

namespace strata {

namespace {

constexpr size_t kFlushBytes = 256 * 1024;
constexpr int64_t kMaxExcelInt = 999'999'999'999'999;  // 15 digits: what Excel keeps of a number
const int64_t kDay1900_01_01 = DaysFromCivil(1900, 1, 1);
const int64_t kDay1900_03_01 = DaysFromCivil(1900, 3, 1);
const int64_t kDay1899_12_30 = DaysFromCivil(1899, 12, 30);
const int64_t kDay9999_12_31 = DaysFromCivil(9999, 12, 31);

void AppendInt(ByteBuffer* b, int64_t v) {
  char* p = b->Reserve(24);
  auto r = std::to_chars(p, p + 24, v);
  b->Commit(static_cast<size_t>(r.ptr - p));
}

void AppendDouble(ByteBuffer* b, double v) {
  char* p = b->Reserve(32);
  auto r = std::to_chars(p, p + 32, v);  // shortest text that reads back as the same double
  b->Commit(static_cast<size_t>(r.ptr - p));
}

// Characters a value takes on screen, for column widths.
size_t DisplayChars(const Batch& batch, const Value& v) {
  switch (v.type) {
    case Type::kNull: return 0;
    case Type::kBool: return 5;
    case Type::kInt64: return std::to_string(v.i).size();
    case Type::kDouble: return 10;
    case Type::kDate: return 10;
    case Type::kTimestamp:
    case Type::kTimestampTz: return 19;
    case Type::kBytes: return 2 + 2 * v.length;
    default: return Utf8Length(batch.Text(v));
  }
}

// A sheet's first bytes, up to its <dimension> (the cells it uses, "A1:C101"), which is known only
// when the sheet ends. Spaces before "/>" pad it to the size of the largest ref, A1:XFD1048576, so
// that the head's size is known when the sheet starts (ZipWriter's late head).
std::string SheetHead(std::string_view ref) {
  constexpr std::string_view kLargestRef = "A1:XFD1048576";
  std::string head =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
      "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
      "<dimension ref=\"";
  head.append(ref);
  head += '"';
  head.append(kLargestRef.size() - std::min(ref.size(), kLargestRef.size()), ' ');
  head += "/>";
  return head;
}

}  // namespace

std::optional<int64_t> ExcelDateSerial(int64_t days) {
  if (days < kDay1900_01_01 || days > kDay9999_12_31) return std::nullopt;
  // Excel counts the nonexistent 1900-02-29 (Lotus 1-2-3 compatibility, ECMA-376 Part 1 §18.17.4.1),
  // so serials from 1900-03-01 on are one higher than a plain day count from 1899-12-31.
  if (days >= kDay1900_03_01) return days - kDay1899_12_30;
  return days - kDay1899_12_30 - 1;
}

std::optional<double> ExcelTimestampSerial(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  auto serial = ExcelDateSerial(days);
  if (!serial) return std::nullopt;
  return static_cast<double>(*serial) + static_cast<double>(rest) / static_cast<double>(kMicrosPerDay);
}

bool NumericFitsDouble(std::string_view text, double* value) {
  size_t significant = 0;
  bool seen_nonzero = false;
  size_t pending_zeros = 0;
  for (char c : text) {
    if (c == 'e' || c == 'E') break;
    if (c < '0' || c > '9') continue;
    if (c == '0') {
      if (seen_nonzero) ++pending_zeros;
      continue;
    }
    seen_nonzero = true;
    significant += pending_zeros + 1;  // zeros between nonzero digits count, trailing ones do not
    pending_zeros = 0;
  }
  if (significant > 15) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*value);
}

XlsxWriter::XlsxWriter(const XlsxOptions& options, Output* out)
    : options_(options), zip_(out, ZipOptions{options.compression, options.timestamp, false}), buf_(kFlushBytes * 2) {
  if (options_.timestamp == 0) options_.timestamp = std::time(nullptr);
  if (options_.max_rows_per_sheet == 0 || options_.max_rows_per_sheet > 1048575) options_.max_rows_per_sheet = 1048575;
}

Status XlsxWriter::Begin(const std::vector<Column>& columns) {
  if (columns.empty()) return Status::Usage("the query returns no columns");
  if (columns.size() > 16384) {
    return Status::Usage("the query returns " + std::to_string(columns.size()) +
                         " columns; an Excel sheet holds 16,384 (export to csv instead)");
  }
  columns_ = columns;
  return Status::Ok();
}

void XlsxWriter::ComputeWidths(const Batch* sample) {
  std::vector<size_t> chars(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    chars[c] = Utf8Length(columns_[c].name) + 3;  // room for the autofilter button
  }
  if (sample != nullptr) {
    const size_t rows = std::min(sample->rows(), options_.width_sample_rows);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < columns_.size(); ++c)
        chars[c] = std::max(chars[c], DisplayChars(*sample, sample->at(r, c)));
    }
  }
  widths_.clear();
  for (size_t n : chars) widths_.push_back(std::clamp(static_cast<double>(n) + 1.7, 8.0, 60.0));
}

Status XlsxWriter::StartSheet() {
  const size_t index = sheets_.size() + 1;
  sheets_.push_back({SafeSheetName(options_.sheet_name, index == 1 ? "" : " (" + std::to_string(index) + ")"), ""});
  STRATA_RETURN_IF_ERROR(
      zip_.BeginEntry("xl/worksheets/sheet" + std::to_string(index) + ".xml", SheetHead("A1").size()));
  buf_.Append(index == 1 ? std::string_view("<sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\">")
                         : std::string_view("<sheetViews><sheetView workbookViewId=\"0\">"));
  buf_.AppendLiteral(
      "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
      "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>"
      "<sheetFormatPr defaultRowHeight=\"15\"/><cols>");
  for (size_t c = 0; c < widths_.size(); ++c) {
    buf_.AppendLiteral("<col min=\"");
    AppendInt(&buf_, static_cast<int64_t>(c + 1));
    buf_.AppendLiteral("\" max=\"");
    AppendInt(&buf_, static_cast<int64_t>(c + 1));
    buf_.AppendLiteral("\" width=\"");
    AppendDouble(&buf_, std::round(widths_[c] * 100) / 100);
    buf_.AppendLiteral("\" customWidth=\"1\"/>");
  }
  buf_.AppendLiteral("</cols><sheetData><row>");
  for (const Column& col : columns_) AppendInlineText(col.name, kStyleHeader);
  buf_.AppendLiteral("</row>");
  sheet_open_ = true;
  rows_in_sheet_ = 0;
  return Status::Ok();
}

Status XlsxWriter::EndSheet() {
  const std::string last_column = ColumnLetters(columns_.size() - 1);
  const std::string last_row = std::to_string(rows_in_sheet_ + 1);
  const std::string ref = "$A$1:$" + last_column + "$" + last_row;
  sheets_.back().filter_ref = ref;
  buf_.AppendLiteral("</sheetData><autoFilter ref=\"");
  std::string plain;
  for (char c : ref) {
    if (c != '$') plain += c;
  }
  buf_.Append(plain);
  buf_.AppendLiteral(
      "\"/><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" "
      "footer=\"0.3\"/></worksheet>");
  STRATA_RETURN_IF_ERROR(FlushBuffer());
  sheet_open_ = false;
  return zip_.EndEntry(SheetHead("A1:" + last_column + last_row));
}

Status XlsxWriter::FlushBuffer() {
  Status s = zip_.Write(buf_.view());
  buf_.clear();
  return s;
}

void XlsxWriter::AppendInlineText(std::string_view text, int style) {
  if (style != 0) {
    buf_.AppendLiteral("<c s=\"");
    AppendInt(&buf_, style);
    buf_.AppendLiteral("\" t=\"inlineStr\"><is>");
  } else {
    buf_.AppendLiteral("<c t=\"inlineStr\"><is>");
  }
  if (NeedsSpacePreserve(text)) {
    buf_.AppendLiteral("<t xml:space=\"preserve\">");
  } else {
    buf_.AppendLiteral("<t>");
  }
  if (AppendXmlCellText(text, &buf_, &repairs_) && first_truncated_row_ == 0) first_truncated_row_ = total_rows_ + 1;
  buf_.AppendLiteral("</t></is></c>");
}

void XlsxWriter::AppendRow(const Batch& batch, size_t row) {
  buf_.AppendLiteral("<row>");
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Value& v = batch.at(row, c);
    switch (v.type) {
      case Type::kNull: buf_.AppendLiteral("<c/>"); break;
      case Type::kBool:
        buf_.Append(v.b ? std::string_view("<c t=\"b\"><v>1</v></c>") : std::string_view("<c t=\"b\"><v>0</v></c>"));
        break;
      case Type::kInt64:
        if (v.i >= -kMaxExcelInt && v.i <= kMaxExcelInt) {
          buf_.AppendLiteral("<c><v>");
          AppendInt(&buf_, v.i);
          buf_.AppendLiteral("</v></c>");
        } else {
          ++numbers_as_text_;
          AppendInlineText(std::to_string(v.i), 0);
        }
        break;
      case Type::kDouble:
        if (std::isfinite(v.d)) {
          buf_.AppendLiteral("<c><v>");
          AppendDouble(&buf_, v.d);
          buf_.AppendLiteral("</v></c>");
        } else {
          ++numbers_as_text_;
          AppendInlineText(std::isnan(v.d) ? "NaN" : (v.d > 0 ? "Infinity" : "-Infinity"), 0);
        }
        break;
      case Type::kNumeric: {
        double d = 0;
        const std::string_view text = batch.Text(v);
        if (NumericFitsDouble(text, &d)) {
          buf_.AppendLiteral("<c><v>");
          AppendDouble(&buf_, d);
          buf_.AppendLiteral("</v></c>");
        } else {
          ++numbers_as_text_;
          AppendInlineText(text, 0);
        }
        break;
      }
      case Type::kDate:
        if (auto serial = ExcelDateSerial(v.i)) {
          buf_.AppendLiteral("<c s=\"2\"><v>");
          AppendInt(&buf_, *serial);
          buf_.AppendLiteral("</v></c>");
        } else {
          ++dates_as_text_;
          AppendInlineText(FormatDate(v.i), 0);
        }
        break;
      case Type::kTimestamp:
      case Type::kTimestampTz:
        if (auto serial = ExcelTimestampSerial(v.i)) {
          buf_.AppendLiteral("<c s=\"3\"><v>");
          AppendDouble(&buf_, *serial);
          buf_.AppendLiteral("</v></c>");
        } else {
          ++dates_as_text_;
          AppendInlineText(FormatTimestamp(v.i), 0);
        }
        break;
      case Type::kBytes:  // no more than the cell can show
        AppendInlineText(HexBytes(batch.Text(v), kExcelMaxCellChars / 2), 0);
        break;
      case Type::kText: {
        const uint64_t before = repairs_.truncated_cells;
        AppendInlineText(batch.Text(v), 0);
        if (repairs_.truncated_cells != before && first_truncated_column_.empty())
          first_truncated_column_ = columns_[c].name;
        break;
      }
    }
  }
  buf_.AppendLiteral("</row>");
}

Status XlsxWriter::Write(const Batch& batch) {
  if (!sheet_open_ && sheets_.empty()) {
    ComputeWidths(&batch);
    STRATA_RETURN_IF_ERROR(StartSheet());
  }
  const size_t rows = batch.rows();
  for (size_t r = 0; r < rows; ++r) {
    if (rows_in_sheet_ == options_.max_rows_per_sheet) {
      STRATA_RETURN_IF_ERROR(EndSheet());
      STRATA_RETURN_IF_ERROR(StartSheet());
    }
    AppendRow(batch, r);
    ++rows_in_sheet_;
    ++total_rows_;
    if (buf_.size() >= kFlushBytes) STRATA_RETURN_IF_ERROR(FlushBuffer());
  }
  return Status::Ok();
}

Status XlsxWriter::Finish() {
  if (sheets_.empty()) {
    ComputeWidths(nullptr);
    STRATA_RETURN_IF_ERROR(StartSheet());
  }
  if (sheet_open_) STRATA_RETURN_IF_ERROR(EndSheet());
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("xl/workbook.xml", XlsxWorkbookXml(sheets_)));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("xl/_rels/workbook.xml.rels", XlsxWorkbookRelsXml(sheets_.size())));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("xl/styles.xml", XlsxStylesXml()));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("docProps/core.xml", XlsxCoreXml(options_.timestamp)));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("docProps/app.xml", XlsxAppXml()));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("_rels/.rels", XlsxRootRelsXml()));
  STRATA_RETURN_IF_ERROR(zip_.AddEntry("[Content_Types].xml", XlsxContentTypesXml(sheets_.size())));
  return zip_.Finish();
}

std::vector<std::string> XlsxWriter::warnings() const {
  std::vector<std::string> out;
  if (repairs_.truncated_cells > 0) {
    std::string where = " (first in row " + GroupThousands(first_truncated_row_);
    if (!first_truncated_column_.empty()) where += ", column " + first_truncated_column_;
    out.push_back(GroupThousands(repairs_.truncated_cells) +
                  " text cell(s) were cut to Excel's limit of 32,767 characters" + where + ")");
  }
  if (repairs_.invalid_utf8 > 0) {
    out.push_back(GroupThousands(repairs_.invalid_utf8) + " invalid UTF-8 sequence(s) were replaced by U+FFFD");
  }
  if (repairs_.dropped_characters > 0) {
    out.push_back(GroupThousands(repairs_.dropped_characters) +
                  " control character(s) that XML cannot hold were dropped");
  }
  if (numbers_as_text_ > 0) {
    out.push_back(GroupThousands(numbers_as_text_) +
                  " number(s) were written as text to keep every digit (more than Excel's 15 digits, or NaN)");
  }
  if (dates_as_text_ > 0) {
    out.push_back(GroupThousands(dates_as_text_) +
                  " date(s) outside Excel's calendar (1900-01-01 to 9999-12-31) were written as text");
  }
  if (sheets_.size() > 1) {
    out.push_back("the rows did not fit one sheet (Excel's limit is 1,048,576 rows): they continue on " +
                  std::to_string(sheets_.size()) + " sheets");
  }
  return out;
}

}  // namespace strata
