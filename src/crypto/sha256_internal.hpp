// SPDX-License-Identifier: Apache-2.0
//
// Internal SHA-256 helpers for hot loops (Merkle trees). Not installed.
//
// Thread safety: pure functions.
#pragma once

#include <sihlicon/crypto.hpp>

#include <span>
#include <string_view>

struct evp_md_st;

namespace sihlicon::crypto::detail {

inline std::span<const std::uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// OpenSSL's SHA-256, fetched once. Throws Error(internal) if OpenSSL has none.
const evp_md_st* sha256_algorithm();

// SHA-256 of first ‖ second ‖ third, through OpenSSL's low-level SHA-256 (the same SHA-NI
// code as EVP, without the provider dispatch and context set-up that cost more than hashing
// a short input: Merkle nodes are 65 bytes). Never fails.
Hash256 sha256_concat(std::span<const std::uint8_t> first,
                      std::span<const std::uint8_t> second = {},
                      std::span<const std::uint8_t> third = {}) noexcept;

}  // namespace sihlicon::crypto::detail
