// SPDX-License-Identifier: Apache-2.0
//
// The byte encodings of multiformats: unsigned varints (LEB128, minimal), RFC 4648 base32
// without padding, and base58btc. Not installed.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::cid {

// Appends the unsigned varint of `value` to `out`.
void append_varint(std::vector<std::uint8_t>& out, std::uint64_t value);

// The number of bytes append_varint writes for `value`.
std::size_t varint_size(std::uint64_t value) noexcept;

// Reads a minimal unsigned varint (at most 9 bytes, as multiformats requires) at `position`,
// advancing it. Returns std::nullopt for a truncated, over-long or non-minimal varint.
std::optional<std::uint64_t> read_varint(std::span<const std::uint8_t> bytes,
                                         std::size_t& position) noexcept;

// RFC 4648 base32, lower case, no padding.
std::string base32_encode(std::span<const std::uint8_t> bytes);
// Decodes base32 without padding in one case (`upper` chooses which). Returns std::nullopt for
// a character outside the alphabet or non-zero trailing bits.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text, bool upper);

// base58btc (the Bitcoin alphabet).
std::string base58_encode(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> base58_decode(std::string_view text);

// Lower-case hexadecimal.
std::string hex_encode(std::span<const std::uint8_t> bytes);

}  // namespace sihlicon::cid
