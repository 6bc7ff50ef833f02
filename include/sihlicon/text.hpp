// SPDX-License-Identifier: Apache-2.0
//
// Text that comes from outside: the one rule for names, ids, owners and labels, and the one
// way to show any text in a message or a terminal without letting it forge lines or hide
// characters.
//
// Thread safety: pure functions.
#pragma once

#include <sihlicon/export.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sihlicon {

// True if `text` is well-formed UTF-8: no overlong form, no surrogate (U+D800–U+DFFF), nothing
// above U+10FFFF, no truncated sequence. Never throws.
SIHLICON_API bool is_valid_utf8(std::string_view text) noexcept;

// True for a code point that may not appear in a name: C0 controls (U+0000–U+001F), DEL,
// C1 controls (U+0080–U+009F), the line and paragraph separators U+2028 and U+2029, and the
// bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069 (they reorder
// what a terminal shows). Never throws.
SIHLICON_API bool is_control_character(char32_t code_point) noexcept;

// The rule for every name, id, owner, principal, label and key that a caller supplies: valid
// UTF-8 with no control character (see is_control_character). Throws
// Error::invalid(field, text, ...) naming the first offending character and its byte offset;
// length limits are the caller's.
SIHLICON_API void require_plain_text(std::string_view field, std::string_view text);

// `text` made safe to print on one line: a backslash becomes "\\", a control character
// becomes "\xNN" (C0 and DEL) or "\u{NNNN}" (the others of is_control_character), a byte that
// is not part of valid UTF-8 becomes "\xNN"; everything else is copied. At most `max_bytes` of
// the input are shown, cut on a character boundary, followed by "..." when cut. Never throws
// except std::bad_alloc.
SIHLICON_API std::string printable(std::string_view text,
                                   std::size_t max_bytes = std::string::npos);

}  // namespace sihlicon
