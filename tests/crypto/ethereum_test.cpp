// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>
#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <string>
#include <vector>

namespace crypto = sihlicon::crypto;
using sihlicon::Error;
using sihlicon::ErrorCode;

namespace {

constexpr std::string_view kDocsKey =
    "0xb25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364";
constexpr std::string_view kDocsSignature =
    "0xe6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb33e5bfbbf4d3e39b1a2fd816a"
    "7680c19ebebaf3a141b239934ad43cb33fcec8ce1c";
constexpr std::string_view kDocsAddress = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E";
constexpr std::string_view kHeartMessage = "I\xe2\x99\xa5SF";  // "I♥SF", 6 UTF-8 bytes

// The field an Error names, or "" if `action` does not throw Error(invalid_argument).
template <typename Action>
std::string refused_field(Action action) {
    try {
        action();
    } catch (const Error& error) {
        if (error.code() == ErrorCode::invalid_argument) {
            return error.field();
        }
    }
    return "";
}

// n - s: the high-s twin of a low-s value.
std::array<std::uint8_t, 32> negate_modulo_order(std::span<const std::uint8_t> s) {
    const std::vector<std::uint8_t> order =
        crypto::from_hex("n", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    std::array<std::uint8_t, 32> result{};
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        const auto at = static_cast<std::size_t>(i);
        int difference = order[at] - s[at] - borrow;
        borrow = difference < 0 ? 1 : 0;
        result[at] = static_cast<std::uint8_t>(difference + (borrow != 0 ? 256 : 0));
    }
    return result;
}

}  // namespace

TEST_CASE("EIP-191 hash_message matches ethers' hashMessage") {
    CHECK(crypto::to_prefixed_hex(crypto::hash_message("Hello World")) ==
          "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2");
}

TEST_CASE("personal_sign reproduces the eth-account documentation vector byte for byte") {
    const auto key = crypto::PrivateKey::parse(kDocsKey);
    CHECK(key.address().to_string() == kDocsAddress);
    const crypto::Signature signature = key.sign_message(kHeartMessage);
    CHECK(signature.to_hex() == kDocsSignature);
    CHECK(crypto::recover_signer(kHeartMessage, signature).to_string() == kDocsAddress);
    CHECK(crypto::verify_message(kHeartMessage, signature, crypto::Address::parse(kDocsAddress)));
    CHECK_FALSE(crypto::verify_message("I<3SF", signature, crypto::Address::parse(kDocsAddress)));
    CHECK(key.to_hex() == kDocsKey);
}

TEST_CASE("signatures are deterministic (RFC 6979) and verify only for their signer") {
    const auto key = crypto::PrivateKey::generate();
    const auto other = crypto::PrivateKey::generate();
    CHECK(key.address() != other.address());
    const crypto::Signature first = key.sign_message("epoch 7 summary");
    CHECK(first == key.sign_message("epoch 7 summary"));
    CHECK(crypto::verify_message("epoch 7 summary", first, key.address()));
    CHECK_FALSE(crypto::verify_message("epoch 7 summary", first, other.address()));
    CHECK_FALSE(crypto::verify_message("epoch 8 summary", first, key.address()));
    const auto reloaded = crypto::PrivateKey::parse(key.to_hex());
    CHECK(reloaded.address() == key.address());
}

TEST_CASE("EIP-55 addresses: checksummed output, mixed case validated on parse") {
    for (const char* address : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                                "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                                "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                                "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        CHECK(crypto::Address::parse(address).to_string() == address);
    }
    // Single-case forms carry no checksum and are accepted as they are.
    CHECK(crypto::Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").to_string() ==
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    CHECK(crypto::Address::parse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").to_string() ==
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    // One letter's case flipped breaks the checksum.
    CHECK(refused_field([] {
              crypto::Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "signer");
          }) == "signer");
    CHECK(refused_field([] {
              crypto::Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
          }) == "address");
    CHECK(refused_field([] {
              crypto::Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA");
          }) == "address");
    CHECK(refused_field([] {
              crypto::Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg");
          }) == "address");
}

TEST_CASE("malformed signatures are refused naming the part at fault") {
    const auto valid = crypto::Signature::parse(kDocsSignature);
    const crypto::Signature::Bytes bytes = valid.bytes();

    CHECK(refused_field([&] { crypto::Signature::from_bytes(std::span(bytes.data(), 64)); }) ==
          "signature");
    CHECK(refused_field([] { crypto::Signature::parse("0x1234", "receipt.signature"); }) ==
          "receipt.signature");
    CHECK(refused_field([] { crypto::Signature::parse(std::string(kDocsSignature.substr(2))); }) ==
          "signature");
    for (const int v : {0, 1, 26, 29, 37, 38}) {
        auto changed = bytes;
        changed[64] = static_cast<std::uint8_t>(v);
        CHECK(refused_field([&] { crypto::Signature::from_bytes(changed); }) == "signature.v");
    }
    {
        auto zero_r = bytes;
        std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
        CHECK(refused_field([&] { crypto::Signature::from_bytes(zero_r); }) == "signature.r");
        auto large_s = bytes;
        std::fill(large_s.begin() + 32, large_s.begin() + 64, 0xff);
        CHECK(refused_field([&] { crypto::Signature::from_bytes(large_s); }) == "signature.s");
    }
    // The high-s twin (n - s, other recovery id) is a valid ECDSA signature of the same
    // message by the same key; EIP-2 refuses it so that signatures are not malleable.
    auto high_s = bytes;
    const auto negated = negate_modulo_order(std::span(bytes.data() + 32, 32));
    std::copy(negated.begin(), negated.end(), high_s.begin() + 32);
    high_s[64] = static_cast<std::uint8_t>(bytes[64] == 27 ? 28 : 27);
    CHECK(refused_field([&] { crypto::Signature::from_bytes(high_s); }) == "signature.s");
}

TEST_CASE("private keys outside 1 .. n-1 or of the wrong form are refused without echoing them") {
    const std::string order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    for (const std::string& bad :
         {std::string(64, '0'), order, std::string(63, 'a'), std::string(63, 'a') + "x"}) {
        try {
            crypto::PrivateKey::parse(bad);
            FAIL("must be refused");
        } catch (const Error& error) {
            CHECK(error.field() == "private_key");
            CHECK(std::string(error.what()).find(bad) == std::string::npos);
        }
    }
}

TEST_CASE("a signature from which no key recovers fails verification and recovery cleanly") {
    // r = 5 is not the x coordinate of a curve point reachable here for every message; find
    // one that does not recover by trying small r values.
    auto bytes = crypto::Signature::parse(kDocsSignature).bytes();
    bool found = false;
    for (std::uint8_t r = 1; r < 50 && !found; ++r) {
        std::fill(bytes.begin(), bytes.begin() + 32, 0);
        bytes[31] = r;
        const auto signature = crypto::Signature::from_bytes(bytes);
        try {
            crypto::recover_signer("message", signature);
        } catch (const Error& error) {
            CHECK(error.field() == "signature");
            CHECK_FALSE(
                crypto::verify_message("message", signature, crypto::Address::parse(kDocsAddress)));
            found = true;
        }
    }
    CHECK(found);
}
