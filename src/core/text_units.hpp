// SPDX-License-Identifier: Apache-2.0
//
// The CLI's text forms of numbers, shared by every codec that reads one key from its text
// (HubSettings::with, ServerOptions::with): decimal integers and durations with a unit.
#pragma once

#include <sihlicon/error.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sihlicon::text_units {

// An integer written in decimal, nothing else (no sign but '-', no spaces, no fraction).
inline std::optional<std::int64_t> parse_integer(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [at, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || at != end) {
        return std::nullopt;
    }
    return value;
}

// "60000", "500ms", "60s", "5m", "2h", "1d" as ms. Throws Error::invalid naming `key` and the
// text otherwise (a number with a unit that overflows int64 ms included). Ranges are the
// caller's codec's.
inline std::int64_t parse_duration_ms(std::string_view key, std::string_view text) {
    constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
    static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", kDayMs}};
    for (const auto& [unit, scale] : kUnits) {
        if (text.size() > unit.size() && text.ends_with(unit)) {
            const auto number = parse_integer(text.substr(0, text.size() - unit.size()));
            if (number && *number >= 0 && *number <= INT64_MAX / scale) {
                return *number * scale;
            }
            break;
        }
    }
    if (const auto number = parse_integer(text)) {
        return *number;
    }
    throw Error::invalid(key, std::string(text),
                         "must be a duration: integer ms, or with a unit (500ms, 60s, 5m, 2h, 1d)");
}

// "1048576", "64KiB", "512MiB", "4GiB", "1TiB" as bytes. Throws Error::invalid naming `key`
// and the text otherwise (an overflow of int64 included). Ranges are the caller's codec's.
inline std::int64_t parse_size_bytes(std::string_view key, std::string_view text) {
    static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
        {"KiB", std::int64_t{1} << 10},
        {"MiB", std::int64_t{1} << 20},
        {"GiB", std::int64_t{1} << 30},
        {"TiB", std::int64_t{1} << 40}};
    for (const auto& [unit, scale] : kUnits) {
        if (text.size() > unit.size() && text.ends_with(unit)) {
            const auto number = parse_integer(text.substr(0, text.size() - unit.size()));
            if (number && *number >= 0 && *number <= INT64_MAX / scale) {
                return *number * scale;
            }
            break;
        }
    }
    if (const auto number = parse_integer(text)) {
        return *number;
    }
    throw Error::invalid(key, std::string(text),
                         "must be a size: integer bytes, or with a unit (64KiB, 512MiB, 4GiB)");
}

}  // namespace sihlicon::text_units
