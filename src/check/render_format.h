// Text and numbers as the check renderers write them: untrusted text escaped for HTML and Markdown, and
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

// s as Markdown (GitHub-flavoured) text that shows exactly s, on one line, in a paragraph or a table
// cell: invalid UTF-8 becomes U+FFFD; control characters (line breaks too) become spaces, and
// leading and trailing spaces are dropped; & < > become references, so no HTML can start;
// \ ` * [ ] | ~ # $ are backslash-escaped, and _ too unless it stands between two letters or
// digits, so no code, emphasis, link, table cell, strike-through, heading or math can start; a
// leading list or heading marker (-, +, =, "1. " or "1) ") is escaped, and so are the ':' of "://"
// and the '.' of "www.", so no link is made. An '@' and a ':' that could open an emoji shortcode
// get a word joiner (U+2060) after them, so data mentions nobody, links no e-mail address and
// shows no emoji. (GitHub still links #numbers in text: an escape cannot stop that.)
std::string EscapeMarkdown(std::string_view s);

// A fenced code block that shows content verbatim, info string and all, ending with a blank line.
// The fence is one backtick longer than the longest run of backticks in content (at least three),
// so nothing in it can close the block. Invalid UTF-8 becomes U+FFFD; CR and the other control
// characters but tab and LF are dropped. REQUIRES: info is Strata's own word ("sql", "text").
std::string MarkdownCodeBlock(std::string_view content, std::string_view info);

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
