#include "sink/format.h"

namespace strata {

Result<Format> FormatFromName(const std::string& name) {
  if (name == "xlsx") return Format::kXlsx;
  if (name == "csv") return Format::kCsv;
  return Status::Usage("unknown format '" + name + "' (formats: xlsx, csv)");
}

const char* FormatName(Format format) {
  return format == Format::kCsv ? "csv" : "xlsx";
}

const char* FormatMediaType(Format format) {
  return format == Format::kCsv ? "text/csv; charset=utf-8"
                                : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}

Result<Format> FormatFromPath(const std::string& path) {
  const size_t dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (ext == "xlsx") return Format::kXlsx;
  if (ext == "csv") return Format::kCsv;
  return Status::Usage("cannot tell the format of '" + path + "' from its name: use --format xlsx or --format csv");
}

}  // namespace strata
