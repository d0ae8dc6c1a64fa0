#include "sink/csv_writer.h"

#include <charconv>
#include <cmath>

#include "common/text.h"

namespace strata {

namespace {
constexpr size_t kFlushBytes = 256 * 1024;

bool NeedsQuotes(std::string_view s) {
  for (char c : s) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}
}  // namespace

CsvWriter::CsvWriter(const CsvOptions& options, Output* out) : options_(options), out_(out), buf_(kFlushBytes * 2) {}

void CsvWriter::AppendText(std::string_view text, bool guard) {
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = RepairUtf8(text);
    ++invalid_utf8_;
    text = repaired;
  }
  const bool prefix =
      guard && options_.formula_guard && !text.empty() &&
      (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' || text[0] == '\t' || text[0] == '\r');
  if (prefix) ++guarded_;
  if (text.empty()) {  // quoted, so that it reads back as '' and not as NULL (an empty field)
    buf_.AppendLiteral("\"\"");
    return;
  }
  if (!NeedsQuotes(text)) {
    if (prefix) buf_.Push('\'');
    buf_.Append(text);
    return;
  }
  buf_.Push('"');
  if (prefix) buf_.Push('\'');
  size_t start = 0;
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] == '"') {
      buf_.Append(text.data() + start, k - start + 1);
      buf_.Push('"');
      start = k + 1;
    }
  }
  buf_.Append(text.data() + start, text.size() - start);
  buf_.Push('"');
}

Status CsvWriter::Begin(const std::vector<Column>& columns) {
  columns_ = columns.size();
  if (options_.bom) buf_.AppendLiteral("\xEF\xBB\xBF");
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) buf_.Push(',');
    AppendText(columns[c].name, false);
  }
  buf_.AppendLiteral("\r\n");
  return Status::Ok();
}

Status CsvWriter::Flush() {
  Status s = out_->Write(buf_.view());
  buf_.clear();
  return s;
}

Status CsvWriter::Write(const Batch& batch) {
  const size_t rows = batch.rows();
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns_; ++c) {
      if (c > 0) buf_.Push(',');
      const Value& v = batch.at(r, c);
      switch (v.type) {
        case Type::kNull: break;
        case Type::kBool: buf_.Append(v.b ? std::string_view("true") : std::string_view("false")); break;
        case Type::kInt64: {
          char* p = buf_.Reserve(24);
          buf_.Commit(static_cast<size_t>(std::to_chars(p, p + 24, v.i).ptr - p));
          break;
        }
        case Type::kDouble:
          if (std::isfinite(v.d)) {
            char* p = buf_.Reserve(32);
            buf_.Commit(static_cast<size_t>(std::to_chars(p, p + 32, v.d).ptr - p));
          } else {
            buf_.Append(std::isnan(v.d) ? std::string_view("NaN")
                        : v.d > 0       ? std::string_view("Infinity")
                                        : std::string_view("-Infinity"));
          }
          break;
        case Type::kNumeric:
          buf_.Append(batch.Text(v));  // digits, sign, point, exponent: never needs quotes
          break;
        case Type::kDate: {
          char* p = buf_.Reserve(40);
          buf_.Commit(FormatDateTo(v.i, p));
          break;
        }
        case Type::kTimestamp:
        case Type::kTimestampTz: {
          char* p = buf_.Reserve(48);
          size_t n = FormatTimestampTo(v.i, p);
          if (v.type == Type::kTimestampTz) {
            p[n++] = '+';
            p[n++] = '0';
            p[n++] = '0';
          }
          buf_.Commit(n);
          break;
        }
        case Type::kBytes: buf_.Append(HexBytes(batch.Text(v))); break;
        case Type::kText: AppendText(batch.Text(v), true); break;
      }
    }
    buf_.AppendLiteral("\r\n");
    ++rows_;
    if (buf_.size() >= kFlushBytes) STRATA_RETURN_IF_ERROR(Flush());
  }
  return Status::Ok();
}

Status CsvWriter::Finish() {
  return Flush();
}

std::vector<std::string> CsvWriter::warnings() const {
  std::vector<std::string> out;
  if (invalid_utf8_ > 0) {
    out.push_back(GroupThousands(invalid_utf8_) + " cell(s) held invalid UTF-8; bad bytes were replaced by U+FFFD");
  }
  if (guarded_ > 0) {
    out.push_back(GroupThousands(guarded_) +
                  " text cell(s) began with = + - @ tab or CR and were prefixed with ' so spreadsheets do not run "
                  "them as formulas (--no-formula-guard keeps them as they are)");
  }
  return out;
}

}  // namespace strata
