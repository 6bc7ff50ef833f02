// SPDX-License-Identifier: Apache-2.0
//
// Keccak-256 as Ethereum uses it: Keccak-f[1600] with rate 1088 bits (136 bytes), capacity
// 512, and the original Keccak padding (first byte 0x01, last byte |= 0x80), where FIPS 202
// SHA3-256 pads with 0x06. Checked against published vectors and npm ethers' keccak256.
#include <sihlicon/crypto.hpp>

#include <bit>
#include <cstring>

namespace sihlicon::crypto {

namespace {

constexpr std::size_t kRate = 136;

constexpr std::array<std::uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

// Rotation offsets and destinations of the rho and pi steps, in the order pi visits lanes
// starting from lane 1.
constexpr std::array<int, 24> kRotations = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                            27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<std::size_t, 24> kPiLanes = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                                  15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

void keccak_f1600(std::array<std::uint64_t, 25>& a) {
    for (const std::uint64_t round_constant : kRoundConstants) {
        // theta
        std::array<std::uint64_t, 5> c{};
        for (std::size_t x = 0; x < 5; ++x) {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        for (std::size_t x = 0; x < 5; ++x) {
            const std::uint64_t d = c[(x + 4) % 5] ^ std::rotl(c[(x + 1) % 5], 1);
            for (std::size_t y = 0; y < 25; y += 5) {
                a[y + x] ^= d;
            }
        }
        // rho and pi
        std::uint64_t carried = a[1];
        for (std::size_t i = 0; i < 24; ++i) {
            const std::size_t lane = kPiLanes[i];
            const std::uint64_t next = a[lane];
            a[lane] = std::rotl(carried, kRotations[i]);
            carried = next;
        }
        // chi
        for (std::size_t y = 0; y < 25; y += 5) {
            const std::array<std::uint64_t, 5> row = {a[y], a[y + 1], a[y + 2], a[y + 3], a[y + 4]};
            for (std::size_t x = 0; x < 5; ++x) {
                a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
            }
        }
        // iota
        a[0] ^= round_constant;
    }
}

// XORs `byte` into the state at byte offset `offset` (lanes are little-endian).
void absorb_byte(std::array<std::uint64_t, 25>& state, std::size_t offset, std::uint8_t byte) {
    state[offset / 8] ^= static_cast<std::uint64_t>(byte) << (8 * (offset % 8));
}

}  // namespace

void Keccak256::update(std::span<const std::uint8_t> bytes) {
    std::size_t i = 0;
    // Whole lanes at a time when aligned to a lane boundary, byte by byte otherwise.
    while (i < bytes.size()) {
        if (position_ % 8 == 0 && bytes.size() - i >= 8) {
            std::uint64_t lane = 0;
            for (int b = 7; b >= 0; --b) {
                lane = (lane << 8) | bytes[i + static_cast<std::size_t>(b)];
            }
            state_[position_ / 8] ^= lane;
            i += 8;
            position_ += 8;
        } else {
            absorb_byte(state_, position_, bytes[i]);
            ++i;
            ++position_;
        }
        if (position_ == kRate) {
            keccak_f1600(state_);
            position_ = 0;
        }
    }
}

void Keccak256::update(std::string_view bytes) {
    update({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

Hash256 Keccak256::finish() {
    absorb_byte(state_, position_, 0x01);
    absorb_byte(state_, kRate - 1, 0x80);
    keccak_f1600(state_);
    Hash256 digest{};
    for (std::size_t i = 0; i < digest.size(); ++i) {
        digest[i] = static_cast<std::uint8_t>(state_[i / 8] >> (8 * (i % 8)));
    }
    state_ = {};
    position_ = 0;
    return digest;
}

Hash256 keccak256(std::span<const std::uint8_t> bytes) {
    Keccak256 hasher;
    hasher.update(bytes);
    return hasher.finish();
}

Hash256 keccak256(std::string_view bytes) {
    Keccak256 hasher;
    hasher.update(bytes);
    return hasher.finish();
}

}  // namespace sihlicon::crypto
