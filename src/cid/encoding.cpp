// SPDX-License-Identifier: Apache-2.0
#include "cid/encoding.hpp"

#include <array>

namespace sihlicon::cid {

namespace {

constexpr std::string_view kBase32Lower = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int base32_value(char c, bool upper) noexcept {
    if (c >= '2' && c <= '7') {
        return c - '2' + 26;
    }
    const char first = upper ? 'A' : 'a';
    if (c >= first && c <= first + 25) {
        return c - first;
    }
    return -1;
}

}  // namespace

void append_varint(std::vector<std::uint8_t>& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<std::uint8_t>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(value));
}

std::size_t varint_size(std::uint64_t value) noexcept {
    std::size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++size;
    }
    return size;
}

std::optional<std::uint64_t> read_varint(std::span<const std::uint8_t> bytes,
                                         std::size_t& position) noexcept {
    std::uint64_t value = 0;
    for (int index = 0; index < 9; ++index) {
        if (position >= bytes.size()) {
            return std::nullopt;
        }
        const std::uint8_t byte = bytes[position++];
        value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * index);
        if ((byte & 0x80) == 0) {
            if (byte == 0 && index > 0) {
                return std::nullopt;  // not minimal: a trailing zero group
            }
            return value;
        }
    }
    return std::nullopt;
}

std::string base32_encode(std::span<const std::uint8_t> bytes) {
    std::string text;
    text.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const std::uint8_t byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            text.push_back(kBase32Lower[(buffer >> bits) & 31]);
        }
        buffer &= (1u << bits) - 1;
    }
    if (bits > 0) {
        text.push_back(kBase32Lower[(buffer << (5 - bits)) & 31]);
    }
    return text;
}

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text, bool upper) {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base32_value(c, upper);
        if (value < 0) {
            return std::nullopt;
        }
        buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<std::uint8_t>(buffer >> bits));
            buffer &= (1u << bits) - 1;
        }
    }
    if (bits >= 5 || buffer != 0) {
        return std::nullopt;  // a dangling character or non-zero padding bits
    }
    return bytes;
}

std::string base58_encode(std::span<const std::uint8_t> bytes) {
    std::size_t zeros = 0;
    while (zeros < bytes.size() && bytes[zeros] == 0) {
        ++zeros;
    }
    std::vector<std::uint8_t> digits;  // base 58, little-endian
    for (std::size_t i = zeros; i < bytes.size(); ++i) {
        std::uint32_t carry = bytes[i];
        for (auto& digit : digits) {
            carry += static_cast<std::uint32_t>(digit) << 8;
            digit = static_cast<std::uint8_t>(carry % 58);
            carry /= 58;
        }
        while (carry > 0) {
            digits.push_back(static_cast<std::uint8_t>(carry % 58));
            carry /= 58;
        }
    }
    std::string text(zeros, '1');
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        text.push_back(kBase58[*it]);
    }
    return text;
}

std::optional<std::vector<std::uint8_t>> base58_decode(std::string_view text) {
    std::size_t zeros = 0;
    while (zeros < text.size() && text[zeros] == '1') {
        ++zeros;
    }
    std::vector<std::uint8_t> bytes;  // base 256, little-endian
    for (std::size_t i = zeros; i < text.size(); ++i) {
        const auto found = kBase58.find(text[i]);
        if (found == std::string_view::npos) {
            return std::nullopt;
        }
        auto carry = static_cast<std::uint32_t>(found);
        for (auto& byte : bytes) {
            carry += static_cast<std::uint32_t>(byte) * 58;
            byte = static_cast<std::uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
            carry >>= 8;
        }
    }
    std::vector<std::uint8_t> result(zeros, 0);
    result.insert(result.end(), bytes.rbegin(), bytes.rend());
    return result;
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (const std::uint8_t byte : bytes) {
        text.push_back(kHex[byte >> 4]);
        text.push_back(kHex[byte & 15]);
    }
    return text;
}

}  // namespace sihlicon::cid
