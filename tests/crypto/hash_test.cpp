// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <random>
#include <string>
#include <vector>

namespace crypto = sihlicon::crypto;
using sihlicon::Error;
using sihlicon::ErrorCode;

namespace {

std::vector<std::uint8_t> pseudo_random_bytes(std::size_t size, std::uint32_t seed) {
    std::mt19937 generator(seed);
    std::vector<std::uint8_t> bytes(size);
    for (auto& byte : bytes) {
        byte = static_cast<std::uint8_t>(generator());
    }
    return bytes;
}

}  // namespace

TEST_CASE("hex round-trips bytes and names the field of malformed hex") {
    const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
    CHECK(crypto::to_hex(bytes) == "0001abff");
    CHECK(crypto::to_prefixed_hex(bytes) == "0x0001abff");
    CHECK(crypto::from_hex("f", "0x0001ABff") == bytes);
    CHECK(crypto::from_hex("f", "0001abff") == bytes);
    CHECK(crypto::from_hex("f", "").empty());
    for (const char* bad : {"0x123", "zz", "0x0g"}) {
        try {
            crypto::from_hex("proof[2]", bad);
            FAIL("'" << bad << "' must be refused");
        } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::invalid_argument);
            CHECK(error.field() == "proof[2]");
        }
    }
    CHECK_THROWS_AS(crypto::hash_from_hex("root", "0x00"), Error);
    CHECK(crypto::to_hex(crypto::hash_from_hex("root", std::string(64, 'a'))) ==
          std::string(64, 'a'));
}

TEST_CASE("SHA-256 matches the FIPS 180-4 examples, one-shot and streaming") {
    CHECK(crypto::to_hex(crypto::sha256(std::string_view())) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(crypto::to_hex(crypto::sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto::Sha256 streaming;
    streaming.update("ab");
    streaming.update("c");
    CHECK(streaming.finish() == crypto::sha256("abc"));
    // finish() starts over.
    streaming.update(std::string_view());
    CHECK(crypto::to_hex(streaming.finish()) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("Keccak-256 is Ethereum's keccak256, not SHA3-256") {
    CHECK(crypto::to_hex(crypto::keccak256(std::string_view())) ==
          "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    CHECK(crypto::to_hex(crypto::keccak256("abc")) ==
          "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    CHECK(crypto::to_hex(crypto::keccak256("The quick brown fox jumps over the lazy dog")) ==
          "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
    // SHA3-256("") is a7ffc6f8…; the padding is what differs.
    CHECK(crypto::to_hex(crypto::keccak256(std::string_view())) !=
          "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST_CASE("streaming Keccak-256 equals one-shot for every split around the 136-byte rate") {
    const std::vector<std::uint8_t> data = pseudo_random_bytes(300, 7);
    for (std::size_t size : {0, 1, 7, 8, 9, 135, 136, 137, 271, 272, 273, 300}) {
        const std::span<const std::uint8_t> input(data.data(), size);
        const crypto::Hash256 expected = crypto::keccak256(input);
        for (std::size_t split = 0; split <= size; split += (size > 20 ? 13 : 1)) {
            crypto::Keccak256 hasher;
            hasher.update(input.subspan(0, split));
            hasher.update(input.subspan(split));
            CHECK(hasher.finish() == expected);
        }
    }
}
