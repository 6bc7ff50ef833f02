// SPDX-License-Identifier: Apache-2.0
//
// Exact integer arithmetic shared by Money, Energy and Timestamp: int64 operations that refuse
// to overflow, and the conversion between an int64 count of 10^-digits units and its exact
// decimal text ("12.34" with 2 digits is 1234). Written once so that every quantity of
// sihlicon overflows, parses and prints by the same rules.
//
// Thread safety: every function here is pure; call them from any thread.
#pragma once

#include <sihlicon/error.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sihlicon::checked {

// Throws Error(invalid_argument) with the message "<operation> overflows the signed 64-bit
// range", e.g. operation = "money addition".
[[noreturn]] inline void throw_overflow(std::string_view operation) {
    throw Error(ErrorCode::invalid_argument,
                std::string(operation) + " overflows the signed 64-bit range");
}

// Returns a + b. Throws Error(invalid_argument) naming `operation` if it does not fit int64.
inline std::int64_t add(std::int64_t a, std::int64_t b, std::string_view operation) {
    std::int64_t result = 0;
    if (__builtin_add_overflow(a, b, &result)) {
        throw_overflow(operation);
    }
    return result;
}

// Returns a - b. Throws Error(invalid_argument) naming `operation` if it does not fit int64.
inline std::int64_t subtract(std::int64_t a, std::int64_t b, std::string_view operation) {
    std::int64_t result = 0;
    if (__builtin_sub_overflow(a, b, &result)) {
        throw_overflow(operation);
    }
    return result;
}

// Returns a * b. Throws Error(invalid_argument) naming `operation` if it does not fit int64.
inline std::int64_t multiply(std::int64_t a, std::int64_t b, std::string_view operation) {
    std::int64_t result = 0;
    if (__builtin_mul_overflow(a, b, &result)) {
        throw_overflow(operation);
    }
    return result;
}

// Returns -a. Throws Error(invalid_argument) naming `operation` for INT64_MIN, whose negation
// does not fit int64.
inline std::int64_t negate(std::int64_t a, std::string_view operation) {
    return subtract(0, a, operation);
}

// Parses the exact decimal `text` into a count of 10^-fraction_digits units:
// parse_decimal("-1.5", 2, f) == -150.
//
// Accepted grammar: an optional '-', one or more ASCII digits, then optionally '.' followed by
// one to `fraction_digits` digits. Leading zeros are allowed ("007.50"). Refused, with
// Error::invalid(field, text, ...): the empty string, '+', whitespace, exponents, "1." and ".5",
// more fractional digits than `fraction_digits` (even if they are zeros: "1.230" with 2 digits),
// and values outside int64.
// REQUIRES: 0 <= fraction_digits <= 18.
inline std::int64_t parse_decimal(std::string_view text, int fraction_digits,
                                  std::string_view field) {
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    const auto skip_digits = [&](std::size_t from) {
        while (from < text.size() && is_digit(text[from])) {
            ++from;
        }
        return from;
    };
    const bool negative = !text.empty() && text.front() == '-';
    const std::size_t integer_begin = negative ? 1 : 0;
    const std::size_t integer_end = skip_digits(integer_begin);
    std::size_t fraction_begin = integer_end;
    std::size_t fraction_end = integer_end;
    if (integer_end < text.size() && text[integer_end] == '.') {
        fraction_begin = integer_end + 1;
        fraction_end = skip_digits(fraction_begin);
    }
    const bool fraction_malformed = fraction_begin != integer_end && fraction_end == fraction_begin;
    if (integer_end == integer_begin || fraction_malformed || fraction_end != text.size()) {
        throw Error::invalid(field, text, "is not a decimal number such as 12.5 or -0.75");
    }
    const auto fraction_count = static_cast<int>(fraction_end - fraction_begin);
    if (fraction_count > fraction_digits) {
        throw Error::invalid(
            field, text,
            "has more than " + std::to_string(fraction_digits) + " digits after the decimal point");
    }
    // Accumulate the magnitude; -INT64_MIN is one more than INT64_MAX.
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    std::uint64_t magnitude = 0;
    const auto push_digit = [&](char c) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (magnitude > (limit - digit) / 10) {
            throw Error::invalid(field, text, "is out of range");
        }
        magnitude = magnitude * 10 + digit;
    };
    for (std::size_t i = integer_begin; i < fraction_end; ++i) {
        if (i != integer_end) {
            push_digit(text[i]);
        }
    }
    for (int padding = fraction_count; padding < fraction_digits; ++padding) {
        push_digit('0');
    }
    // Unsigned negation wraps modulo 2^64, so -2^63 converts back to INT64_MIN exactly.
    return static_cast<std::int64_t>(negative ? 0 - magnitude : magnitude);
}

// Returns the exact decimal text of `units` counted in 10^-fraction_digits:
// format_decimal(-150, 2, false) == "-1.50". With trim_trailing_zeros the fractional part loses
// its trailing zeros and, if nothing is left, its point: format_decimal(-150, 2, true) == "-1.5",
// format_decimal(200, 2, true) == "2". The result always parses back with parse_decimal.
// REQUIRES: 0 <= fraction_digits <= 18.
inline std::string format_decimal(std::int64_t units, int fraction_digits,
                                  bool trim_trailing_zeros) {
    const auto magnitude =
        units < 0 ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
    const auto width = static_cast<std::size_t>(fraction_digits);
    std::string digits = std::to_string(magnitude);
    if (digits.size() <= width) {
        digits.insert(0, width + 1 - digits.size(), '0');
    }
    std::string fraction = digits.substr(digits.size() - width);
    if (trim_trailing_zeros) {
        fraction.erase(fraction.find_last_not_of('0') + 1);
    }
    std::string out = units < 0 ? "-" : "";
    out += digits.substr(0, digits.size() - width);
    if (!fraction.empty()) {
        out += '.';
        out += fraction;
    }
    return out;
}

}  // namespace sihlicon::checked
