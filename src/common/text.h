// UTF-8 helpers shared by the sinks and by messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace strata {

// The length of the valid UTF-8 sequence starting at s[0], or 0 when s[0] starts an invalid one
// (a stray continuation byte, an overlong form, a surrogate, a code point past U+10FFFF, or a
// sequence cut short). REQUIRES: !s.empty().
size_t Utf8SequenceLength(std::string_view s);

// When Utf8SequenceLength(s) is 0: how many bytes one U+FFFD replaces, the "maximal subpart" of
// Unicode 15 §3.9 (the longest prefix of a valid sequence, or one byte), as WHATWG and Python do.
size_t Utf8InvalidLength(std::string_view s);

// Decodes the valid sequence of the given length at s.
uint32_t Utf8Decode(std::string_view s, size_t length);

// Returns s with every invalid sequence (maximal subpart) replaced by U+FFFD.
std::string RepairUtf8(std::string_view s);

// Characters (code points) in UTF-8 text; stray bytes count as one each.
size_t Utf8Length(std::string_view s);

// Bytes as Strata shows them in cells, PostgreSQL's bytea hex format: "\x00ff". At most max_bytes
// are shown.
std::string HexBytes(std::string_view bytes, size_t max_bytes = SIZE_MAX);

// Quotes a value for a one-line message: 'abc', cut to max_bytes with "…", control characters
// shown as escapes.
std::string QuoteForMessage(std::string_view s, size_t max_bytes = 60);

// Formats 1234567 as "1,234,567".
std::string GroupThousands(uint64_t n);

// "2026-12-02T22:53:52.123Z": milliseconds since the Unix epoch, in UTC.
std::string UtcTimestamp(int64_t ms);

// Lower-case hex of SHA-256 of data.
std::string Sha256Hex(std::string_view data);

}  // namespace strata
