// SPDX-License-Identifier: Apache-2.0
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace sihlicon::crypto {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

// The value of each byte as a hex digit, -1 for a byte that is not one.
constexpr std::array<std::int8_t, 256> kDigitValues = [] {
    std::array<std::int8_t, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 10; ++i) {
        values[static_cast<std::size_t>('0' + i)] = static_cast<std::int8_t>(i);
    }
    for (int i = 0; i < 6; ++i) {
        values[static_cast<std::size_t>('a' + i)] = static_cast<std::int8_t>(10 + i);
        values[static_cast<std::size_t>('A' + i)] = static_cast<std::int8_t>(10 + i);
    }
    return values;
}();

int digit_value(char digit) {
    return kDigitValues[static_cast<unsigned char>(digit)];
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    std::string text(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        text[2 * i] = kDigits[bytes[i] >> 4];
        text[2 * i + 1] = kDigits[bytes[i] & 0x0f];
    }
    return text;
}

std::string to_prefixed_hex(std::span<const std::uint8_t> bytes) {
    return "0x" + to_hex(bytes);
}

std::vector<std::uint8_t> from_hex(std::string_view field, std::string_view text) {
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
    }
    if (digits.size() % 2 != 0) {
        throw Error::invalid(field, text, "hex must have an even number of digits");
    }
    std::vector<std::uint8_t> bytes(digits.size() / 2);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const int high = digit_value(digits[2 * i]);
        const int low = digit_value(digits[2 * i + 1]);
        if (high < 0 || low < 0) {
            throw Error::invalid(
                field, text,
                "not a hex digit at position " + std::to_string(2 * i + (high < 0 ? 0 : 1)));
        }
        bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
    }
    return bytes;
}

Hash256 hash_from_hex(std::string_view field, std::string_view text) {
    // The common case without allocating: receipts carry a hash per proof step, and verifying
    // one is dominated by reading them.
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
    }
    Hash256 hash{};
    if (digits.size() == 64) {
        bool valid = true;
        for (std::size_t i = 0; i < 32; ++i) {
            const int high = digit_value(digits[2 * i]);
            const int low = digit_value(digits[2 * i + 1]);
            valid = valid && high >= 0 && low >= 0;
            hash[i] = static_cast<std::uint8_t>(high * 16 + low);
        }
        if (valid) {
            return hash;
        }
    }
    const std::vector<std::uint8_t> bytes = from_hex(field, text);  // throws for bad digits
    throw Error::invalid(
        field, text,
        "must be 32 bytes (64 hex digits), got " + std::to_string(bytes.size()) + " bytes");
}

}  // namespace sihlicon::crypto
