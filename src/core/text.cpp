// SPDX-License-Identifier: Apache-2.0
//
// UTF-8 decoding, the rule for names (no control characters) and printable(): one place for
// every check and every escape of text that comes from outside.
#include "core/utf8.hpp"

#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <algorithm>
#include <cstdio>

namespace sihlicon {

namespace utf8 {

std::int32_t decode(std::string_view text, std::size_t& i) noexcept {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
        ++i;
        return lead;
    }
    int length = 0;
    std::uint32_t code_point = 0;
    if ((lead & 0xe0) == 0xc0) {
        length = 2;
        code_point = lead & 0x1fU;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3;
        code_point = lead & 0x0fU;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4;
        code_point = lead & 0x07U;
    } else {
        return -1;
    }
    if (text.size() - i < static_cast<std::size_t>(length)) {
        return -1;
    }
    for (int k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
        if ((next & 0xc0) != 0x80) {
            return -1;
        }
        code_point = (code_point << 6) | (next & 0x3fU);
    }
    constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
        return -1;
    }
    i += static_cast<std::size_t>(length);
    return static_cast<std::int32_t>(code_point);
}

}  // namespace utf8

bool is_valid_utf8(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size();) {
        if (utf8::decode(text, i) < 0) {
            return false;
        }
    }
    return true;
}

bool is_control_character(char32_t c) noexcept {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0x061c ||
           c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

void require_plain_text(std::string_view field, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t start = i;
        const std::int32_t code_point = utf8::decode(text, i);
        if (code_point < 0) {
            throw Error::invalid(field, text,
                                 "is not valid UTF-8 at byte " + std::to_string(start));
        }
        if (is_control_character(static_cast<char32_t>(code_point))) {
            char name[16];
            std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(code_point));
            throw Error::invalid(field, text,
                                 std::string("may not hold the control character ") + name +
                                     " (at byte " + std::to_string(start) + ")");
        }
    }
}

namespace {

std::string escape(std::string_view text, std::size_t max_bytes, bool escape_backslash) {
    std::string out;
    out.reserve(std::min(text.size(), max_bytes) + 8);
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        const std::int32_t code_point = utf8::decode(text, i);
        const std::size_t end = code_point < 0 ? start + 1 : i;
        if (end > max_bytes) {
            i = start;
            break;
        }
        char buffer[16];
        if (code_point < 0) {
            std::snprintf(buffer, sizeof buffer, "\\x%02x",
                          static_cast<unsigned>(static_cast<unsigned char>(text[start])));
            out += buffer;
            i = start + 1;
        } else if (code_point == '\\' && escape_backslash) {
            out += "\\\\";
        } else if (code_point < 0x20 || code_point == 0x7f) {
            std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(code_point));
            out += buffer;
        } else if (is_control_character(static_cast<char32_t>(code_point))) {
            std::snprintf(buffer, sizeof buffer, "\\u{%04x}", static_cast<unsigned>(code_point));
            out += buffer;
        } else {
            out.append(text.substr(start, end - start));
        }
    }
    if (i < text.size()) {
        out += "...";
    }
    return out;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_bytes) {
    return escape(text, max_bytes, true);
}

namespace utf8 {

std::string without_controls(std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    return plain ? std::string(text) : escape(text, std::string::npos, false);
}

}  // namespace utf8

}  // namespace sihlicon
