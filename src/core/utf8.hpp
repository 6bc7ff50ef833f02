// SPDX-License-Identifier: Apache-2.0
//
// UTF-8 decoding for the library's own text checks (names, JSON strings, JCS ordering).
// Not installed; the public face is include/sihlicon/text.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sihlicon::utf8 {

// Decodes the UTF-8 sequence at text[i], advancing i past it; returns -1 and leaves i as it
// was if the sequence is malformed (overlong, a surrogate, above U+10FFFF, truncated).
// REQUIRES: i < text.size().
std::int32_t decode(std::string_view text, std::size_t& i) noexcept;

// `text` with control characters and bytes that are not UTF-8 escaped as printable() does, but
// backslashes kept: for whole messages whose quoted values printable() already escaped.
std::string without_controls(std::string_view text);

}  // namespace sihlicon::utf8
