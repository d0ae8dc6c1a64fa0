// Text and numbers as the check renderers write them: untrusted text escaped for HTML, and
// milliseconds, counts and ratios formatted the same way everywhere a person reads them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "check/check.h"

namespace strata::check {

// Appends s escaped for XML 1.0 (JUnit, SVG): & < > " ' and CR become references; invalid UTF-8
// becomes U+FFFD; characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF) are
// dropped. In an attribute tab and LF become references too, since a parser turns raw ones into spaces.
enum class XmlContext { kText, kAttribute };
void AppendXml(std::string_view s, XmlContext context, std::string* out);

// The same rules for HTML text and quoted attribute values (one escaper for every markup Strata writes).
void AppendEscapedHtml(std::string_view s, std::string* out);
std::string EscapeHtml(std::string_view s);

// Fixed-point text that does not depend on the C locale: FormatFixed(1.234, 2) == "1.23". A value that is
// not finite is written "0".
std::string FormatFixed(double v, int precision);

// Milliseconds for people, with the digits that matter: "0.042", "3.14", "42.1", "3,150".
// Negative or not finite (unknown) gives "—".
std::string FormatMs(double ms);

// A count with thousands grouped, "5,210"; negative (unknown) gives "—". Doubles are rounded.
std::string FormatCount(int64_t n);
std::string FormatCount(double n);

// The candidate's median over the base's: "1.23×"; "≥ 12.00× (timed out)" when the candidate timed
// out (the ratio is then a lower bound; "timed out" without one); "—" when there is no ratio.
std::string FormatRatio(const TenantResult& tenant);

}  // namespace strata::check
