// SPDX-License-Identifier: Apache-2.0
//
// RFC 8785 (JCS): members sorted by the UTF-16 code units of their names, no whitespace,
// strings escaped as ECMAScript JSON.stringify does (only ", \, and controls; \b \t \n \f \r
// by name, other controls as \u00xx), numbers in ECMAScript Number::toString form.
#include "crypto/jcs.hpp"

#include "core/json.hpp"
#include "core/utf8.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace sihlicon::crypto {

namespace {

// The ECMAScript safe integer range: integers a double holds exactly, all their neighbours too.
constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

// Where a value sits in the document, for error messages; built on the stack as the writer
// descends, rendered only when an error is thrown.
struct Location {
    const Location* parent = nullptr;
    std::string_view key;   // a member name, or
    std::size_t index = 0;  // an array index
    bool is_member = false;
};

std::string render(std::string_view field, const Location* location) {
    std::vector<const Location*> chain;
    for (const Location* at = location; at != nullptr && at->parent != nullptr; at = at->parent) {
        chain.push_back(at);
    }
    std::string path(field);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if ((*it)->is_member) {
            path.append(".").append((*it)->key);
        } else {
            path.append("[").append(std::to_string((*it)->index)).append("]");
        }
    }
    return path;
}

// The first UTF-16 code unit of a code point: what JCS orders member names by.
std::uint32_t first_utf16_unit(std::int32_t code_point) {
    const auto value = static_cast<std::uint32_t>(code_point);
    return value < 0x10000 ? value : 0xd800 + ((value - 0x10000) >> 10);
}

// Orders valid UTF-8 names by their UTF-16 code units. Byte order of UTF-8 equals code point
// order, which differs from UTF-16 order only between a supplementary character (a surrogate
// pair, D800–DFFF) and one in E000–FFFF; the first differing code point decides.
bool utf16_less(std::string_view a, std::string_view b) {
    const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (mismatch.second == b.end()) {
        return false;  // b is a prefix of a, or equal
    }
    if (mismatch.first == a.end()) {
        return true;  // a is a proper prefix of b
    }
    const auto byte_a = static_cast<unsigned char>(*mismatch.first);
    const auto byte_b = static_cast<unsigned char>(*mismatch.second);
    if (byte_a < 0x80 && byte_b < 0x80) {
        return byte_a < byte_b;
    }
    std::size_t start = static_cast<std::size_t>(mismatch.first - a.begin());
    while (start > 0 && (static_cast<unsigned char>(a[start]) & 0xc0) == 0x80) {
        --start;
    }
    std::size_t at_a = start;
    std::size_t at_b = start;
    const std::int32_t code_a = utf8::decode(a, at_a);
    const std::int32_t code_b = utf8::decode(b, at_b);
    const std::uint32_t unit_a = first_utf16_unit(code_a);
    const std::uint32_t unit_b = first_utf16_unit(code_b);
    return unit_a != unit_b ? unit_a < unit_b : code_a < code_b;
}

class Writer {
  public:
    Writer(std::string& out, std::string_view field) : out_(out), field_(field) {}

    void value(const boost::json::value& value, const Location& location) {
        switch (value.kind()) {
            case boost::json::kind::null:
                out_.append("null");
                break;
            case boost::json::kind::bool_:
                out_.append(value.get_bool() ? "true" : "false");
                break;
            case boost::json::kind::int64:
                integer(value.get_int64(), location);
                break;
            case boost::json::kind::uint64:
                if (value.get_uint64() > static_cast<std::uint64_t>(kMaxSafeInteger)) {
                    throw outside_safe_range(std::to_string(value.get_uint64()), location);
                }
                integer(static_cast<std::int64_t>(value.get_uint64()), location);
                break;
            case boost::json::kind::double_:
                number(value.get_double(), location);
                break;
            case boost::json::kind::string:
                string(value.get_string(), location);
                break;
            case boost::json::kind::array:
                array(value.get_array(), location);
                break;
            case boost::json::kind::object:
                object(value.get_object(), location);
                break;
        }
    }

  private:
    Error outside_safe_range(const std::string& text, const Location& location) const {
        return Error::invalid(render(field_, &location), text,
                              "integer outside the ECMAScript safe range ±(2^53 - 1): JCS "
                              "numbers are doubles and cannot carry it exactly");
    }

    void integer(std::int64_t number, const Location& location) {
        if (number > kMaxSafeInteger || number < -kMaxSafeInteger) {
            throw outside_safe_range(std::to_string(number), location);
        }
        char buffer[24];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
        out_.append(buffer, result.ptr);
    }

    // ECMAScript Number::toString(10) (ECMA-262 §6.1.6.1.20), from the shortest round-trip
    // digits that std::to_chars produces (the same digits: shortest, then closest).
    void number(double number, const Location& location) {
        if (!std::isfinite(number)) {
            throw Error::invalid(render(field_, &location), std::to_string(number),
                                 "NaN and infinities have no JSON form");
        }
        if (number == 0) {
            out_.push_back('0');  // both +0 and -0
            return;
        }
        if (number < 0) {
            out_.push_back('-');
            number = -number;
        }
        char buffer[32];
        const auto result =
            std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
        const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
        const std::size_t e = text.find('e');
        std::string digits;
        for (const char c : text.substr(0, e)) {
            if (c != '.') {
                digits.push_back(c);
            }
        }
        int exponent = 0;
        const std::string_view exponent_text = text.substr(e + 1);
        std::from_chars(exponent_text.data() + (exponent_text[0] == '+' ? 1 : 0),
                        exponent_text.data() + exponent_text.size(), exponent);
        const int k = static_cast<int>(digits.size());
        const int n = exponent + 1;  // the value is 0.digits × 10^n
        if (k <= n && n <= 21) {
            out_.append(digits).append(static_cast<std::size_t>(n - k), '0');
        } else if (0 < n && n <= 21) {
            out_.append(digits, 0, static_cast<std::size_t>(n))
                .append(".")
                .append(digits, static_cast<std::size_t>(n));
        } else if (-6 < n && n <= 0) {
            out_.append("0.").append(static_cast<std::size_t>(-n), '0').append(digits);
        } else {
            out_.push_back(digits[0]);
            if (k > 1) {
                out_.append(".").append(digits, 1);
            }
            out_.append(n - 1 < 0 ? "e-" : "e+").append(std::to_string(std::abs(n - 1)));
        }
    }

    void string(std::string_view text, const Location& location) {
        static constexpr char kHex[] = "0123456789abcdef";
        out_.push_back('"');
        std::size_t i = 0;
        while (i < text.size()) {
            // Printable ASCII other than " and \ is copied as it is, a run at a time.
            std::size_t run = i;
            while (run < text.size()) {
                const auto byte = static_cast<unsigned char>(text[run]);
                if (byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\') {
                    break;
                }
                ++run;
            }
            out_.append(text.data() + i, run - i);
            i = run;
            if (i == text.size()) {
                break;
            }
            const auto byte = static_cast<unsigned char>(text[i]);
            if (byte >= 0x80) {
                const std::size_t start = i;
                if (utf8::decode(text, i) < 0) {
                    throw Error::invalid(render(field_, &location), text,
                                         "not valid UTF-8 at byte " + std::to_string(start));
                }
                out_.append(text.data() + start, i - start);
                continue;
            }
            switch (byte) {
                case '"':
                    out_.append("\\\"");
                    break;
                case '\\':
                    out_.append("\\\\");
                    break;
                case '\b':
                    out_.append("\\b");
                    break;
                case '\f':
                    out_.append("\\f");
                    break;
                case '\n':
                    out_.append("\\n");
                    break;
                case '\r':
                    out_.append("\\r");
                    break;
                case '\t':
                    out_.append("\\t");
                    break;
                default:  // the other control characters
                    out_.append("\\u00");
                    out_.push_back(kHex[byte >> 4]);
                    out_.push_back(kHex[byte & 0x0f]);
            }
            ++i;
        }
        out_.push_back('"');
    }

    void array(const boost::json::array& array, const Location& location) {
        out_.push_back('[');
        for (std::size_t i = 0; i < array.size(); ++i) {
            if (i > 0) {
                out_.push_back(',');
            }
            const Location element{&location, {}, i, false};
            value(array[i], element);
        }
        out_.push_back(']');
    }

    void object(const boost::json::object& object, const Location& location) {
        // Records are small objects: sort pointers to their members on the stack.
        constexpr std::size_t kSmall = 32;
        std::array<const boost::json::key_value_pair*, kSmall> small{};
        std::vector<const boost::json::key_value_pair*> large;
        std::span<const boost::json::key_value_pair*> members;
        if (object.size() <= kSmall) {
            members = std::span(small.data(), object.size());
        } else {
            large.resize(object.size());
            members = large;
        }
        std::size_t at = 0;
        for (const boost::json::key_value_pair& member : object) {
            members[at++] = &member;
        }
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return utf16_less(a->key(), b->key()); });
        out_.push_back('{');
        bool first = true;
        for (const boost::json::key_value_pair* member : members) {
            if (!first) {
                out_.push_back(',');
            }
            first = false;
            const Location child{&location, member->key(), 0, true};
            string(member->key(), child);
            out_.push_back(':');
            value(member->value(), child);
        }
        out_.push_back('}');
    }

    std::string& out_;
    std::string_view field_;
};

}  // namespace

void append_canonical_json(const boost::json::value& value, std::string& out,
                           std::string_view field) {
    const Location root{};
    Writer(out, field).value(value, root);
}

std::string canonical_json(const boost::json::value& value, std::string_view field) {
    std::string out;
    out.reserve(256);
    append_canonical_json(value, out, field);
    return out;
}

boost::json::value parse_json_strict(std::string_view json, std::string_view field) {
    return sihlicon::json::parse(json, field);
}

std::string canonicalize_json(std::string_view json, std::string_view field) {
    return canonical_json(parse_json_strict(json, field), field);
}

}  // namespace sihlicon::crypto
