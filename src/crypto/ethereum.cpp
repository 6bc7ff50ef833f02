// SPDX-License-Identifier: Apache-2.0
//
// secp256k1 keys, EIP-55 addresses and EIP-191 personal_sign, on libsecp256k1.
#include "crypto/sha256_internal.hpp"

#include <sihlicon/crypto.hpp>
#include <sihlicon/error.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <cstring>

namespace sihlicon::crypto {

namespace {

// The group order n of secp256k1 and n/2, big-endian: s must satisfy 0 < s <= n/2 (EIP-2).
constexpr std::array<std::uint8_t, 32> kOrder = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
constexpr std::array<std::uint8_t, 32> kHalfOrder = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

// One context for the process, randomized once for side-channel protection of signing. After
// creation it is only used through const pointers, which libsecp256k1 allows from any thread.
const secp256k1_context* context() {
    static const secp256k1_context* const shared = [] {
        secp256k1_context* created = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
        if (created == nullptr) {
            throw Error(ErrorCode::internal, "libsecp256k1 could not create a context");
        }
        std::array<std::uint8_t, 32> seed{};
        if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1 ||
            secp256k1_context_randomize(created, seed.data()) != 1) {
            secp256k1_context_destroy(created);
            throw Error(ErrorCode::internal, "could not randomize the secp256k1 context");
        }
        return created;
    }();
    return shared;
}

bool is_zero(std::span<const std::uint8_t> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// Big-endian comparison of two 32-byte integers.
int compare(std::span<const std::uint8_t> a, std::span<const std::uint8_t, 32> b) {
    return std::memcmp(a.data(), b.data(), 32);
}

std::string eip55(const Address::Bytes& bytes) {
    const std::string lower = to_hex(bytes);
    const Hash256 hash = keccak256(lower);
    std::string text = "0x";
    for (std::size_t i = 0; i < lower.size(); ++i) {
        const unsigned nibble = (i % 2 == 0) ? (hash[i / 2] >> 4) : (hash[i / 2] & 0x0f);
        const char digit = lower[i];
        text += (digit >= 'a' && nibble >= 8) ? static_cast<char>(digit - 'a' + 'A') : digit;
    }
    return text;
}

}  // namespace

// ---- Address --------------------------------------------------------------------------------

Address Address::parse(std::string_view text, std::string_view field) {
    if (!text.starts_with("0x")) {
        throw Error::invalid(field, text, "an address must start with 0x");
    }
    if (text.size() != 42) {
        throw Error::invalid(field, text, "an address must be 0x and 40 hex digits");
    }
    const std::string_view digits = text.substr(2);
    bool has_lower = false;
    bool has_upper = false;
    for (const char digit : digits) {
        has_lower = has_lower || (digit >= 'a' && digit <= 'f');
        has_upper = has_upper || (digit >= 'A' && digit <= 'F');
    }
    const std::vector<std::uint8_t> bytes = from_hex(field, text);
    Bytes address{};
    std::copy(bytes.begin(), bytes.end(), address.begin());
    if (has_lower && has_upper && eip55(address) != text) {
        throw Error::invalid(
            field, text,
            "mixed-case address fails its EIP-55 checksum (expected " + eip55(address) + ")");
    }
    return Address(address);
}

Address Address::from_public_key(std::span<const std::uint8_t, 64> public_key) {
    const Hash256 hash = keccak256(std::span<const std::uint8_t>(public_key));
    Bytes address{};
    std::copy(hash.begin() + 12, hash.end(), address.begin());
    return Address(address);
}

std::string Address::to_string() const {
    return eip55(bytes_);
}

// ---- Signature ------------------------------------------------------------------------------

Signature Signature::from_bytes(std::span<const std::uint8_t> bytes, std::string_view field) {
    if (bytes.size() != 65) {
        throw Error::invalid(
            field, to_prefixed_hex(bytes),
            "a signature must be 65 bytes (r, s, v), got " + std::to_string(bytes.size()));
    }
    const auto r = bytes.subspan(0, 32);
    const auto s = bytes.subspan(32, 32);
    const std::uint8_t v = bytes[64];
    const std::string shown = to_prefixed_hex(bytes);
    const std::string prefix = std::string(field);
    if (is_zero(r) || compare(r, kOrder) >= 0) {
        throw Error::invalid(prefix + ".r", shown, "r must be in 1 .. n-1 of secp256k1");
    }
    if (is_zero(s) || compare(s, kOrder) >= 0) {
        throw Error::invalid(prefix + ".s", shown, "s must be in 1 .. n-1 of secp256k1");
    }
    if (compare(s, kHalfOrder) > 0) {
        throw Error::invalid(prefix + ".s", shown,
                             "s is in the upper half of the curve order (high-s, refused by "
                             "EIP-2); sign with a low-s signer");
    }
    if (v != 27 && v != 28) {
        throw Error::invalid(prefix + ".v", shown,
                             "v must be 27 or 28, got " + std::to_string(v) +
                                 " (recovery ids 0/1 and EIP-155 values are not accepted)");
    }
    Bytes copy{};
    std::copy(bytes.begin(), bytes.end(), copy.begin());
    return Signature(copy);
}

Signature Signature::parse(std::string_view text, std::string_view field) {
    if (!text.starts_with("0x")) {
        throw Error::invalid(field, text, "a signature must be 0x and 130 hex digits");
    }
    return from_bytes(from_hex(field, text), field);
}

std::string Signature::to_hex() const {
    return to_prefixed_hex(bytes_);
}

// ---- EIP-191 ----------------------------------------------------------------------------------

Hash256 hash_message(std::span<const std::uint8_t> message) {
    Keccak256 hasher;
    hasher.update(
        "\x19"
        "Ethereum Signed Message:\n");
    hasher.update(std::to_string(message.size()));
    hasher.update(message);
    return hasher.finish();
}

Hash256 hash_message(std::string_view message) {
    return hash_message(detail::as_bytes(message));
}

Address recover_signer(std::span<const std::uint8_t> message, const Signature& signature) {
    const Signature::Bytes& bytes = signature.bytes();
    const int recovery_id = bytes[64] - 27;
    secp256k1_ecdsa_recoverable_signature parsed;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &parsed, bytes.data(),
                                                            recovery_id) != 1) {
        throw Error::invalid("signature", signature.to_hex(), "not a secp256k1 signature");
    }
    const Hash256 digest = hash_message(message);
    secp256k1_pubkey public_key;
    if (secp256k1_ecdsa_recover(context(), &public_key, &parsed, digest.data()) != 1) {
        throw Error::invalid("signature", signature.to_hex(),
                             "no public key recovers from this signature and message");
    }
    std::array<std::uint8_t, 65> serialized{};
    std::size_t length = serialized.size();
    secp256k1_ec_pubkey_serialize(context(), serialized.data(), &length, &public_key,
                                  SECP256K1_EC_UNCOMPRESSED);
    return Address::from_public_key(std::span<const std::uint8_t, 64>(serialized.data() + 1, 64));
}

Address recover_signer(std::string_view message, const Signature& signature) {
    return recover_signer(detail::as_bytes(message), signature);
}

bool verify_message(std::span<const std::uint8_t> message, const Signature& signature,
                    const Address& signer) noexcept {
    try {
        return recover_signer(message, signature) == signer;
    } catch (...) {
        return false;
    }
}

bool verify_message(std::string_view message, const Signature& signature,
                    const Address& signer) noexcept {
    return verify_message(detail::as_bytes(message), signature, signer);
}

// ---- PrivateKey -------------------------------------------------------------------------------

PrivateKey PrivateKey::generate() {
    std::array<std::uint8_t, 32> secret{};
    // The chance of an invalid draw is below 2^-127; the loop is for correctness, not luck.
    do {
        if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
            throw Error(ErrorCode::internal, "the random source failed to generate a key");
        }
    } while (secp256k1_ec_seckey_verify(context(), secret.data()) != 1);
    PrivateKey key(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return key;
}

PrivateKey PrivateKey::parse(std::string_view text, std::string_view field) {
    std::string_view digits = text;
    if (digits.starts_with("0x")) {
        digits.remove_prefix(2);
    }
    // The key's digits never appear in an error: only how many characters there were.
    const std::string shown = std::to_string(text.size()) + " characters, not shown";
    if (digits.size() != 64) {
        throw Error::invalid(field, shown, "a private key must be 64 hex digits (32 bytes)");
    }
    std::array<std::uint8_t, 32> secret{};
    for (std::size_t i = 0; i < 64; ++i) {
        const char c = digits[i];
        unsigned value = 0;
        if (c >= '0' && c <= '9') {
            value = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            value = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            value = static_cast<unsigned>(c - 'A' + 10);
        } else {
            OPENSSL_cleanse(secret.data(), secret.size());
            throw Error::invalid(field, shown, "not a hex digit at position " + std::to_string(i));
        }
        secret[i / 2] =
            static_cast<std::uint8_t>((static_cast<unsigned>(secret[i / 2]) << 4U) | value);
    }
    if (secp256k1_ec_seckey_verify(context(), secret.data()) != 1) {
        OPENSSL_cleanse(secret.data(), secret.size());
        throw Error::invalid(field, shown, "not a valid secp256k1 private key (zero or >= n)");
    }
    PrivateKey key(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return key;
}

PrivateKey::~PrivateKey() {
    OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::string PrivateKey::to_hex() const {
    return to_prefixed_hex(secret_);
}

std::array<std::uint8_t, 64> PrivateKey::public_key() const {
    secp256k1_pubkey public_key;
    if (secp256k1_ec_pubkey_create(context(), &public_key, secret_.data()) != 1) {
        throw Error(ErrorCode::internal, "libsecp256k1 refused a verified private key");
    }
    std::array<std::uint8_t, 65> serialized{};
    std::size_t length = serialized.size();
    secp256k1_ec_pubkey_serialize(context(), serialized.data(), &length, &public_key,
                                  SECP256K1_EC_UNCOMPRESSED);
    std::array<std::uint8_t, 64> xy{};
    std::copy(serialized.begin() + 1, serialized.end(), xy.begin());
    return xy;
}

Address PrivateKey::address() const {
    const std::array<std::uint8_t, 64> key = public_key();
    return Address::from_public_key(key);
}

Signature PrivateKey::sign_message(std::span<const std::uint8_t> message) const {
    const Hash256 digest = hash_message(message);
    secp256k1_ecdsa_recoverable_signature signature;
    // RFC 6979 deterministic nonce; libsecp256k1 always produces low-s signatures.
    if (secp256k1_ecdsa_sign_recoverable(context(), &signature, digest.data(), secret_.data(),
                                         secp256k1_nonce_function_rfc6979, nullptr) != 1) {
        throw Error(ErrorCode::internal, "libsecp256k1 failed to sign");
    }
    Signature::Bytes bytes{};
    int recovery_id = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), bytes.data(), &recovery_id,
                                                            &signature);
    bytes[64] = static_cast<std::uint8_t>(27 + recovery_id);
    return Signature::from_bytes(bytes);
}

Signature PrivateKey::sign_message(std::string_view message) const {
    return sign_message(detail::as_bytes(message));
}

}  // namespace sihlicon::crypto
