// Format: the two file formats Strata writes, their names, extensions and media types. Apart from
// the writers, so that code that only names a format (a request parser, a job's file) needs no
// writer.
#pragma once

#include <string>

#include "common/status.h"

namespace strata {

enum class Format { kXlsx, kCsv };

// "xlsx" or "csv" from a --format value, or from the output file's extension.
Result<Format> FormatFromName(const std::string& name);
Result<Format> FormatFromPath(const std::string& path);
// The format's name, which is also its files' extension: "xlsx" or "csv".
const char* FormatName(Format format);
// The media type a download of the format is sent with.
const char* FormatMediaType(Format format);

}  // namespace strata
